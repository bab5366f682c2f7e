-- One row per event: who signed it (principal) and who is behind it (actor).
-- The principal and principal_type placeholders below are filled from principal.sql and principal_type.sql.
WITH base AS (
SELECT
  e.event_id,
  e.event_time,
  e.recipient_account_id AS account_id,
  e.event_source,
  e.event_name,
  e.principal,
  e.principal_type,
  e.session_issuer_arn AS role_arn,
  e.user_identity_access_key_id AS access_key_id,
  CASE
    WHEN c.access_key_id IS NOT NULL THEN c.actor
    WHEN x.access_key_id IS NOT NULL THEN x.actor
    -- Federated subjects and Identity Center users signing themselves: the same actor
    -- (subject or user id, with its provider) as the sessions they start.
    WHEN e.principal_type IN ('SAMLUser', 'WebIdentityUser') AND e.user_identity_user_name IS NOT NULL
      THEN e.user_identity_user_name
    WHEN e.principal_type = 'IdentityCenterUser' AND e.on_behalf_of_user_id IS NOT NULL
      THEN e.on_behalf_of_user_id
    -- A service-linked role's session (often with no access key in the record) is the
    -- service of its path, /aws-service-role/<service principal>/
    -- (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html).
    WHEN e.session_issuer_arn LIKE '%:role/aws-service-role/%'
      THEN split_part(split_part(e.session_issuer_arn, '/aws-service-role/', 2), '/', 1)
    -- A session an AWS service assumed (EMR, OpsWorks, an instance profile, ...), signing
    -- with no key in the record: the service its AssumeRole names.
    WHEN s.service IS NOT NULL THEN s.service
    -- An Identity Center role's session with no temporary key to resolve (a console
    -- sign-in, GetSigninToken): its session name is the user, as for keys whose issuing
    -- call is missing (resolve.rs).
    WHEN starts_with(e.session_issuer_user_name, 'AWSReservedSSO_')
         AND arn_session_name(e.user_identity_arn) IS NOT NULL
      THEN arn_session_name(e.user_identity_arn)
    ELSE e.principal
  END AS actor,
  CASE
    WHEN c.access_key_id IS NOT NULL THEN c.actor_type
    WHEN x.access_key_id IS NOT NULL THEN x.actor_type
    WHEN e.session_issuer_arn LIKE '%:role/aws-service-role/%' THEN 'AWSService'
    WHEN s.service IS NOT NULL THEN 'AWSService'
    WHEN starts_with(e.session_issuer_user_name, 'AWSReservedSSO_')
         AND arn_session_name(e.user_identity_arn) IS NOT NULL THEN 'SessionName'
    ELSE e.principal_type
  END AS actor_type,
  CASE
    WHEN c.access_key_id IS NOT NULL THEN c.actor_provider
    WHEN x.access_key_id IS NOT NULL THEN x.actor_provider
    WHEN e.principal_type IN ('SAMLUser', 'WebIdentityUser') AND e.user_identity_user_name IS NOT NULL
      THEN e.user_identity_identity_provider
    WHEN e.principal_type = 'IdentityCenterUser' AND e.on_behalf_of_user_id IS NOT NULL
      THEN e.on_behalf_of_identity_store_arn
  END AS actor_provider,
  CASE
    WHEN c.access_key_id IS NOT NULL THEN c.method
    WHEN x.access_key_id IS NOT NULL THEN x.method
    -- Long-term identities and AWS services signing with their own credentials.
    WHEN e.principal_type IN ('Root', 'IAMUser', 'IdentityCenterUser', 'SAMLUser', 'WebIdentityUser', 'AWSService')
      THEN 'direct'
    WHEN e.session_issuer_arn LIKE '%:role/aws-service-role/%' THEN 'service_linked_role'
    WHEN s.service IS NOT NULL THEN 'sts_chain'
    WHEN starts_with(e.session_issuer_user_name, 'AWSReservedSSO_')
         AND arn_session_name(e.user_identity_arn) IS NOT NULL THEN 'session_name'
    ELSE 'unresolved'
  END AS method,
  CASE
    WHEN c.access_key_id IS NOT NULL THEN c.chain
    WHEN x.access_key_id IS NOT NULL THEN x.chain
  END AS chain,
  coalesce(c.issuing_event_id, s.issuing_event_id) AS session_issuing_event_id,
  e.source_ip_address,
  e.user_agent,
  e.aws_region,
  e.error_code,
  e.event_type,
  e.user_identity_invoked_by AS invoked_by,
  -- Where the record came from: a key every stored row has, eventID or not.
  e.source_file,
  e.record_index{passthrough}
FROM (SELECT *, {principal} AS principal, {principal_type} AS principal_type FROM {events}) e
LEFT JOIN __credentials c ON e.user_identity_access_key_id = c.access_key_id
LEFT JOIN __credentials x ON e.event_id = x.issuing_copy_event_id AND e.user_identity_type = 'AWSAccount'
-- Sessions AWS services assumed, by session ARN (their AssumeRole often names no key):
-- service_sessions.sql, computed once per session.
LEFT JOIN __service_sessions s ON e.user_identity_arn = s.session_arn AND c.access_key_id IS NULL
)
SELECT base.*,
  -- A readable name beside the actor's stable id, and where it came from.
  {actor_name} AS actor_name,
  {actor_name_source} AS actor_name_source
FROM base
LEFT JOIN __actor_names n ON base.actor = n.actor
