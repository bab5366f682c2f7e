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
//!
//! A duplicate can only be in its original's `event_date` partition: keys are held per
//! day, a day's keys are read from the key files ([`key_file`]) the first time a
//! run meets the day, and the days a checkpoint did not touch are dropped from memory
//! after it commits. A run's memory for keys is that of the days it works on, not of the
//! dataset; and within those days, at most [`KEYS_IN_MEMORY`] keys stay in hash tables:
//! past that, the largest day's keys are written out of memory ([`spill`]), so a first
//! ingest of a trail whose every day is in flight at once holds a bounded table whatever
//! its size.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::error::Result;

mod key_file;
mod spill;

pub(crate) use key_file::{Day, KeyLog, for_each_key};
use key_file::{Section, key_files, read_keys, sections};
use spill::{Spilled, SpilledKeys};

/// Shards of one day's keys: workers storing events of one day take different locks.
const SHARDS: usize = 32;

/// Keys held in hash tables, all days together, before the largest day's are written
/// out of memory (about 32 MiB of tables).
pub const KEYS_IN_MEMORY: usize = 1 << 20;

/// The keys in memory, against their limit, and where spilled keys go.
#[derive(Debug)]
struct Budget {
    limit: usize,
    in_memory: AtomicUsize,
    dir: PathBuf,
    /// Held by the one caller spilling (others go on storing meanwhile).
    spilling: Mutex<()>,
}

impl Budget {
    fn new(dir: &Path, limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            in_memory: AtomicUsize::new(0),
            dir: dir.to_path_buf(),
            spilling: Mutex::new(()),
        })
    }
}

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

    pub(crate) fn to_bytes(self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..8].copy_from_slice(&self.identity.to_le_bytes());
        out[8..].copy_from_slice(&self.content.to_le_bytes());
        out
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> EventKey {
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

/// One shard of a day's keys: identities with the text of their first record, and the
/// rare further texts of conflicting ids.
#[derive(Debug, Default)]
struct Shard {
    first: HashMap<u64, u64, Build>,
    more: HashSet<EventKey>,
}

/// A day's keys out of its shards: the tables of a spill in progress (searched as they
/// are until its run is installed) and the spilled keys.
#[derive(Debug, Default)]
struct SpillState {
    /// Empty, or the day's shards' tables as a spill took them (by shard).
    frozen: Vec<Shard>,
    keys: SpilledKeys,
}

impl SpillState {
    /// What the keys out of the shards say of `key`.
    fn lookup(&self, dir: &Path, key: EventKey) -> Result<Spilled> {
        let frozen = self
            .frozen
            .get(shard_of(key))
            .map_or(Spilled::Absent, |shard| shard.lookup(key));
        if frozen == Spilled::Same {
            return Ok(frozen);
        }
        Ok(frozen.and(self.keys.lookup(dir, key)?))
    }
}

/// One day's keys in a committed key file.
type FileSection = (Arc<Path>, Section);

/// The keys of one event date: those of the committed key files, read on first use, and
/// those the run stores.
#[derive(Debug)]
pub struct DayKeys {
    shards: Vec<Mutex<Shard>>,
    /// The keys moved out of the shards: storing takes it to read, a spill to write (for
    /// an instant at its start and end), both before any shard, so a key is always in a
    /// shard, the tables being spilled, or a run.
    spilled: RwLock<SpillState>,
    /// Keys in the shards' tables.
    in_memory: AtomicUsize,
    budget: Arc<Budget>,
    /// Whether the committed keys were read (held while they are read).
    loaded: Mutex<bool>,
    /// Whether the current checkpoint used the day.
    touched: AtomicBool,
}

impl DayKeys {
    fn new(budget: Arc<Budget>) -> DayKeys {
        DayKeys {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            spilled: RwLock::default(),
            in_memory: AtomicUsize::new(0),
            budget,
            loaded: Mutex::new(false),
            touched: AtomicBool::new(true),
        }
    }

    /// Records `key`; says whether it was new, a duplicate or a conflicting id.
    pub fn insert(&self, key: EventKey) -> Result<Seen> {
        let spilled = self.spilled.read().expect("no panics under the lock");
        let seen = self.shards[shard_of(key)]
            .lock()
            .expect("no panics under the lock")
            .insert(key, &spilled, &self.budget.dir)?;
        if seen != Seen::Duplicate {
            self.count_stored(1);
        }
        Ok(seen)
    }

    fn count_stored(&self, keys: usize) {
        self.in_memory.fetch_add(keys, Ordering::Relaxed);
        self.budget.in_memory.fetch_add(keys, Ordering::Relaxed);
    }

    /// Writes the day's keys in memory out to a run on disk and empties its tables.
    /// Storers of the day wait only while the tables are moved aside and while the run is
    /// put in place, not while it is sorted and written. One spill at a time (the
    /// budget's `spilling` lock).
    fn spill(&self) -> Result<()> {
        self.freeze();
        let prepared = self.prepare_spill()?;
        self.install_spill(prepared);
        Ok(())
    }

    /// A spill's first instant: the shards' tables are moved aside, where storers still
    /// search them, and the shards start empty.
    fn freeze(&self) {
        let mut state = self.spilled.write().expect("no panics under the lock");
        state.frozen = self
            .shards
            .iter()
            .map(|shard| std::mem::take(&mut *shard.lock().expect("no panics under the lock")))
            .collect();
    }

    /// The run of the tables moved aside, written while storers go on.
    fn prepare_spill(&self) -> Result<Option<SpilledKeys>> {
        let state = self.spilled.read().expect("no panics under the lock");
        // Sized up front: collected by growing, the vector would take up to twice the keys.
        let mut keys = Vec::with_capacity(state.frozen.iter().map(Shard::len).sum());
        keys.extend(state.frozen.iter().flat_map(Shard::keys));
        if keys.is_empty() {
            return Ok(None);
        }
        Ok(Some(state.keys.prepare(&self.budget.dir, keys)?))
    }

    /// A spill's last instant: the run replaces the tables moved aside.
    fn install_spill(&self, prepared: Option<SpilledKeys>) {
        let frozen = {
            let mut state = self.spilled.write().expect("no panics under the lock");
            if let Some(prepared) = prepared {
                state.keys = prepared;
            }
            std::mem::take(&mut state.frozen)
        };
        let moved: usize = frozen.iter().map(Shard::len).sum();
        drop(frozen);
        self.in_memory.fetch_sub(moved, Ordering::Relaxed);
        self.budget.in_memory.fetch_sub(moved, Ordering::Relaxed);
    }

    /// Records `keys` in order, as [`DayKeys::insert`] one by one would, and writes what
    /// each was into `seen`: each shard is locked once for all its keys of the batch, not
    /// once per key, so workers storing events of one day rarely meet on a lock.
    pub fn insert_batch(&self, keys: &[EventKey], seen: &mut Vec<Seen>) -> Result<()> {
        seen.clear();
        seen.resize(keys.len(), Seen::New);
        // The keys' positions grouped by shard, in their order within each shard (a key
        // and its copies share a shard, so their order is kept).
        let mut starts = [0usize; SHARDS + 1];
        for &key in keys {
            starts[shard_of(key) + 1] += 1;
        }
        for shard in 0..SHARDS {
            starts[shard + 1] += starts[shard];
        }
        let mut next = starts;
        let mut order = vec![0u32; keys.len()];
        for (position, &key) in keys.iter().enumerate() {
            let shard = shard_of(key);
            order[next[shard]] = position as u32;
            next[shard] += 1;
        }
        let spilled = self.spilled.read().expect("no panics under the lock");
        let mut stored = 0;
        for (shard, lock) in self.shards.iter().enumerate() {
            let positions = &order[starts[shard]..starts[shard + 1]];
            if positions.is_empty() {
                continue;
            }
            let mut table = lock.lock().expect("no panics under the lock");
            for &position in positions {
                let position = position as usize;
                let outcome = table.insert(keys[position], &spilled, &self.budget.dir)?;
                stored += usize::from(outcome != Seen::Duplicate);
                seen[position] = outcome;
            }
        }
        self.count_stored(stored);
        Ok(())
    }

    /// Reads the day's committed keys, `sections` of key files, unless already read,
    /// keeping `seen`'s budget as they come.
    fn load(&self, seen: &SeenEvents, sections: &[FileSection]) -> Result<()> {
        let mut loaded = self.loaded.lock().expect("no panics under the lock");
        if *loaded {
            return Ok(());
        }
        let keys: u64 = sections.iter().map(|(_, s)| s.keys).sum();
        // Sized once for all the keys (as many as the budget allows), instead of
        // rehashing as they arrive.
        let per_shard = usize::try_from(keys)
            .unwrap_or(usize::MAX)
            .min(self.budget.limit)
            / SHARDS;
        for shard in &self.shards {
            let mut shard = shard.lock().expect("no panics under the lock");
            shard.first.reserve(per_shard);
        }
        let mut chunk = Vec::new();
        let mut outcomes = Vec::new();
        let mut failed = None;
        for (path, section) in sections {
            read_keys(path, section.offset, section.keys, |keys| {
                if failed.is_some() {
                    return;
                }
                chunk.clear();
                chunk.extend(keys);
                if let Err(e) = self
                    .insert_batch(&chunk, &mut outcomes)
                    .and_then(|()| seen.keep_within_budget())
                {
                    failed = Some(e);
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
        *loaded = true;
        Ok(())
    }

    /// Number of keys, in memory and spilled.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.in_memory.load(Ordering::Relaxed)
            + self.spilled.read().expect("not poisoned").keys.len()
    }
}

impl Drop for DayKeys {
    fn drop(&mut self) {
        let in_memory = *self.in_memory.get_mut();
        self.budget
            .in_memory
            .fetch_sub(in_memory, Ordering::Relaxed);
    }
}

/// The dataset's keys, by day: the committed key files' index, and the days in memory.
#[derive(Debug)]
pub struct SeenEvents {
    /// Where each day's committed keys are.
    committed: Mutex<HashMap<Day, Vec<FileSection>>>,
    /// The days read or stored into since the run started (and not dropped).
    days: Mutex<HashMap<Day, Arc<DayKeys>>>,
    budget: Arc<Budget>,
}

impl SeenEvents {
    /// The keys of the dataset whose key files are in `dir` (none when it does not
    /// exist): only their index is read here, each day's keys when the day is first used.
    /// At most [`KEYS_IN_MEMORY`] keys stay in memory; the rest are spilled to unnamed
    /// files in `dir`.
    pub fn open(dir: &Path) -> Result<SeenEvents> {
        SeenEvents::open_with_budget(dir, KEYS_IN_MEMORY)
    }

    /// [`SeenEvents::open`], with at most `limit` keys in memory.
    pub fn open_with_budget(dir: &Path, limit: usize) -> Result<SeenEvents> {
        let seen = SeenEvents::empty(dir, limit);
        for path in key_files(dir)? {
            seen.add_committed(&path)?;
        }
        Ok(seen)
    }

    fn empty(dir: &Path, limit: usize) -> SeenEvents {
        SeenEvents {
            committed: Mutex::default(),
            days: Mutex::default(),
            budget: Budget::new(dir, limit),
        }
    }

    /// Spills the largest days' keys while more than the budget's are in memory, down
    /// to half of it (so spills are few and large). One caller spills at a time; the
    /// others go on storing.
    pub fn keep_within_budget(&self) -> Result<()> {
        let budget = &self.budget;
        if budget.in_memory.load(Ordering::Relaxed) <= budget.limit {
            return Ok(());
        }
        let Ok(_spilling) = budget.spilling.try_lock() else {
            return Ok(());
        };
        while budget.in_memory.load(Ordering::Relaxed) > budget.limit / 2 {
            let largest = self
                .days
                .lock()
                .expect("no panics under the lock")
                .values()
                .max_by_key(|day| day.in_memory.load(Ordering::Relaxed))
                .cloned();
            match largest {
                Some(day) if day.in_memory.load(Ordering::Relaxed) > 0 => day.spill()?,
                _ => break,
            }
        }
        Ok(())
    }

    /// Adds the key file at `path` (committed) to the index, so that a day dropped from
    /// memory and used again reads its keys too.
    pub fn add_committed(&self, path: &Path) -> Result<()> {
        let path: Arc<Path> = Arc::from(path);
        let mut committed = self.committed.lock().expect("no panics under the lock");
        for section in sections(&path)? {
            if section.keys > 0 {
                committed
                    .entry(section.day)
                    .or_default()
                    .push((path.clone(), section));
            }
        }
        Ok(())
    }

    /// The keys of `day`, its committed keys read on first use. Callers keep the handle
    /// for the day's further events (one map lock per day, not per record).
    pub fn day(&self, day: Day) -> Result<Arc<DayKeys>> {
        let keys = {
            let mut days = self.days.lock().expect("no panics under the lock");
            days.entry(day)
                .or_insert_with(|| Arc::new(DayKeys::new(self.budget.clone())))
                .clone()
        };
        keys.touched.store(true, Ordering::Relaxed);
        if !*keys.loaded.lock().expect("no panics under the lock") {
            let sections = self
                .committed
                .lock()
                .expect("no panics under the lock")
                .get(&day)
                .cloned()
                .unwrap_or_default();
            keys.load(self, &sections)?;
        }
        Ok(keys)
    }

    /// Records `key` of an event of `day` ([`SeenEvents::day`], then [`DayKeys::insert`]).
    #[cfg(test)]
    pub fn insert(&self, day: Day, key: EventKey) -> Result<Seen> {
        let seen = self.day(day)?.insert(key)?;
        self.keep_within_budget()?;
        Ok(seen)
    }

    /// Drops from memory the days no one used since the last call: called between
    /// checkpoints, once every key stored is in a committed key file
    /// ([`SeenEvents::add_committed`]), so that a dropped day read again is complete.
    /// Returns how many days stay.
    pub fn drop_unused_days(&self) -> usize {
        let mut days = self.days.lock().expect("no panics under the lock");
        days.retain(|_, keys| keys.touched.swap(false, Ordering::Relaxed));
        days.len()
    }

    /// Number of keys in memory.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        let days = self.days.lock().expect("not poisoned");
        days.values().map(|d| d.len()).sum()
    }
}

impl Shard {
    /// Records `key` in this shard ([`DayKeys::insert`]): a key is a duplicate when it is
    /// in the table or among the day's `spilled` keys, a conflicting id when only its
    /// identity is in either.
    fn insert(&mut self, key: EventKey, spilled: &SpillState, dir: &Path) -> Result<Seen> {
        use std::collections::hash_map::Entry;
        Ok(match self.first.entry(key.identity) {
            Entry::Vacant(slot) => match spilled.lookup(dir, key)? {
                Spilled::Absent => {
                    slot.insert(key.content);
                    Seen::New
                }
                Spilled::Same => Seen::Duplicate,
                Spilled::OtherText => {
                    slot.insert(key.content);
                    Seen::ConflictingId
                }
            },
            Entry::Occupied(first) => {
                if *first.get() == key.content
                    || self.more.contains(&key)
                    || spilled.lookup(dir, key)? == Spilled::Same
                {
                    Seen::Duplicate
                } else {
                    self.more.insert(key);
                    Seen::ConflictingId
                }
            }
        })
    }
}

impl Shard {
    /// What this table says of `key` (as [`SpilledKeys::lookup`] does of runs).
    fn lookup(&self, key: EventKey) -> Spilled {
        match self.first.get(&key.identity) {
            None => Spilled::Absent,
            Some(&content) if content == key.content => Spilled::Same,
            Some(_) if self.more.contains(&key) => Spilled::Same,
            Some(_) => Spilled::OtherText,
        }
    }

    /// Every key of the table.
    fn keys(&self) -> impl Iterator<Item = EventKey> + '_ {
        self.first
            .iter()
            .map(|(&identity, &content)| EventKey { identity, content })
            .chain(self.more.iter().copied())
    }

    fn len(&self) -> usize {
        self.first.len() + self.more.len()
    }
}

/// The shard of a key: its identity's top bits.
fn shard_of(key: EventKey) -> usize {
    (key.identity >> 58) as usize % SHARDS
}

/// The key file of a run's worker, in its staging directory.
pub(crate) fn key_path(staging: &Path, name: &str) -> PathBuf {
    staging.join(format!("{name}.keys"))
}

#[cfg(test)]
mod tests;
