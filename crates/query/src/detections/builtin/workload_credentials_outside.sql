-- id: workload-credentials-outside
-- title: Workload credentials used outside their workload
-- severity: high
-- description: A workload's role session (an EC2 instance profile, a Lambda function, an ECS task, any session an AWS service assumed: see detections/workload_sessions.sql) called AWS from outside the workload's own context: not through a VPC endpoint, not from a private address, not from an execution environment, with a client stack (user-agent family and platform) that none of the role's workload calls use, from a network (IPv4 /24, IPv6 /48) where the role's own clients never called. The role's own clients are those of its in-context calls and of the first call of each of its sessions (the workload uses its credentials before anyone can take them). One finding per session.
-- rationale: Instance and function credentials are delivered to the workload alone; the same session from a laptop's aws-cli or an attacker's tooling is credential theft (SSRF to the instance metadata service, a leaked environment). GuardDuty reports the same pattern as InstanceCredentialExfiltration.
-- references: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html#unauthorizedaccess-iam-instancecredentialexfiltrationoutsideaws, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html
-- false_positives: A person on the instance running a tool the workload never uses, whose calls leave through a network the workload never uses (a second NAT, an egress proxy): make the tool's network a VPC endpoint or the workload's NAT. A thief who copies the workload's own user agent from the workload's own network is not told apart.
WITH workloads AS (
  SELECT identity, min(how) AS how FROM __workload_sessions GROUP BY identity
),
-- The workloads' calls grouped by what the rule looks at (session, agent, address, VPC
-- endpoint or not): the user-agent and address functions then run once per group, and a
-- fleet's thousands of calls are a few rows. Each step below reads the one before it
-- once (DataFusion computes a CTE again at each reference).
grouped AS (
  SELECT e.user_identity_arn AS identity, e.recipient_account_id AS account_id, w.how,
         e.user_agent, e.source_ip_address AS ip, e.vpc_endpoint_id IS NOT NULL AS via_endpoint,
         min(e.event_time) AS first_time
  FROM workloads w
  JOIN signed_events e ON e.user_identity_arn = w.identity
  WHERE NOT e.via_aws_service
  GROUP BY 1, 2, 3, 4, 5, 6
),
calls AS (
  SELECT g.*,
         concat(arn_account(g.identity), ':', arn_role_name(g.identity)) AS role,
         concat(user_agent_family(g.user_agent), '/', user_agent_platform(g.user_agent)) AS client,
         coalesce(ip_network(g.ip), g.ip) AS net,
         (g.via_endpoint
          OR user_agent_platform(g.user_agent) IN ('lambda', 'ecs')
          OR coalesce(ip_in_cidr(g.ip, '10.0.0.0/8')
                      OR ip_in_cidr(g.ip, '172.16.0.0/12')
                      OR ip_in_cidr(g.ip, '192.168.0.0/16')
                      OR ip_in_cidr(g.ip, 'fc00::/7'), false)) AS in_context,
         -- The group holding the session's first call.
         g.first_time = min(g.first_time) OVER (PARTITION BY g.identity) AS first
  FROM grouped g
),
-- The role's own clients: those of its in-context calls and of each session's first.
with_home_clients AS (
  SELECT *, bool_or(in_context OR first) OVER (PARTITION BY role, client) AS home_client
  FROM calls
),
-- The role's own networks: those where its own clients called.
with_home_networks AS (
  SELECT *, bool_or(home_client) OVER (PARTITION BY role, net) AS home_network
  FROM with_home_clients
),
outside AS (
  SELECT * FROM with_home_networks
  WHERE NOT in_context AND NOT home_client AND NOT home_network
),
-- Back to the events, for the few groups outside.
outside_events AS (
  SELECT o.identity, o.account_id, o.how, o.ip, o.net, o.client, e.user_agent,
         e.event_id, e.event_time, e.event_name
  FROM outside o
  JOIN signed_events e
    ON e.user_identity_arn = o.identity AND e.recipient_account_id = o.account_id
   AND e.user_agent = o.user_agent AND e.source_ip_address = o.ip
   AND e.vpc_endpoint_id IS NULL
  WHERE NOT e.via_aws_service
)
SELECT
  o.identity AS principal,
  -- Whoever it is, it is not the workload: known by network and client.
  concat('outside the workload: ', array_to_string(array_sort(array_agg(DISTINCT
    concat(o.net, ' (', o.client, ')'))), ', ')) AS actor,
  o.account_id,
  min(o.event_time) AS first_seen,
  max(o.event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(o.event_id ORDER BY o.event_time, o.event_id) AS event_ids,
  to_json(named_struct(
    'kind', 'workload_session',
    'identity', o.identity,
    'rule', 'a client stack and a network the workload never uses',
    'workload', max(o.how),
    'actors', count(DISTINCT o.net),
    'source_ips', array_sort(array_agg(DISTINCT o.ip)),
    'networks', array_sort(array_agg(DISTINCT o.net)),
    'clients', array_sort(array_agg(DISTINCT o.client)),
    'user_agents', array_sort(array_agg(DISTINCT o.user_agent)),
    'event_names', array_sort(array_agg(DISTINCT o.event_name))
  )) AS evidence
FROM outside_events o
GROUP BY o.identity, o.account_id
