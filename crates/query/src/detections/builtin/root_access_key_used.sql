-- id: root-access-key-used
-- title: Root API calls with an access key
-- severity: critical
-- description: Requests signed by a long-term access key (AKIA...) of the root user, per key and UTC day.
-- rationale: The root user should have no access keys (CIS AWS Foundations 1.4, Security Hub IAM.4); a root key in use is a key that can do anything and names no one.
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-4, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_delete-key.html
-- false_positives: None expected.
SELECT
  root_principal AS principal,
  root_principal AS actor,
  root_account_id AS account_id,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(event_id ORDER BY event_time, event_id) AS event_ids,
  to_json(named_struct(
    'access_key_id', user_identity_access_key_id,
    'event_names', array_sort(array_agg(DISTINCT event_name)),
    'source_ips', array_sort(array_agg(DISTINCT source_ip_address)),
    'user_agent_families', array_sort(array_agg(DISTINCT user_agent_family(user_agent)))
  )) AS evidence
FROM signed_events
WHERE root_use AND user_identity_access_key_id LIKE 'AKIA%'
GROUP BY 1, 2, 3, user_identity_access_key_id, date_trunc('day', event_time)
