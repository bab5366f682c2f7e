//! Trail files under an S3 prefix: listed level by level (so that `--since` skips whole
//! delivery-day prefixes unlisted) and fetched a bounded number ahead of the workers.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_util::{StreamExt, TryStreamExt, stream};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use super::{Runtime, S3Options, S3Url, bucket_store, s3_error};
use crate::delivery::delivered_before;
use crate::discover::{Discovery, FileKind, InputFile, classify, sort_for_reading};
use crate::error::Result;
use crate::run::{FetchQueue, RemoteInputs};

/// Prefixes listed at once.
const LIST_CONCURRENCY: usize = 16;
/// Objects being fetched at once; with the fetched ones waiting for a worker, at most
/// twice this many files are in memory.
const FETCH_AHEAD: usize = 16;

/// The trail files under one or more `s3://` prefixes of one bucket each.
#[derive(Debug)]
pub struct S3Inputs {
    prefixes: Vec<(S3Url, Arc<dyn ObjectStore>)>,
    runtime: Runtime,
}

impl S3Inputs {
    /// Inputs under `urls` (each `s3://bucket/prefix`).
    pub fn new(urls: &[S3Url], options: &S3Options) -> Result<S3Inputs> {
        let prefixes = urls
            .iter()
            .map(|url| Ok((url.clone(), bucket_store(url, options)?)))
            .collect::<Result<_>>()?;
        Ok(S3Inputs {
            prefixes,
            runtime: Runtime::new()?,
        })
    }
}

impl RemoteInputs for S3Inputs {
    fn discover(&self, since_day: Option<i64>) -> Result<Discovery> {
        let mut found = Discovery::default();
        let mut names = HashSet::new();
        for (store_index, (url, store)) in self.prefixes.iter().enumerate() {
            let objects =
                self.runtime
                    .block_on(list_pruned(store.as_ref(), url, since_day, &mut found))?;
            for (key, size, modified) in objects {
                match classify(Path::new(&key), false) {
                    FileKind::Digest => found.digest_files += 1,
                    FileKind::Insight => found.insight_files += 1,
                    FileKind::Other => found.other_files.push(format!("{url}/{key}").into()),
                    FileKind::Trail => {
                        let mut source = source_name(&key, &url.prefix);
                        if !names.insert(source.clone()) {
                            // The same name under two prefixes: the full URL tells them apart.
                            source = format!("s3://{}/{key}", url.bucket);
                            names.insert(source.clone());
                        }
                        // Its path: which store (the prefix's index), then the key.
                        found.files.push(InputFile::new(
                            format!("{store_index}/{key}").into(),
                            &source,
                            size,
                            modified,
                        ));
                    }
                }
            }
        }
        sort_for_reading(&mut found.files);
        Ok(found)
    }

    fn fetch(&self, files: &[InputFile]) -> Box<dyn FetchQueue> {
        let requests: Vec<(usize, Arc<dyn ObjectStore>, ObjectPath)> = files
            .iter()
            .enumerate()
            .map(|(index, file)| {
                let text = file.path().to_string_lossy();
                let (store, key) = text.split_once('/').unwrap_or(("0", &text));
                let store = store.parse::<usize>().unwrap_or(0);
                (
                    index,
                    self.prefixes[store].1.clone(),
                    ObjectPath::from(key.to_string()),
                )
            })
            .collect();
        let (sender, receiver) = tokio::sync::mpsc::channel(FETCH_AHEAD);
        let task = self.runtime.handle().spawn(async move {
            // The futures are made up front (unstarted): a stream of closures that make
            // them does not pass tokio's `'static` bound on the spawned task.
            let pending: Vec<_> = requests.into_iter().map(fetch_one).collect();
            let mut fetched = stream::iter(pending).buffered(FETCH_AHEAD);
            while let Some(item) = fetched.next().await {
                if sender.send(item).await.is_err() {
                    break;
                }
            }
        });
        Box::new(Fetching {
            receiver: Mutex::new(receiver),
            task,
        })
    }
}

/// Fetches one object whole: (its index, its bytes).
async fn fetch_one(
    (index, store, key): (usize, Arc<dyn ObjectStore>, ObjectPath),
) -> (usize, std::io::Result<Vec<u8>>) {
    let bytes = match store.get(&key).await {
        // `Vec::from` takes the buffer over when nothing else holds it: no copy.
        Ok(result) => result.bytes().await.map(Vec::from),
        Err(e) => Err(e),
    };
    (index, bytes.map_err(std::io::Error::other))
}

/// Objects fetched in the background, handed to the workers in order.
struct Fetching {
    receiver: Mutex<tokio::sync::mpsc::Receiver<(usize, std::io::Result<Vec<u8>>)>>,
    task: tokio::task::JoinHandle<()>,
}

impl FetchQueue for Fetching {
    fn next(&self) -> Option<(usize, std::io::Result<Vec<u8>>)> {
        // Held only while a fetched file is taken, once per file.
        self.receiver.lock().expect("not poisoned").blocking_recv()
    }
}

impl Drop for Fetching {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every object under `url` (key, size, last modified in nanoseconds), listing one level
/// at a time, prefixes in parallel, and leaving out the delivery-day prefixes delivered
/// before `since_day` (counted in `found`).
async fn list_pruned(
    store: &dyn ObjectStore,
    url: &S3Url,
    since_day: Option<i64>,
    found: &mut Discovery,
) -> Result<Vec<(String, u64, Option<i64>)>> {
    let mut objects = Vec::new();
    let mut level = vec![url.path()];
    while !level.is_empty() {
        let listed: Vec<_> = stream::iter(level.drain(..))
            .map(|prefix| async move {
                let listed = store.list_with_delimiter(Some(&prefix)).await;
                (prefix, listed)
            })
            .buffer_unordered(LIST_CONCURRENCY)
            .collect()
            .await;
        for (prefix, listed) in listed {
            let listed = match listed {
                Ok(listed) => listed,
                Err(e) => {
                    found.unreadable_dirs.push((
                        format!("s3://{}/{prefix}", url.bucket).into(),
                        e.to_string(),
                    ));
                    continue;
                }
            };
            for object in listed.objects {
                let modified = object.last_modified.timestamp_nanos_opt();
                objects.push((object.location.to_string(), object.size, modified));
            }
            for child in listed.common_prefixes {
                if since_day.is_some_and(|day| delivered_before(child.as_ref().split('/'), day)) {
                    found.folders_before_since += 1;
                } else {
                    level.push(child);
                }
            }
        }
    }
    objects.sort();
    Ok(objects)
}

/// The stable name of an object: its key from the `AWSLogs` component on, as a local sync
/// of the bucket would name it, else the key relative to the listed prefix.
fn source_name(key: &str, prefix: &str) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    if let Some(at) = parts.iter().rposition(|p| *p == "AWSLogs") {
        return parts[at..].join("/");
    }
    key.strip_prefix(prefix)
        .map(|rest| rest.trim_start_matches('/'))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(key)
        .to_string()
}

/// Lists every object under `prefix` (for the dataset's commits and keys).
pub(super) async fn list_all(
    store: &dyn ObjectStore,
    prefix: &ObjectPath,
) -> Result<Vec<object_store::ObjectMeta>> {
    store
        .list(Some(prefix))
        .try_collect()
        .await
        .map_err(|e| s3_error(prefix, e))
}

#[cfg(test)]
mod tests {
    use super::source_name;

    #[test]
    fn objects_are_named_from_awslogs_on() {
        assert_eq!(
            source_name(
                "org/AWSLogs/111/CloudTrail/eu-west-1/2026/01/02/x.json.gz",
                "org"
            ),
            "AWSLogs/111/CloudTrail/eu-west-1/2026/01/02/x.json.gz"
        );
        assert_eq!(source_name("exports/a/b.json", "exports"), "a/b.json");
        assert_eq!(source_name("b.json", ""), "b.json");
    }
}
