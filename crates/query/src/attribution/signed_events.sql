-- Every event of `events` with its normalized signing principal (principal.sql), its type
-- (principal_type.sql), whether an AWS service made the call (`invokedBy` set, or a
-- source address that is an AWS service name or missing:
-- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html),
-- and whether it is a use of the root user in the CIS sense (type Root, no `invokedBy`,
-- not an AwsServiceEvent: CIS AWS Foundations Benchmark, "Ensure use of the root user is
-- monitored"; old records without eventType count).
-- Attribution and the detections read it, so each of these is defined once.
SELECT
  *,
  {principal} AS principal,
  {principal_type} AS principal_type,
  (user_identity_invoked_by IS NOT NULL
   OR coalesce(is_aws_service_source(source_ip_address), true)) AS via_aws_service,
  (user_identity_type = 'Root' AND user_identity_invoked_by IS NULL
   AND coalesce(event_type, '') <> 'AwsServiceEvent') AS root_use
FROM events
