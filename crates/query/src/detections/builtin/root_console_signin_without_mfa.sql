-- id: root-console-signin-without-mfa
-- title: Root console sign-in without MFA
-- severity: critical
-- grain: event
-- description: The root user signed in to the console successfully without multi-factor authentication (additionalEventData.MFAUsed = No).
-- rationale: CIS AWS Foundations 1.5 requires MFA on the root user; a sign-in without it means the password alone opens the account.
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-9, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
-- false_positives: None expected: root MFA should be enforced.
SELECT
  root_principal AS principal,
  root_principal AS actor,
  root_account_id AS account_id,
  event_time,
  event_id,
  to_json(named_struct('source_ip', source_ip_address, 'user_agent', user_agent)) AS evidence
FROM signed_events
WHERE user_identity_type = 'Root' AND event_name = 'ConsoleLogin'
  AND json_get_str(response_elements, 'ConsoleLogin') = 'Success'
  AND json_get_str(additional_event_data, 'MFAUsed') = 'No'
