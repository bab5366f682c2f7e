//! CloudTrail logs to typed, partitioned Parquet, losslessly and in bounded memory.
//!
//! ```no_run
//! use std::path::PathBuf;
//! use trailscope_ingest::{IngestOptions, Silent, ingest};
//!
//! let options = IngestOptions::new(vec![PathBuf::from("./trail")], PathBuf::from("./lake"));
//! let summary = ingest(&options, &Silent)?;
//! println!("{} events written, {} duplicates", summary.records.written, summary.records.duplicate);
//! assert_eq!(
//!     summary.records.seen,
//!     summary.records.written + summary.records.duplicate + summary.records.rejected
//! );
//! # Ok::<(), trailscope_ingest::Error>(())
//! ```
//!
//! How it works: [`discover`] lists trail files (skipping digest and Insight files); each
//! worker maps a file, gunzips it as a stream, and a [`split::RecordSplitter`] cuts the
//! stream into records, whatever the file's shape. Each record is parsed in place by
//! simd-json, mapped onto the columns of [`schema`] (what no column holds exactly goes to
//! `unmapped`), deduplicated on `eventID` and recipient account, and appended to its
//! date's partition. Files are staged and committed atomically ([`dataset`]). [`export`]
//! rebuilds the original records.

pub mod batch;
pub mod dataset;
pub mod dedupe;
pub mod discover;
mod error;
pub mod export;
mod fsutil;
pub mod inflate;
pub mod json_text;
mod pipeline;
pub mod record;
mod run;
pub mod schema;
pub mod sink;
pub mod split;
#[cfg(feature = "synth")]
pub mod synth;
pub mod time;
mod worker;

pub use dataset::Manifest;
pub use discover::discover;
pub use error::{Error, Result};
pub use pipeline::ingest;
pub use run::{
    FileCounts, FileReport, IngestOptions, IngestSummary, InputIssue, MAX_DEPTH, MAX_ISSUES_KEPT,
    Observer, RecordCounts, Silent,
};
pub use sink::{Codec, WriterOptions};
