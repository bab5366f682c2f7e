-- The signing identity of an event, normalized per userIdentity type
-- (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
-- Identity Center events before January 2025 had type Unknown with userName; since then
-- type IdentityCenterUser with the user in onBehalfOf (userId, identityStoreArn).
CASE
  WHEN user_identity_type = 'Root' THEN {root_principal}
  WHEN user_identity_type IN ('IAMUser', 'AssumedRole', 'FederatedUser') AND nullif(user_identity_arn, '') IS NOT NULL THEN
    user_identity_arn
  -- Console sign-in events may name an IAM user without its ARN; a failed sign-in with a
  -- wrong user name shows HIDDEN_DUE_TO_SECURITY_REASONS, which names nobody.
  WHEN user_identity_type = 'IAMUser' AND user_identity_user_name IS NOT NULL
       AND user_identity_user_name <> 'HIDDEN_DUE_TO_SECURITY_REASONS' THEN
    concat('arn:aws:iam::', coalesce(user_identity_account_id, recipient_account_id), ':user/', user_identity_user_name)
  WHEN user_identity_type = 'IdentityCenterUser' AND on_behalf_of_user_id IS NOT NULL THEN
    concat(coalesce(on_behalf_of_identity_store_arn, concat('identitystore:', user_identity_account_id)), '/', on_behalf_of_user_id)
  WHEN user_identity_type IN ('IdentityCenterUser', 'Unknown') AND user_identity_user_name IS NOT NULL THEN
    concat('identitycenter:', coalesce(user_identity_account_id, recipient_account_id), '/', user_identity_user_name)
  WHEN user_identity_type IN ('SAMLUser', 'WebIdentityUser') AND user_identity_user_name IS NOT NULL THEN
    concat(coalesce(user_identity_identity_provider, 'unknown-provider'), '/', user_identity_user_name)
  WHEN user_identity_type = 'AWSService' AND user_identity_invoked_by IS NOT NULL THEN
    user_identity_invoked_by
  WHEN user_identity_type = 'AWSAccount' THEN
    concat('account:', user_identity_account_id, CASE WHEN user_identity_principal_id IS NOT NULL THEN concat('/', user_identity_principal_id) END)
  ELSE
    concat('unknown:', coalesce(user_identity_type, 'none'), ':',
           coalesce(user_identity_arn, user_identity_principal_id, user_identity_invoked_by, user_identity_account_id, recipient_account_id, ''),
           CASE WHEN user_identity_user_name IS NOT NULL THEN concat('/', user_identity_user_name) END)
END
