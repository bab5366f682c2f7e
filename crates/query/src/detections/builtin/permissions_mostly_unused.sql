-- id: permissions-mostly-unused
-- title: Granted permissions mostly unused
-- severity: medium
-- description: A user or role is granted at least 10 IAM actions by its identity policies and its allowed calls used fewer than half of them. Only with --authorization-details (the output of aws iam get-account-authorization-details); one finding per principal, its activity as first and last seen (none: never used).
-- rationale: Least privilege: permissions nobody uses are only risk. The policy command writes the policy that grants exactly what was used.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege, https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html
-- false_positives: Permissions used outside the logged period, or by calls CloudTrail does not log (most data events unless enabled); break-glass roles.
SELECT
  principal,
  principal AS actor,
  account_id,
  first_use AS first_seen,
  last_use AS last_seen,
  CAST(0 AS BIGINT) AS event_count,
  CAST([] AS VARCHAR[]) AS event_ids,
  to_json(named_struct(
    'kind', kind,
    'granted', granted,
    'used', used,
    'unused', unused,
    'least_privilege_ratio', round(ratio, 4),
    'unused_services', unused_services,
    'last_use_by_service', last_use_by_service
  )) AS evidence
FROM privilege_summary
WHERE granted >= 10 AND ratio < 0.5
