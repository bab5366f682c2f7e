-- id: root-assumed-session
-- title: Centralized root access session (sts:AssumeRoot)
-- severity: medium
-- description: Requests made with short-term root credentials from sts:AssumeRoot in a member account, attributed to the management-account principal that called AssumeRoot.
-- rationale: Centralized root access replaces member-account root passwords with task-scoped sessions; each use is still root and should be expected, and its caller is the person to ask.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html, https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoot.html
-- false_positives: Planned privileged tasks (unlocking a bucket policy, deleting root credentials) run by the security team.
SELECT
  e.root_principal AS principal,
  s.actor,
  e.root_account_id AS account_id,
  min(e.event_time) AS first_seen,
  max(e.event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(e.event_id ORDER BY e.event_time, e.event_id) AS event_ids,
  to_json(named_struct(
    'access_key_id', e.user_identity_access_key_id,
    'assume_root_event_id', s.issuing_event_id,
    'method', s.method,
    'event_names', array_sort(array_agg(DISTINCT e.event_name))
  )) AS evidence
FROM signed_events e
LEFT JOIN sessions s ON s.access_key_id = e.user_identity_access_key_id
WHERE e.user_identity_type = 'Root' AND e.session_assumed_root
GROUP BY 1, s.actor, e.root_account_id, e.user_identity_access_key_id, s.issuing_event_id, s.method
