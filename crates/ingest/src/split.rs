//! Splits a stream of JSON into CloudTrail records without parsing them.
//!
//! A [`RecordSplitter`] reads any [`Read`] in chunks and yields the byte span of each record,
//! whatever the file's shape: `{"Records":[...]}`, `{"Events":[...]}` (Event history), a bare
//! array, a single object, or JSON Lines (one value after another). Each span is then parsed
//! on its own, so memory stays bounded by the chunk and the largest record, a corrupt record
//! costs only itself, and a truncated file keeps everything before the break.
//!
//! The scan tracks only nesting depth and string state: it does not validate JSON (the
//! parser does that, per record).

use std::io::{self, Read};

use memchr::memchr3;

mod blocks;

/// Bytes that must follow a record in the buffer for simd-json's in-place parse.
pub const PADDING: usize = simd_json::INPUT_PADDING;

const CHUNK: usize = 1 << 20;
/// How far ahead the top-level shape is looked for before a decision is forced.
const PEEK: usize = 4096;

/// One piece of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A record candidate at `buffer()[start..start + len]` (followed by [`PADDING`] bytes).
    Record {
        /// Zero-based position of the record in the file.
        index: u64,
        /// Offset of the record in [`RecordSplitter::buffer_mut`].
        start: usize,
        /// Length of the record in bytes.
        len: usize,
        /// Whether whitespace appears outside its strings (it is not minified).
        spaced: bool,
        /// Whether it holds a backslash (an escape: parsing in place may rewrite it).
        escaped: bool,
    },
    /// A value that cannot be a record; it still has an index and is accounted for.
    Bad {
        /// Zero-based position of the value in the file.
        index: u64,
        /// Why it was rejected.
        reason: String,
    },
}

/// Why the rest of a stream cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// Reading or decompressing failed (truncated gzip, expansion limit, I/O).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The stream ended inside a value.
    #[error("input ends inside {0} (truncated file?)")]
    Truncated(&'static str),
    /// Bytes that fit no known CloudTrail file shape.
    #[error("unexpected {found} at byte {offset} {context}")]
    Malformed {
        /// What was found.
        found: String,
        /// Offset in the decompressed stream.
        offset: u64,
        /// Where it was found.
        context: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between top-level values (the start, or JSON Lines).
    Top,
    /// Inside an array whose elements are records.
    Array {
        envelope: bool,
    },
    /// After the records array of an envelope object, before its closing brace.
    EnvelopeTail,
    Done,
}

/// Resumable state of the scan over one value.
#[derive(Debug, Default, Clone, Copy)]
struct Scan {
    /// Bytes of the value scanned so far (relative to the splitter's `start`).
    pos: usize,
    depth: u32,
    in_string: bool,
    started: bool,
    primitive: bool,
    /// The record outgrew the limit; its scanned bytes are being dropped.
    oversized: bool,
    /// Bytes dropped from an oversized value.
    dropped: u64,
    /// Whitespace was seen outside strings.
    spaced: bool,
    /// A backslash was seen.
    escaped: bool,
    /// Where the 64-byte block scan may take over again (see [`blocks`]).
    block_resume: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// The value ends after `len` bytes.
    Complete(usize),
    /// The value is broken at `len` bytes (JSON Lines resync point).
    Broken(usize, &'static str),
    /// More input is needed.
    More,
}

/// Splits a JSON byte stream into record spans. See the module docs.
#[derive(Debug)]
pub struct RecordSplitter<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    mode: Mode,
    next_index: u64,
    max_record: usize,
    /// Decompressed bytes consumed before `buf[0]`.
    base_offset: u64,
    first: bool,
    /// A read error, held back until every complete record before it has been yielded
    /// (the input ends there, as far as splitting goes).
    pending: Option<io::Error>,
}

impl RecordSplitter<io::Empty> {
    /// A splitter over input already in memory, `buf[..len]`, split in place without a
    /// copy (the whole-file inflate path). The buffer is padded for simd-json.
    pub fn over_buffer(mut buf: Vec<u8>, len: usize, max_record: usize) -> Self {
        buf.truncate(len);
        buf.resize(len + PADDING, 0);
        Self::from_parts(io::empty(), buf, len, true, max_record)
    }
}

impl<R: Read> RecordSplitter<R> {
    /// A splitter over `reader`; records larger than `max_record` bytes are rejected.
    pub fn new(reader: R, max_record: usize) -> Self {
        Self::with_buffer(reader, max_record, Vec::new())
    }

    /// Like [`RecordSplitter::new`], reusing `buf`'s allocation (see [`Self::into_buffer`]).
    pub fn with_buffer(reader: R, max_record: usize, mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.resize(CHUNK + PADDING, 0);
        Self::from_parts(reader, buf, 0, false, max_record)
    }

    /// A splitter at the start of its input, with `buf[..end]` already read and `eof`
    /// saying whether `reader` has more.
    fn from_parts(reader: R, buf: Vec<u8>, end: usize, eof: bool, max_record: usize) -> Self {
        RecordSplitter {
            reader,
            buf,
            start: 0,
            end,
            eof,
            mode: Mode::Top,
            next_index: 0,
            max_record: max_record.max(PEEK),
            base_offset: 0,
            first: true,
            pending: None,
        }
    }

    /// Gives the buffer back for reuse.
    pub fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// The buffer that [`Piece::Record`] offsets point into.
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// Decompressed bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.base_offset + self.end as u64
    }

    /// How many records (good or bad) have been yielded.
    pub fn records_yielded(&self) -> u64 {
        self.next_index
    }

    /// The next piece, `None` at the end of the stream. A read error comes after every
    /// complete record read before it.
    pub fn next_piece(&mut self) -> Result<Option<Piece>, SplitError> {
        match self.split_next() {
            Ok(Some(piece)) => Ok(Some(piece)),
            // The input ended at a read error: that error, not the cut it made.
            other => match self.pending.take() {
                Some(error) => {
                    self.mode = Mode::Done;
                    Err(SplitError::Io(error))
                }
                None => other,
            },
        }
    }

    fn split_next(&mut self) -> Result<Option<Piece>, SplitError> {
        loop {
            match self.mode {
                Mode::Done => return Ok(None),
                Mode::Top => {
                    let Some(byte) = self.skip_whitespace()? else {
                        self.mode = Mode::Done;
                        return Ok(None);
                    };
                    match byte {
                        b'[' => {
                            self.start += 1;
                            self.mode = Mode::Array { envelope: false };
                        }
                        b'{' => {
                            if self.envelope_array_start()? {
                                self.mode = Mode::Array { envelope: true };
                            } else {
                                return self.take_value(true).map(Some);
                            }
                        }
                        // Not JSON at the very start: JSON Lines with a stray first line
                        // (a `# header`) when a later line starts an object; else not
                        // JSON at all.
                        _ if self.next_index == 0 && !self.object_line_follows()? => {
                            return Err(self.malformed(byte, "at the start (not JSON)"));
                        }
                        _ => return self.take_line_as_bad().map(Some),
                    }
                }
                Mode::Array { envelope } => {
                    let Some(byte) = self.skip_whitespace()? else {
                        return Err(SplitError::Truncated("the records array"));
                    };
                    match byte {
                        b',' => self.start += 1,
                        b']' => {
                            self.start += 1;
                            self.mode = if envelope {
                                Mode::EnvelopeTail
                            } else {
                                Mode::Top
                            };
                        }
                        _ => return self.take_value(false).map(Some),
                    }
                }
                Mode::EnvelopeTail => self.skip_envelope_member()?,
            }
        }
    }

    /// After the records array of `{"Records": [...], ...}`: skips `, "key": value` members.
    fn skip_envelope_member(&mut self) -> Result<(), SplitError> {
        let Some(byte) = self.skip_whitespace()? else {
            return Err(SplitError::Truncated("the file's top-level object"));
        };
        match byte {
            b'}' => {
                self.start += 1;
                self.mode = Mode::Top;
            }
            b',' => {
                self.start += 1;
                // A second `Records` array (a repeated key): its records are read too,
                // never skipped unseen.
                if self.skip_whitespace()?.is_some() && self.records_array_among_members(0)? {
                    self.mode = Mode::Array { envelope: true };
                    return Ok(());
                }
                for expect_colon in [true, false] {
                    if self.skip_whitespace()?.is_none() {
                        return Err(SplitError::Truncated("the file's top-level object"));
                    }
                    let len = self.value_len(false)?;
                    self.start += len;
                    if expect_colon {
                        match self.skip_whitespace()? {
                            Some(b':') => self.start += 1,
                            Some(other) => return Err(self.malformed(other, "after a key")),
                            None => {
                                return Err(SplitError::Truncated("the file's top-level object"));
                            }
                        }
                    }
                }
            }
            other => return Err(self.malformed(other, "after the records array")),
        }
        Ok(())
    }

    fn malformed(&self, byte: u8, context: &'static str) -> SplitError {
        SplitError::Malformed {
            found: if byte.is_ascii_graphic() {
                format!("'{}'", byte as char)
            } else {
                format!("byte 0x{byte:02x}")
            },
            offset: self.base_offset + self.start as u64,
            context,
        }
    }

    /// Scans one value at `start` and yields it as a piece, consuming it.
    fn take_value(&mut self, top_level: bool) -> Result<Piece, SplitError> {
        let index = self.next_index;
        let mut scan = Scan::default();
        let step = self.scan_value(&mut scan, top_level)?;
        // Counted once scanned: a record the input breaks off inside is no record yielded.
        self.next_index += 1;
        let piece = match step {
            // Oversized whether the scan dropped bytes while streaming or found the whole
            // value in a buffer already in memory (a whole-file inflate).
            Step::Complete(len) if scan.oversized || len > self.max_record => {
                self.start += len;
                Piece::Bad {
                    index,
                    reason: format!(
                        "record is {} bytes, over the {}-byte limit",
                        scan.dropped + len as u64,
                        self.max_record
                    ),
                }
            }
            Step::Complete(len) => {
                let start = self.start;
                self.start += len;
                if self.buf[start] == b'{' {
                    Piece::Record {
                        index,
                        start,
                        len,
                        spaced: scan.spaced,
                        escaped: scan.escaped,
                    }
                } else {
                    Piece::Bad {
                        index,
                        reason: format!(
                            "not a JSON object: {}",
                            preview(&self.buf[start..start + len])
                        ),
                    }
                }
            }
            Step::Broken(len, why) => {
                let reason = format!(
                    "{why}: {}",
                    preview(&self.buf[self.start..self.start + len])
                );
                self.start += len;
                Piece::Bad { index, reason }
            }
            Step::More => unreachable!("scan_value returns complete values"),
        };
        Ok(piece)
    }

    /// In JSON Lines, a line that does not start a JSON object: one bad piece to its end.
    fn take_line_as_bad(&mut self) -> Result<Piece, SplitError> {
        let index = self.next_index;
        self.next_index += 1;
        loop {
            let data = &self.buf[self.start..self.end];
            let line_end = memchr::memchr(b'\n', data);
            if line_end.is_some() || self.eof || data.len() >= self.max_record {
                let len = line_end.unwrap_or(data.len());
                let reason = format!("not a JSON object: {}", preview(&data[..len]));
                self.start += len;
                return Ok(Piece::Bad { index, reason });
            }
            self.fill()?;
        }
    }

    /// Length of the (non-record) value at `start`, which must fit the record limit.
    fn value_len(&mut self, top_level: bool) -> Result<usize, SplitError> {
        let mut scan = Scan::default();
        match self.scan_value(&mut scan, top_level)? {
            Step::Complete(len) if !scan.oversized => Ok(len),
            _ => Err(SplitError::Malformed {
                found: "an oversized or broken value".into(),
                offset: self.base_offset + self.start as u64,
                context: "in the file's top-level object",
            }),
        }
    }

    /// Scans to the end of the value at `start`, reading more input as needed.
    fn scan_value(&mut self, scan: &mut Scan, top_level: bool) -> Result<Step, SplitError> {
        loop {
            match scan_step(&self.buf[self.start..self.end], scan, top_level) {
                Step::More => {}
                done => return Ok(done),
            }
            if self.eof {
                if scan.primitive {
                    return Ok(Step::Complete(scan.pos));
                }
                if top_level && scan.pos > 0 && !scan.oversized {
                    // A JSON Lines file whose last line is cut short: keep the rest.
                    return Ok(Step::Broken(scan.pos, "truncated record at end of input"));
                }
                return Err(SplitError::Truncated("a record"));
            }
            if scan.pos >= self.max_record {
                // Too large to keep: drop what was scanned, keep scanning to its end.
                scan.oversized = true;
                scan.dropped += scan.pos as u64;
                self.start += scan.pos;
                scan.pos = 0;
                scan.block_resume = 0;
            }
            self.fill()?;
        }
    }

    /// Whether the object at `start` is an envelope, `{..., "Records": [` or
    /// `{..., "Events": [`, with the array under any member (keys may be escaped); if so,
    /// consumes up to and including the `[`. Members before the array are skipped. A key
    /// that only records have (`eventVersion`, ...) settles it as a record at once, so
    /// JSON Lines pay one key per line.
    fn envelope_array_start(&mut self) -> Result<bool, SplitError> {
        self.records_array_among_members(1)
    }

    /// Looks through the members from offset `at` for a `Records`/`Events` array (see
    /// [`Self::envelope_array_start`]).
    fn records_array_among_members(&mut self, mut at: usize) -> Result<bool, SplitError> {
        loop {
            let Some(key_at) = self.skip_whitespace_at(at)? else {
                return Ok(false);
            };
            if self.buf[self.start + key_at] != b'"' {
                return Ok(false);
            }
            let Some(key_len) = self.value_len_at(key_at)? else {
                return Ok(false);
            };
            let key = classify_key(&self.buf[self.start + key_at..self.start + key_at + key_len]);
            let Some(colon) = self.skip_whitespace_at(key_at + key_len)? else {
                return Ok(false);
            };
            if self.buf[self.start + colon] != b':' {
                return Ok(false);
            }
            let Some(value_at) = self.skip_whitespace_at(colon + 1)? else {
                return Ok(false);
            };
            let is_array = self.buf[self.start + value_at] == b'[';
            match key {
                TopKey::RecordsArray if is_array => {
                    self.start += value_at + 1;
                    return Ok(true);
                }
                TopKey::RecordMember | TopKey::Invalid => return Ok(false),
                TopKey::RecordsArray | TopKey::Other => {}
            }
            let Some(value_len) = self.value_len_at(value_at)? else {
                return Ok(false);
            };
            let Some(next) = self.skip_whitespace_at(value_at + value_len)? else {
                return Ok(false);
            };
            if self.buf[self.start + next] != b',' || next >= self.max_record {
                return Ok(false);
            }
            at = next + 1;
        }
    }

    /// The offset (from `start`) of the first non-whitespace byte at or after `at`.
    fn skip_whitespace_at(&mut self, mut at: usize) -> Result<Option<usize>, SplitError> {
        loop {
            while self.start + at < self.end {
                if !self.buf[self.start + at].is_ascii_whitespace() {
                    return Ok(Some(at));
                }
                at += 1;
            }
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
        }
    }

    /// The length of the complete value at offset `at` from `start`, without consuming
    /// it; `None` when it is broken, cut off or larger than the record limit.
    fn value_len_at(&mut self, at: usize) -> Result<Option<usize>, SplitError> {
        let mut scan = Scan::default();
        loop {
            match scan_step(&self.buf[self.start + at..self.end], &mut scan, false) {
                Step::Complete(len) => return Ok(Some(len)),
                Step::Broken(..) => return Ok(None),
                Step::More => {}
            }
            if self.eof {
                return Ok(scan.primitive.then_some(scan.pos));
            }
            if at + scan.pos >= self.max_record {
                return Ok(None);
            }
            self.fill()?;
        }
    }

    /// Whether a line that starts a JSON object follows within the next [`PEEK`] bytes.
    fn object_line_follows(&mut self) -> Result<bool, SplitError> {
        while self.end - self.start < PEEK && !self.eof {
            self.fill()?;
        }
        let data = &self.buf[self.start..self.end.min(self.start + PEEK)];
        Ok(memchr::memmem::find(data, b"\n{").is_some())
    }

    /// Skips whitespace (and a leading byte-order mark); returns the next byte, if any.
    fn skip_whitespace(&mut self) -> Result<Option<u8>, SplitError> {
        loop {
            if self.first && self.end - self.start < 3 && !self.eof {
                self.fill()?;
                continue;
            }
            while self.start < self.end {
                let byte = self.buf[self.start];
                if byte.is_ascii_whitespace() {
                    self.start += 1;
                } else if self.first && self.buf[self.start..self.end].starts_with(b"\xEF\xBB\xBF")
                {
                    self.start += 3;
                } else {
                    self.first = false;
                    return Ok(Some(byte));
                }
            }
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
        }
    }

    /// Reads more input after `end`, moving or growing the buffer as needed.
    fn fill(&mut self) -> Result<(), SplitError> {
        if self.start > 0
            && (self.start == self.end || self.buf.len() - self.end < CHUNK / 2 + PADDING)
        {
            self.buf.copy_within(self.start..self.end, 0);
            self.base_offset += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < CHUNK / 2 + PADDING {
            let grown = (self.buf.len() * 2).max(self.end + CHUNK + PADDING);
            self.buf.resize(grown, 0);
        }
        let limit = self.buf.len() - PADDING;
        let read = loop {
            match self.reader.read(&mut self.buf[self.end..limit]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // The records already in the buffer are still yielded: the input
                    // ends here, and the error is reported after them.
                    self.pending = Some(e);
                    break 0;
                }
            }
        };
        if read == 0 {
            self.eof = true;
        }
        self.end += read;
        Ok(())
    }
}

/// Scans `data[scan.pos..]` for the end of the value that starts at `data[0]`.
fn scan_step(data: &[u8], scan: &mut Scan, top_level: bool) -> Step {
    if !scan.started {
        let Some(&first) = data.first() else {
            return Step::More;
        };
        scan.started = true;
        scan.primitive = !matches!(first, b'{' | b'[' | b'"');
    }
    if scan.primitive {
        while scan.pos < data.len() {
            if matches!(
                data[scan.pos],
                b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'
            ) {
                if scan.pos == 0 {
                    // A stray delimiter: a one-byte bad value, so the scan always advances.
                    return Step::Broken(1, "unexpected delimiter");
                }
                return Step::Complete(scan.pos);
            }
            scan.pos += 1;
        }
        return Step::More;
    }
    while scan.pos < data.len() {
        if scan.depth > 0 && scan.pos >= scan.block_resume {
            if let Some(step) = blocks::scan_blocks(data, scan, top_level) {
                return step;
            }
            // The byte scan takes the next block (or the tail), then blocks resume.
            scan.block_resume = scan.pos + blocks::BLOCK;
            if scan.pos == data.len() {
                return Step::More;
            }
        }
        if scan.in_string {
            let Some(offset) = memchr3(b'"', b'\\', b'\n', &data[scan.pos..]) else {
                scan.pos = data.len();
                return Step::More;
            };
            let at = scan.pos + offset;
            match data[at] {
                b'\\' => {
                    scan.escaped = true;
                    if at + 1 >= data.len() {
                        scan.pos = at;
                        return Step::More;
                    }
                    scan.pos = at + 2;
                }
                b'"' => {
                    scan.in_string = false;
                    scan.pos = at + 1;
                    if scan.depth == 0 {
                        return Step::Complete(scan.pos);
                    }
                }
                _ => {
                    // A raw newline cannot be inside a JSON string: in JSON Lines this is a
                    // cut-off line, and the next line starts a new record.
                    if top_level {
                        return Step::Broken(at, "unterminated string (corrupt JSON line)");
                    }
                    scan.pos = at + 1;
                }
            }
            continue;
        }
        match data[scan.pos] {
            b'"' => scan.in_string = true,
            b'{' | b'[' => scan.depth += 1,
            b'}' | b']' => {
                scan.depth = scan.depth.saturating_sub(1);
                if scan.depth == 0 {
                    scan.pos += 1;
                    return Step::Complete(scan.pos);
                }
            }
            b'\n' if top_level && data.get(scan.pos + 1) == Some(&b'{') => {
                return Step::Broken(scan.pos, "unbalanced braces (corrupt JSON line)");
            }
            b' ' | b'\n' | b'\t' | b'\r' => scan.spaced = true,
            b'\\' => scan.escaped = true,
            _ => {}
        }
        scan.pos += 1;
    }
    Step::More
}

/// What a key of a top-level object says about the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TopKey {
    /// `Records` or `Events`: the envelope's array, if its value is one.
    RecordsArray,
    /// A member of CloudTrail records (or Event history items): a record, not an envelope.
    RecordMember,
    Other,
    /// Not a valid string literal.
    Invalid,
}

/// Classifies the JSON string literal `literal` (with its quotes; escapes decoded).
fn classify_key(literal: &[u8]) -> TopKey {
    let Some(inner) = literal.get(1..literal.len().saturating_sub(1).max(1)) else {
        return TopKey::Invalid;
    };
    let decoded: String;
    let key = if inner.contains(&b'\\') {
        match serde_json::from_slice::<String>(literal) {
            Ok(text) => {
                decoded = text;
                decoded.as_str()
            }
            Err(_) => return TopKey::Invalid,
        }
    } else {
        match std::str::from_utf8(inner) {
            Ok(text) => text,
            Err(_) => return TopKey::Invalid,
        }
    };
    if matches!(key, "Records" | "Events") {
        TopKey::RecordsArray
    } else if crate::schema::RECORD_FIELDS.iter().any(|f| f.key == key)
        || matches!(key, "EventId" | "CloudTrailEvent")
    {
        TopKey::RecordMember
    } else {
        TopKey::Other
    }
}

/// The start of a value, for error messages.
fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]);
    let text = text.replace(['\n', '\r'], " ");
    if bytes.len() > 60 {
        format!("{text}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `input` read in chunks of `chunk` bytes; returns records as strings and errors.
    fn split_with(input: &[u8], chunk: usize, max: usize) -> (Vec<String>, Option<String>) {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(out.len()).min(self.1);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut splitter = RecordSplitter::new(Trickle(input, chunk), max);
        let mut out = Vec::new();
        loop {
            match splitter.next_piece() {
                Ok(Some(Piece::Record {
                    index, start, len, ..
                })) => {
                    let text = String::from_utf8_lossy(&splitter.buffer_mut()[start..start + len]);
                    out.push(format!("{index}:{text}"));
                }
                Ok(Some(Piece::Bad { index, reason })) => out.push(format!("{index}!{reason}")),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e.to_string())),
            }
        }
    }

    fn split(input: &str) -> (Vec<String>, Option<String>) {
        let whole = split_with(input.as_bytes(), usize::MAX, 1 << 20);
        for chunk in [1, 2, 3, 7] {
            assert_eq!(
                split_with(input.as_bytes(), chunk, 1 << 20),
                whole,
                "chunk {chunk}"
            );
        }
        whole
    }

    #[test]
    fn records_envelope() {
        let (records, err) = split(r#" {"Records": [ {"a":"}"}, {"b":[1,{"c":"\""}]} ] } "#);
        assert_eq!(records, [r#"0:{"a":"}"}"#, r#"1:{"b":[1,{"c":"\""}]}"#]);
        assert_eq!(err, None);
    }

    #[test]
    fn events_envelope_with_trailing_members() {
        let (records, err) = split(r#"{"Events":[{"x":1}],"NextToken":"abc","n":[1,2]}"#);
        assert_eq!(records, [r#"0:{"x":1}"#]);
        assert_eq!(err, None);
    }

    #[test]
    fn bare_array_single_object_and_lines() {
        assert_eq!(
            split(r#"[{"a":1},{"a":2}]"#).0,
            [r#"0:{"a":1}"#, r#"1:{"a":2}"#]
        );
        assert_eq!(
            split("\u{feff}{\"eventVersion\":\"1.08\"}\n").0,
            [r#"0:{"eventVersion":"1.08"}"#]
        );
        assert_eq!(
            split("{\"a\":1}\n\n{\"a\":2}\r\n{\"a\":3}").0,
            [r#"0:{"a":1}"#, r#"1:{"a":2}"#, r#"2:{"a":3}"#]
        );
    }

    #[test]
    fn non_objects_are_bad_pieces_with_an_index() {
        let (records, err) = split(r#"[1, "two", {"a":3}, null]"#);
        assert_eq!(records.len(), 4);
        assert!(
            records[0].starts_with("0!not a JSON object: 1"),
            "{records:?}"
        );
        assert!(records[1].starts_with("1!not a JSON object"));
        assert_eq!(records[2], r#"2:{"a":3}"#);
        assert!(records[3].starts_with("3!"));
        assert_eq!(err, None);
    }

    #[test]
    fn corrupt_json_line_does_not_swallow_the_next() {
        let (records, err) = split("{\"a\":\"cut\n{\"a\":2}\n{\"a\":{\n{\"a\":4}\n");
        assert!(
            records[0].starts_with("0!unterminated string"),
            "{records:?}"
        );
        assert_eq!(records[1], r#"1:{"a":2}"#);
        assert!(records[2].starts_with("2!unbalanced braces"));
        assert_eq!(records[3], r#"3:{"a":4}"#);
        assert_eq!(err, None);
    }

    #[test]
    fn truncated_array_keeps_complete_records() {
        let (records, err) = split(r#"{"Records":[{"a":1},{"a":2},{"a":"#);
        assert_eq!(records, [r#"0:{"a":1}"#, r#"1:{"a":2}"#]);
        assert!(err.unwrap().contains("truncated"));
        let (records, err) = split(r#"{"Records":[{"a":1}"#);
        assert_eq!(records, [r#"0:{"a":1}"#]);
        assert!(err.is_some());
    }

    #[test]
    fn oversized_records_are_dropped_and_the_scan_goes_on() {
        let big = format!(r#"[{{"a":"{}"}},{{"b":1}}]"#, "x".repeat(20_000));
        let (records, err) = split_with(big.as_bytes(), 1000, 5000);
        assert!(
            records[0].starts_with("0!record is 20008 bytes"),
            "{records:?}"
        );
        assert_eq!(records[1], r#"1:{"b":1}"#);
        assert_eq!(err, None);
    }

    #[test]
    fn deep_nesting_is_scanned_without_recursion() {
        let deep = format!("[{}{}]", "[".repeat(1_000_000), "]".repeat(1_000_000));
        let (records, err) = split_with(deep.as_bytes(), 1 << 16, 16 << 20);
        assert_eq!(records.len(), 1);
        assert!(records[0].starts_with("0!not a JSON object"));
        assert_eq!(err, None);
    }

    #[test]
    fn non_json_files_and_lines() {
        let (records, err) = split("hello world\n");
        assert!(records.is_empty());
        assert!(err.unwrap().contains("not JSON"));
        let (records, err) = split("{\"a\":1}\nnot json here\n{\"a\":2}");
        assert_eq!(records.len(), 3, "{records:?}");
        assert!(records[1].starts_with("1!not a JSON object: not json here"));
        assert_eq!(err, None);
    }

    #[test]
    fn garbage_after_envelope_is_an_error() {
        let (records, err) = split(r#"{"Records":[{"a":1}] x"#);
        assert_eq!(records.len(), 1);
        assert!(err.unwrap().contains("unexpected 'x'"));
    }

    #[test]
    fn envelope_array_under_any_member() {
        for text in [
            r#"{"foo":1,"Records":[{"a":1},{"a":2},{"a":3}]}"#,
            r#"{"NextToken":"x","bar":{"Records":[9]},"Events":[{"a":1},{"a":2},{"a":3}]}"#,
            r#"{ "\u0052ecords" : [{"a":1},{"a":2},{"a":3}] }"#,
            r#"{"Records":[{"a":1}],"Records":[{"a":2},{"a":3}]}"#,
        ] {
            let (records, err) = split(text);
            assert_eq!(records.len(), 3, "{text}: {records:?}");
            assert!(
                records.iter().all(|r| r.contains(r#"{"a":"#)),
                "{records:?}"
            );
            assert_eq!(err, None, "{text}");
        }
        // A record is not an envelope, even one with a `Records` member after its own keys.
        let (records, _) = split(r#"{"eventVersion":"1.08","Records":[{"a":1}]}"#);
        assert_eq!(records.len(), 1);
        assert!(records[0].starts_with(r#"0:{"eventVersion""#));
    }
}
