-- The activity of identities used from several addresses in turn: the shared-identity
-- detections select from it by kind (access_key, role_session, iam_user).
--
-- A person who moves from one network to another produces runs that follow each other
-- (A A A, then B B B); several people produce runs that interleave (A, B, A, B). An
-- identity is kept when its activity returns to an address it left less than 30 minutes
-- before, at least twice; its finding covers its events within the span of interleaving. AWS service sources (invokedBy, service host names, AWS
-- Internal) are left out.
WITH used AS (
  -- Long-term access keys.
  SELECT 'access_key' AS kind, user_identity_access_key_id AS identity, recipient_account_id AS account_id,
         user_identity_arn AS principal, event_id, event_time, source_ip_address AS ip, user_agent, vpc_endpoint_id
  FROM signed_events
  WHERE user_identity_access_key_id LIKE 'AKIA%'
    AND NOT via_aws_service
  UNION ALL
  -- Role sessions: one session ARN (different session names are different sessions).
  SELECT 'role_session' AS kind, user_identity_arn AS identity, recipient_account_id AS account_id,
         user_identity_arn AS principal, event_id, event_time, source_ip_address AS ip, user_agent, vpc_endpoint_id
  FROM signed_events
  WHERE user_identity_type = 'AssumedRole' AND user_identity_arn IS NOT NULL
    AND NOT via_aws_service
  UNION ALL
  -- IAM users' console sign-ins and console sessions together.
  SELECT 'iam_user' AS kind, user_identity_arn AS identity, recipient_account_id AS account_id,
         user_identity_arn AS principal, event_id, event_time, source_ip_address AS ip, user_agent, vpc_endpoint_id
  FROM signed_events
  WHERE user_identity_type = 'IAMUser' AND user_identity_arn IS NOT NULL
    AND (session_credential_from_console OR event_name = 'ConsoleLogin')
    AND NOT via_aws_service
),
-- Only identities seen from two or more addresses can interleave: the window below then
-- sorts few rows, not every event of every identity.
candidates AS (
  SELECT kind, identity, account_id FROM used
  GROUP BY kind, identity, account_id HAVING count(DISTINCT ip) >= 2
),
-- People's role sessions only: workload sessions (__workload_sessions: instance profiles,
-- functions, tasks) use several AWS-side addresses at once by design, and
-- workload-credentials-outside watches them. Checked on the few candidates, not on every
-- event.
people AS (
  SELECT c.kind, c.identity, c.account_id FROM candidates c
  WHERE c.kind <> 'role_session'
     OR NOT EXISTS (SELECT 1 FROM __workload_sessions w WHERE w.identity = c.identity)
),
-- A return: the identity comes back to a network it used less than 30 minutes before,
-- with another network in between. Networks, not addresses: one organization's proxy,
-- VPN or carrier NAT hands one person many addresses of one IPv4 /24 or IPv6 /48
-- (ip_network); an address that does not parse stands for itself. Comparing with the
-- last use of the same network (not the event two back) counts any number of parties:
-- A B A, and the round robin A B C D A of four machines sharing one key.
networked AS (
  SELECT u.kind, u.identity, u.account_id, u.event_time, u.event_id,
         coalesce(ip_network(u.ip), u.ip) AS net
  -- The small side first: DataFusion builds its hash table from the left input.
  FROM people c
  JOIN used u ON c.kind = u.kind AND c.identity = u.identity AND c.account_id = u.account_id
),
ordered AS (
  SELECT kind, identity, account_id, event_time, net,
    lag(net) OVER (PARTITION BY kind, identity, account_id ORDER BY event_time, event_id) AS net1,
    lag(event_time) OVER (PARTITION BY kind, identity, account_id, net ORDER BY event_time, event_id) AS t2
  FROM networked
),
returns AS (
  SELECT kind, identity, account_id, min(t2) AS window_start, max(event_time) AS window_end, count(*) AS returns
  FROM ordered
  WHERE net <> net1 AND CAST(event_time AS BIGINT) - CAST(t2 AS BIGINT) <= 30 * 60 * 1000000
  GROUP BY kind, identity, account_id
  HAVING count(*) >= 2
)
-- One row per interleaving identity, in the columns of a finding (plus kind, identity
-- and returns, for the detections to select and filter on).
SELECT
  u.kind,
  u.identity,
  max(r.returns) AS returns,
  max(u.principal) AS principal,
  -- The actors are several and unnamed: each is known by its network and client.
  concat(CAST(count(DISTINCT coalesce(ip_network(u.ip), u.ip)) AS VARCHAR), ' parties: ',
         array_to_string(array_sort(array_agg(DISTINCT concat(coalesce(ip_network(u.ip), u.ip), ' (',
           user_agent_family(u.user_agent), '/', user_agent_platform(u.user_agent), ')'))), ', ')) AS actor,
  u.account_id,
  min(u.event_time) AS first_seen,
  max(u.event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(u.event_id ORDER BY u.event_time, u.event_id) AS event_ids,
  to_json(named_struct(
    'kind', u.kind,
    'identity', u.identity,
    'actors', count(DISTINCT coalesce(ip_network(u.ip), u.ip)),
    'networks', array_sort(array_agg(DISTINCT coalesce(ip_network(u.ip), u.ip))),
    'source_ips', array_sort(array_agg(DISTINCT u.ip)),
    'user_agent_families', array_sort(array_agg(DISTINCT user_agent_family(u.user_agent))),
    'clients', array_sort(array_agg(DISTINCT concat(user_agent_family(u.user_agent), '/', user_agent_platform(u.user_agent)))),
    -- The second witness: several client stacks as well as several networks (one machine
    -- behind two NAT exits has one).
    'second_witness', count(DISTINCT concat(user_agent_family(u.user_agent), '/', user_agent_platform(u.user_agent))) >= 2,
    'rule', 'returns to a network left less than 30 minutes before, among any number of networks',
    'returns', max(r.returns),
    'vpc_endpoints', array_sort(array_agg(DISTINCT u.vpc_endpoint_id) FILTER (WHERE u.vpc_endpoint_id IS NOT NULL))
  )) AS evidence
FROM returns r
JOIN used u ON r.kind = u.kind AND r.identity = u.identity AND r.account_id = u.account_id
WHERE u.event_time BETWEEN r.window_start AND r.window_end
GROUP BY u.kind, u.identity, u.account_id
