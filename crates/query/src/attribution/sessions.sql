-- One row per temporary credential issued or used in the dataset.
SELECT
  access_key_id, principal, principal_type, role_arn, session_name, source_identity,
  issuing_event_id, issuing_copy_event_id, issuing_api, issued_at, issued_by, issued_by_type,
  c.actor, {actor_name} AS actor_name, {actor_name_source} AS actor_name_source,
  actor_type, actor_provider, method, chain,
  first_used, last_used, event_count, source_ips, from_console
FROM __credentials c
LEFT JOIN __actor_names n ON c.actor = n.actor
