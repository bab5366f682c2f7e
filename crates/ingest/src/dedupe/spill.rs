//! A day's keys written out of memory: sorted runs on disk and a Bloom filter of their
//! identities, so that the keys a run holds in memory stay within a budget whatever the
//! trail's size.
//!
//! When the keys in memory pass the budget ([`super::SeenEvents`]), the largest day's
//! table is sorted and written to an unnamed scratch file (a *run*; the file vanishes when
//! closed, even after `kill -9`). The day's storers do not wait for it: its tables are
//! moved aside (still searched) in an instant, the run is written beside them
//! ([`SpilledKeys::prepare`]), and put in place in another instant. What stays in memory
//! per spilled key is the filter's 10 bits and 1/256 of an identity (the run's fences). A record whose identity the filter may
//! hold (every stored one, and about 1% of new ones) is looked up in the runs, one 4 KiB
//! read each; exactness never rests on the filter. A day keeps at most [`MAX_RUNS`] runs:
//! the two smallest are merged when a new one would pass it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::EventKey;
use crate::error::{Error, Result};

/// Keys between two fences: a lookup reads this many keys (4 KiB) from a run.
const FENCE: usize = 256;
const KEY_BYTES: usize = 16;
/// Runs a day keeps before the two smallest are merged: a possible hit reads one block of
/// each run.
pub(crate) const MAX_RUNS: usize = 4;
/// Bloom filter bits per spilled key (about 1% false positives).
const BITS_PER_KEY: usize = 10;

/// A split-block Bloom filter (as Parquet's): a key sets one bit in each of the 8 words
/// of one 256-bit block, so a probe touches one cache line. Its words are atomic so that
/// the spiller adds a run's keys while storers probe it (a bit set early is only a
/// false positive until the run is installed).
#[derive(Debug, Default)]
struct BloomFilter {
    blocks: Vec<[AtomicU32; 8]>,
}

const SALT: [u32; 8] = [
    0x47b6_137b,
    0x4497_4d91,
    0x8824_ad5b,
    0xa2b7_289d,
    0x7054_95c7,
    0x2df1_424b,
    0x9efc_4947,
    0x5c6b_fb31,
];

impl BloomFilter {
    /// A filter for `keys` keys.
    fn with_capacity(keys: usize) -> BloomFilter {
        BloomFilter {
            blocks: (0..(keys * BITS_PER_KEY).div_ceil(256).max(1))
                .map(|_| Default::default())
                .collect(),
        }
    }

    fn capacity(&self) -> usize {
        self.blocks.len() * 256 / BITS_PER_KEY
    }

    /// The block and the 8 bit masks of `hash` (already a uniform hash: an identity).
    fn locate(&self, hash: u64) -> (usize, [u32; 8]) {
        let block = ((hash >> 32) * self.blocks.len() as u64) >> 32;
        let low = hash as u32;
        (
            block as usize,
            SALT.map(|salt| 1 << (low.wrapping_mul(salt) >> 27)),
        )
    }

    fn insert(&self, hash: u64) {
        let (block, masks) = self.locate(hash);
        for (word, mask) in self.blocks[block].iter().zip(masks) {
            word.fetch_or(mask, Ordering::Relaxed);
        }
    }

    fn may_contain(&self, hash: u64) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let (block, masks) = self.locate(hash);
        self.blocks[block]
            .iter()
            .zip(masks)
            .all(|(word, mask)| word.load(Ordering::Relaxed) & mask != 0)
    }
}

/// One run: keys sorted by (identity, content) in an unnamed scratch file, and every
/// [`FENCE`]th identity in memory.
#[derive(Debug)]
struct Run {
    file: File,
    keys: usize,
    fences: Vec<u64>,
}

impl Run {
    /// Writes `keys` (sorted) to a new scratch file in `dir` (created if missing).
    fn write(dir: &Path, keys: impl IntoIterator<Item = EventKey>) -> Result<Run> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let file = tempfile::tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
        let mut out = BufWriter::with_capacity(1 << 16, &file);
        let mut fences = Vec::new();
        let mut count = 0;
        for key in keys {
            if count % FENCE == 0 {
                fences.push(key.identity);
            }
            out.write_all(&key.to_bytes())
                .map_err(|e| Error::io(dir, e))?;
            count += 1;
        }
        out.flush().map_err(|e| Error::io(dir, e))?;
        drop(out);
        Ok(Run {
            file,
            keys: count,
            fences,
        })
    }

    /// Every key of the run, in order, read 64 KiB at a time.
    fn keys(&self, dir: &Path) -> impl Iterator<Item = Result<EventKey>> + '_ {
        const CHUNK: usize = 4096;
        let dir = dir.to_path_buf();
        let mut chunk = vec![0u8; CHUNK * KEY_BYTES];
        let (mut next, mut end, mut read) = (0, 0, 0);
        std::iter::from_fn(move || {
            if next == end {
                if read == self.keys {
                    return None;
                }
                let n = (self.keys - read).min(CHUNK);
                if let Err(e) = self
                    .file
                    .read_exact_at(&mut chunk[..n * KEY_BYTES], (read * KEY_BYTES) as u64)
                {
                    read = self.keys;
                    (next, end) = (0, 0);
                    return Some(Err(Error::io(&dir, e)));
                }
                read += n;
                (next, end) = (0, n);
            }
            next += 1;
            Some(Ok(EventKey::from_bytes(
                &chunk[(next - 1) * KEY_BYTES..next * KEY_BYTES],
            )))
        })
    }

    /// Calls `f` with the content of every key of `identity` in the run.
    fn find(&self, dir: &Path, identity: u64, mut f: impl FnMut(u64)) -> Result<()> {
        // The first block that can hold `identity`: the one before the first fence at or
        // past it (a fence equal to it may have equal keys before it).
        let mut block = self
            .fences
            .partition_point(|&fence| fence < identity)
            .saturating_sub(1);
        let mut bytes = [0u8; FENCE * KEY_BYTES];
        while block < self.fences.len() {
            let first = block * FENCE;
            let n = (self.keys - first).min(FENCE);
            let chunk = &mut bytes[..n * KEY_BYTES];
            self.file
                .read_exact_at(chunk, (first * KEY_BYTES) as u64)
                .map_err(|e| Error::io(dir, e))?;
            for key in chunk.chunks_exact(KEY_BYTES).map(EventKey::from_bytes) {
                if key.identity > identity {
                    return Ok(());
                }
                if key.identity == identity {
                    f(key.content);
                }
            }
            block += 1;
        }
        Ok(())
    }
}

/// What a day's spilled keys say of a key's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spilled {
    /// No spilled key has the identity.
    Absent,
    /// A spilled key is this very key.
    Same,
    /// Spilled keys have the identity, none with this content.
    OtherText,
}

/// The keys a day wrote out of memory. Runs and filter are shared, so that a spill
/// prepares the next state beside this one, which storers go on reading.
#[derive(Debug, Default)]
pub(crate) struct SpilledKeys {
    runs: Vec<Arc<Run>>,
    filter: Arc<BloomFilter>,
    keys: usize,
}

impl SpilledKeys {
    /// Number of keys spilled.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys
    }

    /// Number of runs on disk.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    /// What the spilled keys say of `key`: the filter first, the runs only when it may
    /// hold the identity.
    pub(crate) fn lookup(&self, dir: &Path, key: EventKey) -> Result<Spilled> {
        if self.keys == 0 || !self.filter.may_contain(key.identity) {
            return Ok(Spilled::Absent);
        }
        let mut found = Spilled::Absent;
        for run in &self.runs {
            run.find(dir, key.identity, |content| {
                found = found.and(if content == key.content {
                    Spilled::Same
                } else {
                    Spilled::OtherText
                });
            })?;
            if found == Spilled::Same {
                break;
            }
        }
        Ok(found)
    }

    /// These keys and `keys`, written out as a new run beside these runs (which storers go
    /// on reading: only one spill of a day is in progress at a time), merging the two
    /// smallest runs when there would be more than [`MAX_RUNS`]; the filter takes the new
    /// identities in place, or is rebuilt larger when full.
    pub(crate) fn prepare(&self, dir: &Path, mut keys: Vec<EventKey>) -> Result<SpilledKeys> {
        keys.sort_unstable_by_key(|key| (key.identity, key.content));
        let total = self.keys + keys.len();
        let filter = if total <= self.filter.capacity() {
            for key in &keys {
                self.filter.insert(key.identity);
            }
            self.filter.clone()
        } else {
            // Rebuilt half again larger than it must be, so rebuilds are rare.
            let filter = BloomFilter::with_capacity(total * 3 / 2);
            for run in &self.runs {
                for key in run.keys(dir) {
                    filter.insert(key?.identity);
                }
            }
            for key in &keys {
                filter.insert(key.identity);
            }
            Arc::new(filter)
        };
        let mut runs = self.runs.clone();
        runs.push(Arc::new(Run::write(dir, keys)?));
        if runs.len() > MAX_RUNS {
            runs.sort_by_key(|run| std::cmp::Reverse(run.keys));
            let smallest = runs.pop().expect("more than MAX_RUNS runs");
            let next = runs.pop().expect("more than MAX_RUNS runs");
            runs.push(Arc::new(merge(dir, &smallest, &next)?));
        }
        Ok(SpilledKeys {
            runs,
            filter,
            keys: total,
        })
    }

    /// [`SpilledKeys::prepare`], put in place.
    #[cfg(test)]
    pub(crate) fn spill(&mut self, dir: &Path, keys: Vec<EventKey>) -> Result<()> {
        *self = self.prepare(dir, keys)?;
        Ok(())
    }
}

impl Spilled {
    /// What two places together say of a key.
    pub(crate) fn and(self, other: Spilled) -> Spilled {
        match (self, other) {
            (Spilled::Same, _) | (_, Spilled::Same) => Spilled::Same,
            (Spilled::OtherText, _) | (_, Spilled::OtherText) => Spilled::OtherText,
            _ => Spilled::Absent,
        }
    }
}

/// The keys of two runs, merged into a new run.
fn merge(dir: &Path, a: &Run, b: &Run) -> Result<Run> {
    let mut error = None;
    let merged = {
        let mut a = a.keys(dir).peekable();
        let mut b = b.keys(dir).peekable();
        let error = &mut error;
        std::iter::from_fn(move || {
            let next = match (a.peek(), b.peek()) {
                (None, None) => return None,
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (Some(Ok(x)), Some(Ok(y))) => {
                    if (x.identity, x.content) <= (y.identity, y.content) {
                        a.next()
                    } else {
                        b.next()
                    }
                }
                (Some(Err(_)), _) => a.next(),
                (_, Some(Err(_))) => b.next(),
            };
            match next? {
                Ok(key) => Some(key),
                Err(e) => {
                    *error = Some(e);
                    None
                }
            }
        })
    };
    let run = Run::write(dir, merged)?;
    match error {
        Some(e) => Err(e),
        None => Ok(run),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(identity: u64, content: u64) -> EventKey {
        EventKey { identity, content }
    }

    #[test]
    fn the_filter_holds_what_it_was_given_and_rarely_more() {
        let filter = BloomFilter::with_capacity(100_000);
        let hash = |i: u64| xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes());
        for i in 0..100_000 {
            filter.insert(hash(i));
        }
        assert!((0..100_000).all(|i| filter.may_contain(hash(i))));
        let false_positives = (100_000..200_000)
            .filter(|&i| filter.may_contain(hash(i)))
            .count();
        assert!(false_positives < 2_000, "{false_positives} of 100,000");
        assert!(!BloomFilter::default().may_contain(1));
    }

    #[test]
    fn spilled_keys_are_found_across_runs_and_merges() {
        let dir = tempfile::tempdir().unwrap();
        let mut spilled = SpilledKeys::default();
        // Six spills: identities 3i spread over runs, identity 8 with several texts
        // spilled at different times, straddling a fence within one run.
        for spill in 0..6u64 {
            let mut keys: Vec<EventKey> = (0..1000u64)
                .map(|i| key((i * 6 + spill) * 3, spill))
                .collect();
            keys.extend((0..300).map(|i| key(8, 1000 * spill + i)));
            spilled.spill(dir.path(), keys).unwrap();
            assert!(spilled.runs() <= MAX_RUNS);
        }
        assert_eq!(spilled.len(), 6 * 1300);
        let lookup = |k| spilled.lookup(dir.path(), k).unwrap();
        for spill in 0..6u64 {
            for i in [0, 1, 499, 999] {
                let identity = (i * 6 + spill) * 3;
                assert_eq!(lookup(key(identity, spill)), Spilled::Same);
                assert_eq!(lookup(key(identity, spill + 1)), Spilled::OtherText);
                assert_eq!(lookup(key(identity + 1, spill)), Spilled::Absent);
            }
            for i in [0, 150, 299] {
                assert_eq!(lookup(key(8, 1000 * spill + i)), Spilled::Same);
            }
        }
        assert_eq!(lookup(key(8, 999)), Spilled::OtherText);
        assert_eq!(lookup(key(u64::MAX, 0)), Spilled::Absent);
        assert_eq!(lookup(key(0, 0)), Spilled::Same);
    }
}
