-- The root user's ARN: userIdentity.arn, or (an empty ARN being no ARN) built from the
-- account, in the partition of the region (aws-cn, aws-us-gov, else aws).
coalesce(nullif(user_identity_arn, ''),
         concat('arn:', CASE WHEN aws_region LIKE 'cn-%' THEN 'aws-cn'
                             WHEN aws_region LIKE 'us-gov-%' THEN 'aws-us-gov' ELSE 'aws' END,
                ':iam::', coalesce(nullif(user_identity_account_id, ''), recipient_account_id), ':root'))
