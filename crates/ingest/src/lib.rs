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
//! worker maps a file, gunzips it as a stream, and a record splitter cuts the
//! stream into records, whatever the file's shape. Each record is parsed in place by
//! simd-json, mapped onto the columns of [`schema`] (what no column holds exactly goes to
//! `unmapped`), deduplicated on `eventID` and recipient account, and appended to its
//! date's partition. Files are staged and committed atomically ([`dataset`]). [`export`]
//! rebuilds the original records.

#![warn(missing_docs)]

mod batch;
mod batch_dedupe;
pub mod compact;
pub mod dataset;
pub mod ddl;
mod dedupe;
pub mod delivery;
pub mod discover;
mod error;
pub mod export;
mod fsutil;
mod inflate;
mod json_text;
pub mod merge;
mod number_text;
mod partition_files;
mod pipeline;
mod raw_text;
mod record;
mod run;
#[cfg(feature = "s3")]
pub mod s3;
pub mod schema;
pub mod shard;
mod sink;
mod split;
#[cfg(feature = "synth")]
pub mod synth;
pub mod time;
mod worker;

pub use compact::{CompactOptions, CompactSummary, compact};
pub use dataset::Manifest;
pub use discover::{discover, discover_since};
pub use error::{Error, Result};
pub use pipeline::ingest;
pub use run::{
    FetchQueue, FileCounts, FileReport, IngestOptions, IngestSummary, InputIssue, MAX_DEPTH,
    MAX_ISSUES_KEPT, Observer, Publisher, RecordCounts, RemoteInputs, Silent,
};
pub use sink::{Codec, WriterOptions};

/// Internals that `benches/per_file.rs` times stage by stage; not part of the API.
#[doc(hidden)]
pub mod bench {
    pub use crate::batch::BatchBuilder;
    pub use crate::record::{RecordMapper, Slot};
    pub use crate::split::{PADDING, Piece, RecordSplitter};
}
