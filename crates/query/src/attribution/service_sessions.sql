-- Sessions AWS services assumed (EMR, OpsWorks, an instance profile, ...), by session
-- ARN: their AssumeRole often names no key, so attribution matches their calls by the
-- session ARN the call's role ARN and session name make.
  SELECT concat('arn:', arn_partition(role_arn), ':sts::', arn_account(role_arn), ':assumed-role/',
                arn_role_name(role_arn), '/', session_name) AS session_arn,
         max(service) AS service, min(event_id) AS issuing_event_id
  FROM (
    SELECT json_get_str(request_parameters, 'roleArn') AS role_arn,
           json_get_str(request_parameters, 'roleSessionName') AS session_name,
           user_identity_invoked_by AS service, event_id
    FROM events
    WHERE event_name = 'AssumeRole' AND event_source = 'sts.amazonaws.com'
      AND user_identity_type = 'AWSService' AND user_identity_invoked_by IS NOT NULL
      AND error_code IS NULL
  ) assumed
  WHERE role_arn IS NOT NULL AND session_name IS NOT NULL
  GROUP BY 1
