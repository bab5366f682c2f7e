//! Opening a dataset on S3 (`-d s3://bucket/lake`, feature `s3`): the session reads
//! exactly the data files of the dataset's last commit
//! ([`trailscope_ingest::s3::S3Dataset`]), never what a crashed or concurrent run left.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::prelude::SessionContext;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use trailscope_ingest::Manifest;
use trailscope_ingest::s3::S3Dataset;

use crate::session::{QueryOptions, new_session, register_dataset};
use crate::{Error, Result};

/// The manifest of the dataset's last commit, or [`Error::Empty`] when it holds no events.
pub(crate) async fn committed_manifest(dataset: &S3Dataset) -> Result<Manifest> {
    let empty = || Error::Empty(dataset.url().to_string());
    let Some((_, commit)) = dataset.latest().await? else {
        return Err(empty());
    };
    if commit.manifest.data_files.is_empty() {
        return Err(empty());
    }
    Ok(commit.manifest)
}

/// Opens the dataset at `dataset` as [`crate::open_session`] opens a local one.
pub async fn open_s3_session(
    dataset: &S3Dataset,
    options: &QueryOptions,
) -> Result<SessionContext> {
    let manifest = committed_manifest(dataset).await?;
    let url = dataset.url().to_string();
    let ctx = new_session(options)?;
    let store_url = ObjectStoreUrl::parse(dataset.url().bucket_url())?;
    ctx.register_object_store(store_url.as_ref(), committed_files(dataset, &manifest));
    register_dataset(&ctx, &format!("{url}/"), options).await?;
    Ok(ctx)
}

/// Object stores for `s3://` URLs made on demand, each listing only the committed data
/// files of the dataset a listing is under: what a cluster's scheduler and executors
/// read an S3 dataset through (credentials and endpoint from their environment).
#[derive(Debug, Default)]
pub struct CommittedStores {
    stores: std::sync::RwLock<std::collections::HashMap<String, Arc<dyn ObjectStore>>>,
}

impl datafusion::execution::object_store::ObjectStoreRegistry for CommittedStores {
    fn register_store(
        &self,
        url: &url::Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        let key = format!("{}://{}", url.scheme(), url.authority());
        self.stores
            .write()
            .expect("not poisoned")
            .insert(key, store)
    }

    fn get_store(&self, url: &url::Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        let key = format!("{}://{}", url.scheme(), url.authority());
        if let Some(store) = self.stores.read().expect("not poisoned").get(&key) {
            return Ok(store.clone());
        }
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "file" => Arc::new(object_store::local::LocalFileSystem::new()),
            "s3" => {
                let bucket = trailscope_ingest::s3::S3Url::parse(&key)
                    .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
                let inner = trailscope_ingest::s3::bucket_store(&bucket, &Default::default())
                    .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
                Arc::new(CommittedListing { bucket, inner })
            }
            other => {
                return Err(datafusion::error::DataFusionError::Configuration(format!(
                    "no object store for {other}:// URLs"
                )));
            }
        };
        self.stores
            .write()
            .expect("not poisoned")
            .insert(key, store.clone());
        Ok(store)
    }
}

/// A bucket whose listings under a dataset (the prefix before `event_date=`) give only
/// the files its last commit names, read from the commit at each listing.
#[derive(Debug, Clone)]
struct CommittedListing {
    bucket: trailscope_ingest::s3::S3Url,
    inner: Arc<dyn ObjectStore>,
}

impl CommittedListing {
    async fn committed(&self, prefix: Option<&ObjectPath>) -> object_store::Result<CommittedFiles> {
        let root: Vec<&str> = prefix
            .map(|p| {
                p.as_ref()
                    .split('/')
                    .take_while(|part| !part.starts_with("event_date="))
                    .collect()
            })
            .unwrap_or_default();
        let url = trailscope_ingest::s3::S3Url {
            bucket: self.bucket.bucket.clone(),
            prefix: root.join("/"),
        };
        let dataset = S3Dataset::with_store(&url, self.inner.clone());
        let generic = |e: trailscope_ingest::Error| object_store::Error::Generic {
            store: "trailscope",
            source: Box::new(e),
        };
        let manifest = match dataset.latest().await.map_err(generic)? {
            Some((_, commit)) => commit.manifest,
            None => Manifest::default(),
        };
        Ok(CommittedFiles::new(&dataset, &manifest))
    }
}

impl fmt::Display for CommittedListing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "committed files of {}", self.bucket)
    }
}

#[async_trait]
impl ObjectStore for CommittedListing {
    async fn put_opts(
        &self,
        location: &ObjectPath,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &ObjectPath,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &ObjectPath,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<ObjectPath>>,
    ) -> BoxStream<'static, object_store::Result<ObjectPath>> {
        self.inner.delete_stream(locations)
    }

    fn list(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let prefix = prefix.cloned();
        let this = self.clone();
        stream::once(async move {
            let committed = this.committed(prefix.as_ref()).await?;
            Ok::<_, object_store::Error>(committed.list(prefix.as_ref()))
        })
        .try_flatten()
        .boxed()
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> object_store::Result<ListResult> {
        self.committed(prefix)
            .await?
            .list_with_delimiter(prefix)
            .await
    }

    async fn copy_opts(
        &self,
        from: &ObjectPath,
        to: &ObjectPath,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

/// The store a session reads `dataset` through: only the files `manifest` names.
pub(crate) fn committed_files(dataset: &S3Dataset, manifest: &Manifest) -> Arc<dyn ObjectStore> {
    Arc::new(CommittedFiles::new(dataset, manifest))
}

/// A read-only view of a bucket that lists only the committed data files of one dataset
/// (from its manifest, without listing the bucket) and reads through to the bucket.
#[derive(Debug)]
struct CommittedFiles {
    inner: Arc<dyn ObjectStore>,
    /// Sorted by location.
    objects: Vec<ObjectMeta>,
}

impl CommittedFiles {
    fn new(dataset: &S3Dataset, manifest: &Manifest) -> CommittedFiles {
        let committed_at = |run_id: &str| {
            manifest
                .runs
                .iter()
                .find(|run| run.run_id == run_id)
                .and_then(|run| DateTime::parse_from_rfc3339(&run.committed).ok())
                .map_or(DateTime::<Utc>::UNIX_EPOCH, |t| t.to_utc())
        };
        let mut objects: Vec<ObjectMeta> = manifest
            .data_files
            .iter()
            .map(|file| ObjectMeta {
                location: dataset.object(&file.path),
                last_modified: committed_at(&file.run_id),
                size: file.bytes,
                e_tag: None,
                version: None,
            })
            .collect();
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        CommittedFiles {
            inner: dataset.store(),
            objects,
        }
    }

    fn under<'a>(&'a self, prefix: Option<&'a ObjectPath>) -> impl Iterator<Item = &'a ObjectMeta> {
        self.objects
            .iter()
            .filter(move |o| prefix.is_none_or(|p| o.location.prefix_matches(p)))
    }
}

impl fmt::Display for CommittedFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "committed files of {}", self.inner)
    }
}

fn read_only(operation: &str) -> object_store::Error {
    object_store::Error::NotImplemented {
        operation: operation.to_string(),
        implementer: "trailscope's read-only view of a dataset".to_string(),
    }
}

#[async_trait]
impl ObjectStore for CommittedFiles {
    async fn put_opts(
        &self,
        _location: &ObjectPath,
        _payload: PutPayload,
        _opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        Err(read_only("put"))
    }

    async fn put_multipart_opts(
        &self,
        _location: &ObjectPath,
        _opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Err(read_only("put_multipart"))
    }

    async fn get_opts(
        &self,
        location: &ObjectPath,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<ObjectPath>>,
    ) -> BoxStream<'static, object_store::Result<ObjectPath>> {
        locations.map(|_| Err(read_only("delete"))).boxed()
    }

    fn list(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let listed: Vec<_> = self.under(prefix).cloned().map(Ok).collect();
        stream::iter(listed).boxed()
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> object_store::Result<ListResult> {
        let depth = prefix.map_or(0, |p| p.parts().count());
        let mut common_prefixes: Vec<ObjectPath> = Vec::new();
        let mut objects = Vec::new();
        for object in self.under(prefix) {
            let parts: Vec<_> = object.location.parts().collect();
            if parts.len() == depth + 1 {
                objects.push(object.clone());
            } else {
                let child = ObjectPath::from_iter(parts[..=depth].iter().cloned());
                if common_prefixes.last() != Some(&child) {
                    common_prefixes.push(child);
                }
            }
        }
        Ok(ListResult {
            common_prefixes,
            objects,
        })
    }

    async fn copy_opts(
        &self,
        _from: &ObjectPath,
        _to: &ObjectPath,
        _options: CopyOptions,
    ) -> object_store::Result<()> {
        Err(read_only("copy"))
    }
}
