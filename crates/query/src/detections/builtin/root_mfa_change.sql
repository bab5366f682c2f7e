-- id: root-mfa-change
-- title: Root MFA device added or removed
-- severity: high
-- grain: event
-- description: The root user created, enabled, deactivated or deleted an MFA device.
-- rationale: Removing root MFA (or adding a device an attacker holds) weakens the last lock on the account.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-virt-mfa-for-root.html, https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-9
-- false_positives: Replacing a lost or old device, planned.
SELECT
  root_principal AS principal,
  root_principal AS actor,
  root_account_id AS account_id,
  event_time,
  event_id,
  to_json(named_struct('event_name', event_name, 'request_parameters', request_parameters, 'source_ip', source_ip_address)) AS evidence
FROM signed_events
WHERE user_identity_type = 'Root'
  AND event_name IN ('CreateVirtualMFADevice', 'EnableMFADevice', 'DeactivateMFADevice', 'DeleteVirtualMFADevice', 'ResyncMFADevice')
