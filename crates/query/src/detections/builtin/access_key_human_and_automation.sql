-- id: access-key-human-and-automation
-- title: Access key used by a person's tools and by automation on one day
-- severity: low
-- description: One long-term access key (AKIA...) used on the same UTC day from interactive tools (the AWS CLI, or a browser) and from automation (SDKs, Terraform, CloudFormation), from two or more addresses. One finding per key and day.
-- rationale: A person's key copied into a pipeline (or a pipeline's key on a laptop) has two owners: neither attribution nor rotation works. Pipelines should use roles (OIDC web identity, instance profiles).
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
-- false_positives: A person running a Python script with their own key from their own laptop while also using the CLI elsewhere.
WITH keyed AS (
  SELECT user_identity_access_key_id AS access_key_id, recipient_account_id AS account_id,
         date_trunc('day', event_time) AS day, user_identity_arn, event_id, event_time,
         source_ip_address, user_agent_family(user_agent) AS family
  FROM signed_events
  WHERE user_identity_access_key_id LIKE 'AKIA%'
    AND NOT via_aws_service
),
-- Which keys and days qualify, before gathering event ids (most keys never do).
mixed AS (
  SELECT access_key_id, account_id, day
  FROM keyed
  GROUP BY access_key_id, account_id, day
  HAVING count(*) FILTER (WHERE family IN ('aws-cli', 'console')) > 0
     AND count(*) FILTER (WHERE family NOT IN ('aws-cli', 'console', 'aws-service', 'other')) > 0
     AND count(DISTINCT source_ip_address) >= 2
)
SELECT
  max(k.user_identity_arn) AS principal,
  CAST(NULL AS VARCHAR) AS actor,
  k.account_id,
  min(k.event_time) AS first_seen,
  max(k.event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(k.event_id ORDER BY k.event_time, k.event_id) AS event_ids,
  to_json(named_struct(
    'access_key_id', k.access_key_id,
    'interactive', array_sort(array_agg(DISTINCT k.family) FILTER (WHERE k.family IN ('aws-cli', 'console'))),
    'automation', array_sort(array_agg(DISTINCT k.family) FILTER (WHERE k.family NOT IN ('aws-cli', 'console', 'aws-service', 'other'))),
    'source_ips', array_sort(array_agg(DISTINCT k.source_ip_address))
  )) AS evidence
FROM mixed m
JOIN keyed k ON k.access_key_id = m.access_key_id AND k.account_id = m.account_id AND k.day = m.day
GROUP BY k.access_key_id, k.account_id, k.day
