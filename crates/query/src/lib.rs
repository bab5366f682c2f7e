//! Analyst SQL over a trailscope dataset, with DataFusion.
//!
//! ```no_run
//! # async fn example() -> Result<(), trailscope_query::Error> {
//! let ctx = trailscope_query::open_session(std::path::Path::new("./lake")).await?;
//! let batches = ctx
//!     .sql("SELECT event_name, count(*) AS n FROM events GROUP BY event_name ORDER BY n DESC")
//!     .await?
//!     .collect()
//!     .await?;
//! # let _ = batches;
//! # Ok(())
//! # }
//! ```
//!
//! Today the session registers the `events` table (the ingested records, with the Hive
//! partition column `event_date`). Attribution and detections build on the same session.

use std::path::Path;

use arrow::datatypes::DataType;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use trailscope_ingest::Manifest;
use trailscope_ingest::schema::PARTITION_COLUMN;

/// What can go wrong opening or querying a dataset.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The dataset is missing, of another schema version, or unreadable.
    #[error(transparent)]
    Dataset(#[from] trailscope_ingest::Error),
    /// DataFusion failed (a SQL error, say).
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// The dataset holds no events yet.
    #[error("dataset {0} holds no events yet (run `trailscope ingest` first)")]
    Empty(String),
}

/// The query library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Opens the dataset at `root` as a session with the table `events`.
pub async fn open_session(root: &Path) -> Result<SessionContext> {
    let manifest = Manifest::load(root)?;
    if manifest.data_files.is_empty() {
        return Err(Error::Empty(root.display().to_string()));
    }
    let ctx = SessionContext::new();
    let options = ParquetReadOptions::default()
        .table_partition_cols(vec![(PARTITION_COLUMN.to_string(), DataType::Utf8)]);
    let location = format!(
        "{}/",
        root.canonicalize()
            .map_err(|e| trailscope_ingest::Error::io(root, e))?
            .display()
    );
    ctx.register_parquet("events", &location, options).await?;
    Ok(ctx)
}
