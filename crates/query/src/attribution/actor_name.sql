-- The readable name of the actor {actor} (an expression to inline; {names} is the
-- __actor_names row joined for it): the name the data gives an opaque id, the user or
-- role session of an ARN, or the id itself (already a name: an email, a service).
CAST(CASE
  WHEN {names}.actor_name IS NOT NULL THEN {names}.actor_name
  WHEN {actor} LIKE 'arn:%:root' THEN concat('root (', arn_account({actor}), ')')
  WHEN {actor} LIKE 'arn:%:assumed-role/%' THEN concat(arn_role_name({actor}), '/', arn_session_name({actor}))
  WHEN {actor} LIKE 'arn:%' THEN regexp_replace({actor}, '^.*[:/]', '')
  ELSE {actor}
END AS VARCHAR)
