-- id: root-password-change
-- title: Root password changed or recovered
-- severity: high
-- description: The root user's password was changed, or a password recovery was requested or completed.
-- rationale: A root password reset is how an account is taken over through its email address; each one should be expected.
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html, https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-password.html
-- false_positives: Planned password rotation by the account owner.
SELECT
  concat('arn:aws:iam::', recipient_account_id, ':root') AS principal,
  CAST(NULL AS VARCHAR) AS actor,
  recipient_account_id AS account_id,
  event_time AS first_seen,
  event_time AS last_seen,
  CAST(1 AS BIGINT) AS event_count,
  make_array(event_id) AS event_ids,
  to_json(named_struct('event_name', event_name, 'source_ip', source_ip_address, 'user_agent', user_agent)) AS evidence
FROM events
WHERE user_identity_type = 'Root'
  AND event_name IN ('PasswordUpdated', 'ChangePassword', 'PasswordRecoveryRequested', 'PasswordRecoveryCompleted')
