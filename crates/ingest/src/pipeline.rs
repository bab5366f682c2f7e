//! The ingest run: discover, read files in parallel, write partitions, commit.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use flate2::read::MultiGzDecoder;
use serde::Serialize;
use simd_json::{Buffers, Node, Tape};

use crate::dataset::{DatasetWriter, InputRecord, META_DIR, RunRecord};
use crate::dedupe::{KeyLog, SeenEvents, event_key};
use crate::discover::{InputFile, discover};
use crate::error::{Error, Result};
use crate::inflate::Inflater;
use crate::record::{RecordMapper, Slot};
use crate::schema::Col;
use crate::sink::{PartitionSink, StagedFile, WriterOptions};
use crate::split::{PADDING, Piece, RecordSplitter};
use crate::time::day_of;

/// Deepest JSON nesting accepted in a record (as serde_json's default limit, so that every
/// stored record can be exported again).
pub const MAX_DEPTH: usize = 128;

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
}

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
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Silent;
impl Observer for Silent {}

/// What one file yielded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    /// Source name.
    pub source: String,
    /// Bytes on disk.
    pub bytes: u64,
    /// Bytes after decompression.
    pub decompressed_bytes: u64,
    /// Records seen (written + duplicate + rejected).
    pub records_seen: u64,
    /// Records written.
    pub records_written: u64,
    /// Records dropped as duplicates.
    pub records_duplicate: u64,
    /// Records rejected.
    pub records_rejected: u64,
    /// Whether the file could not be read to its end.
    pub failed: bool,
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
    /// Files that could not be read to their end (or at all).
    pub failed: u64,
    /// Directories that could not be listed.
    pub unreadable_dirs: u64,
}

/// Record counts of a run: `seen = written + duplicate + rejected`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordCounts {
    /// Records found in the files read.
    pub seen: u64,
    /// Records written to the dataset.
    pub written: u64,
    /// Records already in the dataset (or earlier in this run), not written again.
    pub duplicate: u64,
    /// Records that are not valid CloudTrail records.
    pub rejected: u64,
    /// Written records whose time came from a substitute field (no `eventTime`).
    pub time_substituted: u64,
    /// Written records with no usable time (in the null partition).
    pub without_time: u64,
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
}

/// Issues kept in the summary; all are counted and passed to the observer.
pub const MAX_ISSUES_KEPT: usize = 1000;

impl IngestSummary {
    /// Whether every input was read and every record accounted for without a problem.
    pub fn is_clean(&self) -> bool {
        self.issues_total == 0
    }
}

/// Reads at most `limit` bytes from `inner`, then fails (the gzip bomb guard).
struct Limited<R> {
    inner: R,
    remaining: u64,
    ratio: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.remaining {
            return Err(io::Error::other(format!(
                "decompressed data exceeds {}x the file size (a gzip bomb?); stopped reading",
                self.ratio
            )));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Shared state of the workers.
struct Shared<'a> {
    files: &'a [InputFile],
    next: AtomicUsize,
    seen: &'a SeenEvents,
    observer: &'a dyn Observer,
    options: &'a IngestOptions,
    staging: &'a Path,
    run_id: &'a str,
    issues: Mutex<Vec<InputIssue>>,
    issues_total: AtomicU64,
    stop: AtomicBool,
}

impl Shared<'_> {
    fn issue(&self, file: &str, record: Option<u64>, message: String) {
        let issue = InputIssue {
            file: file.to_string(),
            record,
            message,
        };
        self.observer.on_issue(&issue);
        self.issues_total.fetch_add(1, Ordering::Relaxed);
        let mut issues = self.issues.lock().expect("not poisoned");
        if issues.len() < MAX_ISSUES_KEPT {
            issues.push(issue);
        }
    }
}

/// What a worker hands back.
#[derive(Default)]
struct WorkerOutput {
    staged: Vec<StagedFile>,
    key_file: Option<PathBuf>,
    reports: Vec<FileReport>,
    records: RecordCounts,
}

/// One worker's reusable state.
struct Worker {
    sink: PartitionSink,
    keys: KeyLog,
    key_path: PathBuf,
    buffers: Buffers,
    tape: Option<Tape<'static>>,
    mapper: RecordMapper,
    inner_record: Vec<u8>,
    split_buffer: Vec<u8>,
    inflater: Inflater,
    records: RecordCounts,
}

impl Worker {
    fn new(shared: &Shared<'_>, id: usize) -> Result<Self> {
        let name = format!("{}-w{id}", shared.run_id);
        let key_path = shared.staging.join(format!("{name}.keys"));
        Ok(Worker {
            sink: PartitionSink::new(
                shared.staging,
                format!("part-{name}"),
                Arc::new(shared.options.writer.clone()),
            )?,
            keys: KeyLog::create(&key_path)?,
            key_path,
            buffers: Buffers::with_max_depth(1 << 16, MAX_DEPTH),
            tape: None,
            mapper: RecordMapper::default(),
            inner_record: Vec::new(),
            split_buffer: Vec::new(),
            inflater: Inflater::default(),
            records: RecordCounts::default(),
        })
    }

    fn run(mut self, shared: &Shared<'_>) -> Result<WorkerOutput> {
        let mut reports = Vec::new();
        while !shared.stop.load(Ordering::Relaxed) {
            let index = shared.next.fetch_add(1, Ordering::Relaxed);
            let Some(file) = shared.files.get(index) else {
                break;
            };
            let report = self.process_file(file, shared)?;
            shared.observer.on_file(&report);
            reports.push(report);
        }
        self.keys.finish(&self.key_path)?;
        Ok(WorkerOutput {
            staged: self.sink.finish()?,
            key_file: Some(self.key_path),
            reports,
            records: self.records,
        })
    }

    fn process_file(&mut self, file: &InputFile, shared: &Shared<'_>) -> Result<FileReport> {
        let mut report = FileReport {
            source: file.source.clone(),
            bytes: file.size,
            ..FileReport::default()
        };
        let opened = File::open(&file.path).and_then(|f| {
            let len = f.metadata()?.len();
            if len == 0 {
                return Ok(None);
            }
            // SAFETY: the map is read-only and lives only during this call; a trail file
            // being truncated under us is the one hazard, as for every mmap reader.
            unsafe { memmap2::Mmap::map(&f) }.map(Some)
        });
        let map = match opened {
            Ok(Some(map)) => map,
            Ok(None) => {
                shared.issue(&file.source, None, "empty file (no records)".into());
                report.failed = true;
                return Ok(report);
            }
            Err(e) => {
                shared.issue(&file.source, None, format!("cannot read: {e}"));
                report.failed = true;
                return Ok(report);
            }
        };
        report.bytes = map.len() as u64;
        let data: &[u8] = &map;
        if data.starts_with(&[0x1f, 0x8b]) {
            let limit = (data.len() as u64)
                .saturating_mul(shared.options.max_expansion_ratio)
                .max(1 << 20);
            // One buffer per worker: the whole-file inflate writes into it and the
            // splitter then works on it in place, so the JSON is never copied.
            let mut buffer = std::mem::take(&mut self.split_buffer);
            let max_record = shared.options.max_record_bytes;
            if let Some(len) = self.inflater.inflate(data, limit, &mut buffer) {
                let splitter = RecordSplitter::over_buffer(buffer, len, max_record);
                self.split_file(splitter, file, shared, &mut report)?;
            } else {
                let reader = Limited {
                    inner: MultiGzDecoder::new(data),
                    remaining: limit,
                    ratio: shared.options.max_expansion_ratio,
                };
                let splitter = RecordSplitter::with_buffer(reader, max_record, buffer);
                self.split_file(splitter, file, shared, &mut report)?;
            }
        } else {
            let buffer = std::mem::take(&mut self.split_buffer);
            let splitter =
                RecordSplitter::with_buffer(data, shared.options.max_record_bytes, buffer);
            self.split_file(splitter, file, shared, &mut report)?;
        }
        Ok(report)
    }

    /// Feeds every record of one file to [`Self::record`], then takes the buffer back.
    fn split_file<R: Read>(
        &mut self,
        mut splitter: RecordSplitter<R>,
        file: &InputFile,
        shared: &Shared<'_>,
        report: &mut FileReport,
    ) -> Result<()> {
        loop {
            match splitter.next_piece() {
                Ok(Some(Piece::Record { index, start, len })) => {
                    let bytes = &mut splitter.buffer_mut()[start..];
                    self.record(bytes, len, index, file, shared, report)?;
                }
                Ok(Some(Piece::Bad { index, reason })) => {
                    report.records_seen += 1;
                    report.records_rejected += 1;
                    shared.issue(&file.source, Some(index), reason);
                }
                Ok(None) => {
                    if splitter.bytes_read() == 0 {
                        shared.issue(&file.source, None, "empty file (no records)".into());
                        report.failed = true;
                    }
                    break;
                }
                Err(e) => {
                    let done = splitter.records_yielded();
                    shared.issue(
                        &file.source,
                        None,
                        format!("{e}; the {done} records before this point were kept"),
                    );
                    report.failed = true;
                    break;
                }
            }
        }
        report.decompressed_bytes = splitter.bytes_read();
        self.split_buffer = splitter.into_buffer();
        Ok(())
    }

    /// Parses, maps, dedupes and stores one record.
    fn record(
        &mut self,
        bytes: &mut [u8],
        len: usize,
        index: u64,
        file: &InputFile,
        shared: &Shared<'_>,
        report: &mut FileReport,
    ) -> Result<()> {
        report.records_seen += 1;
        let Worker {
            sink,
            keys,
            key_path,
            buffers,
            tape: cached,
            mapper,
            inner_record,
            records,
            ..
        } = self;
        let mut tape: Tape<'_> = cached.take().unwrap_or_else(Tape::null).reset();
        let reject = |message: String, report: &mut FileReport| {
            report.records_rejected += 1;
            shared.issue(&file.source, Some(index), message);
        };
        if let Err(e) = simd_json::fill_tape_padded(bytes, len, buffers, &mut tape) {
            reject(format!("invalid JSON: {e}"), report);
            *cached = Some(tape.reset());
            return Ok(());
        }
        // Event history (`lookup-events`) wraps the record as a JSON string.
        if let Some(inner) = cloudtrail_event_string(&tape.0) {
            inner_record.clear();
            inner_record.extend_from_slice(inner.as_bytes());
            let inner_len = inner_record.len();
            inner_record.resize(inner_len + PADDING, 0);
            tape = tape.reset();
            if let Err(e) = simd_json::fill_tape_padded(inner_record, inner_len, buffers, &mut tape)
            {
                reject(format!("invalid JSON in CloudTrailEvent: {e}"), report);
                *cached = Some(tape.reset());
                return Ok(());
            }
        }
        if !matches!(tape.0.first(), Some(Node::Object { .. })) {
            reject("CloudTrailEvent is not a JSON object".into(), report);
            *cached = Some(tape.reset());
            return Ok(());
        }
        let nodes = &tape.0;
        let mut row = mapper.map(nodes);
        if !row.is_cloudtrail() {
            reject(
                "not a CloudTrail record (needs eventVersion or eventSource, and eventName, eventType or eventID)".into(),
                report,
            );
            *cached = Some(tape.reset());
            return Ok(());
        }
        row.set(Col::SourceFile, Slot::Str(&file.source));
        row.set(
            Col::RecordIndex,
            Slot::Int(i32::try_from(index).unwrap_or(i32::MAX)),
        );
        let key = event_key(
            row.str(Col::EventId),
            row.str(Col::RecipientAccountId),
            &file.source,
            index,
        );
        if shared.seen.insert(key) {
            let day = match row.get(Col::EventTime) {
                Slot::Time(micros) => Some(day_of(micros)),
                _ => None,
            };
            if day.is_none() {
                records.without_time += 1;
            } else if row.str(Col::EventTimeSubstitute).is_some() {
                records.time_substituted += 1;
            }
            sink.append(day, &row, nodes)?;
            keys.push(key, key_path)?;
            report.records_written += 1;
        } else {
            report.records_duplicate += 1;
        }
        *cached = Some(tape.reset());
        Ok(())
    }
}

/// The `CloudTrailEvent` string of an Event history item, if the object is one.
fn cloudtrail_event_string<'a>(nodes: &[Node<'a>]) -> Option<&'a str> {
    let Some(Node::Object { len, .. }) = nodes.first() else {
        return None;
    };
    let mut at = 1;
    for _ in 0..*len {
        if let (Node::String("CloudTrailEvent"), Node::String(value)) = (nodes[at], nodes[at + 1]) {
            return Some(value);
        }
        at = crate::json_text::skip(nodes, at + 1);
    }
    None
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Ingests `options.inputs` into the dataset; see the crate docs.
pub fn ingest(options: &IngestOptions, observer: &dyn Observer) -> Result<IngestSummary> {
    let started_at = Instant::now();
    let started = now_rfc3339();
    let mut dataset = DatasetWriter::open(&options.dataset)?;
    let discovery = discover(&options.inputs, Some(&options.dataset))?;
    let mut files = FileCounts {
        found: discovery.files.len() as u64,
        digest_skipped: discovery.digest_files,
        insight_skipped: discovery.insight_files,
        other_skipped: discovery.other_files.len() as u64,
        unreadable_dirs: discovery.unreadable_dirs.len() as u64,
        ..FileCounts::default()
    };
    let manifest = dataset.manifest();
    let (to_read, unchanged): (Vec<InputFile>, Vec<InputFile>) =
        discovery.files.into_iter().partition(|f| {
            options.reread
                || manifest
                    .inputs
                    .get(&f.source)
                    .is_none_or(|r| r.size != f.size)
        });
    files.unchanged = unchanged.len() as u64;

    let seen = SeenEvents::default();
    seen.load_dir(&options.dataset.join(META_DIR).join("keys"))?;
    let run_id = format!(
        "{}-{:08x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        std::process::id() ^ (started_at.elapsed().subsec_nanos())
    );
    let staging = dataset.staging_dir(&run_id)?;
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    }
    .min(to_read.len().max(1));
    observer.on_start(to_read.len() as u64, to_read.iter().map(|f| f.size).sum());

    let shared = Shared {
        files: &to_read,
        next: AtomicUsize::new(0),
        seen: &seen,
        observer,
        options,
        staging: &staging,
        run_id: &run_id,
        issues: Mutex::new(Vec::new()),
        issues_total: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    };
    for (dir, why) in &discovery.unreadable_dirs {
        shared.issue(
            &dir.display().to_string(),
            None,
            format!("cannot list directory: {why}"),
        );
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("trailscope-ingest-{i}"))
        .build()
        .map_err(|e| Error::Config(format!("cannot start {threads} threads: {e}")))?;
    let outputs: Vec<Result<WorkerOutput>> = pool.broadcast(|ctx| {
        let result = Worker::new(&shared, ctx.index()).and_then(|w| w.run(&shared));
        if result.is_err() {
            shared.stop.store(true, Ordering::Relaxed);
        }
        result
    });

    let mut staged = Vec::new();
    let mut key_files = Vec::new();
    let mut records = RecordCounts::default();
    let mut inputs = Vec::new();
    let (mut bytes_read, mut bytes_decompressed) = (0, 0);
    for output in outputs {
        let output = output?;
        staged.extend(output.staged);
        key_files.extend(output.key_file);
        records.time_substituted += output.records.time_substituted;
        records.without_time += output.records.without_time;
        for report in output.reports {
            files.read += 1;
            records.seen += report.records_seen;
            records.written += report.records_written;
            records.duplicate += report.records_duplicate;
            records.rejected += report.records_rejected;
            bytes_read += report.bytes;
            bytes_decompressed += report.decompressed_bytes;
            if report.failed {
                files.failed += 1;
            } else {
                inputs.push((
                    report.source.clone(),
                    InputRecord {
                        size: report.bytes,
                        records: report.records_seen,
                        run_id: run_id.clone(),
                    },
                ));
            }
        }
    }
    let data_files_written = staged.len() as u64;
    let data_bytes_written = staged.iter().map(|f| f.bytes).sum();
    dataset.commit(
        RunRecord {
            run_id: run_id.clone(),
            started,
            committed: now_rfc3339(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            files_read: files.read,
            records_written: records.written,
            records_duplicate: records.duplicate,
            records_rejected: records.rejected,
        },
        inputs,
        &staged,
        &key_files,
    )?;
    let issues_total = shared.issues_total.load(Ordering::Relaxed);
    let issues = shared.issues.into_inner().expect("not poisoned");
    Ok(IngestSummary {
        run_id,
        dataset: options.dataset.clone(),
        files,
        records,
        bytes_read,
        bytes_decompressed,
        data_files_written,
        data_bytes_written,
        threads,
        wall_seconds: started_at.elapsed().as_secs_f64(),
        dataset_rows: dataset.manifest().total_rows(),
        issues,
        issues_total,
    })
}
