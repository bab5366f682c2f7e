-- id: root-use-not-requiring-root
-- title: Root used for what an IAM identity could do
-- severity: high
-- description: The root user made API calls that are not among the tasks only root can do (view root_calls, table root_tasks); sign-ins and the reads the console makes on the root user's behalf are left out. One finding per account and UTC day. Use an IAM identity instead.
-- rationale: AWS asks that the root user be used only for the tasks that require it; anything else an IAM identity (a role through Identity Center, say) can do with least privilege and attribution. The root_tasks table lists those tasks as CloudTrail records them.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#root-user-tasks, https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-best-practices.html
-- false_positives: Calls made while doing a root-only task that the console performs without a documented event (closing the account, changing the support plan) are counted here; check the day's event names.
SELECT
  root_principal AS principal,
  root_principal AS actor,
  root_account_id AS account_id,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(event_id ORDER BY event_time, event_id) AS event_ids,
  to_json(named_struct(
    'day', to_char(min(event_time), '%Y-%m-%d'),
    'event_names', array_sort(array_agg(DISTINCT event_name)),
    'failed', count(*) FILTER (WHERE error_code IS NOT NULL),
    'source_ips', array_sort(array_agg(DISTINCT source_ip_address)),
    'advice', 'use an IAM identity: none of these calls needs the root user'
  )) AS evidence
FROM root_calls
WHERE task IS NULL
  -- Reads the console makes for a page the root user opened.
  AND NOT (coalesce(read_only, false) AND coalesce(session_credential_from_console, false))
GROUP BY 1, 2, 3, date_trunc('day', event_time)
