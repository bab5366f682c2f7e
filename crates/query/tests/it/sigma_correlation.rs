//! Sigma correlation rules over hand-made records: each type fires on the events the
//! specification says, over a sliding window, per group, and not otherwise.

use trailscope_query::sigma;

/// A record of `user` from `ip` at `10:MM:SS` (`time`), calling `name`.
fn record(id: &str, time: &str, name: &str, ip: &str, user: &str, extra: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"{name}","eventID":"{id}",
           "eventTime":"2026-03-02T10:{time}Z","userAgent":"aws-cli/2.15.0","sourceIPAddress":"{ip}",
           "recipientAccountId":"111122223333","eventType":"AwsApiCall",
           "userIdentity":{{"type":"IAMUser","accountId":"111122223333","userName":"{user}",
             "arn":"arn:aws:iam::111122223333:user/{user}","accessKeyId":"AKIA{user}"}}{extra}}}"#
    )
}

const FAILED: &str = r#","responseElements":{"ConsoleLogin":"Failure"}"#;

/// The rules: a correlation of `kind` over the base rules below it.
fn rules(correlation: &str) -> String {
    format!(
        "title: correlation\nid: c0000000-0000-0000-0000-000000000000\nlogsource:\n  product: aws\n  service: cloudtrail\ncorrelation:\n{correlation}\nlevel: high\n---
title: failed login\nname: failed_login\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    eventName: ConsoleLogin\n    responseElements.ConsoleLogin: Failure\n  condition: sel\n---
title: caller identity\nname: whoami\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    eventName: GetCallerIdentity\n  condition: sel\n---
title: list buckets\nname: buckets\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    eventName: ListBuckets\n  condition: sel\n---
title: recon\nname: recon\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    eventName:\n      - ListBuckets\n      - GetCallerIdentity\n      - DescribeInstances\n  condition: sel\n"
    )
}

/// The event ids of each finding of the correlation, sorted, one string per finding.
async fn fired(ctx: &datafusion::prelude::SessionContext, correlation: &str) -> Vec<String> {
    let mut load = sigma::SigmaLoad::default();
    sigma::load_text(&rules(correlation), "test.yml", &mut load);
    assert!(load.not_supported.is_empty(), "{:?}", load.not_supported);
    assert_eq!(load.correlations.len(), 1);
    let sql = trailscope_query::detections::findings_sql(&load.correlations).unwrap();
    let sql = format!("SELECT array_to_string(event_ids, ',') AS ids FROM ({sql}) ORDER BY ids");
    let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    trailscope_query::Answer {
        schema: batches.first().map_or_else(
            || std::sync::Arc::new(arrow::datatypes::Schema::empty()),
            |b| b.schema(),
        ),
        batches,
    }
    .strings("ids")
}

#[tokio::test]
async fn correlations_fire_on_what_the_specification_says() {
    let tmp = tempfile::tempdir().unwrap();
    let records = [
        // Three failed logins from .1 within 5 minutes; from .2 three, 6 minutes apart.
        record("f1", "00:00", "ConsoleLogin", "198.51.100.1", "ann", FAILED),
        record("f2", "01:00", "ConsoleLogin", "198.51.100.1", "bob", FAILED),
        record("f3", "04:59", "ConsoleLogin", "198.51.100.1", "ann", FAILED),
        record("f4", "00:00", "ConsoleLogin", "198.51.100.2", "ann", FAILED),
        record("f5", "06:00", "ConsoleLogin", "198.51.100.2", "ann", FAILED),
        record("f6", "12:00", "ConsoleLogin", "198.51.100.2", "ann", FAILED),
        // A successful login is not a base rule's event.
        record(
            "f7",
            "02:00",
            "ConsoleLogin",
            "198.51.100.2",
            "ann",
            r#","responseElements":{"ConsoleLogin":"Success"}"#,
        ),
        // From .3: ListBuckets, then GetCallerIdentity 2 minutes later (not in that order).
        record("t1", "30:00", "ListBuckets", "198.51.100.3", "cat", ""),
        record(
            "t2",
            "32:00",
            "GetCallerIdentity",
            "198.51.100.3",
            "cat",
            "",
        ),
        // From .4: GetCallerIdentity, then ListBuckets 3 minutes later (in order).
        record(
            "t3",
            "30:00",
            "GetCallerIdentity",
            "198.51.100.4",
            "dan",
            "",
        ),
        record("t4", "33:00", "ListBuckets", "198.51.100.4", "dan", ""),
        // From .5: the two, 20 minutes apart.
        record(
            "t5",
            "20:00",
            "GetCallerIdentity",
            "198.51.100.5",
            "eve",
            "",
        ),
        record("t6", "40:00", "ListBuckets", "198.51.100.5", "eve", ""),
        // Recon by fay: three distinct calls within a minute; by gus: one call, 3 times.
        record("v1", "50:00", "ListBuckets", "198.51.100.6", "fay", ""),
        record(
            "v2",
            "50:20",
            "DescribeInstances",
            "198.51.100.6",
            "fay",
            "",
        ),
        record(
            "v3",
            "50:40",
            "GetCallerIdentity",
            "198.51.100.6",
            "fay",
            "",
        ),
        record("v4", "50:00", "ListBuckets", "198.51.100.7", "gus", ""),
        record("v5", "50:10", "ListBuckets", "198.51.100.7", "gus", ""),
        record("v6", "50:20", "ListBuckets", "198.51.100.7", "gus", ""),
    ];
    let ctx = super::session_of(tmp.path(), &records).await;
    let event_count = "  type: event_count\n  rules: [failed_login]\n  group-by: [sourceIPAddress]\n  timespan: 5m\n  condition:\n    gte: 3";
    assert_eq!(fired(&ctx, event_count).await, ["f1,f2,f3"]);
    // Grouped by user instead: ann's three within 5 minutes, from two addresses (in
    // time order, then by id).
    let by_user = "  type: event_count\n  rules: [failed_login]\n  group-by: [userIdentity.userName]\n  timespan: 5m\n  condition:\n    gte: 3";
    assert_eq!(fired(&ctx, by_user).await, ["f1,f4,f3"]);
    // A range: at least 2 and at most 2 in the window.
    let range = "  type: event_count\n  rules: [failed_login]\n  group-by: [sourceIPAddress]\n  timespan: 1m\n  condition:\n    gte: 2\n    lte: 2";
    assert_eq!(fired(&ctx, range).await, ["f1,f2"]);
    let value_count = "  type: value_count\n  rules: [recon]\n  group-by: [userIdentity.arn]\n  timespan: 1m\n  condition:\n    gte: 3\n    field: eventName";
    assert_eq!(fired(&ctx, value_count).await, ["v1,v2,v3"]);
    let temporal = "  type: temporal\n  rules: [whoami, buckets]\n  group-by: [sourceIPAddress]\n  timespan: 5m";
    assert_eq!(fired(&ctx, temporal).await, ["t1,t2", "t3,t4", "v1,v3"]);
    let ordered = "  type: temporal_ordered\n  rules: [whoami, buckets]\n  group-by: [sourceIPAddress]\n  timespan: 5m";
    assert_eq!(fired(&ctx, ordered).await, ["t3,t4"]);
    // An expression over the rules: either one is enough.
    let either = "  type: temporal\n  rules: [whoami, buckets]\n  group-by: [sourceIPAddress]\n  timespan: 5m\n  condition: whoami or buckets";
    assert_eq!(
        fired(&ctx, either).await,
        ["t1,t2", "t3,t4", "t5,t6", "v1,v3", "v4,v5,v6"]
    );
}

#[tokio::test]
async fn a_correlation_says_why_it_cannot_run() {
    let mut load = sigma::SigmaLoad::default();
    let unknown =
        "  type: event_count\n  rules: [nobody]\n  timespan: 5m\n  condition:\n    gte: 3";
    sigma::load_text(&rules(unknown), "test.yml", &mut load);
    assert!(load.correlations.is_empty());
    let (source, why) = &load.not_supported[0];
    assert_eq!(source, "test.yml");
    assert!(why.contains("`nobody`, which is not loaded"), "{why}");
    // The base rules of a correlation that could not run are rules of their own.
    assert_eq!(load.detections.len(), 4);
    let mut load = sigma::SigmaLoad::default();
    let tumbling = "  type: event_count\n  rules: [failed_login]\n  timespan: 5m\n  window: tumbling\n  condition:\n    gte: 3";
    sigma::load_text(&rules(tumbling), "test.yml", &mut load);
    assert!(load.not_supported[0].1.contains("tumbling"), "{load:?}");
    // generate: false (the default) folds the base rules into the correlation.
    let mut load = sigma::SigmaLoad::default();
    let fine = "  type: temporal\n  rules: [whoami, buckets]\n  timespan: 5m";
    sigma::load_text(&rules(fine), "test.yml", &mut load);
    assert_eq!(
        (
            load.correlations.len(),
            load.base_rules,
            load.detections.len()
        ),
        (1, 2, 2)
    );
}
