//! `--since` / `--until`: the window restricts `events` and prunes partitions.

use chrono::{DateTime, Utc};
use trailscope_query::{QueryOptions, TimeWindow, open_session};

use super::{generated_dataset, scalar};

fn at(text: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(text).unwrap().to_utc())
}

async fn explain(ctx: &datafusion::prelude::SessionContext, sql: &str) -> String {
    let batches = ctx
        .sql(&format!("EXPLAIN {sql}"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_window_restricts_events_and_reads_only_its_partitions() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, _) = generated_dataset(tmp.path());
    let all = open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let dates = scalar(&all, "SELECT count(DISTINCT event_date) FROM events").await;
    assert!(dates >= 5, "the trail spans {dates} dates");

    // The trail's third day.
    let options = QueryOptions {
        window: TimeWindow {
            since: at("2026-10-03T00:00:00Z"),
            until: at("2026-10-04T00:00:00Z"),
        },
        ..QueryOptions::default()
    };
    let day = open_session(&dataset, &options).await.unwrap();
    let expected = scalar(
        &all,
        "SELECT count(*) FROM events WHERE event_time >= TIMESTAMP '2026-10-03T00:00:00Z' \
         AND event_time < TIMESTAMP '2026-10-04T00:00:00Z'",
    )
    .await;
    assert!(expected > 0);
    assert_eq!(scalar(&day, "SELECT count(*) FROM events").await, expected);

    // Partition pruning: the plan lists files of that one date only, and the time
    // filter is pushed down as a row-group pruning predicate.
    let plan = explain(
        &day,
        "SELECT count(*) FROM events WHERE event_name = 'AssumeRole'",
    )
    .await;
    assert!(plan.contains("event_date=2026-10-03"), "{plan}");
    assert_eq!(
        plan.matches("event_date=").count(),
        plan.matches("event_date=2026-10-03").count(),
        "{plan}"
    );
    assert!(plan.contains("pruning_predicate"), "{plan}");
    // Without the window the same query reads every partition.
    let unpruned = explain(
        &all,
        "SELECT count(*) FROM events WHERE event_name = 'AssumeRole'",
    )
    .await;
    assert!(unpruned.matches("event_date=").count() > 1, "{unpruned}");
}

#[tokio::test]
async fn an_open_ended_window_keeps_the_other_side() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, summary) = generated_dataset(tmp.path());
    let since = QueryOptions {
        window: TimeWindow {
            since: at("2026-10-03T00:00:00Z"),
            until: None,
        },
        ..QueryOptions::default()
    };
    let until = QueryOptions {
        window: TimeWindow {
            since: None,
            until: at("2026-10-03T00:00:00Z"),
        },
        ..QueryOptions::default()
    };
    let after = scalar(
        &open_session(&dataset, &since).await.unwrap(),
        "SELECT count(*) FROM events",
    )
    .await;
    let before = scalar(
        &open_session(&dataset, &until).await.unwrap(),
        "SELECT count(*) FROM events",
    )
    .await;
    let all = open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let untimed = scalar(&all, "SELECT count(*) FROM events WHERE event_time IS NULL").await;
    assert!(after > 0 && before > 0);
    assert_eq!(after + before + untimed, summary.records.written as i64);
}

#[tokio::test]
async fn json_functions_run_after_filters_not_in_the_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, _) = generated_dataset(tmp.path());
    let ctx = trailscope_query::open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let plan = explain(
        &ctx,
        "SELECT json_get_str(request_parameters, 'roleArn') FROM events WHERE event_name = 'AssumeRole'",
    )
    .await;
    let scan = plan
        .lines()
        .find(|line| line.contains("DataSourceExec"))
        .expect("a Parquet scan");
    // DataFusion could otherwise parse every row's JSON inside the scan, before the
    // filter. Either the filter runs while the scan decodes (Parquet filter pushdown, on in
    // every session: rows are dropped before the scan's projection runs), or the JSON
    // function stays out of the scan, above a FilterExec.
    let filtered_in_scan = scan.contains("predicate=event_name@");
    assert!(
        filtered_in_scan || (!scan.contains("json_get_str") && plan.contains("FilterExec")),
        "{plan}"
    );
}
