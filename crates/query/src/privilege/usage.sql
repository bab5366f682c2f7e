-- The calls of each subject (a principal or an actor), grouped by what decides the IAM
-- action they needed and the resource they named. The subject, relation, filter and
-- partition placeholders are filled in by privilege/usage.rs.
SELECT
  {subject} AS subject,
  -- Records before eventVersion 1.02 may lack recipientAccountId: the signer's account then.
  coalesce(recipient_account_id, user_identity_account_id) AS account_id,
  event_source,
  event_name,
  event_type,
  -- Denied calls: the error codes AWS services return when authorization fails
  -- (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html,
  -- EC2's UnauthorizedOperation and its Client. form in old event versions).
  CASE
    WHEN error_code IS NULL THEN 'allowed'
    WHEN error_code IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation',
                        'Client.UnauthorizedOperation', 'UnauthorizedAccess', 'AuthorizationError',
                        'AuthorizationErrorException', 'NotAuthorized', 'Forbidden')
      OR error_code LIKE '%AccessDenied%' OR error_code LIKE '%Unauthorized%' THEN 'denied'
    ELSE 'failed'
  END AS outcome,
  -- The resources the record lists, then the one its request names.
  resources[1]['arn'] AS listed_1,
  resources[2]['arn'] AS listed_2,
  CASE
    WHEN event_source = 's3.amazonaws.com' THEN
      'arn:aws:s3:::' || json_get_str(request_parameters, 'bucketName')
        || coalesce('/' || json_get_str(request_parameters, 'key'), '')
    WHEN event_source = 'sts.amazonaws.com' THEN json_get_str(request_parameters, 'roleArn')
    WHEN event_source = 'iam.amazonaws.com' THEN coalesce(
      'name:role/' || json_get_str(request_parameters, 'roleName'),
      'name:user/' || json_get_str(request_parameters, 'userName'),
      'name:group/' || json_get_str(request_parameters, 'groupName'),
      json_get_str(request_parameters, 'policyArn'))
    WHEN event_source = 'kms.amazonaws.com'
      AND starts_with(json_get_str(request_parameters, 'keyId'), 'arn:') THEN json_get_str(request_parameters, 'keyId')
    WHEN event_source = 'secretsmanager.amazonaws.com'
      AND starts_with(json_get_str(request_parameters, 'secretId'), 'arn:') THEN json_get_str(request_parameters, 'secretId')
    WHEN event_source = 'sns.amazonaws.com' THEN json_get_str(request_parameters, 'topicArn')
    -- Names the ARN formats of the Service Authorization Reference complete exactly.
    WHEN event_source = 'ssm.amazonaws.com' AND json_get_str(request_parameters, 'name') IS NOT NULL THEN
      concat('arn:', {partition}, ':ssm:', aws_region, ':', coalesce(recipient_account_id, user_identity_account_id), ':parameter/',
             ltrim(json_get_str(request_parameters, 'name'), '/'))
    WHEN event_source = 'lambda.amazonaws.com' AND json_get_str(request_parameters, 'functionName') IS NOT NULL THEN
      CASE WHEN starts_with(json_get_str(request_parameters, 'functionName'), 'arn:')
           THEN json_get_str(request_parameters, 'functionName')
           ELSE concat('arn:', {partition}, ':lambda:', aws_region, ':', coalesce(recipient_account_id, user_identity_account_id), ':function:',
                       json_get_str(request_parameters, 'functionName')) END
    WHEN event_source = 'logs.amazonaws.com' AND json_get_str(request_parameters, 'logGroupName') IS NOT NULL THEN
      concat('arn:', {partition}, ':logs:', aws_region, ':', coalesce(recipient_account_id, user_identity_account_id), ':log-group:',
             json_get_str(request_parameters, 'logGroupName'),
             ':log-stream:' || json_get_str(request_parameters, 'logStreamName'))
    WHEN event_source = 'dynamodb.amazonaws.com' AND json_get_str(request_parameters, 'tableName') IS NOT NULL THEN
      concat('arn:', {partition}, ':dynamodb:', aws_region, ':', coalesce(recipient_account_id, user_identity_account_id), ':table/',
             json_get_str(request_parameters, 'tableName'))
  END AS derived,
  count(*) AS calls,
  CAST(min(event_time) AS VARCHAR) AS first_use,
  CAST(max(event_time) AS VARCHAR) AS last_use
FROM {relation}
WHERE {filter}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
