-- id: shared-access-key
-- title: Access key used by several actors at once
-- severity: high
-- description: One long-term access key (AKIA...) used from several source addresses in turn within minutes (A, B, A), which one person or machine does not do. Thresholds: a return to an address within 30 minutes, at least 2 returns. AWS service sources (invokedBy, service host names, AWS Internal) are left out. One finding per key, over the window of interleaving.
-- rationale: A key shared between people or machines cannot be attributed and cannot be rotated without breaking someone; a key used at once from an unknown address is often a stolen one.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#rotate-credentials, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
-- false_positives: One machine whose traffic leaves through several NAT addresses in turn; a person on a VPN that splits traffic between two exits.
WITH used AS (
  SELECT user_identity_access_key_id AS identity, recipient_account_id AS account_id,
         user_identity_arn AS principal, event_id, event_time, source_ip_address AS ip,
         user_agent, vpc_endpoint_id
  FROM events
  WHERE user_identity_access_key_id LIKE 'AKIA%'
    AND user_identity_invoked_by IS NULL
    AND NOT coalesce(is_aws_service_source(source_ip_address), true)
),
-- Only identities seen from two or more addresses can interleave: the window below then
-- sorts few rows, not every event of every identity.
candidates AS (
  SELECT identity, account_id FROM used GROUP BY identity, account_id HAVING count(DISTINCT ip) >= 2
),
ordered AS (
  SELECT u.identity, u.account_id, u.event_time, u.ip,
    lag(u.ip) OVER (PARTITION BY u.identity, u.account_id ORDER BY u.event_time, u.event_id) AS ip1,
    lag(u.ip, 2) OVER (PARTITION BY u.identity, u.account_id ORDER BY u.event_time, u.event_id) AS ip2,
    lag(u.event_time, 2) OVER (PARTITION BY u.identity, u.account_id ORDER BY u.event_time, u.event_id) AS t2
  -- The small side first: DataFusion builds its hash table from the left input.
  FROM candidates c
  JOIN used u ON c.identity = u.identity AND c.account_id = u.account_id
),
returns AS (
  SELECT identity, account_id, min(t2) AS window_start, max(event_time) AS window_end, count(*) AS returns
  FROM ordered
  WHERE ip = ip2 AND ip <> ip1 AND CAST(event_time AS BIGINT) - CAST(t2 AS BIGINT) <= 30 * 60 * 1000000
  GROUP BY identity, account_id
  HAVING count(*) >= 2
)
SELECT
  max(u.principal) AS principal,
  CAST(NULL AS VARCHAR) AS actor,
  u.account_id,
  min(u.event_time) AS first_seen,
  max(u.event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(u.event_id ORDER BY u.event_time, u.event_id) AS event_ids,
  to_json(named_struct(
    'kind', 'access_key',
    'identity', u.identity,
    'actors', count(DISTINCT u.ip),
    'source_ips', array_sort(array_agg(DISTINCT u.ip)),
    'user_agent_families', array_sort(array_agg(DISTINCT user_agent_family(u.user_agent))),
    'returns', max(r.returns),
    'vpc_endpoints', array_sort(array_agg(DISTINCT u.vpc_endpoint_id) FILTER (WHERE u.vpc_endpoint_id IS NOT NULL))
  )) AS evidence
FROM returns r
JOIN used u ON r.identity = u.identity AND r.account_id = u.account_id
WHERE u.event_time BETWEEN r.window_start AND r.window_end
GROUP BY u.identity, u.account_id
