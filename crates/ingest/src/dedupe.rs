//! The events already in the dataset, to store each event once.
//!
//! CloudTrail delivers the same event twice when trails overlap or a file is synced twice,
//! and such copies are the same record. An event is identified by `eventID` with
//! `recipientAccountId` (the copies of a cross-account event share an `eventID` but go to
//! different accounts and are distinct records); records without an `eventID` by their
//! place (file, index), so re-reading a file does not add them again.
//!
//! A record is a duplicate only when its identity *and* its text match a stored one.
//! Records that share an identity but differ (hand-made samples numbering every event `1`,
//! two sign-ins without `recipientAccountId`) are all kept and reported as conflicting
//! ids. Records are compared by a hash of their text without whitespace: copies that differ
//! only in indentation are the same record; copies that differ in key order or escapes
//! are conflicting ids, which keeps both rather than losing one.
//!
//! A key is two 64-bit hashes, identity and text: 16 bytes per event. A collision of
//! identity hashes between different events is a conflicting id, never a lost record.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::error::{Error, Result};
use crate::fsutil::{create_private_file, read_prefix};

const SHARDS: usize = 64;

/// A key is already a uniform hash: use it as the table hash.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys are hashed")
    }
    fn write_u64(&mut self, key: u64) {
        self.0 ^= key;
    }
}

type Build = BuildHasherDefault<KeyHasher>;

/// The dedupe key of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventKey {
    /// Hash of the event's identity (`eventID` and recipient, or its place).
    pub identity: u64,
    /// Hash of the record's text without whitespace ([`EventKey::content_of`]).
    pub content: u64,
}

impl EventKey {
    /// The key of a record (no allocation: it runs once per record).
    pub fn new(
        event_id: Option<&str>,
        recipient: Option<&str>,
        source_file: &str,
        index: u64,
        content: u64,
    ) -> EventKey {
        let mut hasher = Xxh3::new();
        match event_id {
            Some(id) => {
                hasher.update(b"id\0");
                hasher.update(id.as_bytes());
                hasher.update(b"\0");
                hasher.update(recipient.unwrap_or("").as_bytes());
            }
            None => {
                hasher.update(b"at\0");
                hasher.update(source_file.as_bytes());
                hasher.update(b"\0");
                hasher.update(&index.to_le_bytes());
            }
        }
        EventKey {
            identity: hasher.digest(),
            content,
        }
    }

    /// The content hash of a record's minified JSON text (as AWS writes every record).
    pub fn content_of(text: &[u8]) -> u64 {
        xxh3_64(text)
    }

    /// The content hash of a record's text that has whitespace outside its strings (a
    /// record indented by hand): the hash of the text without that whitespace, so that it
    /// matches the minified copy of the same record.
    pub fn content_of_spaced(text: &[u8], scratch: &mut Vec<u8>) -> u64 {
        scratch.clear();
        let mut in_string = false;
        let mut escaped = false;
        for &byte in text {
            if in_string {
                if escaped {
                    escaped = false;
                } else if byte == b'\\' {
                    escaped = true;
                } else if byte == b'"' {
                    in_string = false;
                }
            } else if matches!(byte, b' ' | b'\n' | b'\t' | b'\r') {
                continue;
            } else if byte == b'"' {
                in_string = true;
            }
            scratch.push(byte);
        }
        xxh3_64(scratch)
    }

    fn to_bytes(self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..8].copy_from_slice(&self.identity.to_le_bytes());
        out[8..].copy_from_slice(&self.content.to_le_bytes());
        out
    }

    fn from_bytes(bytes: &[u8]) -> EventKey {
        let half = |range: std::ops::Range<usize>| {
            u64::from_le_bytes(bytes[range].try_into().expect("8 bytes"))
        };
        EventKey {
            identity: half(0..8),
            content: half(8..16),
        }
    }
}

/// What a record's key says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A new event.
    New,
    /// The same record was stored before.
    Duplicate,
    /// Another record with this identity, but different text, was stored before.
    ConflictingId,
}

/// One shard of the seen keys: identities with the text of their first record, and the
/// rare further texts of conflicting ids.
#[derive(Debug, Default)]
struct Shard {
    first: HashMap<u64, u64, Build>,
    more: HashSet<EventKey>,
}

/// Keys seen so far, shared by all workers.
#[derive(Debug)]
pub struct SeenEvents {
    shards: Vec<Mutex<Shard>>,
}

impl Default for SeenEvents {
    fn default() -> Self {
        SeenEvents {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }
}

impl SeenEvents {
    /// Records `key`; says whether it was new, a duplicate or a conflicting id.
    pub fn insert(&self, key: EventKey) -> Seen {
        self.shards[shard_of(key)]
            .lock()
            .expect("no panics under the lock")
            .insert(key)
    }

    /// Number of keys.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = s.lock().expect("not poisoned");
                s.first.len() + s.more.len()
            })
            .sum()
    }

    /// Loads every key file (`*.keys`) in `dir`, in parallel: each chunk of a file's keys
    /// is split by shard, then the shards are filled side by side, one lock each. (Loading
    /// key by key on one thread was 44% of a no-op incremental run of the 10 GiB dataset.)
    pub fn load_dir(&self, dir: &Path) -> Result<()> {
        let files = key_files(dir)?;
        let mut keys_in_files = 0;
        for path in &files {
            let len = fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
            keys_in_files += usize::try_from(len / 16).unwrap_or(usize::MAX);
        }
        // Sized once for all the keys, instead of rehashing as they arrive (no more: the
        // table's memory is what peak RSS is made of).
        for shard in &self.shards {
            let mut shard = shard.lock().expect("no panics under the lock");
            shard.first.reserve(keys_in_files / SHARDS);
        }
        let mut by_shard: Vec<Vec<EventKey>> = vec![Vec::new(); SHARDS];
        for path in &files {
            for_each_chunk(path, |keys| {
                for key in keys {
                    by_shard[shard_of(key)].push(key);
                }
                self.shards
                    .par_iter()
                    .zip(by_shard.par_iter_mut())
                    .for_each(|(shard, keys)| {
                        let mut shard = shard.lock().expect("no panics under the lock");
                        for key in keys.drain(..) {
                            shard.insert(key);
                        }
                    });
            })?;
        }
        Ok(())
    }
}

impl Shard {
    /// Records `key` in this shard ([`SeenEvents::insert`]).
    fn insert(&mut self, key: EventKey) -> Seen {
        match self.first.entry(key.identity) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(key.content);
                Seen::New
            }
            std::collections::hash_map::Entry::Occupied(first) => {
                if *first.get() == key.content || !self.more.insert(key) {
                    Seen::Duplicate
                } else {
                    Seen::ConflictingId
                }
            }
        }
    }
}

/// The shard of a key: its identity's top bits.
fn shard_of(key: EventKey) -> usize {
    (key.identity >> 58) as usize % SHARDS
}

/// The key files (`*.keys`) in `dir` (none when `dir` does not exist).
fn key_files(dir: &Path) -> Result<Vec<PathBuf>> {
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
    Ok(files)
}

/// Keys read from a key file at a time (16 MiB): what loading holds besides the table.
const KEYS_PER_CHUNK: usize = 1 << 20;

/// Calls `f` with the keys of the key file at `path`, in the order they were stored, a
/// chunk at a time.
fn for_each_chunk(
    path: &Path,
    mut f: impl FnMut(&mut dyn Iterator<Item = EventKey>),
) -> Result<()> {
    let mut file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    // The file's size (a small file gets a small buffer), at most a chunk; one key more,
    // so that a file of exactly a chunk is read in one go and found to end.
    let keys = usize::try_from(len / 16).map_or(KEYS_PER_CHUNK, |n| n.min(KEYS_PER_CHUNK));
    let mut bytes = vec![0; (keys + 1) * 16];
    loop {
        let filled = read_prefix(&mut file, &mut bytes).map_err(|e| Error::io(path, e))?;
        f(&mut bytes[..filled].chunks_exact(16).map(EventKey::from_bytes));
        if filled < bytes.len() {
            return Ok(());
        }
    }
}

/// Calls `f` with every key of every key file (`*.keys`) in `dir` (none when `dir` does
/// not exist).
pub(crate) fn for_each_key(dir: &Path, mut f: impl FnMut(EventKey)) -> Result<()> {
    for path in key_files(dir)? {
        for_each_chunk(&path, |keys| keys.for_each(&mut f))?;
    }
    Ok(())
}

/// Appends the keys a worker stored to a file, so later runs know them.
#[derive(Debug)]
pub struct KeyLog {
    out: BufWriter<fs::File>,
}

impl KeyLog {
    /// A new key file at `path`.
    pub fn create(path: &Path) -> Result<Self> {
        Ok(KeyLog {
            out: BufWriter::with_capacity(1 << 16, create_private_file(path)?),
        })
    }

    /// Records a stored key.
    pub fn push(&mut self, key: EventKey, path: &Path) -> Result<()> {
        self.out
            .write_all(&key.to_bytes())
            .map_err(|e| Error::io(path, e))
    }

    /// Flushes and syncs the file.
    pub fn finish(self, path: &Path) -> Result<()> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(text: &str) -> u64 {
        EventKey::content_of_spaced(text.as_bytes(), &mut Vec::new())
    }

    fn key(id: Option<&str>, recipient: Option<&str>, file: &str, index: u64) -> EventKey {
        EventKey::new(id, recipient, file, index, 0)
    }

    #[test]
    fn keys_distinguish_accounts_and_places() {
        let a = key(Some("e1"), Some("111"), "f", 0);
        assert_eq!(a, key(Some("e1"), Some("111"), "other-file", 9));
        assert_ne!(a, key(Some("e1"), Some("222"), "f", 0));
        assert_ne!(key(None, None, "f", 0), key(None, None, "f", 1));
        assert_ne!(key(None, None, "f", 0), key(None, None, "g", 0));
    }

    #[test]
    fn only_the_same_record_is_a_duplicate() {
        let seen = SeenEvents::default();
        assert_eq!(
            content("{\n  \"a\": [1, \"x y\\\" \"]\n}"),
            content(r#"{"a":[1,"x y\" "]}"#)
        );
        assert_eq!(content(r#"{"a":1}"#), EventKey::content_of(br#"{"a":1}"#));
        assert_ne!(content(r#"{"a":"x y"}"#), content(r#"{"a":"xy"}"#));
        assert_ne!(content(r#"{"a":1}"#), content(r#"{"a":"1"}"#));
        let record = |text: &str| EventKey::new(Some("1"), None, "f", 0, content(text));
        assert_eq!(seen.insert(record(r#"{"a":1}"#)), Seen::New);
        assert_eq!(seen.insert(record(r#"{ "a" : 1 }"#)), Seen::Duplicate);
        assert_eq!(seen.insert(record(r#"{"a":2}"#)), Seen::ConflictingId);
        assert_eq!(seen.insert(record(r#"{"a":3}"#)), Seen::ConflictingId);
        assert_eq!(seen.insert(record(r#"{"a":2}"#)), Seen::Duplicate);
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn set_round_trips_through_key_files() {
        let tmp = tempfile::tempdir().unwrap();
        let seen = SeenEvents::default();
        let path = tmp.path().join("run.keys");
        let mut log = KeyLog::create(&path).unwrap();
        for i in 0..1000u64 {
            let key = key(Some(&i.to_string()), None, "", 0);
            assert_eq!(seen.insert(key), Seen::New);
            log.push(key, &path).unwrap();
        }
        let conflict = EventKey::new(Some("7"), None, "", 0, content(r#"{"a":2}"#));
        assert_eq!(seen.insert(conflict), Seen::ConflictingId);
        log.push(conflict, &path).unwrap();
        assert_eq!(seen.insert(key(Some("5"), None, "", 0)), Seen::Duplicate);
        log.finish(&path).unwrap();
        let again = SeenEvents::default();
        again.load_dir(tmp.path()).unwrap();
        assert_eq!(again.len(), 1001);
        assert_eq!(again.insert(key(Some("999"), None, "", 0)), Seen::Duplicate);
        assert_eq!(again.insert(conflict), Seen::Duplicate);
    }
}
