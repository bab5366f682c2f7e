-- id: root-password-change
-- title: Root password change or recovery attempted
-- severity: high
-- grain: event
-- description: The root user's password was changed, or a password recovery was requested or completed, or such an attempt failed; the evidence's outcome says which (a Failure response, an error code or an error message is a failed attempt).
-- rationale: A root password reset is how an account is taken over through its email address; each one should be expected.
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html, https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-password.html
-- false_positives: Planned password rotation by the account owner.
SELECT
  root_principal AS principal,
  root_principal AS actor,
  root_account_id AS account_id,
  event_time,
  event_id,
  to_json(named_struct(
    'event_name', event_name,
    'outcome', CASE
      WHEN error_code IS NOT NULL OR error_message IS NOT NULL
        OR json_get_str(response_elements, 'PasswordUpdated') = 'Failure'
        OR json_get_str(response_elements, event_name) = 'Failure' THEN 'failed'
      ELSE 'succeeded'
    END,
    'source_ip', source_ip_address,
    'user_agent', user_agent
  )) AS evidence
FROM signed_events
WHERE user_identity_type = 'Root'
  AND event_name IN ('PasswordUpdated', 'ChangePassword', 'PasswordRecoveryRequested', 'PasswordRecoveryCompleted')
