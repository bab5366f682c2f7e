-- id: access-key-human-and-automation
-- title: Access key used by a person's tools and by automation on one day
-- severity: low
-- description: One long-term access key (AKIA...) used on the same UTC day from interactive tools (the AWS CLI, or a browser) and from automation (SDKs, Terraform, CloudFormation), from two or more addresses. One finding per key and day.
-- rationale: A person's key copied into a pipeline (or a pipeline's key on a laptop) has two owners: neither attribution nor rotation works. Pipelines should use roles (OIDC web identity, instance profiles).
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
-- false_positives: A person running a Python script with their own key from their own laptop while also using the CLI elsewhere.
SELECT
  max(user_identity_arn) AS principal,
  CAST(NULL AS VARCHAR) AS actor,
  recipient_account_id AS account_id,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(event_id ORDER BY event_time, event_id) AS event_ids,
  to_json(named_struct(
    'access_key_id', user_identity_access_key_id,
    'interactive', array_sort(array_agg(DISTINCT user_agent_family(user_agent)) FILTER (WHERE user_agent_family(user_agent) IN ('aws-cli', 'console'))),
    'automation', array_sort(array_agg(DISTINCT user_agent_family(user_agent)) FILTER (WHERE user_agent_family(user_agent) NOT IN ('aws-cli', 'console', 'aws-service', 'other'))),
    'source_ips', array_sort(array_agg(DISTINCT source_ip_address))
  )) AS evidence
FROM events
WHERE user_identity_access_key_id LIKE 'AKIA%'
  AND user_identity_invoked_by IS NULL
  AND NOT coalesce(is_aws_service_source(source_ip_address), true)
GROUP BY user_identity_access_key_id, recipient_account_id, date_trunc('day', event_time)
HAVING count(*) FILTER (WHERE user_agent_family(user_agent) IN ('aws-cli', 'console')) > 0
   AND count(*) FILTER (WHERE user_agent_family(user_agent) NOT IN ('aws-cli', 'console', 'aws-service', 'other')) > 0
   AND count(DISTINCT source_ip_address) >= 2
