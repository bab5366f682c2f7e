//! One ingest worker: takes files from the shared queue, maps each (or gunzips it), cuts
//! it into records, and parses, maps, deduplicates and stores every record.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use flate2::read::MultiGzDecoder;
use simd_json::{Buffers, Node, Tape};

use crate::dedupe::{KeyLog, SeenEvents, event_key};
use crate::discover::InputFile;
use crate::error::Result;
use crate::inflate::{ExpansionLimit, Inflater};
use crate::record::{RecordMapper, Slot};
use crate::run::{
    FileReport, IngestOptions, InputIssue, MAX_DEPTH, MAX_ISSUES_KEPT, Observer, RecordCounts,
};
use crate::schema::Col;
use crate::sink::{PartitionSink, StagedFile};
use crate::split::{PADDING, Piece, RecordSplitter};
use crate::time::day_of;

/// Shared state of the workers.
pub(crate) struct Shared<'a> {
    pub(crate) files: &'a [InputFile],
    pub(crate) next: AtomicUsize,
    pub(crate) seen: &'a SeenEvents,
    pub(crate) observer: &'a dyn Observer,
    pub(crate) options: &'a IngestOptions,
    pub(crate) staging: &'a Path,
    pub(crate) run_id: &'a str,
    pub(crate) issues: Mutex<Vec<InputIssue>>,
    pub(crate) issues_total: AtomicU64,
    pub(crate) stop: AtomicBool,
}

impl Shared<'_> {
    /// Reports an input problem to the observer and keeps it (the first ones).
    pub(crate) fn issue(&self, file: &str, record: Option<u64>, message: String) {
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
pub(crate) struct WorkerOutput {
    pub(crate) staged: Vec<StagedFile>,
    pub(crate) key_file: Option<PathBuf>,
    pub(crate) reports: Vec<FileReport>,
    pub(crate) records: RecordCounts,
}

/// The file being read: where it comes from, where problems go, what it yielded.
struct FileContext<'f, 's> {
    file: &'f InputFile,
    shared: &'f Shared<'s>,
    report: FileReport,
}

impl FileContext<'_, '_> {
    fn issue(&self, record: Option<u64>, message: String) {
        self.shared.issue(&self.file.source, record, message);
    }

    fn reject(&mut self, index: u64, message: String) {
        self.report.records_rejected += 1;
        self.issue(Some(index), message);
    }

    fn fail(&mut self, message: String) {
        self.report.failed = true;
        if self.report.failure.is_none() {
            self.report.failure = Some(message.clone());
        }
        self.issue(None, message);
    }
}

/// What became of one record.
enum Stored {
    Written,
    Duplicate,
    /// Not stored, for this reason.
    Rejected(String),
}

/// Where a worker's parsed records go: mapped onto the columns, deduplicated, appended to
/// their day's partition, their keys logged.
struct RecordStore {
    sink: PartitionSink,
    keys: KeyLog,
    key_path: PathBuf,
    mapper: RecordMapper,
    records: RecordCounts,
}

/// One worker's reusable state.
pub(crate) struct Worker {
    store: RecordStore,
    buffers: Buffers,
    /// The parse tape, kept between records for its allocation (empty between uses).
    tape: Option<Tape<'static>>,
    /// An Event history record, unwrapped from its `CloudTrailEvent` string.
    inner_record: Vec<u8>,
    split_buffer: Vec<u8>,
    inflater: Inflater,
}

impl Worker {
    pub(crate) fn new(shared: &Shared<'_>, id: usize) -> Result<Self> {
        let name = format!("{}-w{id}", shared.run_id);
        let key_path = shared.staging.join(format!("{name}.keys"));
        Ok(Worker {
            store: RecordStore {
                sink: PartitionSink::new(
                    shared.staging,
                    format!("part-{name}"),
                    Arc::new(shared.options.writer.clone()),
                )?,
                keys: KeyLog::create(&key_path)?,
                key_path,
                mapper: RecordMapper::default(),
                records: RecordCounts::default(),
            },
            buffers: Buffers::with_max_depth(1 << 16, MAX_DEPTH),
            tape: None,
            inner_record: Vec::new(),
            split_buffer: Vec::new(),
            inflater: Inflater::default(),
        })
    }

    /// Takes files until the queue is empty (or another worker failed).
    pub(crate) fn run(mut self, shared: &Shared<'_>) -> Result<WorkerOutput> {
        let mut reports = Vec::new();
        while !shared.stop.load(Ordering::Relaxed) {
            let index = shared.next.fetch_add(1, Ordering::Relaxed);
            let Some(file) = shared.files.get(index) else {
                break;
            };
            let mut context = FileContext {
                file,
                shared,
                report: FileReport {
                    source: file.source.clone(),
                    bytes: file.size,
                    modified: file.modified,
                    ..FileReport::default()
                },
            };
            self.process_file(&mut context)?;
            shared.observer.on_file(&context.report);
            reports.push(context.report);
        }
        let store = self.store;
        store.keys.finish(&store.key_path)?;
        Ok(WorkerOutput {
            staged: store.sink.finish()?,
            key_file: Some(store.key_path),
            reports,
            records: store.records,
        })
    }

    fn process_file(&mut self, context: &mut FileContext<'_, '_>) -> Result<()> {
        // Opening a FIFO blocks until someone writes to it, and a device never ends:
        // only regular files are read.
        if let Ok(meta) = std::fs::metadata(&context.file.path)
            && !meta.is_file()
        {
            context.fail("not a regular file (a FIFO, socket or device): not read".into());
            return Ok(());
        }
        let opened = File::open(&context.file.path).and_then(|f| {
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
                context.fail("empty file (no records)".into());
                return Ok(());
            }
            Err(e) => {
                context.fail(format!("cannot read: {e}"));
                return Ok(());
            }
        };
        context.report.bytes = map.len() as u64;
        let data: &[u8] = &map;
        let options = context.shared.options;
        let max_record = options.max_record_bytes;
        // One buffer per worker: the whole-file inflate writes into it and the splitter
        // then works on it in place, so the JSON is never copied.
        let buffer = std::mem::take(&mut self.split_buffer);
        if !data.starts_with(&[0x1f, 0x8b]) {
            let splitter = RecordSplitter::with_buffer(data, max_record, buffer);
            return self.split_file(splitter, context);
        }
        let limit = (data.len() as u64)
            .saturating_mul(options.max_expansion_ratio)
            .max(1 << 20);
        let mut buffer = buffer;
        if let Some(len) = self.inflater.inflate(data, limit, &mut buffer) {
            let splitter = RecordSplitter::over_buffer(buffer, len, max_record);
            self.split_file(splitter, context)
        } else {
            let reader = ExpansionLimit {
                inner: MultiGzDecoder::new(data),
                remaining: limit,
                ratio: options.max_expansion_ratio,
            };
            let splitter = RecordSplitter::with_buffer(reader, max_record, buffer);
            self.split_file(splitter, context)
        }
    }

    /// Feeds every record of one file to [`Self::record`], then takes the buffer back.
    fn split_file<R: Read>(
        &mut self,
        mut splitter: RecordSplitter<R>,
        context: &mut FileContext<'_, '_>,
    ) -> Result<()> {
        loop {
            match splitter.next_piece() {
                Ok(Some(Piece::Record { index, start, len })) => {
                    let bytes = &mut splitter.buffer_mut()[start..];
                    self.record(bytes, len, index, context)?;
                }
                Ok(Some(Piece::Bad { index, reason })) => {
                    context.report.records_seen += 1;
                    context.reject(index, reason);
                }
                Ok(None) => {
                    if splitter.bytes_read() == 0 {
                        context.fail("empty file (no records)".into());
                    }
                    break;
                }
                Err(e) => {
                    let done = splitter.records_yielded();
                    context.fail(format!(
                        "{e}; the {done} records before this point were kept"
                    ));
                    break;
                }
            }
        }
        context.report.decompressed_bytes = splitter.bytes_read();
        self.split_buffer = splitter.into_buffer();
        Ok(())
    }

    /// Parses, maps, dedupes and stores one record, and counts what became of it.
    fn record(
        &mut self,
        bytes: &mut [u8],
        len: usize,
        index: u64,
        context: &mut FileContext<'_, '_>,
    ) -> Result<()> {
        context.report.records_seen += 1;
        let mut tape: Tape<'_> = self.tape.take().unwrap_or_else(Tape::null).reset();
        let stored = self.parse_and_store(&mut tape, bytes, len, index, context);
        // The one exit: the tape goes back for the next record whatever happened.
        self.tape = Some(tape.reset());
        match stored? {
            Stored::Written => context.report.records_written += 1,
            Stored::Duplicate => context.report.records_duplicate += 1,
            Stored::Rejected(message) => context.reject(index, message),
        }
        Ok(())
    }

    /// Parses one record (unwrapping an Event history item) into `tape` and stores it.
    fn parse_and_store<'t>(
        &mut self,
        tape: &mut Tape<'t>,
        bytes: &'t mut [u8],
        len: usize,
        index: u64,
        context: &FileContext<'_, '_>,
    ) -> Result<Stored> {
        if let Err(e) = simd_json::fill_tape_padded(bytes, len, &mut self.buffers, tape) {
            return Ok(Stored::Rejected(format!("invalid JSON: {e}")));
        }
        // Event history (`lookup-events`) wraps the record as a JSON string.
        let Some(inner) = cloudtrail_event_string(&tape.0) else {
            return self.store.store(tape, index, context);
        };
        self.inner_record.clear();
        self.inner_record.extend_from_slice(inner.as_bytes());
        let inner_len = self.inner_record.len();
        self.inner_record.resize(inner_len + PADDING, 0);
        let mut inner_tape = std::mem::replace(tape, Tape::null()).reset();
        let stored = match simd_json::fill_tape_padded(
            &mut self.inner_record,
            inner_len,
            &mut self.buffers,
            &mut inner_tape,
        ) {
            Ok(()) => self.store.store(&inner_tape, index, context),
            Err(e) => Ok(Stored::Rejected(format!(
                "invalid JSON in CloudTrailEvent: {e}"
            ))),
        };
        *tape = inner_tape.reset();
        stored
    }
}

impl RecordStore {
    /// Maps a parsed record and stores it unless its event was seen before.
    fn store(
        &mut self,
        tape: &Tape<'_>,
        index: u64,
        context: &FileContext<'_, '_>,
    ) -> Result<Stored> {
        if !matches!(tape.0.first(), Some(Node::Object { .. })) {
            return Ok(Stored::Rejected(
                "CloudTrailEvent is not a JSON object".into(),
            ));
        }
        let nodes = &tape.0;
        let mut row = self.mapper.map(nodes);
        if !row.is_cloudtrail() {
            return Ok(Stored::Rejected(
                "not a CloudTrail record (needs eventVersion or eventSource, and eventName, eventType or eventID)".into(),
            ));
        }
        let file = context.file;
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
        if !context.shared.seen.insert(key) {
            return Ok(Stored::Duplicate);
        }
        let day = match row.get(Col::EventTime) {
            Slot::Time(micros) => Some(day_of(micros)),
            _ => None,
        };
        if day.is_none() {
            self.records.without_time += 1;
        } else if row.str(Col::EventTimeSubstitute).is_some() {
            self.records.time_substituted += 1;
        }
        self.sink.append(day, &row, nodes)?;
        self.keys.push(key, &self.key_path)?;
        Ok(Stored::Written)
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
