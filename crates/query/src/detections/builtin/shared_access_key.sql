-- id: shared-access-key
-- title: Access key used by several actors at once
-- severity: high
-- description: One long-term access key (AKIA...) used from several source addresses in turn within minutes (A, B, A), which one person or machine does not do. Thresholds: a return to an address within 30 minutes, at least 2 returns. AWS service sources (invokedBy, service host names, AWS Internal) are left out. One finding per key, over the window of interleaving.
-- rationale: A key shared between people or machines cannot be attributed and cannot be rotated without breaking someone; a key used at once from an unknown address is often a stolen one.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#rotate-credentials, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
-- false_positives: One machine whose traffic leaves through several NAT addresses in turn; a person on a VPN that splits traffic between two exits.
-- The interleaving is computed once for every kind, in detections/interleaved.sql.
SELECT principal, actor, account_id, first_seen, last_seen, event_count, event_ids, evidence
FROM __interleaved
WHERE kind = 'access_key'
