//! Opening a dataset as a DataFusion session: the `events` table, the time window, the
//! SQL functions, the attribution views and the findings of the chosen detections.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::DataType;
use chrono::{DateTime, SecondsFormat, Utc};
use datafusion::catalog::TableProvider;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

use crate::context::new_context;
use crate::detections::DetectionSet;
use trailscope_ingest::Manifest;
use trailscope_ingest::schema::PARTITION_COLUMN;

use crate::{Error, Result, TimeWindow, attribution, udf};

/// The table of ingested records, restricted to the session's time window.
pub const EVENTS: &str = "events";

/// The unrestricted table behind `events` when a window is set; internal (names that
/// start with `__` are not listed by [`user_tables`]).
const EVENTS_SOURCE: &str = "__events_source";

/// What a session holds, and how it runs.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// Restricts `events` (and everything built on it) to this window.
    pub window: TimeWindow,
    /// The detections behind the `findings` view (default: the built-in ones).
    pub detections: DetectionSet,
    /// Worker threads for query execution (default: DataFusion's, one per core).
    pub target_partitions: Option<usize>,
    /// Memory the operators of a query may hold before they spill to disk (sorts,
    /// aggregations, windows) or fail (the others); `None`: no limit.
    pub memory_limit: Option<usize>,
    /// Every table is one a cluster's plans can carry: plain views in place of the views
    /// computed once and cached, and the resolved credentials computed when the session
    /// opens, as an in-memory table (set by the cluster session).
    pub distributed: bool,
}

/// Opens the dataset at `root` as a session with the table `events`, the attribution
/// views ([`attribution`]), the `findings` view over `options.detections`
/// ([`crate::detections`]) and trailscope's SQL functions ([`udf::functions`] and the
/// JSON functions). Each is registered once; credentials are resolved only when a query
/// reads them.
///
/// `events` is the Parquet dataset with its Hive partition column `event_date`. With a
/// time window it becomes a view that filters `event_time` and also `event_date`, so
/// that whole partitions are skipped before any file is opened, and row groups are
/// pruned by their `event_time` statistics.
pub async fn open_session(root: &Path, options: &QueryOptions) -> Result<SessionContext> {
    // Exactly the committed files, or an error that names the repair.
    let manifest = Manifest::load_checked(root)?;
    if manifest.data_files.is_empty() {
        return Err(Error::Empty(root.display().to_string()));
    }
    let ctx = new_session(options)?;
    let location = file_url(
        &root
            .canonicalize()
            .map_err(|e| trailscope_ingest::Error::io(root, e))?,
    );
    register_dataset(&ctx, &location, options).await?;
    Ok(ctx)
}

/// A session configured as every query command runs, with trailscope's functions.
pub(crate) fn new_session(options: &QueryOptions) -> Result<SessionContext> {
    let mut config = SessionConfig::new().with_information_schema(true);
    if let Some(partitions) = options.target_partitions {
        config = config.with_target_partitions(partitions.max(1));
    }
    if options.memory_limit.is_some() {
        // Each of the many sorts of a findings query (one per detection that orders or
        // windows) reserves this much up front for its spill merge: DataFusion's 10 MiB
        // each exhausted a small limit before anything spilled.
        config.options_mut().execution.sort_spill_reservation_bytes = 1 << 20;
    }
    // Filters are evaluated while Parquet is decoded, cheapest and most selective first,
    // so that the other columns of rows a filter drops are not decompressed: the detections
    // each scan the events with a selective filter (the built-in ones on the 10 GiB trail:
    // 12.4 s -> 9.9 s, the same findings; benches/RESULTS.md, session 9).
    config.options_mut().execution.parquet.pushdown_filters = true;
    config.options_mut().execution.parquet.reorder_filters = true;
    let mut ctx = new_context(config, options.memory_limit);
    udf::register_all(&mut ctx)?;
    Ok(ctx)
}

/// Registers the dataset at `location` (a directory URL ending in `/`) as `events`, with
/// the views and findings built on it.
pub(crate) async fn register_dataset(
    ctx: &SessionContext,
    location: &str,
    options: &QueryOptions,
) -> Result<()> {
    let read = ParquetReadOptions::default()
        .table_partition_cols(vec![(PARTITION_COLUMN.to_string(), DataType::Utf8)]);
    let window = options.window;
    if window.is_unbounded() {
        ctx.register_parquet(EVENTS, location, read).await?;
    } else {
        ctx.register_parquet(EVENTS_SOURCE, location, read).await?;
        let view = ctx.sql(&window_query(&window)).await?.into_view();
        ctx.register_table(EVENTS, view)?;
    }
    let source = if window.is_unbounded() {
        EVENTS
    } else {
        EVENTS_SOURCE
    };
    let all_events = ctx.table_provider(source).await?;
    attribution::register(ctx, all_events, options.distributed).await?;
    crate::privilege::root_tasks::register(ctx).await?;
    crate::privilege::summary::register(ctx)?;
    crate::detections::register_findings(ctx, options.detections.detections(), options.distributed)
        .await?;
    Ok(())
}

/// The `file://` URL of a directory, every byte but the unreserved ones percent-encoded:
/// a plain path with `[`, `?` or `*` in it would be read as a glob and match nothing.
pub(crate) fn file_url(dir: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut url = String::from("file://");
    for &byte in dir.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            url.push(byte as char);
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url.push('/');
    url
}

/// `SELECT * FROM __events_source WHERE ...` for the window: on `event_time`, and on
/// the `event_date` partitions that can hold such times.
fn window_query(window: &TimeWindow) -> String {
    let mut conditions = Vec::new();
    if let Some(since) = window.since {
        conditions.push(format!("event_time >= {}", timestamp(since)));
        conditions.push(format!(
            "{PARTITION_COLUMN} >= '{}'",
            since.format("%Y-%m-%d")
        ));
    }
    if let Some(until) = window.until {
        conditions.push(format!("event_time < {}", timestamp(until)));
        // `until` is exclusive: at midnight, its own day's partition holds nothing before it.
        let at_midnight = until.time() == chrono::NaiveTime::MIN;
        conditions.push(format!(
            "{PARTITION_COLUMN} {} '{}'",
            if at_midnight { "<" } else { "<=" },
            until.format("%Y-%m-%d")
        ));
    }
    format!(
        "SELECT * FROM {EVENTS_SOURCE} WHERE {}",
        conditions.join(" AND ")
    )
}

fn timestamp(instant: DateTime<Utc>) -> String {
    format!(
        "arrow_cast('{}', 'Timestamp(Microsecond, Some(\"UTC\"))')",
        instant.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

/// The tables and views an analyst sees (internal ones left out), sorted.
pub fn user_tables(ctx: &SessionContext) -> Vec<String> {
    let Some(catalog) = ctx.catalog("datafusion") else {
        return Vec::new();
    };
    let Some(schema) = catalog.schema("public") else {
        return Vec::new();
    };
    let mut names: Vec<String> = schema
        .table_names()
        .into_iter()
        .filter(|name| !name.starts_with("__"))
        .collect();
    names.sort();
    names
}

/// The provider of a table an analyst can see, `None` if there is none by that name.
pub async fn user_table(
    ctx: &SessionContext,
    name: &str,
) -> Result<Option<Arc<dyn TableProvider>>> {
    if name.starts_with("__") {
        return Ok(None);
    }
    Ok(ctx.table_provider(name).await.ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_urls_escape_what_globs_would_read() {
        assert_eq!(
            file_url(Path::new("/data/la[k]e ?*%")),
            "file:///data/la%5Bk%5De%20%3F%2A%25/"
        );
    }

    #[test]
    fn the_window_filters_time_and_partitions() {
        let since = DateTime::parse_from_rfc3339("2026-10-01T12:00:00Z")
            .unwrap()
            .to_utc();
        let until = DateTime::parse_from_rfc3339("2026-10-03T00:00:00Z")
            .unwrap()
            .to_utc();
        let sql = window_query(&TimeWindow {
            since: Some(since),
            until: Some(until),
        });
        assert!(
            sql.contains("event_time >= arrow_cast('2026-10-01T12:00:00.000000Z'"),
            "{sql}"
        );
        assert!(sql.contains("event_date >= '2026-10-01'"), "{sql}");
        assert!(
            sql.contains("event_time < arrow_cast('2026-10-03T00:00:00.000000Z'"),
            "{sql}"
        );
        // Until midnight: that day's partition is not read.
        assert!(sql.contains("event_date < '2026-10-03'"), "{sql}");
        let open = window_query(&TimeWindow {
            since: Some(since),
            until: None,
        });
        assert!(!open.contains("event_time <"), "{open}");
        let midday = window_query(&TimeWindow {
            since: None,
            until: Some(until + chrono::Duration::hours(12)),
        });
        assert!(midday.contains("event_date <= '2026-10-03'"), "{midday}");
    }
}
