-- A readable name for the actors whose id is opaque, with the evidence it came from.
-- Identity Center users are known by their identity-store user id (3b50fe1214-...); the
-- user name is in the same data:
-- - the AWSReservedSSO_<permission set>_<suffix> role session the user started is named
--   after the user (https://docs.aws.amazon.com/singlesignon/latest/userguide/sso-info-in-cloudtrail.html);
-- - events signed by the Identity Center user itself carry its userName;
-- - a portal GetRoleCredentials (user id, account, permission set) is followed within
--   minutes by the first use of an AWSReservedSSO session of that role in that account:
--   that session's name is the user's.
SELECT actor, min(name) AS actor_name, min(source) AS actor_name_source FROM (
  -- One string type for every branch (the views' columns are Utf8).
  SELECT CAST(actor AS VARCHAR) AS actor, CAST(session_name AS VARCHAR) AS name,
         'AWSReservedSSO session name' AS source
  FROM __credentials
  WHERE actor_type = 'IdentityCenterUser' AND session_name IS NOT NULL
    AND arn_role_name(principal) LIKE 'AWSReservedSSO%'
  UNION ALL
  SELECT CAST(on_behalf_of_user_id AS VARCHAR) AS actor,
         CAST(user_identity_user_name AS VARCHAR) AS name,
         'Identity Center userName' AS source
  FROM events
  WHERE user_identity_type = 'IdentityCenterUser' AND on_behalf_of_user_id IS NOT NULL
    AND user_identity_user_name IS NOT NULL
  UNION ALL
  SELECT CAST(p.user_id AS VARCHAR) AS actor, CAST(c.session_name AS VARCHAR) AS name,
         'AWSReservedSSO session opened after the portal GetRoleCredentials' AS source
  FROM (
    SELECT coalesce(on_behalf_of_user_id, user_identity_principal_id) AS user_id,
           json_get_str(request_parameters, 'accountId') AS account_id,
           json_get_str(request_parameters, 'roleName') AS role_name, event_time
    FROM events
    WHERE event_source = 'sso.amazonaws.com' AND event_name = 'GetRoleCredentials'
      AND error_code IS NULL
  ) p
  JOIN __credentials c
    ON arn_account(c.principal) = p.account_id
   -- The role is AWSReservedSSO_<permission set>_<suffix>.
   AND regexp_replace(arn_role_name(c.principal), '^AWSReservedSSO_(.*)_[0-9a-f]+$', '$1') = p.role_name
   AND c.first_used BETWEEN p.event_time AND p.event_time + INTERVAL '5 minutes'
  WHERE p.user_id IS NOT NULL AND c.session_name IS NOT NULL
) named
GROUP BY actor
