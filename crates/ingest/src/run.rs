//! What an ingest run takes and gives back: its options, its counts, its summary, the
//! input problems it found, and the observer that hears about progress.

use std::path::PathBuf;

use serde::Serialize;

use crate::sink::WriterOptions;

/// Deepest JSON nesting accepted in a record, the record's own object included. serde_json
/// (and the readers built on it, such as the SQL JSON functions and
/// [`crate::export::ExportedRecord::value`]) refuses a 128th level, where simd-json would
/// take it: ingest uses the same limit, so that every stored record can be read again.
pub const MAX_DEPTH: usize = 127;

/// What to ingest and how.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Files and directories to read.
    pub inputs: Vec<PathBuf>,
    /// The dataset directory (created if missing).
    pub dataset: PathBuf,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Data file layout and encoding.
    pub writer: WriterOptions,
    /// Records larger than this many bytes are rejected.
    pub max_record_bytes: usize,
    /// A gzip file may expand to at most this many times its size (gzip bomb guard).
    pub max_expansion_ratio: u64,
    /// Re-read files the dataset already holds (duplicates are still dropped).
    pub reread: bool,
    /// Commit every time the files read since the last commit reach this many bytes (as
    /// stored, gzipped or not), so that a crash or a kill loses at most that much work and
    /// the next run reads only the files not yet committed; 0: commit only at the end.
    pub checkpoint_bytes: u64,
    /// After the run, merge the files of each partition it wrote to that then holds at
    /// least this many data files (0: never), so that frequent runs do not leave a
    /// partition of many small files.
    pub compact_at_files: usize,
    /// Only the files of this shard (`--shard K/N`); see [`crate::shard`].
    pub shard: Option<crate::shard::Shard>,
    /// Skip the export folders delivered before this day (days since 1970-01-01), unlisted;
    /// see [`crate::delivery`].
    pub delivered_since: Option<i64>,
    /// Where the inputs are when they are not local paths (S3, with feature `s3`): then
    /// `inputs` is empty and this lists and fetches the files.
    pub remote: Option<std::sync::Arc<dyn RemoteInputs>>,
    /// Where each commit (checkpoint) of the run is published once it is committed to
    /// `dataset` (an S3 dataset, with `dataset` its local working copy). Runs that publish
    /// do not compact: the working copy holds only the run's own data files.
    pub publish: Option<std::sync::Arc<dyn Publisher>>,
    /// Dedupe keys held in hash tables, all days together, before the largest day's are
    /// written to scratch files (default 1,048,576, about 32 MiB): what bounds a first ingest's memory
    /// for keys whatever the trail's size.
    pub keys_in_memory: usize,
}

/// Publishes what a run committed to its local dataset elsewhere (S3, with feature `s3`).
pub trait Publisher: Send + Sync + std::fmt::Debug {
    /// Called after each commit of the run, with the local dataset.
    fn publish(&self, dataset: &std::path::Path) -> crate::Result<()>;
}

/// Input files that live elsewhere than the local file system (an S3 prefix): listed and
/// fetched by the implementation, read by the workers as local files are.
pub trait RemoteInputs: Send + Sync + std::fmt::Debug {
    /// Lists the trail files, as [`crate::discover()`] does for local paths, skipping
    /// the folders delivered before `since_day` unlisted. Each [`crate::discover::InputFile`]
    /// is named by its key from `AWSLogs/` on (as a local sync of the bucket would be), and
    /// its `path` is what [`RemoteInputs::fetch`] takes.
    fn discover(&self, since_day: Option<i64>) -> crate::Result<crate::discover::Discovery>;

    /// Starts fetching `files` in order, a bounded number ahead of the readers.
    fn fetch(&self, files: &[crate::discover::InputFile]) -> Box<dyn FetchQueue>;
}

/// Files being fetched, handed out in order, each once.
pub trait FetchQueue: Send + Sync {
    /// The next file: its index in the list given to [`RemoteInputs::fetch`] and its bytes
    /// (or why they could not be had); `None` when every file was handed out.
    fn next(&self) -> Option<(usize, std::io::Result<Vec<u8>>)>;
}

/// The default checkpoint: 4 GiB of (mostly gzipped) input, about 40 GiB of JSON, a few
/// minutes of work on two cores.
pub const DEFAULT_CHECKPOINT_BYTES: u64 = 4 << 30;

impl IngestOptions {
    /// Options with defaults for `inputs` into `dataset`.
    pub fn new(inputs: Vec<PathBuf>, dataset: PathBuf) -> Self {
        IngestOptions {
            inputs,
            dataset,
            threads: 0,
            writer: WriterOptions::default(),
            max_record_bytes: 32 << 20,
            max_expansion_ratio: 200,
            reread: false,
            checkpoint_bytes: DEFAULT_CHECKPOINT_BYTES,
            compact_at_files: 5,
            shard: None,
            delivered_since: None,
            remote: None,
            publish: None,
            keys_in_memory: crate::dedupe::KEYS_IN_MEMORY,
        }
    }
}

/// A problem with the input: a file or a record that could not be ingested.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InputIssue {
    /// The file, by its source name (or path, when discovery failed).
    pub file: String,
    /// The record's index in the file, when the issue is about one record.
    pub record: Option<u64>,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for InputIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.record {
            Some(index) => write!(f, "{}: record {index}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Hooks for progress display; the library itself never prints.
pub trait Observer: Sync {
    /// Called once discovery is done, with the number and total size of files to read.
    fn on_start(&self, _files: u64, _bytes: u64) {}
    /// Called after each file.
    fn on_file(&self, _report: &FileReport) {}
    /// Called for each input problem, as it is found.
    fn on_issue(&self, _issue: &InputIssue) {}
    /// Called for each record stored though another record with its `eventID` (and
    /// recipient account) was stored before: not a problem, since both are kept, but an
    /// oddity worth naming.
    fn on_conflicting_id(&self, _conflict: &InputIssue) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Silent;
impl Observer for Silent {}

/// What one file yielded, as the observer hears of it when the file is read. Whether its
/// records are written or duplicates is decided later, a batch at a time: the run's
/// [`RecordCounts`] hold those.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    /// Source name.
    pub source: String,
    /// Bytes on disk.
    pub bytes: u64,
    /// Modification time when discovered (nanoseconds since the epoch).
    pub modified: Option<i64>,
    /// Bytes after decompression.
    pub decompressed_bytes: u64,
    /// Records seen (to be written or dropped as duplicates, or rejected).
    pub records_seen: u64,
    /// Records rejected.
    pub records_rejected: u64,
    /// Why the file could not be read to its end, when it could not.
    pub failure: Option<String>,
}

/// File counts of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileCounts {
    /// Trail files found.
    pub found: u64,
    /// Files read in this run.
    pub read: u64,
    /// Files skipped because the dataset already holds them unchanged.
    pub unchanged: u64,
    /// CloudTrail digest files skipped.
    pub digest_skipped: u64,
    /// CloudTrail Insight files skipped.
    pub insight_skipped: u64,
    /// Other files skipped (names that are not trail files).
    pub other_skipped: u64,
    /// Files that could not be read to their end (or at all), in this run or, unchanged,
    /// in an earlier one.
    pub failed: u64,
    /// Of `failed`: files that failed in an earlier run and have not changed since (by
    /// size and modification time), reported again without being read.
    pub unchanged_bad: u64,
    /// Directories that could not be listed.
    pub unreadable_dirs: u64,
    /// Trail files left to other shards (`--shard K/N`).
    pub other_shards: u64,
    /// Delivery-day folders skipped unlisted, as delivered before `--since`.
    pub folders_before_since: u64,
}

/// Record counts of a run: `seen = written + duplicate + rejected`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordCounts {
    /// Records found in the files read.
    pub seen: u64,
    /// Records written to the dataset.
    pub written: u64,
    /// Records already in the dataset (or earlier in this run), not written again: the
    /// same event and the same record text.
    pub duplicate: u64,
    /// Of `written`: records whose `eventID` (with recipient account) a different record
    /// stored before has too. Both are kept.
    pub conflicting_ids: u64,
    /// Records that are not valid CloudTrail records.
    pub rejected: u64,
    /// Written records whose time came from a substitute field (no `eventTime`).
    pub time_substituted: u64,
    /// Written records with no usable time (in the null partition).
    pub without_time: u64,
}

impl RecordCounts {
    /// Adds `more` to these counts.
    pub fn add(&mut self, more: &RecordCounts) {
        self.seen += more.seen;
        self.written += more.written;
        self.duplicate += more.duplicate;
        self.conflicting_ids += more.conflicting_ids;
        self.rejected += more.rejected;
        self.time_substituted += more.time_substituted;
        self.without_time += more.without_time;
    }
}

/// The outcome of an ingest run.
#[derive(Debug, Clone, Serialize)]
pub struct IngestSummary {
    /// The run's id.
    pub run_id: String,
    /// The dataset directory.
    pub dataset: PathBuf,
    /// File counts.
    pub files: FileCounts,
    /// Record counts.
    pub records: RecordCounts,
    /// Bytes read from disk.
    pub bytes_read: u64,
    /// Bytes after decompression.
    pub bytes_decompressed: u64,
    /// Parquet files written.
    pub data_files_written: u64,
    /// Parquet bytes written.
    pub data_bytes_written: u64,
    /// Partitions whose files were merged after the run (see `compact_at_files`).
    pub partitions_compacted: u64,
    /// Worker threads used.
    pub threads: usize,
    /// Wall time in seconds.
    pub wall_seconds: f64,
    /// Rows in the dataset after the run.
    pub dataset_rows: u64,
    /// Input problems (the first [`MAX_ISSUES_KEPT`]).
    pub issues: Vec<InputIssue>,
    /// Number of input problems in all.
    pub issues_total: u64,
    /// Records written though their `eventID` was already stored for a different record
    /// (the first [`MAX_ISSUES_KEPT`]; all are counted in `records.conflicting_ids`).
    pub conflicting_ids: Vec<InputIssue>,
}

/// Issues kept in the summary; all are counted and passed to the observer.
pub const MAX_ISSUES_KEPT: usize = 1000;

impl IngestSummary {
    /// Whether every input was read and every record accounted for without a problem.
    pub fn is_clean(&self) -> bool {
        self.issues_total == 0
    }
}
