-- id: shared-access-key
-- title: Access key used by several actors at once
-- severity: high
-- description: One long-term access key (AKIA...) used from several source addresses in turn within minutes (A, B, A), which one person or machine does not do. Thresholds: a return to an address within 30 minutes, at least 2 returns. AWS service sources (invokedBy, service host names, AWS Internal) are left out. One finding per key, over the window of interleaving.
-- rationale: A key shared between people or machines cannot be attributed and cannot be rotated without breaking someone; a key used at once from an unknown address is often a stolen one.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#rotate-credentials, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
-- false_positives: One machine whose traffic leaves through several NAT addresses in turn; a person on a VPN that splits traffic between two exits.
SELECT
  max(principal) AS principal,
  CAST(NULL AS VARCHAR) AS actor,
  account_id,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(event_id ORDER BY event_time, event_id) AS event_ids,
  to_json(named_struct(
    'kind', kind,
    'identity', identity,
    'actors', count(DISTINCT ip),
    'source_ips', array_sort(array_agg(DISTINCT ip)),
    'user_agent_families', array_sort(array_agg(DISTINCT user_agent_family(user_agent))),
    'returns', max(returns),
    'vpc_endpoints', array_sort(array_agg(DISTINCT vpc_endpoint_id) FILTER (WHERE vpc_endpoint_id IS NOT NULL))
  )) AS evidence
-- The interleaving itself is computed once for every kind, in detections/interleaved.sql.
FROM __interleaved
WHERE kind = 'access_key'
GROUP BY kind, identity, account_id
