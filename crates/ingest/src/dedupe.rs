//! The set of events already in the dataset, to store each event once.
//!
//! CloudTrail delivers the same event twice when trails overlap or a file is synced twice.
//! An event is identified by `eventID` with `recipientAccountId` (the copies of a
//! cross-account event share an `eventID` but go to different accounts and are distinct
//! records). Records without an `eventID` are identified by their place (file, index), so
//! re-reading a file does not add them again. Keys are 128-bit hashes: 16 bytes per event.

use std::collections::HashSet;
use std::fs;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::sync::Mutex;

use xxhash_rust::xxh3::Xxh3;

use crate::error::{Error, Result};
use crate::fsutil::create_private_file;

const SHARDS: usize = 64;

/// A key is already a uniform hash: use its low bits as the table hash.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u128 keys are hashed")
    }
    fn write_u128(&mut self, key: u128) {
        self.0 = key as u64;
    }
}

type KeySet = HashSet<u128, BuildHasherDefault<KeyHasher>>;

/// The dedupe key of a record (no allocation: it runs once per record).
pub fn event_key(
    event_id: Option<&str>,
    recipient: Option<&str>,
    source_file: &str,
    index: u64,
) -> u128 {
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
    hasher.digest128()
}

/// Keys seen so far, shared by all workers.
#[derive(Debug)]
pub struct SeenEvents {
    shards: Vec<Mutex<KeySet>>,
}

impl Default for SeenEvents {
    fn default() -> Self {
        SeenEvents {
            shards: (0..SHARDS).map(|_| Mutex::new(KeySet::default())).collect(),
        }
    }
}

impl SeenEvents {
    /// Records `key`; returns whether it was new.
    pub fn insert(&self, key: u128) -> bool {
        let shard = (key >> 122) as usize % SHARDS;
        self.shards[shard]
            .lock()
            .expect("no panics under the lock")
            .insert(key)
    }

    /// Number of keys.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().expect("not poisoned").len())
            .sum()
    }

    /// Loads every key file (`*.keys`) in `dir`.
    pub fn load_dir(&self, dir: &Path) -> Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(dir, e)),
        };
        for entry in entries {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            if path.extension().is_some_and(|e| e == "keys") {
                let mut bytes = Vec::new();
                fs::File::open(&path)
                    .and_then(|mut f| f.read_to_end(&mut bytes))
                    .map_err(|e| Error::io(&path, e))?;
                for chunk in bytes.chunks_exact(16) {
                    self.insert(u128::from_le_bytes(chunk.try_into().expect("16 bytes")));
                }
            }
        }
        Ok(())
    }
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
    pub fn push(&mut self, key: u128, path: &Path) -> Result<()> {
        self.out
            .write_all(&key.to_le_bytes())
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

    #[test]
    fn keys_distinguish_accounts_and_places() {
        let a = event_key(Some("e1"), Some("111"), "f", 0);
        assert_eq!(a, event_key(Some("e1"), Some("111"), "other-file", 9));
        assert_ne!(a, event_key(Some("e1"), Some("222"), "f", 0));
        assert_ne!(event_key(None, None, "f", 0), event_key(None, None, "f", 1));
        assert_ne!(event_key(None, None, "f", 0), event_key(None, None, "g", 0));
    }

    #[test]
    fn set_round_trips_through_key_files() {
        let tmp = tempfile::tempdir().unwrap();
        let seen = SeenEvents::default();
        let path = tmp.path().join("run.keys");
        let mut log = KeyLog::create(&path).unwrap();
        for i in 0..1000u64 {
            let key = event_key(Some(&i.to_string()), None, "", 0);
            assert!(seen.insert(key));
            log.push(key, &path).unwrap();
        }
        assert!(!seen.insert(event_key(Some("5"), None, "", 0)));
        log.finish(&path).unwrap();
        let again = SeenEvents::default();
        again.load_dir(tmp.path()).unwrap();
        assert_eq!(again.len(), 1000);
        assert!(!again.insert(event_key(Some("999"), None, "", 0)));
    }
}
