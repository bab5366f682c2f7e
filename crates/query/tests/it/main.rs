//! DataFusion reads what ingest writes.

mod attribution;
mod findings;
mod hygiene;
mod window;

use std::path::{Path, PathBuf};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use trailscope_ingest::{IngestOptions, IngestSummary, Silent, ingest};
use trailscope_query::QueryOptions;

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Ingests the shipped samples into `tmp/lake`.
pub fn samples_dataset(tmp: &Path) -> (PathBuf, IngestSummary) {
    let dataset = tmp.join("lake");
    let summary = ingest(
        &IngestOptions::new(vec![testdata().join("samples")], dataset.clone()),
        &Silent,
    )
    .unwrap();
    (dataset, summary)
}

pub async fn scalar(ctx: &datafusion::prelude::SessionContext, sql: &str) -> i64 {
    let batches: Vec<RecordBatch> = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test]
async fn events_are_queryable_with_their_partition_column() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, summary) = samples_dataset(tmp.path());
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
    let roots = "SELECT count(*) FROM events WHERE user_identity_type = 'Root'";
    assert_eq!(scalar(&ctx, roots).await, 4);
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
