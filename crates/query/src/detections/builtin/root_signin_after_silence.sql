-- id: root-signin-after-silence
-- title: Root sign-in after a long silence
-- severity: high
-- grain: event
-- description: A successful root console sign-in with no root activity in the same account in the 30 days before it, as far as the dataset reaches back (the first root activity of the dataset counts only when the dataset starts at least 30 days earlier).
-- rationale: A root user that is locked away for months and then signs in is either a rare planned task or someone else.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-best-practices.html
-- false_positives: Planned root-only tasks after a quiet period.
WITH root AS (
  SELECT event_id, event_time, event_name, root_account_id, source_ip_address, root_principal AS principal,
         json_get_str(response_elements, 'ConsoleLogin') AS outcome,
         lag(event_time) OVER (PARTITION BY root_account_id ORDER BY event_time, event_id) AS previous
  FROM signed_events
  WHERE root_use
),
start AS (SELECT min(event_time) AS first_event FROM events)
SELECT
  principal,
  principal AS actor,
  root_account_id AS account_id,
  event_time,
  event_id,
  to_json(named_struct(
    'previous_root_activity', CAST(previous AS VARCHAR),
    'days_silent', (CAST(event_time AS BIGINT) - CAST(coalesce(previous, first_event) AS BIGINT)) / 86400000000,
    'source_ip', source_ip_address
  )) AS evidence
FROM root CROSS JOIN start
WHERE event_name = 'ConsoleLogin' AND outcome = 'Success'
  -- In microseconds: DataFusion 55 compares a timestamp difference (a duration) with an
  -- INTERVAL as false whatever the values.
  AND CAST(event_time AS BIGINT) - CAST(coalesce(previous, first_event) AS BIGINT) >= 30 * 86400 * 1000000
