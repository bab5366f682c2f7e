//! One ingest worker: takes files from the shared queue, maps each (or gunzips it), cuts
//! it into records, and parses, maps, deduplicates and stores every record.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use flate2::read::MultiGzDecoder;
use simd_json::{Buffers, ErrorType, Node, Tape};

use crate::batch_dedupe::{Dedupe, DedupeGate, PendingRow};
use crate::dedupe::{EventKey, KeyLog, SeenEvents, key_path};
use crate::discover::InputFile;
use crate::error::Result;
use crate::fsutil::read_prefix;
use crate::inflate::{ExpansionLimit, Inflater};
use crate::number_text::{NumberTexts, mark_nodes, rewrite};
use crate::partition_files::PartitionFiles;
use crate::raw_text::RawText;
use crate::record::{RecordMapper, Slot};
use crate::run::{
    FileReport, IngestOptions, InputIssue, MAX_DEPTH, MAX_ISSUES_KEPT, Observer, RecordCounts,
};
use crate::schema::Col;
use crate::sink::PartitionSink;
use crate::split::{PADDING, Piece, RecordSplitter};
use crate::time::day_of;

/// Shared state of the workers.
pub(crate) struct Shared<'a> {
    pub(crate) files: &'a [InputFile],
    pub(crate) next: AtomicUsize,
    /// For remote files: the queue that hands them out fetched, in place of `next`.
    pub(crate) fetched: Option<&'a dyn crate::run::FetchQueue>,
    pub(crate) seen: &'a SeenEvents,
    /// The checkpoint's data files, one open per partition, shared by the workers.
    pub(crate) data_files: Arc<PartitionFiles>,
    pub(crate) observer: &'a dyn Observer,
    pub(crate) options: &'a IngestOptions,
    pub(crate) staging: &'a Path,
    pub(crate) run_id: &'a str,
    pub(crate) issues: Mutex<Vec<InputIssue>>,
    pub(crate) issues_total: AtomicU64,
    pub(crate) conflicts: Mutex<Vec<InputIssue>>,
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

impl Shared<'_> {
    /// Reports a record stored though its `eventID` was already stored for another one.
    pub(crate) fn conflict(&self, file: &str, record: u64, message: String) {
        let conflict = InputIssue {
            file: file.to_string(),
            record: Some(record),
            message,
        };
        self.observer.on_conflicting_id(&conflict);
        let mut conflicts = self.conflicts.lock().expect("not poisoned");
        if conflicts.len() < MAX_ISSUES_KEPT {
            conflicts.push(conflict);
        }
    }
}

/// What a worker hands back: a few words per file it read, the rest summed, so that a
/// checkpoint of a hundred thousand files holds no report per file.
#[derive(Default)]
pub(crate) struct WorkerOutput {
    pub(crate) key_file: Option<PathBuf>,
    /// The files read to their end.
    pub(crate) read: Vec<FileRead>,
    /// The files that could not be read to their end, with why.
    pub(crate) failed: Vec<(FileRead, String)>,
    /// Record counts of all its files.
    pub(crate) records: RecordCounts,
    /// Bytes read, all its files together.
    pub(crate) bytes_read: u64,
    /// Bytes after decompression, all its files together.
    pub(crate) bytes_decompressed: u64,
}

/// One file a worker read: what the manifest records of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileRead {
    /// Its index in the checkpoint's list of files.
    pub(crate) index: usize,
    /// Its size as read.
    pub(crate) bytes: u64,
    /// Records seen in it.
    pub(crate) records_seen: u64,
}

impl WorkerOutput {
    /// Counts a finished file's report in, keeping what the manifest needs of it.
    fn add(&mut self, index: usize, report: FileReport) {
        let read = FileRead {
            index,
            bytes: report.bytes,
            records_seen: report.records_seen,
        };
        self.records.seen += report.records_seen;
        self.records.rejected += report.records_rejected;
        self.bytes_read += report.bytes;
        self.bytes_decompressed += report.decompressed_bytes;
        match report.failure {
            Some(why) => self.failed.push((read, why)),
            None => self.read.push(read),
        }
    }
}

/// The file being read: where it comes from, where problems go, what it yielded.
struct FileContext<'f, 's> {
    file: &'f InputFile,
    shared: &'f Shared<'s>,
    report: FileReport,
}

impl FileContext<'_, '_> {
    fn issue(&self, record: Option<u64>, message: String) {
        self.shared.issue(self.file.source(), record, message);
    }

    fn reject(&mut self, index: u64, message: String) {
        self.report.records_rejected += 1;
        self.issue(Some(index), message);
    }

    fn fail(&mut self, message: String) {
        if self.report.failure.is_none() {
            self.report.failure = Some(message.clone());
        }
        self.issue(None, message);
    }
}

/// What became of one record.
enum Stored {
    /// Appended to its partition's batch: stored unless the batch's dedupe finds it a
    /// duplicate ([`DedupeGate`]), which counts it then.
    Pending,
    /// Not stored, for this reason.
    Rejected(String),
    /// Not parsed: a number simd-json cannot hold (parsed again with it kept as text).
    NumberTooLarge(String),
}

/// Where a worker's parsed records go: mapped onto the columns, appended to their day's
/// partition, deduplicated a batch at a time, their keys logged.
struct RecordStore {
    sink: PartitionSink<PendingRow>,
    dedupe: Dedupe,
    mapper: RecordMapper,
}

/// One worker's reusable state.
pub(crate) struct Worker {
    store: RecordStore,
    buffers: Buffers,
    /// The parse tape, kept between records for its allocation (empty between uses).
    tape: Option<Tape<'static>>,
    /// An Event history record, unwrapped from its `CloudTrailEvent` string.
    inner_record: Vec<u8>,
    /// A gzipped file's bytes, read whole for the one-shot inflate.
    compressed: Vec<u8>,
    numbers: NumberScratch,
    /// The content hash of the record being stored ([`EventKey::content_of`]).
    content: u64,
    /// A spaced record's text without its whitespace, for its content hash.
    minified: Vec<u8>,
    /// A minified record's text without a backslash, copied before the parse, whose
    /// free-form objects are stored as slices of it ([`RawText`]); empty for other records.
    raw_text: Vec<u8>,
    split_buffer: Vec<u8>,
    inflater: Inflater,
}

impl Worker {
    pub(crate) fn new(shared: &Shared<'_>, id: usize) -> Result<Self> {
        let name = format!("{}-w{id}", shared.run_id);
        let key_path = key_path(shared.staging, &name);
        Ok(Worker {
            store: RecordStore {
                sink: PartitionSink::new(
                    shared.data_files.clone(),
                    Arc::new(shared.options.writer.clone()),
                ),
                dedupe: Dedupe::new(KeyLog::create(&key_path)?),
                mapper: RecordMapper::default(),
            },
            buffers: Buffers::with_max_depth(1 << 16, MAX_DEPTH),
            tape: None,
            inner_record: Vec::new(),
            compressed: Vec::new(),
            numbers: NumberScratch::default(),
            content: 0,
            minified: Vec::new(),
            raw_text: Vec::new(),
            split_buffer: Vec::new(),
            inflater: Inflater::default(),
        })
    }

    /// Takes files until the queue is empty (or another worker failed).
    pub(crate) fn run(mut self, shared: &Shared<'_>) -> Result<WorkerOutput> {
        let mut output = WorkerOutput::default();
        while !shared.stop.load(Ordering::Relaxed) {
            let (index, fetched) = match shared.fetched {
                Some(queue) => match queue.next() {
                    Some((index, bytes)) => (index, Some(bytes)),
                    None => break,
                },
                None => (shared.next.fetch_add(1, Ordering::Relaxed), None),
            };
            let Some(file) = shared.files.get(index) else {
                break;
            };
            let mut context = FileContext {
                file,
                shared,
                report: FileReport {
                    source: file.source().to_string(),
                    bytes: file.size,
                    modified: file.modified,
                    ..FileReport::default()
                },
            };
            match fetched {
                Some(bytes) => self.process_fetched(bytes, &mut context)?,
                None => self.process_file(&mut context)?,
            }
            shared.observer.on_file(&context.report);
            output.add(index, context.report);
        }
        let RecordStore {
            sink, mut dedupe, ..
        } = self.store;
        let report = |file: &str, record, message| shared.conflict(file, record, message);
        sink.finish(&mut DedupeGate::new(&mut dedupe, shared.seen, &report))?;
        let (key_file, records) = dedupe.finish()?;
        output.key_file = Some(key_file);
        // The dedupe's counts (written, duplicate, conflicting) beside the files' (seen,
        // rejected).
        output.records.add(&records);
        Ok(output)
    }

    fn process_file(&mut self, context: &mut FileContext<'_, '_>) -> Result<()> {
        // Opening a FIFO blocks until someone writes to it, and a device never ends:
        // only regular files are read.
        if let Ok(meta) = std::fs::metadata(context.file.path())
            && !meta.is_file()
        {
            context.fail("not a regular file (a FIFO, socket or device): not read".into());
            return Ok(());
        }
        // Files are read, never mapped: a file truncated while it is read (a sync in
        // progress) then ends early and is reported, where a map would raise SIGBUS.
        let opened = File::open(context.file.path()).and_then(|f| {
            let len = f.metadata()?.len();
            Ok((f, len))
        });
        let (mut file, len) = match opened {
            Ok((_, 0)) => {
                context.fail("empty file (no records)".into());
                return Ok(());
            }
            Ok(opened) => opened,
            Err(e) => {
                context.fail(format!("cannot read: {e}"));
                return Ok(());
            }
        };
        let mut magic = [0u8; 2];
        let prefix_len = match read_prefix(&mut file, &mut magic) {
            Ok(read) => read,
            Err(e) => {
                context.fail(format!("cannot read: {e}"));
                return Ok(());
            }
        };
        context.report.bytes = len;
        let prefix = &magic[..prefix_len];
        let gzipped = prefix == [0x1f, 0x8b];
        let options = context.shared.options;
        let max_record = options.max_record_bytes;
        // One buffer per worker: the whole-file inflate writes into it and the splitter
        // then works on it in place, so the JSON is never copied.
        let buffer = std::mem::take(&mut self.split_buffer);
        if !gzipped {
            let reader = prefix.chain(file);
            return self.split_file(
                RecordSplitter::with_buffer(reader, max_record, buffer),
                context,
            );
        }
        let limit = len.saturating_mul(options.max_expansion_ratio).max(1 << 20);
        if len > WHOLE_FILE_LIMIT {
            // Larger than any trail file: streamed, in bounded memory.
            let reader = ExpansionLimit {
                inner: MultiGzDecoder::new(std::io::BufReader::new(prefix.chain(file))),
                remaining: limit,
                ratio: options.max_expansion_ratio,
            };
            return self.split_file(
                RecordSplitter::with_buffer(reader, max_record, buffer),
                context,
            );
        }
        let mut compressed = std::mem::take(&mut self.compressed);
        compressed.clear();
        compressed.extend_from_slice(prefix);
        if let Err(e) = file.read_to_end(&mut compressed) {
            self.compressed = compressed;
            self.split_buffer = buffer;
            context.fail(format!("cannot read: {e}"));
            return Ok(());
        }
        let result = self.split_in_memory(&compressed, buffer, context);
        self.compressed = compressed;
        result
    }

    /// Reads a file fetched whole (an S3 object): gzipped or not, as [`Self::process_file`]
    /// reads a local one.
    fn process_fetched(
        &mut self,
        fetched: std::io::Result<Vec<u8>>,
        context: &mut FileContext<'_, '_>,
    ) -> Result<()> {
        let bytes = match fetched {
            Ok(bytes) if bytes.is_empty() => {
                context.fail("empty file (no records)".into());
                return Ok(());
            }
            Ok(bytes) => bytes,
            Err(e) => {
                context.fail(format!("cannot read: {e}"));
                return Ok(());
            }
        };
        context.report.bytes = bytes.len() as u64;
        let buffer = std::mem::take(&mut self.split_buffer);
        if !bytes.starts_with(&[0x1f, 0x8b]) {
            let max_record = context.shared.options.max_record_bytes;
            return self.split_file(
                RecordSplitter::with_buffer(&bytes[..], max_record, buffer),
                context,
            );
        }
        self.split_in_memory(&bytes, buffer, context)
    }

    /// Gunzips a whole gzipped file held in memory (in one shot where it can) and splits it.
    fn split_in_memory(
        &mut self,
        compressed: &[u8],
        buffer: Vec<u8>,
        context: &mut FileContext<'_, '_>,
    ) -> Result<()> {
        let options = context.shared.options;
        let max_record = options.max_record_bytes;
        let limit = (compressed.len() as u64)
            .saturating_mul(options.max_expansion_ratio)
            .max(1 << 20);
        context.report.bytes = compressed.len() as u64;
        let mut buffer = buffer;
        if let Some(inflated) = self.inflater.inflate(compressed, limit, &mut buffer) {
            self.split_file(
                RecordSplitter::over_buffer(buffer, inflated, max_record),
                context,
            )
        } else {
            let reader = ExpansionLimit {
                inner: MultiGzDecoder::new(compressed),
                remaining: limit,
                ratio: options.max_expansion_ratio,
            };
            self.split_file(
                RecordSplitter::with_buffer(reader, max_record, buffer),
                context,
            )
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
                Ok(Some(Piece::Record {
                    index,
                    start,
                    len,
                    spaced,
                    escaped,
                })) => {
                    let bytes = &mut splitter.buffer_mut()[start..];
                    let shape = TextShape { spaced, escaped };
                    self.record(bytes, len, shape, index, context)?;
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
        shape: TextShape,
        index: u64,
        context: &mut FileContext<'_, '_>,
    ) -> Result<()> {
        context.report.records_seen += 1;
        // The content hash is taken from the text, before the in-place parse changes it.
        self.content = if shape.spaced {
            EventKey::content_of_spaced(&bytes[..len], &mut self.minified)
        } else {
            EventKey::content_of(&bytes[..len])
        };
        // simd-json rewrites strings in place only to unescape them: a record without a
        // backslash is still intact after a failed parse, the others are copied first.
        self.numbers.start(shape.escaped.then_some(&bytes[..len]));
        self.raw_text.clear();
        if !shape.spaced && !shape.escaped {
            self.raw_text.extend_from_slice(&bytes[..len]);
        }
        let mut stored = self.parse_once(bytes, len, index, context);
        if let Ok(Stored::NumberTooLarge(message)) = &stored {
            let message = message.clone();
            stored = match self.numbers.rewrite_over(bytes, len) {
                Some(rewritten_len) => self.parse_once(bytes, rewritten_len, index, context),
                None => Ok(Stored::Rejected(message)),
            };
        }
        match stored? {
            Stored::Pending => {}
            Stored::Rejected(message) | Stored::NumberTooLarge(message) => {
                context.reject(index, message)
            }
        }
        Ok(())
    }

    /// One parse-and-store attempt with the worker's tape.
    fn parse_once(
        &mut self,
        bytes: &mut [u8],
        len: usize,
        index: u64,
        context: &FileContext<'_, '_>,
    ) -> Result<Stored> {
        let mut tape: Tape<'_> = self.tape.take().unwrap_or_else(Tape::null).reset();
        let stored = self.parse_and_store(&mut tape, bytes, len, index, context);
        // The one exit: the tape goes back for the next record whatever happened.
        self.tape = Some(tape.reset());
        stored
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
        // An address only, to turn the tape's string pointers into offsets into the copy.
        let parsed_at = bytes.as_ptr() as usize;
        match simd_json::fill_tape_padded(bytes, len, &mut self.buffers, tape) {
            Err(e) if *e.error() == ErrorType::InvalidNumber && self.numbers.texts.is_empty() => {
                return Ok(Stored::NumberTooLarge(format!("invalid JSON: {e}")));
            }
            Err(e) => return Ok(Stored::Rejected(format!("invalid JSON: {e}"))),
            Ok(()) => self.numbers.mark(tape),
        }
        // Event history (`lookup-events`) wraps the record as a JSON string.
        let Some(inner) = cloudtrail_event_string(&tape.0) else {
            // A rewritten number moved the text after it: then no slices.
            let raw =
                (!self.raw_text.is_empty() && self.numbers.texts.is_empty()).then_some(RawText {
                    text: &self.raw_text,
                    parsed_at,
                });
            return self
                .store
                .store(tape, &self.numbers.texts, raw, self.content, index, context);
        };
        self.inner_record.clear();
        self.inner_record.extend_from_slice(inner.as_bytes());
        let inner_len = self.inner_record.len();
        self.inner_record.resize(inner_len + PADDING, 0);
        self.content = EventKey::content_of_spaced(inner.as_bytes(), &mut self.minified);
        self.numbers.start(Some(inner.as_bytes()));
        let mut inner_tape = std::mem::replace(tape, Tape::null()).reset();
        let mut parsed = simd_json::fill_tape_padded(
            &mut self.inner_record,
            inner_len,
            &mut self.buffers,
            &mut inner_tape,
        );
        if matches!(&parsed, Err(e) if *e.error() == ErrorType::InvalidNumber) {
            inner_tape = inner_tape.reset();
            if let Some(rewritten_len) =
                self.numbers.rewrite_over(&mut self.inner_record, inner_len)
            {
                parsed = simd_json::fill_tape_padded(
                    &mut self.inner_record,
                    rewritten_len,
                    &mut self.buffers,
                    &mut inner_tape,
                );
                self.numbers.mark(&mut inner_tape);
            }
        }
        let stored = match parsed {
            Ok(()) => self.store.store(
                &inner_tape,
                &self.numbers.texts,
                None,
                self.content,
                index,
                context,
            ),
            Err(e) => Ok(Stored::Rejected(format!(
                "invalid JSON in CloudTrailEvent: {e}"
            ))),
        };
        *tape = inner_tape.reset();
        stored
    }
}

impl RecordStore {
    /// Maps a parsed record and appends it to its partition (stored unless its batch's
    /// dedupe finds its event stored before).
    fn store(
        &mut self,
        tape: &Tape<'_>,
        numbers: &NumberTexts,
        raw: Option<RawText<'_>>,
        content: u64,
        index: u64,
        context: &FileContext<'_, '_>,
    ) -> Result<Stored> {
        if !matches!(tape.0.first(), Some(Node::Object { .. })) {
            return Ok(Stored::Rejected(
                "CloudTrailEvent is not a JSON object".into(),
            ));
        }
        let nodes = &tape.0;
        let mut row = self.mapper.map(nodes, numbers, raw);
        if !row.is_cloudtrail() {
            return Ok(Stored::Rejected(
                "not a CloudTrail record (needs eventVersion or eventSource, and eventName, eventType or eventID)".into(),
            ));
        }
        let file = context.file;
        row.set(Col::SourceFile, Slot::Str(file.source()));
        row.set(
            Col::RecordIndex,
            Slot::Int(i32::try_from(index).unwrap_or(i32::MAX)),
        );
        let key = EventKey::new(
            row.str(Col::EventId),
            row.str(Col::RecipientAccountId),
            file.source(),
            index,
            content,
        );
        let day = match row.get(Col::EventTime) {
            Slot::Time(micros) => Some(day_of(micros)),
            _ => None,
        };
        let time_substituted = day.is_some() && row.str(Col::EventTimeSubstitute).is_some();
        let pending = PendingRow {
            key,
            index,
            time_substituted,
        };
        let shared = context.shared;
        let report = |file: &str, record, message| shared.conflict(file, record, message);
        let mut gate = DedupeGate::new(&mut self.dedupe, shared.seen, &report);
        self.sink.append(day, &row, nodes, pending, &mut gate)?;
        Ok(Stored::Pending)
    }
}

/// What the splitter saw of a record's text while it scanned it.
#[derive(Debug, Clone, Copy)]
struct TextShape {
    /// Whitespace outside strings: not minified.
    spaced: bool,
    /// A backslash anywhere.
    escaped: bool,
}

/// Gzipped files up to this size are read whole and inflated in one call; larger ones
/// (no trail file is) are streamed.
const WHOLE_FILE_LIMIT: u64 = 256 << 20;

/// Numbers simd-json cannot hold, for the record being parsed ([`crate::number_text`]).
#[derive(Debug, Default)]
struct NumberScratch {
    /// The record's text before parsing, when the parse may change it in place.
    original: Vec<u8>,
    has_original: bool,
    rewritten: Vec<u8>,
    /// The texts of the marked numbers (empty for nearly every record).
    texts: Vec<String>,
    ordinals: Vec<usize>,
}

impl NumberScratch {
    /// Starts a record: forgets the last one's numbers and keeps a copy of `original`.
    fn start(&mut self, original: Option<&[u8]>) {
        self.texts.clear();
        self.ordinals.clear();
        self.has_original = original.is_some();
        if let Some(original) = original {
            self.original.clear();
            self.original.extend_from_slice(original);
        }
    }

    /// After a parse failed on a number: writes the record's text over `buf`, each number
    /// simd-json cannot hold replaced by a placeholder, and returns its new length; `None`
    /// when no number needed it (the error is elsewhere).
    fn rewrite_over(&mut self, buf: &mut [u8], len: usize) -> Option<usize> {
        if !self.texts.is_empty() {
            return None;
        }
        let original = if self.has_original {
            &self.original[..]
        } else {
            &buf[..len]
        };
        if !rewrite(
            original,
            &mut self.rewritten,
            &mut self.texts,
            &mut self.ordinals,
        ) {
            return None;
        }
        // A placeholder is never longer than the number it stands for.
        let rewritten_len = self.rewritten.len() - PADDING;
        buf[..rewritten_len].copy_from_slice(&self.rewritten[..rewritten_len]);
        Some(rewritten_len)
    }

    /// Marks the placeholders on a tape parsed from the rewritten text.
    fn mark(&self, tape: &mut Tape<'_>) {
        if !self.ordinals.is_empty() {
            mark_nodes(&mut tape.0, &self.ordinals);
        }
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
