-- Role sessions that AWS runs for a workload: EC2 instance profiles, Lambda functions,
-- ECS tasks and every other session an AWS service assumed. Such a session is used from
-- several AWS-side addresses at once as a matter of course (an instance reaches S3, KMS,
-- SSM or Secrets Manager through a VPC endpoint from its private address, and the rest
-- through its NAT; each concurrent Lambda execution environment has its own address), so
-- the interleaving that flags a person's identity means nothing here. What matters for a
-- workload is use from outside its own context: workload-credentials-outside.
--
-- Recognized by (any one of):
-- - the issuing event: an AssumeRole by an AWS service (userIdentity.type = AWSService,
--   invokedBy ec2.amazonaws.com, lambda.amazonaws.com, ecs-tasks.amazonaws.com, ...);
--   the session is requestParameters.roleArn's role with requestParameters.roleSessionName
--   (responseElements is often null for these calls);
-- - the session name of an EC2 instance profile session: the instance id (i-...);
-- - the execution environment its own calls name in their user agent (exec-env/AWS_Lambda_*,
--   exec-env/AWS_ECS_*, the old awslambda-worker).
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html
-- https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
SELECT DISTINCT identity, how FROM (
  SELECT concat('arn:', arn_partition(json_get_str(request_parameters, 'roleArn')), ':sts::',
                arn_account(json_get_str(request_parameters, 'roleArn')), ':assumed-role/',
                arn_role_name(json_get_str(request_parameters, 'roleArn')), '/',
                json_get_str(request_parameters, 'roleSessionName')) AS identity,
         concat('assumed by ', user_identity_invoked_by) AS how
  FROM events
  WHERE event_name = 'AssumeRole' AND user_identity_type = 'AWSService'
    AND user_identity_invoked_by IS NOT NULL
    AND json_get_str(request_parameters, 'roleArn') IS NOT NULL
    AND json_get_str(request_parameters, 'roleSessionName') IS NOT NULL
  UNION ALL
  SELECT identity,
         CASE WHEN lambda THEN 'lambda execution environment'
              WHEN ecs THEN 'ecs execution environment'
              ELSE 'EC2 instance profile' END AS how
  -- One row per session (a plain LIKE per event, the functions once per session). The
  -- agents as AWS writes them: exec-env/AWS_Lambda_<runtime>, exec-env/AWS_ECS_<launch
  -- type>, and the old awslambda-worker (as user_agent_platform reads them).
  FROM (
    SELECT user_identity_arn AS identity,
           bool_or(user_agent LIKE '%exec-env/AWS_Lambda%' OR user_agent LIKE '%awslambda%') AS lambda,
           bool_or(user_agent LIKE '%exec-env/AWS_ECS%') AS ecs
    FROM events
    WHERE user_identity_type = 'AssumedRole' AND user_identity_arn IS NOT NULL
    GROUP BY user_identity_arn
  ) sessions
  WHERE lambda OR ecs
     OR regexp_like(arn_session_name(identity), '^i-[0-9a-f]{8}([0-9a-f]{9})?$')
) w
WHERE identity IS NOT NULL
