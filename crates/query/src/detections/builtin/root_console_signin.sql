-- id: root-console-signin
-- title: Root console sign-in
-- severity: high
-- grain: event
-- description: The root user signed in to the AWS Management Console successfully. One finding per sign-in.
-- rationale: A root console session is the most powerful and least attributable session there is; everyday work belongs to named identities.
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html, https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-best-practices.html
-- false_positives: Root-only tasks, done on purpose and recorded.
SELECT
  root_principal AS principal,
  root_principal AS actor,
  root_account_id AS account_id,
  event_time,
  event_id,
  to_json(named_struct(
    'source_ip', source_ip_address,
    'user_agent', user_agent,
    'mfa_used', json_get_str(additional_event_data, 'MFAUsed')
  )) AS evidence
FROM signed_events
WHERE user_identity_type = 'Root' AND event_name = 'ConsoleLogin'
  AND json_get_str(response_elements, 'ConsoleLogin') = 'Success'
