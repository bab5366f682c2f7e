-- id: root-access-key-created
-- title: Root access key created
-- severity: critical
-- grain: event
-- description: The root user created an access key for itself (CreateAccessKey by root with no userName in the request).
-- rationale: Root access keys should not exist (CIS AWS Foundations 1.4); creating one is how long-lived unattributable access begins.
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-4, https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
-- false_positives: None expected; a root call that creates a key for a named IAM user has userName set and is not this.
SELECT
  root_principal AS principal,
  root_principal AS actor,
  root_account_id AS account_id,
  event_time,
  event_id,
  to_json(named_struct(
    'new_access_key_id', json_get_str(response_elements, 'accessKey', 'accessKeyId'),
    'source_ip', source_ip_address,
    'user_agent', user_agent
  )) AS evidence
FROM signed_events
WHERE user_identity_type = 'Root' AND event_name = 'CreateAccessKey' AND error_code IS NULL
  AND json_get_str(request_parameters, 'userName') IS NULL
