//! IAM hygiene detections: real attack and documentation samples that must fire,
//! hand-made look-alikes that must not, and the generated trail.

use std::collections::{BTreeMap, BTreeSet};

use trailscope_query::QueryOptions;

use super::attribution::{generated, rows};
use super::findings::{findings_by_detection, findings_of};
use super::samples_dataset;

const HYGIENE: [&str; 5] = [
    "iam-console-signin-without-mfa",
    "access-key-created-for-another-user",
    "cloudtrail-tampering",
    "iam-credentials-created-and-used",
    "access-key-human-and-automation",
];

/// The source files of the events each hygiene detection found.
async fn files_by_detection(
    ctx: &datafusion::prelude::SessionContext,
) -> BTreeMap<String, BTreeSet<String>> {
    let found = findings_by_detection(ctx).await;
    let mut out = BTreeMap::new();
    for id in HYGIENE {
        let mut files = BTreeSet::new();
        for event in found.get(id).cloned().unwrap_or_default() {
            for row in rows(
                ctx,
                &format!("SELECT source_file FROM events WHERE event_id = '{event}'"),
            )
            .await
            {
                let file = row["source_file"].clone().unwrap();
                files.insert(file.rsplit('/').next().unwrap().to_string());
            }
        }
        out.insert(id.to_string(), files);
    }
    out
}

#[tokio::test]
async fn real_samples_fire_where_they_should() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((dataset, _)) = samples_dataset(tmp.path()) else {
        return;
    };
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let files = files_by_detection(&ctx).await;
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    // Stratus Red Team's tampering techniques, and a documented UpdateTrail (which failed:
    // attempts count).
    assert_eq!(
        files["cloudtrail-tampering"],
        set(&[
            "aws.defense-evasion.cloudtrail-delete.json",
            "aws.defense-evasion.cloudtrail-event-selectors.json",
            "aws.defense-evasion.cloudtrail-stop.json",
            "cloudtrail-log-file-examples__block07.json",
        ])
    );
    // Successful sign-ins with MFAUsed = No; not the one with MFA (block03) nor the
    // failures (block09, block10).
    assert_eq!(
        files["iam-console-signin-without-mfa"],
        set(&[
            "aws.initial-access.console-login-without-mfa.json",
            "cloudtrail-event-reference-aws-console-sign-in-events__block01.json",
            "cloudtrail-tutorial__block01.json",
        ])
    );
    // Keys minted for other users by the attacker.
    assert_eq!(
        files["access-key-created-for-another-user"],
        set(&[
            "aws.persistence.iam-backdoor-user.json",
            "aws.persistence.iam-create-admin-user.json"
        ])
    );
}

fn record(
    id: &str,
    time: &str,
    user: &str,
    key: &str,
    (ip, agent): (&str, &str),
    name: &str,
    extra: &str,
) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","principalId":"AIDA{user}",
            "arn":"arn:aws:iam::111122223333:user/{user}","accountId":"111122223333",
            "accessKeyId":"{key}","userName":"{user}"}},
           "eventTime":"{time}","eventSource":"iam.amazonaws.com","eventName":"{name}",
           "awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"{agent}",
           "eventID":"{id}","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"{extra}}}"#
    )
}

const CLI: &str = "aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0 exe/x86_64";
const BOTO: &str =
    "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.11.6";

#[tokio::test]
async fn hand_made_look_alikes_do_not_fire_and_their_twins_do() {
    let created = |id: &str, time: &str, by: &str, for_user: &str, new_key: &str| {
        let request = if for_user == by {
            String::new()
        } else {
            format!(r#","requestParameters":{{"userName":"{for_user}"}}"#)
        };
        record(
            id,
            time,
            by,
            "AKIAADMIN",
            ("198.51.100.1", CLI),
            "CreateAccessKey",
            &format!(
                r#"{request},"responseElements":{{"accessKey":{{"accessKeyId":"{new_key}","userName":"{for_user}","status":"Active"}}}}"#
            ),
        )
    };
    let selectors = |id: &str, management: bool| {
        record(
            id, "2026-03-01T10:00:00Z", "admin", "AKIAADMIN", ("198.51.100.1", CLI), "PutEventSelectors",
            &format!(
                r#","requestParameters":{{"trailName":"main","eventSelectors":[{{"readWriteType":"All","includeManagementEvents":{management}}}]}}"#
            ),
        )
        .replace("iam.amazonaws.com", "cloudtrail.amazonaws.com")
    };
    let records = vec![
        // Alice makes her own key (no userName: it is for the caller): not for another user.
        created("own", "2026-03-01T09:00:00Z", "alice", "alice", "AKIAOWN"),
        // Admin makes Bob a key that Bob's name uses five minutes later: both detections.
        created("for-bob", "2026-03-01T09:00:00Z", "admin", "bob", "AKIABOB"),
        record(
            "bob-1",
            "2026-03-01T09:05:00Z",
            "bob",
            "AKIABOB",
            ("203.0.113.9", BOTO),
            "ListUsers",
            "",
        ),
        // Admin makes Carol a key first used three hours later: for another user only.
        created(
            "for-carol",
            "2026-03-01T09:00:00Z",
            "admin",
            "carol",
            "AKIACAROL",
        ),
        record(
            "carol-1",
            "2026-03-01T12:00:00Z",
            "carol",
            "AKIACAROL",
            ("203.0.113.10", BOTO),
            "ListUsers",
            "",
        ),
        // Event selectors that keep management events, and ones that drop them.
        selectors("keep", true),
        selectors("drop", false),
        // Dave's key from his CLI and from a pipeline's SDK on one day, two addresses.
        record(
            "dave-cli",
            "2026-03-02T09:00:00Z",
            "dave",
            "AKIADAVE",
            ("198.51.100.20", CLI),
            "ListRoles",
            "",
        ),
        record(
            "dave-ci",
            "2026-03-02T09:30:00Z",
            "dave",
            "AKIADAVE",
            ("203.0.113.50", BOTO),
            "ListRoles",
            "",
        ),
        // Erin's key from her CLI at home and at the office: one kind of client only.
        record(
            "erin-home",
            "2026-03-02T08:00:00Z",
            "erin",
            "AKIAERIN",
            ("198.51.100.30", CLI),
            "ListRoles",
            "",
        ),
        record(
            "erin-office",
            "2026-03-02T10:00:00Z",
            "erin",
            "AKIAERIN",
            ("203.0.113.60", CLI),
            "ListRoles",
            "",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let found = findings_of(tmp.path(), &records).await;
    let of = |id: &str| found.get(id).cloned().unwrap_or_default();
    let set = |ids: &[&str]| ids.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        of("access-key-created-for-another-user"),
        set(&["for-bob", "for-carol"])
    );
    assert_eq!(
        of("iam-credentials-created-and-used"),
        set(&["for-bob", "bob-1"])
    );
    assert_eq!(of("cloudtrail-tampering"), set(&["drop"]));
    assert_eq!(
        of("access-key-human-and-automation"),
        set(&["dave-cli", "dave-ci"])
    );
}

#[tokio::test]
async fn on_the_generated_trail_only_the_shared_console_login_lacks_mfa() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, truth) = generated(tmp.path());
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let found = findings_by_detection(&ctx).await;
    // The generator injects no IAM hygiene scenario; its shared IAM user signs in without
    // MFA, twice.
    let shared = truth
        .shared_identities
        .iter()
        .find(|s| s.kind == "iam_user")
        .unwrap();
    let without_mfa = found
        .get("iam-console-signin-without-mfa")
        .cloned()
        .unwrap_or_default();
    assert_eq!(without_mfa.len(), 2, "{without_mfa:?}");
    assert!(without_mfa.iter().all(|id| shared.event_ids.contains(id)));
    for id in &HYGIENE[1..] {
        assert_eq!(found.get(*id), None, "{id} fired on the generated trail");
    }
}
