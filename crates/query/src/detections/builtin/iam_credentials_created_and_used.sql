-- id: iam-credentials-created-and-used
-- title: New access key used within minutes by someone other than its creator
-- severity: high
-- description: A principal created an access key (CreateAccessKey) and the new key signed requests within 60 minutes, the key's user being a different principal from its creator. One finding per key.
-- rationale: Creating a user or a key and using it at once is how an intruder turns a short session into lasting access; legitimate provisioning hands keys to their owner, who uses them later.
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-admin-user/, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
-- false_positives: A provisioning pipeline that creates a service user's key and tests it right away.
WITH created AS (
  SELECT e.event_id, e.event_time, e.recipient_account_id AS account_id,
         json_get_str(e.response_elements, 'accessKey', 'accessKeyId') AS new_key,
         json_get_str(e.response_elements, 'accessKey', 'userName') AS for_user,
         a.principal AS creator, a.actor AS creator_actor
  FROM events e
  -- Joined on the record's place, which every row has (records without an eventID too).
JOIN attribution a ON a.source_file = e.source_file AND a.record_index = e.record_index
  WHERE e.event_name = 'CreateAccessKey' AND a.event_name = 'CreateAccessKey' AND e.error_code IS NULL
    AND json_get_str(e.response_elements, 'accessKey', 'accessKeyId') IS NOT NULL
),
used AS (
  SELECT c.event_id AS created_event, c.event_time AS created_at, c.account_id, c.new_key, c.for_user,
         c.creator, c.creator_actor, u.event_id, u.event_time,
         u.user_identity_arn AS principal, u.source_ip_address
  FROM created c
  JOIN events u ON u.user_identity_access_key_id = c.new_key
  WHERE u.user_identity_arn <> c.creator
    AND u.event_time >= c.event_time
    AND CAST(u.event_time AS BIGINT) - CAST(c.event_time AS BIGINT) <= 60 * 60 * 1000000
)
SELECT
  max(principal) AS principal,
  max(creator_actor) AS actor,
  account_id,
  min(created_at) AS first_seen,
  max(event_time) AS last_seen,
  count(*) + 1 AS event_count,
  array_concat(make_array(max(created_event)), array_agg(event_id ORDER BY event_time, event_id)) AS event_ids,
  to_json(named_struct(
    'new_access_key_id', new_key,
    'for_user', max(for_user),
    'created_by', max(creator),
    'first_use_after_seconds', (CAST(min(event_time) AS BIGINT) - CAST(min(created_at) AS BIGINT)) / 1000000,
    'source_ips', array_sort(array_agg(DISTINCT source_ip_address))
  )) AS evidence
FROM used
GROUP BY account_id, new_key
