-- id: root-shared-console
-- title: Root console used from several addresses in one day
-- severity: critical
-- description: Successful root console sign-ins and root console sessions from two or more networks (IPv4 /24, IPv6 /48: addresses of one proxy pool are one) on the same UTC day, whether or not the sessions overlap. One finding per account and day.
-- rationale: Root has one password; two addresses in a day means two people (or one person and an attacker) hold it. Shared root credentials are the opposite of attribution.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-best-practices.html, https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1
-- false_positives: One owner signing in from the office and later from home on the same day.
WITH console AS (
  SELECT root_principal AS identity,
         root_account_id AS account_id, event_id, event_time, source_ip_address AS ip, user_agent
  FROM signed_events
  WHERE root_use AND NOT via_aws_service
    AND (session_credential_from_console
         OR (event_name = 'ConsoleLogin' AND json_get_str(response_elements, 'ConsoleLogin') = 'Success'))
)
SELECT
  identity AS principal,
  identity AS actor,
  account_id,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(event_id ORDER BY event_time, event_id) AS event_ids,
  to_json(named_struct(
    'kind', 'root',
    'identity', identity,
    'day', to_char(min(event_time), '%Y-%m-%d'),
    'actors', count(DISTINCT coalesce(ip_network(ip), ip)),
    'networks', array_sort(array_agg(DISTINCT coalesce(ip_network(ip), ip))),
    'source_ips', array_sort(array_agg(DISTINCT ip)),
    'user_agent_families', array_sort(array_agg(DISTINCT user_agent_family(user_agent)))
  )) AS evidence
FROM console
GROUP BY identity, account_id, date_trunc('day', event_time)
-- Networks (IPv4 /24, IPv6 /48), not addresses: one person behind a proxy pool is one.
HAVING count(DISTINCT coalesce(ip_network(ip), ip)) >= 2
