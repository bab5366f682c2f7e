-- One row per principal (kind 'principal') and per resolved actor (kind 'actor').
WITH identities AS (
  SELECT 'principal' AS kind, principal AS id, principal_type AS type,
         CASE WHEN principal LIKE 'arn:%:assumed-role/%'
              THEN concat(arn_role_name(principal), '/', arn_session_name(principal))
              WHEN principal LIKE 'arn:%:root' THEN concat('root (', arn_account(principal), ')')
              WHEN principal LIKE 'arn:%' THEN regexp_replace(principal, '^.*[:/]', '')
              ELSE principal END AS name,
         account_id, event_time, source_ip_address, user_agent, access_key_id, aws_region, error_code
  FROM attribution
  UNION ALL
  SELECT 'actor' AS kind, actor AS id, actor_type AS type, actor_name AS name,
         account_id, event_time, source_ip_address, user_agent, access_key_id, aws_region, error_code
  FROM attribution
)
SELECT
  kind, id, max(name) AS name, type,
  array_sort(array_agg(DISTINCT account_id)) AS accounts,
  min(event_time) AS first_seen, max(event_time) AS last_seen, count(*) AS events,
  count(DISTINCT source_ip_address) AS source_ips,
  array_sort(array_agg(DISTINCT user_agent_family(user_agent))) AS user_agent_families,
  array_sort(array_agg(DISTINCT access_key_id) FILTER (WHERE access_key_id IS NOT NULL)) AS access_keys,
  array_sort(array_agg(DISTINCT aws_region)) AS regions,
  count(error_code) AS errors
FROM identities
GROUP BY kind, id, type
