-- id: shared-iam-user-console
-- title: IAM user console login used by several people at once
-- severity: high
-- description: One IAM user signed in to the console, its sign-ins and console sessions together, used from several source addresses in turn within minutes (A, B, A), which one person or machine does not do. Thresholds: a return to an address within 30 minutes, at least 2 returns. AWS service sources (invokedBy, service host names, AWS Internal) are left out. One finding per user, over the window of interleaving.
-- rationale: A console password shared by a team breaks attribution: every action is "ops-team". Give each person their own identity (Identity Center or their own IAM user).
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-users-federation-idp, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
-- false_positives: One person signed in from two devices on different networks (a laptop and a phone hotspot) working in both at once.
-- The interleaving is computed once for every kind, in detections/interleaved.sql.
SELECT principal, actor, account_id, first_seen, last_seen, event_count, event_ids, evidence
FROM __interleaved
WHERE kind = 'iam_user'
