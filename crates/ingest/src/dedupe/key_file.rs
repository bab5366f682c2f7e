//! Key files: the dedupe keys a run stored, grouped by event date, with an index.
//!
//! A duplicate can only be in its original's `event_date` partition, so a run needs the
//! keys of the days it touches, not of the whole dataset: each key file opens with the
//! list of its days (with how many keys each), then holds each day's keys together, so
//! that one day's keys are read without reading the rest.
//!
//! ```text
//! "TSKEYS3\n"                       8 bytes
//! days: u64                         little-endian
//! days × { day: i32, 0: u32, keys: u64 }   the day (days since 1970-01-01; i32::MIN: no event time)
//! keys × 16 bytes                   each day's keys, in the order of the list
//! ```
//!
//! A worker does not know a run's days in advance: it appends (day, key) records to a
//! scratch file as it stores events, and [`KeyLog::finish`] writes them out grouped.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::EventKey;
use crate::error::{Error, Result};
use crate::fsutil::{create_private_file, read_prefix};

/// The day of the events without an event time (the null partition).
pub(crate) type Day = Option<i32>;

const MAGIC: &[u8; 8] = b"TSKEYS3\n";
const KEY_BYTES: u64 = 16;
const ENTRY_BYTES: u64 = 16;
const NO_DAY: i32 = i32::MIN;

/// One day's keys in one key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub day: Day,
    /// Byte offset of its first key.
    pub offset: u64,
    pub keys: u64,
}

/// The days of the key file at `path`, checked against its size.
pub(crate) fn sections(path: &Path) -> Result<Vec<Section>> {
    let bad = |why: String| {
        Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a trailscope key file: {why}"),
            ),
        )
    };
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut head = [0u8; 16];
    if read_prefix(&mut file, &mut head).map_err(|e| Error::io(path, e))? < head.len()
        || &head[..8] != MAGIC
    {
        return Err(bad("no key file header".into()));
    }
    let days = u64::from_le_bytes(head[8..].try_into().expect("8 bytes"));
    let keys_start = days
        .checked_mul(ENTRY_BYTES)
        .and_then(|n| n.checked_add(16))
        .filter(|&start| start <= len)
        .ok_or_else(|| bad(format!("{days} days do not fit in {len} bytes")))?;
    let mut list = vec![0u8; usize::try_from(keys_start - 16).expect("fits: at most the file")];
    file.read_exact(&mut list).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::with_capacity(list.len() / ENTRY_BYTES as usize);
    let mut offset = keys_start;
    for entry in list.chunks_exact(ENTRY_BYTES as usize) {
        let day = i32::from_le_bytes(entry[..4].try_into().expect("4 bytes"));
        let keys = u64::from_le_bytes(entry[8..].try_into().expect("8 bytes"));
        out.push(Section {
            day: (day != NO_DAY).then_some(day),
            offset,
            keys,
        });
        offset = keys
            .checked_mul(KEY_BYTES)
            .and_then(|n| n.checked_add(offset))
            .ok_or_else(|| bad("key counts overflow".into()))?;
    }
    if offset != len {
        return Err(bad(format!(
            "its index lists {} bytes of keys, it holds {}",
            offset - keys_start,
            len - keys_start
        )));
    }
    Ok(out)
}

/// Keys read at a time (16 MiB): what reading holds besides the keys' destination.
const KEYS_PER_CHUNK: u64 = 1 << 20;

/// Calls `f` with the `keys` keys at `offset` of the file at `path`, a chunk at a time.
pub(crate) fn read_keys(
    path: &Path,
    offset: u64,
    keys: u64,
    mut f: impl FnMut(&mut dyn Iterator<Item = EventKey>),
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = vec![0u8; (keys.min(KEYS_PER_CHUNK) * KEY_BYTES) as usize];
    let mut done = 0;
    while done < keys {
        let n = (keys - done).min(KEYS_PER_CHUNK);
        let chunk = &mut bytes[..(n * KEY_BYTES) as usize];
        file.read_exact_at(chunk, offset + done * KEY_BYTES)
            .map_err(|e| Error::io(path, e))?;
        f(&mut chunk
            .chunks_exact(KEY_BYTES as usize)
            .map(EventKey::from_bytes));
        done += n;
    }
    Ok(())
}

/// The key files (`*.keys`) in `dir` (none when `dir` does not exist), in name order.
pub(crate) fn key_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "keys") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Calls `f` with every key of every key file in `dir`, whatever its day.
pub(crate) fn for_each_key(dir: &Path, mut f: impl FnMut(EventKey)) -> Result<()> {
    for path in key_files(dir)? {
        for section in sections(&path)? {
            read_keys(&path, section.offset, section.keys, |keys| {
                keys.for_each(&mut f);
            })?;
        }
    }
    Ok(())
}

/// Writes the keys a worker stores to a key file, so later runs know them.
#[derive(Debug)]
pub struct KeyLog {
    path: PathBuf,
    scratch_path: PathBuf,
    scratch: BufWriter<File>,
    counts: BTreeMap<i32, u64>,
}

/// A scratch record: the day, then the key.
const RECORD_BYTES: usize = 4 + KEY_BYTES as usize;

impl KeyLog {
    /// A new key file at `path` (written by [`KeyLog::finish`]; until then its records
    /// go to `path` with `.unsorted` added).
    pub fn create(path: &Path) -> Result<Self> {
        let mut scratch_path = path.as_os_str().to_owned();
        scratch_path.push(".unsorted");
        let scratch_path = PathBuf::from(scratch_path);
        Ok(KeyLog {
            path: path.to_path_buf(),
            scratch: BufWriter::with_capacity(1 << 16, create_private_file(&scratch_path)?),
            scratch_path,
            counts: BTreeMap::new(),
        })
    }

    /// Records a stored key of an event of `day`.
    pub fn push(&mut self, day: Day, key: EventKey) -> Result<()> {
        let day = day.unwrap_or(NO_DAY);
        *self.counts.entry(day).or_default() += 1;
        let mut record = [0u8; RECORD_BYTES];
        record[..4].copy_from_slice(&day.to_le_bytes());
        record[4..].copy_from_slice(&key.to_bytes());
        self.scratch
            .write_all(&record)
            .map_err(|e| Error::io(&self.scratch_path, e))
    }

    /// Writes the key file, grouped by day, syncs it and removes the scratch file.
    pub fn finish(self) -> Result<PathBuf> {
        let KeyLog {
            path,
            scratch_path,
            scratch,
            counts,
        } = self;
        let scratch = scratch
            .into_inner()
            .map_err(|e| Error::io(&scratch_path, e.into_error()))?;
        drop(scratch);
        let out = create_private_file(&path)?;
        let mut head = Vec::with_capacity(16 + counts.len() * ENTRY_BYTES as usize);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&(counts.len() as u64).to_le_bytes());
        // Where each day's next key goes, and its keys not yet written.
        let mut days: BTreeMap<i32, (u64, Vec<u8>)> = BTreeMap::new();
        let mut offset = 16 + counts.len() as u64 * ENTRY_BYTES;
        for (&day, &keys) in &counts {
            head.extend_from_slice(&day.to_le_bytes());
            head.extend_from_slice(&0u32.to_le_bytes());
            head.extend_from_slice(&keys.to_le_bytes());
            days.insert(day, (offset, Vec::new()));
            offset += keys * KEY_BYTES;
        }
        out.write_all_at(&head, 0)
            .map_err(|e| Error::io(&path, e))?;
        // Each day's keys are gathered in a small buffer and written at their place: the
        // memory is a few KiB per day, whatever the number of keys.
        const DAY_BUFFER: usize = 8 << 10;
        let flush = |offset: &mut u64, buffer: &mut Vec<u8>| -> Result<()> {
            out.write_all_at(buffer, *offset)
                .map_err(|e| Error::io(&path, e))?;
            *offset += buffer.len() as u64;
            buffer.clear();
            Ok(())
        };
        let mut reader = BufReader::with_capacity(
            1 << 20,
            File::open(&scratch_path).map_err(|e| Error::io(&scratch_path, e))?,
        );
        let mut record = [0u8; RECORD_BYTES];
        loop {
            match reader.read_exact(&mut record) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(Error::io(&scratch_path, e)),
            }
            let day = i32::from_le_bytes(record[..4].try_into().expect("4 bytes"));
            let (offset, buffer) = days.get_mut(&day).expect("every day was counted");
            buffer.extend_from_slice(&record[4..]);
            if buffer.len() >= DAY_BUFFER {
                flush(offset, buffer)?;
            }
        }
        for (offset, buffer) in days.values_mut() {
            flush(offset, buffer)?;
        }
        out.sync_all().map_err(|e| Error::io(&path, e))?;
        fs::remove_file(&scratch_path).map_err(|e| Error::io(&scratch_path, e))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> EventKey {
        EventKey {
            identity: n,
            content: n * 7,
        }
    }

    fn all_keys(path: &Path) -> Vec<(Day, EventKey)> {
        let mut out = Vec::new();
        for section in sections(path).unwrap() {
            read_keys(path, section.offset, section.keys, |keys| {
                out.extend(keys.map(|k| (section.day, k)));
            })
            .unwrap();
        }
        out
    }

    #[test]
    fn keys_come_back_grouped_by_day_in_the_order_stored() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("run.keys");
        let mut log = KeyLog::create(&path).unwrap();
        let days = [Some(20_000), None, Some(-3), Some(20_000)];
        let mut expected: Vec<(Day, EventKey)> = Vec::new();
        for n in 0..5000u64 {
            let day = days[(n % 4) as usize];
            log.push(day, key(n)).unwrap();
            expected.push((day, key(n)));
        }
        assert_eq!(log.finish().unwrap(), path);
        assert_eq!(key_files(tmp.path()).unwrap(), vec![path.clone()]);
        let sections = sections(&path).unwrap();
        let listed: Vec<Day> = sections.iter().map(|s| s.day).collect();
        assert_eq!(listed, vec![None, Some(-3), Some(20_000)]);
        let counts: Vec<u64> = sections.iter().map(|s| s.keys).collect();
        assert_eq!(counts, vec![1250, 1250, 2500]);
        // Grouped by day (in the index's order), each day in the order stored.
        expected.sort_by_key(|(day, _)| day.unwrap_or(i32::MIN));
        assert_eq!(all_keys(&path), expected);
        let mut every = 0;
        for_each_key(tmp.path(), |_| every += 1).unwrap();
        assert_eq!(every, 5000);
    }

    #[test]
    fn an_empty_log_is_a_file_of_no_days() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("empty.keys");
        KeyLog::create(&path).unwrap().finish().unwrap();
        assert!(sections(&path).unwrap().is_empty());
    }

    #[test]
    fn a_damaged_key_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("run.keys");
        let mut log = KeyLog::create(&path).unwrap();
        log.push(Some(1), key(1)).unwrap();
        log.finish().unwrap();
        let bytes = fs::read(&path).unwrap();
        for cut in [bytes.len() - 1, 20, 3] {
            fs::write(&path, &bytes[..cut]).unwrap();
            let message = sections(&path).unwrap_err().to_string();
            assert!(message.contains("run.keys"), "{message}");
        }
    }
}
