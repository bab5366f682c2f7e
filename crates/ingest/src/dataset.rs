//! A dataset directory: Parquet partitions, a manifest of what they hold, and a crash-safe
//! commit.
//!
//! ```text
//! <dataset>/
//!   event_date=2024-01-02/part-<run>-00001.parquet      committed data
//!   _trailscope/manifest.json                           what is committed (the truth)
//!   _trailscope/keys/<run>-w0.keys                      dedupe keys of committed events
//!   _trailscope/journal.json                            only while a commit is under way
//!   _trailscope/lock                                    held by the one writer
//!   _staging/<run>/...                                  files of a run not yet committed
//! ```
//!
//! A run writes only under `_staging/`. To commit, it writes a journal naming every rename
//! and the new manifest, then renames the files into place, then replaces the manifest,
//! then deletes the journal. A run killed before the journal leaves only staging files,
//! which the next run deletes; one killed after it is rolled forward by the next run.
//! Either way no partial file is ever in a partition and nothing is committed twice.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil::{create_private_dir, sync_dir, write_atomic};
use crate::partition_files::StagedFile;
use crate::schema::SCHEMA_VERSION;

const FORMAT: &str = "trailscope-dataset";
/// Name of the dataset's metadata directory.
pub const META_DIR: &str = "_trailscope";
const STAGING_DIR: &str = "_staging";

/// One ingest run, as the manifest remembers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's id (also in its file names).
    pub run_id: String,
    /// When it started, RFC 3339.
    pub started: String,
    /// When it committed, RFC 3339.
    pub committed: String,
    /// trailscope version that wrote it.
    pub tool_version: String,
    /// Files read.
    pub files_read: u64,
    /// Records written.
    pub records_written: u64,
    /// Records dropped as duplicates.
    pub records_duplicate: u64,
    /// Records rejected.
    pub records_rejected: u64,
}

/// An input file that was read completely and is not read again unless it changes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct InputRecord {
    /// Size when it was read.
    pub size: u64,
    /// Modification time when it was read (nanoseconds since the epoch); absent in
    /// manifests written before it was recorded, where the size alone decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<i64>,
    /// Records seen in it.
    pub records: u64,
    /// The run that read it.
    pub run_id: String,
}

/// An input file that could not be read to its end, remembered so that an unchanged bad
/// file is reported again without being read again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FailedInput {
    /// Size when it was read.
    pub size: u64,
    /// Modification time when it was read (nanoseconds since the epoch).
    pub modified: Option<i64>,
    /// What was wrong with it.
    pub message: String,
    /// The run that read it.
    pub run_id: String,
}

impl FailedInput {
    /// Whether `size` and `modified` say the file is as it was (a file without a known
    /// modification time is never taken as unchanged).
    pub fn unchanged(&self, size: u64, modified: Option<i64>) -> bool {
        self.size == size && self.modified.is_some() && self.modified == modified
    }
}

/// A committed data file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DataFile {
    /// Path relative to the dataset root.
    pub path: String,
    /// Rows it holds.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// The run that wrote it.
    pub run_id: String,
}

/// The dataset's manifest: the committed state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `trailscope-dataset`.
    pub format: String,
    /// The schema version of every data file.
    pub schema_version: u32,
    /// Runs, oldest first.
    pub runs: Vec<RunRecord>,
    /// Input files read completely, by source name.
    pub inputs: BTreeMap<String, InputRecord>,
    /// Committed data files.
    pub data_files: Vec<DataFile>,
    /// Input files that failed and have not been read completely since, by source name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed_inputs: BTreeMap<String, FailedInput>,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            format: FORMAT.into(),
            schema_version: SCHEMA_VERSION,
            runs: Vec::new(),
            inputs: BTreeMap::new(),
            data_files: Vec::new(),
            failed_inputs: BTreeMap::new(),
        }
    }
}

impl Manifest {
    /// Total rows in the committed data files.
    pub fn total_rows(&self) -> u64 {
        self.data_files.iter().map(|f| f.rows).sum()
    }

    /// Reads the manifest of the dataset at `root`, checking its format and version.
    pub fn load(root: &Path) -> Result<Manifest> {
        let path = root.join(META_DIR).join("manifest.json");
        let bytes = fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Manifest {
                    path: path.clone(),
                    message: format!(
                        "{} is not a trailscope dataset (no manifest)",
                        root.display()
                    ),
                }
            } else {
                Error::io(&path, e)
            }
        })?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if manifest.format != FORMAT {
            return Err(Error::Manifest {
                path,
                message: format!("unknown format '{}'", manifest.format),
            });
        }
        if manifest.schema_version != SCHEMA_VERSION {
            return Err(Error::SchemaVersion {
                path: root.to_path_buf(),
                found: manifest.schema_version,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(manifest)
    }

    /// Checks the format and schema version of a manifest read from elsewhere than a
    /// local dataset (an S3 commit); the message says what is wrong.
    pub fn check_format(&self) -> std::result::Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("unknown format '{}'", self.format));
        }
        if self.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "schema version {}; this build reads version {SCHEMA_VERSION} (re-ingest the trail into a new dataset)",
                self.schema_version
            ));
        }
        Ok(())
    }

    /// Reads the manifest and checks that the partitions hold exactly the committed data
    /// files, each of its committed size: what readers (`sql`, `export`) must see. An
    /// interrupted commit, a file added or removed by hand, or a truncated file is an
    /// error that names the file and the repair.
    pub fn load_checked(root: &Path) -> Result<Manifest> {
        let manifest = Manifest::load(root)?;
        manifest.check_files(root)?;
        Ok(manifest)
    }

    /// See [`Manifest::load_checked`].
    pub fn check_files(&self, root: &Path) -> Result<()> {
        let inconsistent = |message: String| Error::Manifest {
            path: root.join(META_DIR).join("manifest.json"),
            message,
        };
        if root.join(META_DIR).join("journal.json").exists() {
            return Err(inconsistent(
                "a commit is under way or was interrupted; `trailscope ingest --out` on this dataset (with any input) finishes it".into(),
            ));
        }
        let committed: BTreeMap<&str, u64> = self
            .data_files
            .iter()
            .map(|f| (f.path.as_str(), f.bytes))
            .collect();
        let mut seen = 0;
        for entry in fs::read_dir(root).map_err(|e| Error::io(root, e))? {
            let dir = entry.map_err(|e| Error::io(root, e))?.path();
            let name = dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if !name.starts_with(PARTITION_PREFIX) {
                continue;
            }
            for file in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
                let file = file.map_err(|e| Error::io(&dir, e))?;
                let relative = format!("{name}/{}", file.file_name().to_string_lossy());
                let size = file
                    .metadata()
                    .map_err(|e| Error::io(file.path(), e))?
                    .len();
                match committed.get(relative.as_str()) {
                    None => {
                        return Err(inconsistent(format!(
                            "{relative} is not a committed data file (left by an interrupted run, or added by hand): move it out of the dataset"
                        )));
                    }
                    Some(&bytes) if bytes != size => {
                        return Err(inconsistent(format!(
                            "{relative} is {size} bytes, committed as {bytes}: the file is damaged; restore it, or re-ingest the trail into a new dataset"
                        )));
                    }
                    Some(_) => seen += 1,
                }
            }
        }
        if seen != committed.len() {
            let missing = self
                .data_files
                .iter()
                .find(|f| !root.join(&f.path).is_file())
                .map_or_else(String::new, |f| f.path.clone());
            return Err(inconsistent(format!(
                "committed data file {missing} is missing: restore it, or re-ingest the trail into a new dataset"
            )));
        }
        Ok(())
    }

    /// Absolute paths of the committed data files.
    pub fn data_file_paths(&self, root: &Path) -> Vec<PathBuf> {
        self.data_files.iter().map(|f| root.join(&f.path)).collect()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    run_id: String,
    /// (from, to), relative to the dataset root.
    renames: Vec<(String, String)>,
    /// Data files to delete once the manifest no longer names them (compaction), relative
    /// to the dataset root.
    #[serde(default)]
    removes: Vec<String>,
    manifest: Manifest,
}

/// A dataset opened for writing: it holds the lock until dropped.
#[derive(Debug)]
pub struct DatasetWriter {
    root: PathBuf,
    manifest: Manifest,
    _lock: File,
}

impl DatasetWriter {
    /// Opens the dataset at `root` for writing, creating it if needed, and finishes or
    /// discards whatever an interrupted run left behind.
    pub fn open(root: &Path) -> Result<DatasetWriter> {
        create_private_dir(&root.join(META_DIR).join("keys"))?;
        let lock_path = root.join(META_DIR).join("lock");
        let mut options = fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let lock = options
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::Locked {
                    path: root.to_path_buf(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&lock_path, e)),
        }
        let manifest_path = root.join(META_DIR).join("manifest.json");
        let journal_path = root.join(META_DIR).join("journal.json");
        if journal_path.exists() {
            let bytes = fs::read(&journal_path).map_err(|e| Error::io(&journal_path, e))?;
            let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
                path: journal_path.clone(),
                message: format!("unreadable commit journal: {e}"),
            })?;
            apply_journal(root, &journal)?;
        }
        let staging = root.join(STAGING_DIR);
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        let manifest = if manifest_path.exists() {
            Manifest::load(root)?
        } else if holds_data(root)? {
            // Starting a new manifest would hide every committed event (their keys would
            // still make them duplicates): never do that silently.
            return Err(Error::Manifest {
                path: manifest_path,
                message: "is missing, but the dataset holds data files: restore it from a backup, or move the data away to start a new dataset".into(),
            });
        } else {
            let manifest = Manifest::default();
            write_atomic(&manifest_path, &to_json(&manifest))?;
            manifest
        };
        Ok(DatasetWriter {
            root: root.to_path_buf(),
            manifest,
            _lock: lock,
        })
    }

    /// The committed state.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The dataset root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The staging directory of a run (created).
    pub fn staging_dir(&self, run_id: &str) -> Result<PathBuf> {
        let dir = self.root.join(STAGING_DIR).join(run_id);
        create_private_dir(&dir)?;
        Ok(dir)
    }

    /// Commits a run: its data files, its key files and what it read.
    pub fn commit(
        &mut self,
        run: RunRecord,
        inputs: Vec<(String, InputRecord)>,
        failed: Vec<(String, FailedInput)>,
        files: &[StagedFile],
        key_files: &[PathBuf],
    ) -> Result<()> {
        let mut manifest = self.manifest.clone();
        let mut renames = self.add_data_files(&mut manifest, files, &run.run_id)?;
        for key_file in key_files {
            let name = key_file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            renames.push((self.relative(key_file)?, format!("{META_DIR}/keys/{name}")));
        }
        for (source, input) in inputs {
            manifest.failed_inputs.remove(&source);
            manifest.inputs.insert(source, input);
        }
        manifest.failed_inputs.extend(failed);
        let run_id = run.run_id.clone();
        manifest.runs.push(run);
        let journal = Journal {
            run_id,
            renames,
            removes: Vec::new(),
            manifest,
        };
        self.apply(journal)
    }

    /// Replaces committed data files by others holding the same rows (compaction): the
    /// staged `files` come in and `removed` (relative paths) go, in one commit.
    pub fn replace(
        &mut self,
        run_id: &str,
        files: &[StagedFile],
        removed: &[String],
    ) -> Result<()> {
        let mut manifest = self.manifest.clone();
        let before: u64 = manifest.total_rows();
        manifest.data_files.retain(|f| !removed.contains(&f.path));
        let renames = self.add_data_files(&mut manifest, files, run_id)?;
        if manifest.total_rows() != before {
            return Err(Error::Config(format!(
                "compaction would change the dataset's rows ({before} to {})",
                manifest.total_rows()
            )));
        }
        self.apply(Journal {
            run_id: run_id.to_string(),
            renames,
            removes: removed.to_vec(),
            manifest,
        })
    }

    /// Adds the staged `files` to `manifest` as written by `run_id`; returns their renames
    /// (staging to partition).
    fn add_data_files(
        &self,
        manifest: &mut Manifest,
        files: &[StagedFile],
        run_id: &str,
    ) -> Result<Vec<(String, String)>> {
        let mut renames = Vec::new();
        for file in files {
            renames.push((self.relative(&file.staged)?, file.relative.clone()));
            manifest.data_files.push(DataFile {
                path: file.relative.clone(),
                rows: file.rows,
                bytes: file.bytes,
                run_id: run_id.to_string(),
            });
        }
        Ok(renames)
    }

    /// Writes the journal, then performs it.
    fn apply(&mut self, journal: Journal) -> Result<()> {
        crash_point("before-journal");
        write_atomic(
            &self.root.join(META_DIR).join("journal.json"),
            &to_json(&journal),
        )?;
        crash_point("after-journal");
        apply_journal(&self.root, &journal)?;
        self.manifest = journal.manifest;
        Ok(())
    }

    fn relative(&self, path: &Path) -> Result<String> {
        path.strip_prefix(&self.root)
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|_| Error::Config(format!("{} is outside the dataset", path.display())))
    }
}

/// The prefix of a partition directory's name.
const PARTITION_PREFIX: &str = "event_date=";

/// Whether `root` holds partitions or event keys: a dataset, not a new directory.
fn holds_data(root: &Path) -> Result<bool> {
    let keys = root.join(META_DIR).join("keys");
    let any_key = fs::read_dir(&keys)
        .map_err(|e| Error::io(&keys, e))?
        .next()
        .is_some();
    let any_partition = fs::read_dir(root)
        .map_err(|e| Error::io(root, e))?
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(PARTITION_PREFIX)
        });
    Ok(any_key || any_partition)
}

/// Performs a journal's renames (those not done yet), installs its manifest, removes it.
fn apply_journal(root: &Path, journal: &Journal) -> Result<()> {
    let mut dirs = std::collections::BTreeSet::new();
    for (i, (from, to)) in journal.renames.iter().enumerate() {
        let (from, to) = (root.join(from), root.join(to));
        if from.exists() {
            if let Some(parent) = to.parent() {
                create_private_dir(parent)?;
                dirs.insert(parent.to_path_buf());
            }
            fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
        } else if !to.exists() {
            return Err(Error::Manifest {
                path: root.join(META_DIR).join("journal.json"),
                message: format!(
                    "commit journal names {} but neither copy exists",
                    to.display()
                ),
            });
        }
        if i == 0 {
            crash_point("after-first-rename");
        }
    }
    for dir in &dirs {
        sync_dir(dir)?;
    }
    crash_point("before-manifest");
    write_atomic(
        &root.join(META_DIR).join("manifest.json"),
        &to_json(&journal.manifest),
    )?;
    crash_point("after-manifest");
    let mut emptied = std::collections::BTreeSet::new();
    for (i, relative) in journal.removes.iter().enumerate() {
        let path = root.join(relative);
        match fs::remove_file(&path) {
            Ok(()) => {
                emptied.extend(path.parent().map(Path::to_path_buf));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        if i == 0 {
            crash_point("after-first-remove");
        }
    }
    for dir in &emptied {
        sync_dir(dir)?;
    }
    let journal_path = root.join(META_DIR).join("journal.json");
    fs::remove_file(&journal_path).map_err(|e| Error::io(&journal_path, e))?;
    let staging = root.join(STAGING_DIR).join(&journal.run_id);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    }
    // Gone when no other run's files are in it (the lock makes that the usual case).
    let _ = fs::remove_dir(root.join(STAGING_DIR));
    Ok(())
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec_pretty(value).expect("manifest types serialize")
}

/// Test hooks: `TRAILSCOPE_CRASH_AT=<point>` aborts the process at that point of a commit,
/// as `kill -9` would, so the crash-safety tests can hit every step deterministically.
pub(crate) fn crash_point(point: &str) {
    if std::env::var_os("TRAILSCOPE_CRASH_AT").is_some_and(|p| p == point) {
        std::process::abort();
    }
    // Test hook: `TRAILSCOPE_WAIT_AT=<point>` holds the process there until the file
    // `TRAILSCOPE_WAIT_FOR` exists (at most a minute), so that a test can let another
    // writer commit in between.
    if std::env::var_os("TRAILSCOPE_WAIT_AT").is_some_and(|p| p == point)
        && let Some(file) = std::env::var_os("TRAILSCOPE_WAIT_FOR")
    {
        let started = std::time::Instant::now();
        while !Path::new(&file).exists() && started.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_dataset_has_an_empty_manifest_and_a_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let writer = DatasetWriter::open(tmp.path()).unwrap();
        assert_eq!(writer.manifest().total_rows(), 0);
        assert!(matches!(
            DatasetWriter::open(tmp.path()),
            Err(Error::Locked { .. })
        ));
        drop(writer);
        assert!(DatasetWriter::open(tmp.path()).is_ok());
        assert!(Manifest::load(tmp.path()).is_ok());
    }

    #[test]
    fn a_directory_without_manifest_is_not_a_dataset() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Manifest::load(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("not a trailscope dataset"), "{err}");
    }

    #[test]
    fn another_schema_version_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        drop(DatasetWriter::open(tmp.path()).unwrap());
        let path = tmp.path().join(META_DIR).join("manifest.json");
        let text = fs::read_to_string(&path).unwrap();
        let text = text.replace(
            &format!("\"schema_version\": {SCHEMA_VERSION}"),
            "\"schema_version\": 999",
        );
        fs::write(&path, text).unwrap();
        assert!(matches!(
            Manifest::load(tmp.path()),
            Err(Error::SchemaVersion { found: 999, .. })
        ));
    }
}
