-- Every event of `events` with, for root's events, its ARN (root_principal.sql, as
-- attribution's principal names it), whether an AWS service made the call (`invokedBy` set, or a
-- source address that is an AWS service name or missing:
-- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html),
-- and whether it is a use of the root user in the CIS sense (type Root, no `invokedBy`,
-- not an AwsServiceEvent: CIS AWS Foundations Benchmark, "Ensure use of the root user is
-- monitored"; old records without eventType count).
-- The account of a root event: recipientAccountId, or for old records without it (before
-- eventVersion 1.02) userIdentity.accountId, the account whose root it is: root acts only
-- in its own account (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
-- The detections read it, so each of these is defined once. It carries no full principal:
-- that CASE, inlined in every detection, made DataFusion plan the findings 0.17 s slower
-- (measured); attribution has it.
SELECT
  *,
  CASE WHEN user_identity_type = 'Root' THEN {root_principal} END AS root_principal,
  CASE WHEN user_identity_type = 'Root'
       THEN coalesce(recipient_account_id, user_identity_account_id) END AS root_account_id,
  (user_identity_invoked_by IS NOT NULL
   OR coalesce(is_aws_service_source(source_ip_address), true)) AS via_aws_service,
  (user_identity_type = 'Root' AND user_identity_invoked_by IS NULL
   AND coalesce(event_type, '') <> 'AwsServiceEvent') AS root_use
FROM events
