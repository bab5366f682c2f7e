-- userIdentity.type, with the pre-2025 Identity Center form (Unknown with a userName)
-- named for what it is, and a missing type as 'none'.
CASE
  WHEN user_identity_type = 'Unknown' AND user_identity_user_name IS NOT NULL THEN 'IdentityCenterUser'
  ELSE coalesce(user_identity_type, 'none')
END
