-- id: root-activity
-- title: Root user activity
-- severity: high
-- description: The root user made requests, by console or API; failed requests are included and counted. One finding per account and UTC day.
-- rationale: The root user has unrestricted access and cannot be attributed to a person. The CIS AWS Foundations Benchmark and Security Hub CloudWatch.1 alarm on any use, with this filter: userIdentity.type = Root, no invokedBy, eventType other than AwsServiceEvent.
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1, https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-best-practices.html
-- false_positives: The few tasks only root can do (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#root-user-tasks) still fire: confirm who did them and why.
SELECT
  root_principal AS principal,
  root_principal AS actor,
  root_account_id AS account_id,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(event_id ORDER BY event_time, event_id) AS event_ids,
  to_json(named_struct(
    'day', to_char(min(event_time), '%Y-%m-%d'),
    'event_names', array_sort(array_agg(DISTINCT event_name)),
    'source_ips', array_sort(array_agg(DISTINCT source_ip_address)),
    'user_agent_families', array_sort(array_agg(DISTINCT user_agent_family(user_agent))),
    -- Failed: an error code, an error message alone, or a Failure outcome.
    'failed', count(*) FILTER (WHERE error_code IS NOT NULL OR error_message IS NOT NULL
                                 OR json_get_str(response_elements, 'ConsoleLogin') = 'Failure')
  )) AS evidence
FROM signed_events
WHERE root_use
GROUP BY 1, 2, 3, date_trunc('day', event_time)
