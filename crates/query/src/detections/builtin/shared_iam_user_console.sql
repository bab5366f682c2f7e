-- id: shared-iam-user-console
-- title: IAM user console login used by several people at once
-- severity: high
-- description: One IAM user signed in to the console, its sign-ins and console sessions together, used from several source addresses in turn within minutes (A, B, A), which one person or machine does not do. Thresholds: a return to an address within 30 minutes, at least 2 returns. AWS service sources (invokedBy, service host names, AWS Internal) are left out. One finding per user, over the window of interleaving.
-- rationale: A console password shared by a team breaks attribution: every action is "ops-team". Give each person their own identity (Identity Center or their own IAM user).
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-users-federation-idp, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
-- false_positives: One person signed in from two devices on different networks (a laptop and a phone hotspot) working in both at once.
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
WHERE kind = 'iam_user'
GROUP BY kind, identity, account_id
