//! Root-usage detections against the generator's ground truth: every true use found by
//! the detection for its kind, no look-alike in any finding.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use arrow::array::{AsArray, RecordBatch};
use trailscope_query::QueryOptions;

use super::attribution::{generated, rows};

/// Event ids of every finding, by detection id.
pub async fn findings_by_detection(
    ctx: &datafusion::prelude::SessionContext,
) -> HashMap<String, BTreeSet<String>> {
    let batches: Vec<RecordBatch> = ctx
        .sql("SELECT detection_id, unnest(event_ids) AS event_id FROM findings")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    for batch in batches {
        let ids = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8).unwrap();
        let events =
            arrow::compute::cast(batch.column(1), &arrow::datatypes::DataType::Utf8).unwrap();
        for (id, event) in ids
            .as_string::<i32>()
            .iter()
            .zip(events.as_string::<i32>().iter())
        {
            out.entry(id.unwrap().to_string())
                .or_default()
                .insert(event.unwrap().to_string());
        }
    }
    out
}

#[tokio::test]
async fn root_usage_ground_truth_is_found_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, truth) = generated(tmp.path());
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let found = findings_by_detection(&ctx).await;
    let of = |id: &str| found.get(id).cloned().unwrap_or_default();
    assert!(truth.root_usage.len() >= 10, "{}", truth.root_usage.len());

    // Root activity (the CIS filter) holds every true use and nothing else.
    let truth_ids: BTreeSet<String> = truth
        .root_usage
        .iter()
        .map(|r| r.event_id.clone())
        .collect();
    assert_eq!(of("root-activity"), truth_ids);

    // Each kind is found by its own detection.
    for root in &truth.root_usage {
        let detection = match (root.kind.as_str(), root.success) {
            ("console_signin", _) => "root-console-signin",
            ("failed_signin", _) => "root-failed-signin",
            ("access_key_api", _) => "root-access-key-used",
            ("create_access_key", _) => "root-access-key-created",
            ("password_recovery", _) => "root-password-change",
            ("mfa_change", _) => "root-mfa-change",
            ("assume_root", _) => "root-assumed-session",
            ("console_activity", _) => continue,
            (other, _) => panic!("a kind the test does not know: {other}"),
        };
        assert!(
            of(detection).contains(&root.event_id),
            "{detection} misses {root:?}"
        );
        if root.kind == "console_signin" {
            let without = of("root-console-signin-without-mfa").contains(&root.event_id);
            assert_eq!(without, root.mfa == Some(false), "{root:?}");
        }
    }
    // Kind-specific detections fire on true uses only.
    for (detection, events) in &found {
        if detection.starts_with("root-") {
            assert!(
                events.is_subset(&truth_ids),
                "{detection} fired on {:?}",
                events.difference(&truth_ids)
            );
        }
    }
    // No look-alike is in any finding.
    for control in &truth.not_root_usage {
        for (detection, events) in &found {
            assert!(
                !events.contains(&control.event_id),
                "{detection} flagged {control:?}"
            );
        }
    }

    // Centralized root access names the management-account caller.
    let assume = truth
        .root_usage
        .iter()
        .find(|r| r.kind == "assume_root")
        .unwrap();
    let got = rows(
        &ctx,
        &format!(
            "SELECT actor, severity FROM findings WHERE detection_id = 'root-assumed-session' \
             AND array_has(event_ids, '{}')",
            assume.event_id
        ),
    )
    .await;
    assert_eq!(
        got[0]["actor"].as_deref(),
        Some(assume.actor.as_ref().unwrap().id.as_str())
    );
    assert_eq!(got[0]["severity"].as_deref(), Some("medium"));
    // Evidence is JSON.
    let evidence = rows(&ctx, "SELECT evidence FROM findings").await;
    for row in evidence {
        let text = row["evidence"].clone().unwrap();
        assert!(
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap()
                .is_object(),
            "{text}"
        );
    }
}

#[tokio::test]
async fn the_shared_samples_run_every_detection() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((dataset, _)) = super::samples_dataset(tmp.path()) else {
        return;
    };
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let found = findings_by_detection(&ctx).await;
    // The samples hold root console sign-ins (AWS documentation examples).
    assert!(found.contains_key("root-activity"), "{found:?}");
    assert!(found.contains_key("root-console-signin"), "{found:?}");
}

#[tokio::test]
async fn the_real_trails_run_every_detection_and_find_every_root_event() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((dataset, summary)) = super::real_dataset(tmp.path()) else {
        return;
    };
    assert!(summary.records.written > 20_000, "{summary:?}");
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let found = findings_by_detection(&ctx).await;
    // CIS root activity, counted independently of the detection's SQL. The teaching
    // account's root signed in to the console once (2014, eventVersion 1.01: no
    // eventType); its other root events were made by AWS services on its behalf
    // (invokedBy autoscaling, support, ...), which CIS does not count.
    let root_events = super::scalar(
        &ctx,
        "SELECT count(DISTINCT event_id) FROM events WHERE user_identity_type = 'Root' \
         AND user_identity_invoked_by IS NULL AND (event_type IS NULL OR event_type <> 'AwsServiceEvent')",
    )
    .await;
    assert!(root_events > 0, "the teaching account used root");
    let by_services = super::scalar(
        &ctx,
        "SELECT count(*) FROM events WHERE user_identity_type = 'Root' \
         AND user_identity_invoked_by IS NOT NULL",
    )
    .await;
    assert!(by_services > 100, "{by_services}");
    assert!(found.contains_key("root-console-signin"), "{found:?}");
    assert_eq!(
        found.get("root-activity").map_or(0, BTreeSet::len) as i64,
        root_events,
        "{found:?}"
    );
    // The teaching account runs Lambda functions (old `awslambda-worker` agents, several
    // addresses at once) and EC2 instance profiles: workloads, never a shared identity,
    // and none of them is used from outside its workload.
    let workloads = super::scalar(
        &ctx,
        "SELECT count(DISTINCT identity) FROM __workload_sessions",
    )
    .await;
    assert!(workloads >= 5, "{workloads}");
    let flagged_workloads = super::scalar(
        &ctx,
        "SELECT count(*) FROM findings f JOIN __workload_sessions w ON f.principal = w.identity \
         WHERE f.detection_id LIKE 'shared-%' OR f.detection_id = 'workload-credentials-outside'",
    )
    .await;
    assert_eq!(flagged_workloads, 0, "{found:?}");
    assert!(
        !found.contains_key("workload-credentials-outside"),
        "{found:?}"
    );
    assert!(!found.contains_key("shared-role-session"), "{found:?}");
}

/// A root record as CloudTrail logs it, for hand-made trails.
fn root_record(id: &str, time: &str, name: &str, outcome: Option<&str>) -> String {
    let response = outcome.map_or("null".to_string(), |o| {
        format!(r#"{{"ConsoleLogin":"{o}"}}"#)
    });
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"Root","principalId":"111122223333",
            "arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}},
           "eventTime":"{time}","eventSource":"signin.amazonaws.com","eventName":"{name}",
           "awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","userAgent":"Mozilla/5.0",
           "responseElements":{response},"additionalEventData":{{"MFAUsed":"Yes"}},
           "eventID":"{id}","readOnly":false,"eventType":"AwsConsoleSignIn",
           "recipientAccountId":"111122223333"}}"#
    )
}

#[tokio::test]
async fn a_root_record_without_recipient_account_is_put_in_the_root_users_account() {
    // Records before eventVersion 1.02 have no recipientAccountId (the real teaching
    // trail of ../shared starts in 2014 with such records); root acts only in its own
    // account, userIdentity.accountId.
    let tmp = tempfile::tempdir().unwrap();
    let mut old = root_record("old", "2014-09-26T13:43:42Z", "GetSessionToken", None)
        .replace(r#""eventVersion":"1.08""#, r#""eventVersion":"1.01""#);
    let pair = r#""recipientAccountId":"111122223333""#;
    let at = old.find(pair).unwrap();
    let comma = old[..at].rfind(',').unwrap();
    old.replace_range(comma..at + pair.len(), "");
    assert!(!old.contains("recipientAccountId"));
    let ctx = super::session_of(tmp.path(), &[old]).await;
    let batches: Vec<RecordBatch> = ctx
        .sql("SELECT DISTINCT account_id FROM findings WHERE detection_id LIKE 'root-%'")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let accounts: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let c = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8).unwrap();
            c.as_string::<i32>()
                .iter()
                .map(|v| v.unwrap_or("NULL").to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(accounts, vec!["111122223333".to_string()]);
}

#[tokio::test]
async fn a_root_sign_in_after_30_quiet_days_fires_and_one_after_10_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let records = [
        root_record(
            "e1",
            "2026-01-01T10:00:00Z",
            "ConsoleLogin",
            Some("Success"),
        ),
        root_record(
            "e2",
            "2026-01-11T10:00:00Z",
            "ConsoleLogin",
            Some("Success"),
        ),
        root_record(
            "e3",
            "2026-02-25T10:00:00Z",
            "ConsoleLogin",
            Some("Failure"),
        ),
        root_record(
            "e4",
            "2026-02-25T10:05:00Z",
            "ConsoleLogin",
            Some("Success"),
        ),
    ];
    let found = findings_of(&tmp.path().join("all"), &records).await;
    // e2 comes 10 days after e1; the failed e3 comes 45 days after e2 and is not a
    // sign-in; e4 follows the failure by 5 minutes: root activity, so not after silence.
    assert_eq!(found.get("root-signin-after-silence"), None, "{found:?}");
    assert_eq!(
        found.get("root-failed-signin"),
        Some(&BTreeSet::from(["e3".to_string()])),
        "{found:?}"
    );

    let quiet = records[..2]
        .iter()
        .chain(&records[3..])
        .cloned()
        .collect::<Vec<_>>();
    let found = findings_of(&tmp.path().join("quiet"), &quiet).await;
    assert_eq!(
        found["root-signin-after-silence"],
        BTreeSet::from(["e4".to_string()])
    );
}

#[tokio::test]
async fn shared_identity_ground_truth_is_found_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, truth) = generated(tmp.path());
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let got = rows(
        &ctx,
        "SELECT detection_id, account_id, evidence, array_to_string(event_ids, ',') AS ids FROM findings \
         WHERE detection_id LIKE 'shared-%' OR detection_id = 'root-shared-console' \
         OR detection_id = 'workload-credentials-outside'",
    )
    .await;
    let mut flagged = BTreeSet::new();
    let mut evidence_of = HashMap::new();
    for row in &got {
        let evidence: serde_json::Value =
            serde_json::from_str(row["evidence"].as_deref().unwrap()).unwrap();
        let key = (
            evidence["kind"].as_str().unwrap().to_string(),
            evidence["identity"].as_str().unwrap().to_string(),
            row["account_id"].clone().unwrap(),
        );
        assert!(flagged.insert(key.clone()), "{key:?} flagged twice");
        let ids: BTreeSet<String> = row["ids"]
            .as_deref()
            .unwrap()
            .split(',')
            .map(str::to_string)
            .collect();
        evidence_of.insert(key, (evidence, ids));
    }
    let wanted: BTreeSet<_> = truth
        .shared_identities
        .iter()
        .map(|s| (s.kind.clone(), s.identity.clone(), s.account_id.clone()))
        .collect();
    assert!(wanted.len() >= 4, "{wanted:?}");
    // Every shared identity found, and nothing else: the background is unshared.
    assert_eq!(flagged, wanted);
    for shared in &truth.shared_identities {
        let (evidence, ids) = &evidence_of[&(
            shared.kind.clone(),
            shared.identity.clone(),
            shared.account_id.clone(),
        )];
        let ips: BTreeSet<&str> = evidence["source_ips"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for ip in &shared.source_ips {
            assert!(
                ips.contains(ip.as_str()),
                "{} misses {ip}: {evidence}",
                shared.scenario
            );
        }
        assert!(
            evidence["actors"].as_u64().unwrap() >= u64::from(shared.actors),
            "{evidence}"
        );
        let covered = shared
            .event_ids
            .iter()
            .filter(|id| ids.contains(*id))
            .count();
        assert!(
            covered * 10 >= shared.event_ids.len() * 9,
            "{}: {covered} of {}",
            shared.scenario,
            shared.event_ids.len()
        );
    }
    for control in &truth.not_shared {
        assert!(
            !flagged
                .iter()
                .any(|(_, identity, _)| identity == &control.identity),
            "{control:?} flagged"
        );
    }
}

/// Findings of a trail made of `records`, ingested under `dir`.
pub async fn findings_of(
    tmp: &Path,
    records: &[String],
) -> std::collections::HashMap<String, BTreeSet<String>> {
    let ctx = super::session_of(tmp, records).await;
    findings_by_detection(&ctx).await
}
