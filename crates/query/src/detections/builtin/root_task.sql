-- id: root-task
-- title: Root used for a task only root can do
-- severity: low
-- grain: event
-- description: The root user made a call that only root can make (table root_tasks): its own access keys or MFA device, restoring IAM permissions, S3 MFA delete, a bucket or queue policy that locks everyone out.
-- rationale: These are the legitimate uses of the root user; each still deserves a named person and a reason, since root cannot be attributed.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#root-user-tasks
-- false_positives: Expected when the account's owners do these tasks; confirm who did and why.
SELECT
  root_principal AS principal,
  root_principal AS actor,
  root_account_id AS account_id,
  event_time,
  event_id,
  to_json(named_struct(
    'event_name', event_name,
    'task', task,
    'failed', error_code IS NOT NULL,
    'source_ip', source_ip_address,
    'user_agent', user_agent
  )) AS evidence
FROM root_calls
WHERE task IS NOT NULL
