//! Every built-in detection against its own fixtures (`tests/detections/<id>/`): the
//! records of `fires.jsonl` must fire it (its findings are snapshotted), those of
//! `quiet.jsonl` must not (each with the authorization details of `<name>.authorization.json`
//! where there is one). Whoever changes a rule sees which cases belong to it.

use std::path::{Path, PathBuf};

use trailscope_ingest::{IngestOptions, Silent, ingest};
use trailscope_query::detections::{DetectionSet, Severity, findings};
use trailscope_query::{Answer, QueryOptions, open_session};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/detections")
}

/// The findings of detection `id` alone over the records of `file`, one line each.
async fn findings_of(id: &str, file: &Path, tmp: &Path) -> Vec<String> {
    let dataset = tmp.join("lake");
    let summary = ingest(
        &IngestOptions::new(vec![file.to_path_buf()], dataset.clone()),
        &Silent,
    )
    .unwrap();
    assert!(
        summary.is_clean(),
        "{}: {:?}",
        file.display(),
        summary.issues
    );
    let options = QueryOptions {
        detections: DetectionSet::builtin().only(&[id.to_string()]).unwrap(),
        ..QueryOptions::default()
    };
    let ctx = open_session(&dataset, &options).await.unwrap();
    // `fires.authorization.json` beside `fires.jsonl`: the authorization details the
    // detections that compare granted with used permissions read.
    let details = file.with_extension("authorization.json");
    if details.exists() {
        use trailscope_query::privilege::{authorization, summary};
        let granted = authorization::parse(&std::fs::read_to_string(&details).unwrap()).unwrap();
        let rows = summary::granted_vs_used(&ctx, &granted).await.unwrap();
        summary::fill(&ctx, &rows).await.unwrap();
    }
    let found = findings(&ctx, Severity::Info).await.unwrap();
    assert!(found.strings("detection_id").iter().all(|d| d == id));
    lines(&ctx, &found).await
}

/// Each finding as `principal | actor | account | count | event ids | evidence`.
async fn lines(ctx: &datafusion::prelude::SessionContext, found: &Answer) -> Vec<String> {
    ctx.register_batch(
        "found",
        arrow::compute::concat_batches(&found.schema, &found.batches).unwrap(),
    )
    .unwrap();
    let text = ctx
        .sql(
            "SELECT concat_ws(' | ', coalesce(principal, 'NULL'), coalesce(actor, 'NULL'), \
                    coalesce(account_id, 'NULL'), CAST(event_count AS VARCHAR), \
                    array_to_string(event_ids, ','), coalesce(evidence, 'NULL')) AS line \
             FROM found ORDER BY first_seen, finding_id",
        )
        .await
        .unwrap();
    Answer::collect(text).await.unwrap().strings("line")
}

#[tokio::test]
async fn every_built_in_detection_fires_on_its_fixtures_and_stays_quiet_on_the_others() {
    let builtin = DetectionSet::builtin();
    let mut folders: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let ids: Vec<String> = builtin.detections().iter().map(|d| d.id.clone()).collect();
    assert_eq!(folders, ids, "one fixture folder per built-in detection");

    for id in &ids {
        let tmp = tempfile::tempdir().unwrap();
        let fired = findings_of(
            id,
            &fixtures().join(id).join("fires.jsonl"),
            &tmp.path().join("fires"),
        )
        .await;
        assert!(!fired.is_empty(), "{id} did not fire on fires.jsonl");
        insta::assert_snapshot!(id.as_str(), fired.join("\n"));
        let quiet = findings_of(
            id,
            &fixtures().join(id).join("quiet.jsonl"),
            &tmp.path().join("quiet"),
        )
        .await;
        assert!(quiet.is_empty(), "{id} fired on quiet.jsonl: {quiet:#?}");
    }
}
