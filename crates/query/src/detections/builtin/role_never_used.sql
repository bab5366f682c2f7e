-- id: role-never-used
-- title: Role created and never used
-- severity: low
-- description: A role was created (CreateRole) and, in the whole period the dataset holds, no session of it signed a call and no AssumeRole into it succeeded; roles deleted again are left out. One finding per role.
-- rationale: A role nobody uses is standing privilege with no purpose: least privilege asks that it be removed (IAM's role last-used data says the same, for 400 days).
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#remove-credentials, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage_delete.html
-- false_positives: Break-glass and disaster-recovery roles are meant to wait; roles used only by AWS services whose sessions CloudTrail does not log.
WITH created AS (
  SELECT
    coalesce(json_get_str(response_elements, 'role', 'arn'),
             concat('arn:aws:iam::', recipient_account_id, ':role/', json_get_str(request_parameters, 'roleName'))) AS role_arn,
    json_get_str(request_parameters, 'roleName') AS role_name,
    recipient_account_id AS account_id,
    coalesce(root_principal, user_identity_arn) AS creator,
    event_time,
    event_id
  FROM signed_events
  WHERE event_source = 'iam.amazonaws.com' AND event_name = 'CreateRole' AND error_code IS NULL
),
deleted AS (
  SELECT DISTINCT recipient_account_id AS account_id, json_get_str(request_parameters, 'roleName') AS role_name
  FROM events
  WHERE event_source = 'iam.amazonaws.com' AND event_name = 'DeleteRole' AND error_code IS NULL
),
used AS (
  SELECT DISTINCT session_issuer_arn AS role_arn FROM events
  WHERE user_identity_type = 'AssumedRole' AND session_issuer_arn IS NOT NULL
  UNION
  SELECT DISTINCT json_get_str(request_parameters, 'roleArn') AS role_arn FROM events
  WHERE event_source = 'sts.amazonaws.com' AND event_name LIKE 'AssumeRole%' AND error_code IS NULL
)
SELECT
  c.role_arn AS principal,
  min(c.creator) AS actor,
  c.account_id,
  min(c.event_time) AS first_seen,
  max(c.event_time) AS last_seen,
  count(*) AS event_count,
  array_agg(c.event_id ORDER BY c.event_time, c.event_id) AS event_ids,
  to_json(named_struct(
    'role_name', min(c.role_name),
    'created_by', min(c.creator),
    'created', to_char(min(c.event_time), '%Y-%m-%dT%H:%M:%SZ')
  )) AS evidence
FROM created c
LEFT JOIN used u ON c.role_arn = u.role_arn
LEFT JOIN deleted d ON c.account_id = d.account_id AND c.role_name = d.role_name
WHERE u.role_arn IS NULL AND d.role_name IS NULL
GROUP BY c.role_arn, c.account_id
