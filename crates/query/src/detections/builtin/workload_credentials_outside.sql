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
calls AS (
  SELECT e.user_identity_arn AS identity, w.how,
         concat(arn_account(e.user_identity_arn), ':', arn_role_name(e.user_identity_arn)) AS role,
         e.recipient_account_id AS account_id, e.event_id, e.event_time, e.event_name,
         e.source_ip_address AS ip, e.user_agent,
         concat(user_agent_family(e.user_agent), '/', user_agent_platform(e.user_agent)) AS client,
         coalesce(ip_network(e.source_ip_address), e.source_ip_address) AS net,
         (e.vpc_endpoint_id IS NOT NULL
          OR user_agent_platform(e.user_agent) IN ('lambda', 'ecs')
          OR coalesce(ip_in_cidr(e.source_ip_address, '10.0.0.0/8')
                      OR ip_in_cidr(e.source_ip_address, '172.16.0.0/12')
                      OR ip_in_cidr(e.source_ip_address, '192.168.0.0/16')
                      OR ip_in_cidr(e.source_ip_address, 'fc00::/7'), false)) AS in_context,
         row_number() OVER (PARTITION BY e.user_identity_arn ORDER BY e.event_time, e.event_id) AS nth
  FROM workloads w
  JOIN signed_events e ON e.user_identity_arn = w.identity
  WHERE NOT e.via_aws_service
),
home_clients AS (
  SELECT DISTINCT role, client FROM calls WHERE in_context OR nth = 1
),
home_networks AS (
  SELECT DISTINCT c.role, c.net
  FROM home_clients h JOIN calls c ON c.role = h.role AND c.client = h.client
),
outside AS (
  SELECT c.* FROM calls c
  WHERE NOT c.in_context
    AND NOT EXISTS (SELECT 1 FROM home_clients h WHERE h.role = c.role AND h.client = c.client)
    AND NOT EXISTS (SELECT 1 FROM home_networks n WHERE n.role = c.role AND n.net = c.net)
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
FROM outside o
GROUP BY o.identity, o.account_id
