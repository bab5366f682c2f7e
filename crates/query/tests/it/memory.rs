//! Queries under a memory limit: sorts spill to disk and give the same answer.

use trailscope_query::QueryOptions;

async fn sorted(dataset: &std::path::Path, memory_limit: Option<usize>) -> Vec<String> {
    // One partition: the merge of several sorted partitions cannot spill (DataFusion 55).
    let options = QueryOptions {
        memory_limit,
        target_partitions: Some(1),
        ..QueryOptions::default()
    };
    let ctx = trailscope_query::open_session(dataset, &options)
        .await
        .unwrap();
    // Every event 1000 times, sorted: far more than the limit below.
    let sql = "SELECT concat(event_id, '|', CAST(s.v AS VARCHAR), '|', event_name) AS row \
               FROM events CROSS JOIN generate_series(1, 1000) AS s(v) ORDER BY row";
    let frame = ctx.sql(sql).await.unwrap();
    let schema = std::sync::Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await.unwrap();
    trailscope_query::Answer { schema, batches }.strings("row")
}

#[tokio::test]
async fn a_sort_over_the_limit_spills_and_gives_the_same_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, _) = super::generated_dataset(tmp.path());
    let unlimited = sorted(&dataset, None).await;
    assert!(unlimited.len() > 1000);
    let bytes: usize = unlimited.iter().map(String::len).sum();
    // Room for the sorts' spill-merge reservations (1 MiB each), not for the rows.
    let limit = 16 << 20;
    assert!(bytes > 4 * limit, "{bytes} bytes of rows");
    let limited = sorted(&dataset, Some(limit)).await;
    assert_eq!(limited, unlimited);
}
