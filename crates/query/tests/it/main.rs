//! DataFusion reads what ingest writes.

mod attribution;
mod detections;
mod findings;
mod hygiene;
mod imports;
mod memory;
mod privilege;
mod report;
mod sigma;
mod sigma_correlation;
mod window;

use std::path::{Path, PathBuf};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use trailscope_ingest::{IngestOptions, IngestSummary, Silent, ingest};
use trailscope_query::QueryOptions;

/// Ingests the third-party sample folders of `../shared/testdata` (Stratus Red Team, OTRF,
/// plaso, AWS documentation) into `tmp/lake`; `None` after the calling test said that it
/// was skipped, where the samples are absent (a failure under CI).
pub fn samples_dataset(tmp: &Path) -> Option<(PathBuf, IngestSummary)> {
    let shared = trailscope_ingest::synth::shared::for_test()?;
    let folders = [
        "stratus-red-team",
        "otrf-security-datasets",
        "plaso",
        "aws-docs",
    ];
    let inputs = folders.iter().map(|f| shared.join(f)).collect();
    Some(ingest_into(tmp, inputs))
}

/// Ingests the real trails of `../shared/testdata/real` into `tmp/lake` (or skips).
pub fn real_dataset(tmp: &Path) -> Option<(PathBuf, IngestSummary)> {
    let shared = trailscope_ingest::synth::shared::for_test()?;
    Some(ingest_into(tmp, vec![shared.join("real")]))
}

/// A generated trail (about 1 MiB over five days from 2026-10-01) ingested into `tmp/lake`.
pub fn generated_dataset(tmp: &Path) -> (PathBuf, IngestSummary) {
    trailscope_ingest::synth::fixtures::small_trail(&tmp.join("trail"), 1 << 20, 5).unwrap();
    ingest_into(tmp, vec![tmp.join("trail/AWSLogs")])
}

fn ingest_into(tmp: &Path, inputs: Vec<PathBuf>) -> (PathBuf, IngestSummary) {
    let dataset = tmp.join("lake");
    let summary = ingest(&IngestOptions::new(inputs, dataset.clone()), &Silent).unwrap();
    (dataset, summary)
}

/// A session over hand-written CloudTrail records (JSON objects), ingested into `tmp/lake`
/// from one `{"Records": [...]}` file.
pub async fn session_of(tmp: &Path, records: &[String]) -> datafusion::prelude::SessionContext {
    std::fs::create_dir_all(tmp).unwrap();
    let trail = tmp.join("trail.json");
    std::fs::write(&trail, format!(r#"{{"Records":[{}]}}"#, records.join(","))).unwrap();
    let dataset = tmp.join("lake");
    ingest(&IngestOptions::new(vec![trail], dataset.clone()), &Silent).unwrap();
    trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap()
}

pub async fn scalar(ctx: &datafusion::prelude::SessionContext, sql: &str) -> i64 {
    let batches: Vec<RecordBatch> = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test]
async fn events_are_queryable_with_their_partition_column() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((dataset, summary)) = samples_dataset(tmp.path()) else {
        return;
    };
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();

    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM events").await,
        summary.records.written as i64
    );
    // The partition value is the event's own UTC date.
    let mismatched = "SELECT count(*) FROM events WHERE event_time IS NOT NULL \
                      AND event_date <> to_char(event_time, '%Y-%m-%d')";
    assert_eq!(scalar(&ctx, mismatched).await, 0);
    // The OTRF records (no eventTime) are dated by @timestamp: 2020-09-14 UTC.
    let otrf = "SELECT count(*) FROM events WHERE event_time_substitute = '@timestamp' \
                AND event_date = '2020-09-14'";
    assert_eq!(scalar(&ctx, otrf).await, 103);
    // Five root records: one of them is a second AWS documentation sign-in that shares its
    // eventID with another but differs (a conflicting id, kept).
    let roots = "SELECT count(*) FROM events WHERE user_identity_type = 'Root'";
    assert_eq!(scalar(&ctx, roots).await, 5);
}

#[tokio::test]
async fn a_missing_dataset_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let Err(err) =
        trailscope_query::open_session(&tmp.path().join("nothing"), &QueryOptions::default()).await
    else {
        panic!("opened a dataset that does not exist");
    };
    assert!(
        err.to_string().contains("not a trailscope dataset"),
        "{err}"
    );
}
