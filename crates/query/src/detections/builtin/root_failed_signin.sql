-- id: root-failed-signin
-- title: Failed root sign-ins
-- severity: medium
-- description: Console sign-ins as root that failed, per account and UTC hour (threshold: at least 1 in the hour; the evidence counts them and lists the addresses).
-- rationale: Someone is trying the root password: a forgotten one, or a guess. Several in an hour from unknown addresses is an attack.
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
-- false_positives: An owner mistyping the password once, right before a successful sign-in.
SELECT
  root_principal AS principal,
  root_principal AS actor,
  root_account_id AS account_id,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(event_id ORDER BY event_time, event_id) AS event_ids,
  to_json(named_struct(
    'failures', count(*),
    'source_ips', array_sort(array_agg(DISTINCT source_ip_address)),
    'error_messages', array_sort(array_agg(DISTINCT error_message))
  )) AS evidence
FROM signed_events
WHERE user_identity_type = 'Root' AND event_name = 'ConsoleLogin'
  AND json_get_str(response_elements, 'ConsoleLogin') = 'Failure'
GROUP BY root_principal, root_account_id, date_trunc('hour', event_time)
HAVING count(*) >= 1
