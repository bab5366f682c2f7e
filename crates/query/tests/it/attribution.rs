//! Attribution against the generator's ground truth and the shipped samples.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::prelude::SessionContext;
use trailscope_ingest::synth::{GroundTruth, SynthOptions, generate};
use trailscope_ingest::{IngestOptions, Silent, ingest};
use trailscope_query::QueryOptions;

use super::{samples_dataset, scalar};

/// A small generated organization trail, ingested; with its ground truth.
pub fn generated(tmp: &Path) -> (PathBuf, GroundTruth) {
    let mut options = SynthOptions::new(tmp.join("trail"));
    options.size_bytes = 3 << 20;
    options.days = 3;
    options.seed = 7;
    let summary = generate(&options).unwrap();
    let dataset = tmp.join("lake");
    ingest(
        &IngestOptions::new(vec![tmp.join("trail").join("AWSLogs")], dataset.clone()),
        &Silent,
    )
    .unwrap();
    (dataset, summary.truth)
}

/// Rows of a query as strings (NULL as `None`), by column name.
pub async fn rows(ctx: &SessionContext, sql: &str) -> Vec<HashMap<String, Option<String>>> {
    let batches: Vec<RecordBatch> = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for batch in &batches {
        let schema = batch.schema();
        let text: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).unwrap())
            .collect();
        for row in 0..batch.num_rows() {
            let mut map = HashMap::new();
            for (field, column) in schema.fields().iter().zip(&text) {
                let column = column.as_any().downcast_ref::<StringArray>().unwrap();
                map.insert(
                    field.name().clone(),
                    column.is_valid(row).then(|| column.value(row).to_string()),
                );
            }
            out.push(map);
        }
    }
    out
}

/// The issuing event ids of an event's chain, in order.
async fn chain_issuers(ctx: &SessionContext, event_id: &str) -> Vec<String> {
    let sql = format!(
        "SELECT h['issuing_event_id'] AS id FROM \
           (SELECT unnest(chain) AS h FROM attribution WHERE event_id = '{event_id}')"
    );
    let batches: Vec<RecordBatch> = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for batch in batches {
        let ids = batch.column(0).as_string::<i32>();
        out.extend(ids.iter().flatten().map(str::to_string));
    }
    out
}

#[tokio::test]
async fn every_scenario_event_is_attributed_as_the_ground_truth_says() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, truth) = generated(tmp.path());
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    assert!(truth.sessions.len() >= 9, "{}", truth.sessions.len());

    let mut checked = 0;
    for session in &truth.sessions {
        let want_issuers: Vec<String> = session
            .hops
            .iter()
            .filter_map(|h| h.issuing_event_id.clone())
            .collect();
        for event_id in &session.event_ids {
            let got = rows(
                &ctx,
                &format!(
                    "SELECT actor, actor_type, actor_provider, method, access_key_id FROM attribution \
                     WHERE event_id = '{event_id}'"
                ),
            )
            .await;
            assert_eq!(got.len(), 1, "{}: event {event_id}", session.scenario);
            let got = &got[0];
            let context = format!("{} event {event_id}: {got:?}", session.scenario);
            assert_eq!(
                got["actor"].as_deref(),
                Some(session.actor.id.as_str()),
                "{context}"
            );
            assert_eq!(
                got["actor_type"].as_deref(),
                Some(session.actor.kind.as_str()),
                "{context}"
            );
            assert_eq!(got["actor_provider"], session.actor.provider, "{context}");
            assert_eq!(
                got["method"].as_deref(),
                Some(session.method.as_str()),
                "{context}"
            );
            // The chain ends at the key the event was signed with.
            if got["access_key_id"].as_deref() == Some(session.access_key_id.as_str()) {
                assert_eq!(
                    chain_issuers(&ctx, event_id).await,
                    want_issuers,
                    "{context}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
}

#[tokio::test]
async fn cross_account_copies_and_assume_root_reach_the_caller() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, truth) = generated(tmp.path());
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();

    let chain = truth
        .sessions
        .iter()
        .find(|s| s.scenario == "role_chain_cross_account")
        .unwrap();
    let hop = chain
        .hops
        .iter()
        .find(|h| h.issuing_event_copy_id.is_some())
        .unwrap();
    let copy = hop.issuing_event_copy_id.as_ref().unwrap();
    let got = rows(
        &ctx,
        &format!("SELECT principal_type, actor, method FROM attribution WHERE event_id = '{copy}'"),
    )
    .await;
    assert_eq!(got[0]["principal_type"].as_deref(), Some("AWSAccount"));
    assert_eq!(got[0]["actor"].as_deref(), Some(chain.actor.id.as_str()));
    assert_eq!(got[0]["method"].as_deref(), Some("sts_chain"));

    let root = truth
        .root_usage
        .iter()
        .find(|r| r.kind == "assume_root")
        .unwrap();
    let actor = root.actor.as_ref().unwrap();
    let got = rows(
        &ctx,
        &format!(
            "SELECT principal, actor, method FROM attribution WHERE event_id = '{}'",
            root.event_id
        ),
    )
    .await;
    assert!(
        got[0]["principal"].as_deref().unwrap().ends_with(":root"),
        "{got:?}"
    );
    assert_eq!(got[0]["actor"].as_deref(), Some(actor.id.as_str()));
    assert_eq!(got[0]["method"].as_deref(), Some("sts_chain"));

    // Every event is attributed once, and every temporary key has a session row.
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM attribution").await,
        scalar(&ctx, "SELECT count(*) FROM events").await
    );
    assert_eq!(
        scalar(
            &ctx,
            "SELECT count(*) FROM attribution WHERE actor IS NULL OR method IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&ctx, "SELECT count(DISTINCT user_identity_access_key_id) FROM events WHERE user_identity_access_key_id LIKE 'ASIA%'").await,
        scalar(&ctx, "SELECT count(*) FROM sessions WHERE event_count > 0").await
    );
    assert_eq!(
        scalar(
            &ctx,
            "SELECT count(*) - count(DISTINCT access_key_id) FROM sessions"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn every_identity_type_of_the_samples_has_a_normalized_principal() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((dataset, _)) = samples_dataset(tmp.path()) else {
        return;
    };
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let got = rows(
        &ctx,
        "SELECT principal_type, principal, actor, method FROM attribution \
         GROUP BY ALL ORDER BY principal_type, principal",
    )
    .await;
    let mut types = std::collections::BTreeSet::new();
    for row in &got {
        let kind = row["principal_type"].clone().unwrap();
        let principal = row["principal"].clone().unwrap();
        let method = row["method"].clone().unwrap();
        match kind.as_str() {
            "Root" => assert!(
                principal.starts_with("arn:aws:iam::") && principal.ends_with(":root"),
                "{row:?}"
            ),
            // A failed sign-in with a wrong user name hides the name: nobody to name.
            "IAMUser" => assert!(
                principal.contains(":user/")
                    || principal.starts_with("unknown:IAMUser:")
                        && principal.ends_with("/HIDDEN_DUE_TO_SECURITY_REASONS"),
                "{row:?}"
            ),
            "AssumedRole" => assert!(principal.contains(":assumed-role/"), "{row:?}"),
            "FederatedUser" => assert!(principal.contains(":federated-user/"), "{row:?}"),
            "AWSService" => assert!(principal.ends_with(".amazonaws.com"), "{row:?}"),
            "AWSAccount" => assert!(principal.starts_with("account:"), "{row:?}"),
            "none" => assert!(principal.starts_with("unknown:none:"), "{row:?}"),
            other => panic!("a type the samples do not hold: {other} {row:?}"),
        }
        if matches!(kind.as_str(), "Root" | "IAMUser" | "AWSService") && !method.starts_with("sts")
        {
            assert!(
                ["direct", "unresolved"].contains(&method.as_str()),
                "{row:?}"
            );
        }
        types.insert(kind);
    }
    assert!(types.len() >= 6, "{types:?}");
}

/// The two forms of Identity Center user identities around the January 2025 change
/// (<https://docs.aws.amazon.com/singlesignon/latest/userguide/sso-cloudtrail-use-cases.html>):
/// before, type `Unknown` with `userName`; after, type `IdentityCenterUser` with the user in
/// `onBehalfOf`. Both are named as Identity Center users, and neither is a guess.
#[tokio::test]
async fn identity_center_users_before_and_after_january_2025() {
    let tmp = tempfile::tempdir().unwrap();
    let trail = tmp.path().join("sso.json");
    std::fs::write(
        &trail,
        r#"{"Records":[
          {"eventVersion":"1.08","userIdentity":{"type":"Unknown","principalId":"111122223333",
            "accountId":"111122223333","userName":"jane"},
           "eventTime":"2024-11-01T10:00:00Z","eventSource":"sso.amazonaws.com","eventName":"ListAccounts",
           "awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","userAgent":"Mozilla/5.0",
           "eventID":"00000000-0000-0000-0000-000000000001","readOnly":true,"eventType":"AwsApiCall",
           "recipientAccountId":"111122223333"},
          {"eventVersion":"1.10","userIdentity":{"type":"IdentityCenterUser","accountId":"111122223333",
            "onBehalfOf":{"userId":"94482488-3041-7026-18f3-be45837cd0e4",
              "identityStoreArn":"arn:aws:identitystore::111122223333:identitystore/d-1234567890"},
            "credentialId":"EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE"},
           "eventTime":"2025-02-01T10:00:00Z","eventSource":"sso.amazonaws.com","eventName":"ListAccounts",
           "awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","userAgent":"Mozilla/5.0",
           "eventID":"00000000-0000-0000-0000-000000000002","readOnly":true,"eventType":"AwsApiCall",
           "recipientAccountId":"111122223333"}
        ]}"#,
    )
    .unwrap();
    let dataset = tmp.path().join("lake");
    ingest(&IngestOptions::new(vec![trail], dataset.clone()), &Silent).unwrap();
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let got = rows(
        &ctx,
        "SELECT principal_type, principal, actor, actor_type, actor_provider, method \
         FROM attribution ORDER BY event_time",
    )
    .await;
    let before = &got[0];
    assert_eq!(
        before["principal_type"].as_deref(),
        Some("IdentityCenterUser")
    );
    assert_eq!(
        before["principal"].as_deref(),
        Some("identitycenter:111122223333/jane")
    );
    assert_eq!(before["method"].as_deref(), Some("direct"));
    let after = &got[1];
    assert_eq!(
        after["principal_type"].as_deref(),
        Some("IdentityCenterUser")
    );
    assert_eq!(
        after["principal"].as_deref(),
        Some(
            "arn:aws:identitystore::111122223333:identitystore/d-1234567890/94482488-3041-7026-18f3-be45837cd0e4"
        )
    );
    assert_eq!(
        after["actor"].as_deref(),
        Some("94482488-3041-7026-18f3-be45837cd0e4")
    );
    assert_eq!(
        after["actor_provider"].as_deref(),
        Some("arn:aws:identitystore::111122223333:identitystore/d-1234567890")
    );
    assert_eq!(after["method"].as_deref(), Some("direct"));
}

#[tokio::test]
async fn an_identity_center_user_is_named_by_the_session_it_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let trail = tmp.path().join("sso.json");
    let user = r#""type":"IdentityCenterUser","accountId":"111122223333",
        "onBehalfOf":{"userId":"94482488-3041-7026-18f3-be45837cd0e4",
          "identityStoreArn":"arn:aws:identitystore::111122223333:identitystore/d-1234567890"},
        "credentialId":"EXAMPLEcredential""#;
    let session = r#""type":"AssumedRole","principalId":"AROAEXAMPLESSO:jane.roe@corp.example",
        "arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123abcd/jane.roe@corp.example",
        "accountId":"111122223333","accessKeyId":"ASIAEXAMPLESSO000001",
        "sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLESSO",
          "arn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123abcd",
          "accountId":"111122223333","userName":"AWSReservedSSO_ReadOnly_0123abcd"},
          "attributes":{"creationDate":"2025-02-01T10:00:05Z","mfaAuthenticated":"false"}}"#;
    std::fs::write(
        &trail,
        format!(
            r#"{{"Records":[
          {{"eventVersion":"1.10","userIdentity":{{{user}}},
           "eventTime":"2025-02-01T10:00:00Z","eventSource":"sso.amazonaws.com","eventName":"GetRoleCredentials",
           "awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","userAgent":"Mozilla/5.0",
           "requestParameters":{{"accountId":"111122223333","roleName":"ReadOnly"}},
           "eventID":"sso-1","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}},
          {{"eventVersion":"1.10","userIdentity":{{{session}}},
           "eventTime":"2025-02-01T10:01:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets",
           "awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","userAgent":"aws-cli/2.15.0",
           "eventID":"sso-2","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}}
        ]}}"#
        ),
    )
    .unwrap();
    let dataset = tmp.path().join("lake");
    ingest(&IngestOptions::new(vec![trail], dataset.clone()), &Silent).unwrap();
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let got = rows(
        &ctx,
        "SELECT event_id, actor, actor_name, actor_name_source FROM attribution ORDER BY event_id",
    )
    .await;
    // The portal call is signed by the user itself, known by its opaque id; its name
    // comes from the AWSReservedSSO session opened a minute later (whose own actor, with
    // no AssumeRoleWithSAML in the trail, is its session name).
    assert_eq!(
        got[0]["actor"].as_deref(),
        Some("94482488-3041-7026-18f3-be45837cd0e4")
    );
    assert_eq!(
        got[0]["actor_name"].as_deref(),
        Some("jane.roe@corp.example")
    );
    assert!(
        got[0]["actor_name_source"]
            .as_deref()
            .unwrap()
            .contains("GetRoleCredentials"),
        "{got:?}"
    );
    assert_eq!(got[1]["actor"].as_deref(), Some("jane.roe@corp.example"));
    assert_eq!(
        got[1]["actor_name"].as_deref(),
        Some("jane.roe@corp.example")
    );
    let sessions = rows(&ctx, "SELECT actor_name FROM sessions").await;
    assert_eq!(
        sessions[0]["actor_name"].as_deref(),
        Some("jane.roe@corp.example")
    );
}

#[tokio::test]
async fn every_identity_type_of_a_generated_trail_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, _) = generated(tmp.path());
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let got = rows(
        &ctx,
        "SELECT principal_type, count(*) AS n, count(*) FILTER (WHERE principal LIKE 'unknown:%') AS unnamed \
         FROM attribution GROUP BY principal_type ORDER BY principal_type",
    )
    .await;
    let types: Vec<&str> = got
        .iter()
        .map(|r| r["principal_type"].as_deref().unwrap())
        .collect();
    for want in [
        "AWSAccount",
        "AWSService",
        "AssumedRole",
        "FederatedUser",
        "IAMUser",
        "IdentityCenterUser",
        "Root",
        "SAMLUser",
        "WebIdentityUser",
    ] {
        assert!(types.contains(&want), "{want} missing from {types:?}");
    }
    for row in &got {
        if row["principal_type"].as_deref() != Some("none") {
            assert_eq!(row["unnamed"].as_deref(), Some("0"), "{row:?}");
        }
    }
}

#[tokio::test]
async fn service_linked_role_sessions_of_a_real_trail_are_their_service() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((dataset, _)) = super::real_dataset(tmp.path()) else {
        return;
    };
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    // The invictus-ir trail holds sessions of AWSServiceRoleForRDS and
    // AWSServiceRoleForAmazonInspector2, whose issuing calls are not in it.
    let found = rows(
        &ctx,
        "SELECT role_arn, actor, actor_type, method FROM attribution \
         WHERE role_arn LIKE '%:role/aws-service-role/%'",
    )
    .await;
    assert!(found.len() >= 2, "{found:?}");
    for row in &found {
        let role = row["role_arn"].as_deref().unwrap();
        let service = role
            .split("/aws-service-role/")
            .nth(1)
            .and_then(|p| p.split('/').next())
            .unwrap();
        assert_eq!(row["actor"].as_deref(), Some(service), "{row:?}");
        assert_eq!(row["actor_type"].as_deref(), Some("AWSService"), "{row:?}");
        assert_eq!(
            row["method"].as_deref(),
            Some("service_linked_role"),
            "{row:?}"
        );
    }
}

#[tokio::test]
async fn sessions_a_service_assumed_are_that_service_and_iam_users_own_sessions_the_user() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((dataset, _)) = super::real_dataset(tmp.path()) else {
        return;
    };
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    // The teaching account's EMR sessions sign with no access key in the record; their
    // AssumeRole by elasticmapreduce.amazonaws.com names the role and session.
    let emr = rows(
        &ctx,
        "SELECT DISTINCT actor, actor_type, method FROM attribution \
         WHERE principal LIKE '%:assumed-role/EMR_DefaultRole/%'",
    )
    .await;
    assert!(!emr.is_empty());
    for row in &emr {
        assert_eq!(
            row["actor"].as_deref(),
            Some("elasticmapreduce.amazonaws.com"),
            "{row:?}"
        );
        assert_eq!(row["method"].as_deref(), Some("sts_chain"), "{row:?}");
    }
    // IAM users signing with their own temporary keys (GetSessionToken is not in the
    // attack simulation's trail) are those users.
    let unresolved_users = super::scalar(
        &ctx,
        "SELECT count(*) FROM attribution WHERE principal_type = 'IAMUser' AND method = 'unresolved'",
    )
    .await;
    assert_eq!(unresolved_users, 0);
}

#[tokio::test]
async fn identity_center_sessions_without_a_temporary_key_are_named_by_their_session() {
    let tmp = tempfile::tempdir().unwrap();
    let session = |id: &str, name: &str, key: Option<&str>| {
        let key = key.map_or(String::new(), |k| format!(r#","accessKeyId":"{k}""#));
        format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLESSO0001:jane.roe@corp.example","arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/jane.roe@corp.example","accountId":"111122223333"{key},"sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLESSO0001","arn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef","accountId":"111122223333","userName":"AWSReservedSSO_ReadOnly_0123456789abcdef"}}}}}},"eventTime":"2026-03-02T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.10","userAgent":"Mozilla/5.0","eventID":"{id}","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}}"#
        )
    };
    let records = [
        session("sso-1", "ConsoleLogin", None),
        session("sso-2", "GetSigninToken", Some("AKIAEXAMPLENOTASIA1")),
    ];
    let ctx = super::session_of(tmp.path(), &records).await;
    let found = rows(
        &ctx,
        "SELECT event_id, actor, actor_type, method FROM attribution ORDER BY event_id",
    )
    .await;
    assert_eq!(found.len(), 2);
    for row in found {
        assert_eq!(
            row["actor"].as_deref(),
            Some("jane.roe@corp.example"),
            "{row:?}"
        );
        assert_eq!(row["actor_type"].as_deref(), Some("SessionName"), "{row:?}");
        assert_eq!(row["method"].as_deref(), Some("session_name"), "{row:?}");
    }
}
