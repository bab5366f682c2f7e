//! Analyst SQL over a trailscope dataset, with DataFusion.
//!
//! ```no_run
//! # async fn example() -> Result<(), trailscope_query::Error> {
//! use trailscope_query::{QueryOptions, TimeWindow, open_session};
//!
//! let now = chrono::Utc::now();
//! let options = QueryOptions {
//!     window: TimeWindow::parse(Some("7d"), None, now).expect("a valid window"),
//!     ..QueryOptions::default()
//! };
//! let ctx = open_session(std::path::Path::new("./lake"), &options).await?;
//! let batches = ctx
//!     .sql("SELECT user_agent_family(user_agent) AS client, count(*) AS n \
//!           FROM events WHERE arn_account(user_identity_arn) = '111122223333' \
//!           GROUP BY client ORDER BY n DESC")
//!     .await?
//!     .collect()
//!     .await?;
//! # let _ = batches;
//! # Ok(())
//! # }
//! ```
//!
//! The SQL surface: the table `events` (the ingested records, one column per CloudTrail
//! field, documented in `trailscope_ingest::schema`, plus the Hive partition column
//! `event_date`), restricted to the session's [`TimeWindow`]; the functions of [`udf`];
//! the attribution views `attribution`, `sessions` and `principals`
//! ([`attribution`]); the view `findings` over the session's detections ([`detections`]);
//! and DataFusion's own SQL.
//!
//! Every question the product asks is a function here, so that the CLI, the demo, the
//! tests and the benchmarks ask the same: [`attribution::principals`],
//! [`attribution::who`], [`attribution::timeline`], [`detections::findings()`],
//! [`overview::ask`] and (with the `synth` feature) [`truth::compare`].

#![warn(missing_docs)]

mod analyst;
mod answer;
pub mod attribution;
mod cached_view;
#[cfg(feature = "cluster")]
pub mod cluster;
mod context;
pub mod detections;
mod literal;
pub mod overview;
pub mod privilege;
pub mod report;
#[cfg(feature = "s3")]
pub mod s3;
mod session;
pub mod sigma;
#[cfg(feature = "synth")]
pub mod truth;
pub mod udf;
mod window;

pub use analyst::analyst_sql;
pub use answer::Answer;
pub use literal::literal;
pub use session::{EVENTS, QueryOptions, open_session, user_table, user_tables};
pub use window::{TimeWindow, WindowError, parse_instant};

/// What can go wrong opening or querying a dataset.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The dataset is missing, of another schema version, or unreadable.
    #[error(transparent)]
    Dataset(#[from] trailscope_ingest::Error),
    /// DataFusion failed (a SQL error, say).
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// A detection is invalid (its header, its id, or its query).
    #[error("detection {0}")]
    Detection(String),
    /// What a question asked about is not in the dataset.
    #[error("no {0} in the dataset")]
    NotFound(String),
    /// A question's argument is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The dataset holds no events yet.
    #[error("dataset {0} holds no events yet (run `trailscope ingest` first)")]
    Empty(String),
}

/// The query library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
