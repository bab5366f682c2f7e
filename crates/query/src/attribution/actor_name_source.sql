-- Where the name of actor_name.sql came from (an expression to inline).
CAST(CASE
  WHEN {names}.actor_name IS NOT NULL THEN {names}.actor_name_source
  WHEN {actor} LIKE 'arn:%' THEN 'ARN'
  WHEN {actor} IS NOT NULL THEN 'actor id'
END AS VARCHAR)
