-- id: shared-role-session
-- title: Role session used by several actors at once
-- severity: high
-- description: One person's role session (the same assumed-role session ARN) used from several networks in turn within minutes (A, B, A), which one person does not do. Workload sessions (instance profiles, Lambda functions, ECS tasks, any session an AWS service assumed: detections/workload_sessions.sql) are left out: AWS runs them from several addresses at once, and workload-credentials-outside watches them. Thresholds: a return to an address within 30 minutes, at least 2 returns. AWS service sources (invokedBy, service host names, AWS Internal) are left out. One finding per session, over the window of interleaving.
-- rationale: Temporary credentials belong to the session that was issued them; the same session from two places at once is credential theft (exfiltrated from an instance or a laptop) or credentials copied between people. Different session names are different sessions and never count together.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_disable-perms.html, https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html#unauthorizedaccess-iam-instancecredentialexfiltrationoutsideaws
-- false_positives: A session name reused on purpose by several machines (a fixed --role-session-name in scripts run from several hosts): name sessions after who runs them.
-- The interleaving is computed once for every kind, in detections/interleaved.sql.
SELECT principal, actor, account_id, first_seen, last_seen, event_count, event_ids, evidence
FROM __interleaved
WHERE kind = 'role_session'
