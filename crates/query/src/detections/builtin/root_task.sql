-- id: root-task
-- title: Root used for a task only root can do
-- severity: low
-- grain: event
-- description: The root user made a call that only root can make (table root_tasks): its own access keys or MFA device, restoring IAM permissions, S3 MFA delete, a bucket or queue policy that locks everyone out.
-- rationale: These are the legitimate uses of the root user; each still deserves a named person and a reason, since root cannot be attributed.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#root-user-tasks
-- false_positives: Expected when the account's owners do these tasks; confirm who did and why.
SELECT
  e.root_principal AS principal,
  e.root_principal AS actor,
  e.recipient_account_id AS account_id,
  e.event_time,
  e.event_id,
  to_json(named_struct(
    'event_name', e.event_name,
    'task', t.task,
    'failed', e.error_code IS NOT NULL,
    'source_ip', e.source_ip_address,
    'user_agent', e.user_agent
  )) AS evidence
FROM signed_events e
JOIN root_tasks t
  ON e.event_source = t.event_source AND e.event_name = t.event_name
 AND (t.condition = 'any'
      OR (t.condition = 'own_credentials'
          AND coalesce(json_get_str(e.request_parameters, 'userName'), 'root') = 'root')
      OR (t.condition = 'mfa_delete'
          AND json_get_str(e.request_parameters, 'VersioningConfiguration', 'MfaDelete') IS NOT NULL))
WHERE e.root_use AND coalesce(e.event_type, 'AwsApiCall') = 'AwsApiCall'
