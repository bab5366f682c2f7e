-- id: root-assumed-session
-- title: Centralized root access session (sts:AssumeRoot)
-- severity: medium
-- description: Requests made with short-term root credentials from sts:AssumeRoot in a member account, attributed to the management-account principal that called AssumeRoot.
-- rationale: Centralized root access replaces member-account root passwords with task-scoped sessions; each use is still root and should be expected, and its caller is the person to ask.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html, https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoot.html
-- false_positives: Planned privileged tasks (unlocking a bucket policy, deleting root credentials) run by the security team.
SELECT
  a.principal,
  a.actor,
  a.account_id,
  min(a.event_time) AS first_seen,
  max(a.event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(a.event_id ORDER BY a.event_time, a.event_id) AS event_ids,
  to_json(named_struct(
    'access_key_id', a.access_key_id,
    'assume_root_event_id', a.session_issuing_event_id,
    'method', a.method,
    'event_names', array_sort(array_agg(DISTINCT a.event_name))
  )) AS evidence
FROM attribution a
JOIN events e ON e.event_id = a.event_id AND e.recipient_account_id = a.account_id
WHERE e.user_identity_type = 'Root' AND e.session_assumed_root
GROUP BY a.principal, a.actor, a.account_id, a.access_key_id, a.session_issuing_event_id, a.method
