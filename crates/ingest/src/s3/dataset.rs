//! A dataset on S3, committed without rename.
//!
//! ```text
//! s3://bucket/lake/
//!   event_date=2024-01-02/part-<run>-00001.parquet      data, uploaded before its commit
//!   _trailscope/keys/<run>-w0.keys                      dedupe keys, likewise
//!   _trailscope/commits/00000000000000000007.json       commit 7: the manifest, the key files
//! ```
//!
//! S3 has no rename, so a commit is the creation of the next numbered commit object with a
//! conditional put (`If-None-Match: *`): of two writers that start from commit 6, exactly
//! one creates commit 7, and the other gets an error and commits nothing. Every file a
//! commit names is uploaded, under a name no other run uses, before the commit is put.
//! Readers take the highest commit and read exactly the files it names, so the files of a
//! run that died before its commit (or lost the race) are never seen, and the next run
//! starts from the last commit as if they did not exist. They are left where they are
//! (a concurrent writer's files look the same until its commit lands).
//!
//! A writer works in a local directory: [`S3Dataset::checkout`] puts the last commit's
//! manifest and key files there, ingest runs into it as into any local dataset, and
//! [`Publication::publish`] uploads what each of its commits (checkpoints) added and puts
//! the next commit object.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use super::inputs::list_all;
use super::{Runtime, S3Options, S3Url, bucket_store, s3_error};
use crate::dataset::{META_DIR, Manifest, crash_point};
use crate::error::{Error, Result};

/// Where the commit objects are, under the dataset's prefix.
pub const COMMITS_DIR: &str = "_trailscope/commits";

/// Uploads at once.
const UPLOAD_CONCURRENCY: usize = 4;

/// One commit object: the manifest as of this commit and the key files it includes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    /// The committed state, as a local dataset's `manifest.json`.
    pub manifest: Manifest,
    /// The dedupe key files of the committed events, by name under `_trailscope/keys/`.
    pub key_files: Vec<String>,
}

/// A dataset at an `s3://` prefix.
#[derive(Debug, Clone)]
pub struct S3Dataset {
    url: S3Url,
    store: Arc<dyn ObjectStore>,
}

impl S3Dataset {
    /// The dataset at `url` (nothing is read yet).
    pub fn new(url: &S3Url, options: &S3Options) -> Result<S3Dataset> {
        Ok(S3Dataset {
            url: url.clone(),
            store: bucket_store(url, options)?,
        })
    }

    /// The dataset at `url` in `store` (its bucket's).
    pub fn with_store(url: &S3Url, store: Arc<dyn ObjectStore>) -> S3Dataset {
        S3Dataset {
            url: url.clone(),
            store,
        }
    }

    /// Where it is.
    pub fn url(&self) -> &S3Url {
        &self.url
    }

    /// The store of its bucket (for readers to register).
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// An object of the dataset by its path relative to the dataset's prefix.
    pub fn object(&self, relative: &str) -> ObjectPath {
        if self.url.prefix.is_empty() {
            ObjectPath::from(relative)
        } else {
            ObjectPath::from(format!("{}/{relative}", self.url.prefix))
        }
    }

    /// The highest commit's number and contents; `None` for a dataset never committed to.
    pub async fn latest(&self) -> Result<Option<(u64, Commit)>> {
        let commits = list_all(self.store.as_ref(), &self.object(COMMITS_DIR)).await?;
        let Some(number) = commits
            .iter()
            .filter_map(|meta| commit_number(meta.location.filename()?))
            .max()
        else {
            return Ok(None);
        };
        let path = self.object(&commit_name(number));
        let bytes = self.read(&path).await?;
        let commit: Commit = serde_json::from_slice(&bytes).map_err(|e| Error::Remote {
            location: self.location(&path),
            message: format!("unreadable commit: {e}"),
        })?;
        commit
            .manifest
            .check_format()
            .map_err(|message| Error::Remote {
                location: self.location(&path),
                message,
            })?;
        Ok(Some((number, commit)))
    }

    /// Prepares `work` (an empty local directory) for a run: the last commit's manifest
    /// and key files, so that ingest reads only new input and drops events already stored.
    /// The returned publication uploads what the run commits there.
    pub fn checkout(&self, work: &Path) -> Result<Publication> {
        let runtime = Runtime::new()?;
        let latest = runtime.block_on(self.latest())?;
        let meta = work.join(META_DIR);
        let keys = meta.join("keys");
        std::fs::create_dir_all(&keys).map_err(|e| Error::io(&keys, e))?;
        let mut published = BTreeSet::new();
        let base = match latest {
            None => 0,
            Some((number, commit)) => {
                let manifest_path = meta.join("manifest.json");
                let json =
                    serde_json::to_vec_pretty(&commit.manifest).expect("manifest types serialize");
                std::fs::write(&manifest_path, json).map_err(|e| Error::io(&manifest_path, e))?;
                let downloads: Vec<(ObjectPath, PathBuf)> = commit
                    .key_files
                    .iter()
                    .map(|name| {
                        (
                            self.object(&format!("{META_DIR}/keys/{name}")),
                            keys.join(name),
                        )
                    })
                    .collect();
                runtime.block_on(self.download_all(downloads))?;
                published.extend(commit.manifest.data_files.iter().map(|f| f.path.clone()));
                published.extend(
                    commit
                        .key_files
                        .iter()
                        .map(|k| format!("{META_DIR}/keys/{k}")),
                );
                number
            }
        };
        Ok(Publication {
            dataset: self.clone(),
            runtime,
            state: Mutex::new(Published {
                number: base,
                files: published,
            }),
        })
    }

    async fn download_all(&self, files: Vec<(ObjectPath, PathBuf)>) -> Result<()> {
        use futures_util::{StreamExt, TryStreamExt, stream};
        stream::iter(files)
            .map(|(from, to)| async move {
                let bytes = self.read(&from).await?;
                std::fs::write(&to, &bytes).map_err(|e| Error::io(&to, e))
            })
            .buffer_unordered(UPLOAD_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn upload_all(&self, work: &Path, relatives: Vec<String>) -> Result<()> {
        use futures_util::{StreamExt, TryStreamExt, stream};
        stream::iter(relatives.into_iter().enumerate())
            .map(|(i, relative)| async move {
                let local = work.join(&relative);
                let bytes = tokio::fs::read(&local)
                    .await
                    .map_err(|e| Error::io(&local, e))?;
                let to = self.object(&relative);
                self.store
                    .put(&to, PutPayload::from(bytes))
                    .await
                    .map_err(|e| s3_error(self.location(&to), e))?;
                if i == 0 {
                    crash_point("s3-after-first-upload");
                }
                Ok::<_, Error>(())
            })
            .buffer_unordered(UPLOAD_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// Creates commit `number`, failing if it exists (another writer's).
    async fn put_commit(&self, number: u64, commit: &Commit) -> Result<()> {
        let path = self.object(&commit_name(number));
        let json = serde_json::to_vec_pretty(commit).expect("manifest types serialize");
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self
            .store
            .put_opts(&path, PutPayload::from(json), options)
            .await
        {
            Ok(_) => Ok(()),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Err(Error::Remote {
                location: self.url.to_string(),
                message: format!(
                    "another writer committed {} first: this run's files were uploaded but not committed (readers do not see them); run the ingest again",
                    commit_name(number)
                ),
            }),
            Err(e) => Err(s3_error(self.location(&path), e)),
        }
    }

    /// One object's bytes.
    async fn read(&self, path: &ObjectPath) -> Result<Vec<u8>> {
        let fail = |e: object_store::Error| s3_error(self.location(path), e);
        let result = self.store.get(path).await.map_err(fail)?;
        Ok(Vec::from(result.bytes().await.map_err(fail)?))
    }

    fn location(&self, path: &ObjectPath) -> String {
        format!("s3://{}/{path}", self.url.bucket)
    }
}

/// What has been committed to S3 so far by this writer.
#[derive(Debug)]
struct Published {
    number: u64,
    /// Data and key files the last commit names, relative to the dataset.
    files: BTreeSet<String>,
}

/// Publishes the commits of a local run to an [`S3Dataset`], each as the next commit.
#[derive(Debug)]
pub struct Publication {
    dataset: S3Dataset,
    runtime: Runtime,
    state: Mutex<Published>,
}

impl Publication {
    /// Uploads the data and key files the local dataset `work` has committed since the
    /// last publication, then creates the next commit object naming everything. Uploaded
    /// data files are then removed from `work`, so that it never holds more than one
    /// checkpoint's data.
    pub fn publish(&self, work: &Path) -> Result<u64> {
        let manifest = Manifest::load(work)?;
        let keys_dir = work.join(META_DIR).join("keys");
        let mut key_files: Vec<String> = std::fs::read_dir(&keys_dir)
            .map_err(|e| Error::io(&keys_dir, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        key_files.sort();
        let mut state = self.state.lock().expect("not poisoned");
        let mut new: Vec<String> = manifest
            .data_files
            .iter()
            .map(|f| f.path.clone())
            .chain(key_files.iter().map(|k| format!("{META_DIR}/keys/{k}")))
            .filter(|relative| !state.files.contains(relative))
            .collect();
        new.sort();
        self.runtime
            .block_on(self.dataset.upload_all(work, new.clone()))?;
        crash_point("s3-before-commit");
        let number = state.number + 1;
        let commit = Commit {
            manifest,
            key_files,
        };
        self.runtime
            .block_on(self.dataset.put_commit(number, &commit))?;
        state.number = number;
        for relative in new {
            if !relative.starts_with(META_DIR) {
                let _ = std::fs::remove_file(work.join(&relative));
            }
            state.files.insert(relative);
        }
        Ok(number)
    }
}

impl crate::run::Publisher for Publication {
    fn publish(&self, work: &Path) -> Result<()> {
        Publication::publish(self, work).map(|_| ())
    }
}

/// `_trailscope/commits/<number, 20 digits>.json`: names sort as numbers.
fn commit_name(number: u64) -> String {
    format!("{COMMITS_DIR}/{number:020}.json")
}

fn commit_number(file_name: &str) -> Option<u64> {
    let digits = file_name.strip_suffix(".json")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_names_sort_as_their_numbers() {
        assert_eq!(
            commit_name(7),
            "_trailscope/commits/00000000000000000007.json"
        );
        assert!(commit_name(9) < commit_name(10));
        assert_eq!(commit_number("00000000000000000010.json"), Some(10));
        assert_eq!(commit_number("10.json"), None);
        assert_eq!(commit_number("00000000000000000010.json.tmp"), None);
    }
}
