//! Trails and datasets on S3 (feature `s3`), through the `object_store` crate DataFusion
//! itself reads with: `s3://bucket/prefix` URLs, the standard AWS credential chain of
//! environment variables, web identity, ECS and EC2 instance credentials (object_store's
//! `AmazonS3Builder::from_env`), and an endpoint for S3-compatible stores.

mod dataset;
mod inputs;

use std::future::Future;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;

use crate::error::{Error, Result};

pub use dataset::{COMMITS_DIR, Publication, S3Dataset};
pub use inputs::S3Inputs;

/// How to reach S3.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// An S3-compatible endpoint (`http://127.0.0.1:9000`) in place of AWS's; `AWS_ENDPOINT`
    /// also sets it.
    pub endpoint: Option<String>,
}

/// An `s3://bucket/prefix` URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key prefix, without leading or trailing `/` (may be empty).
    pub prefix: String,
}

impl S3Url {
    /// Whether `text` names an S3 location (`s3://...`).
    pub fn is_s3(text: &str) -> bool {
        text.starts_with("s3://")
    }

    /// Parses `s3://bucket[/prefix]`.
    pub fn parse(text: &str) -> Result<S3Url> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| Error::Config(format!("{text} is not an s3:// URL")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::Config(format!("{text} names no bucket")));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    /// The prefix as an object path.
    pub fn path(&self) -> ObjectPath {
        ObjectPath::from(self.prefix.as_str())
    }

    /// `s3://bucket` (what a store is registered under).
    pub fn bucket_url(&self) -> String {
        format!("s3://{}", self.bucket)
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// The store of one bucket: credentials and region from the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
/// `AWS_WEB_IDENTITY_TOKEN_FILE`, container and instance credentials), `options.endpoint`
/// or `AWS_ENDPOINT` for another S3 API. Conditional puts use `If-None-Match`, which S3
/// has honoured since 2024.
pub fn bucket_store(url: &S3Url, options: &S3Options) -> Result<Arc<dyn ObjectStore>> {
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(&url.bucket);
    let endpoint = options
        .endpoint
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT").ok())
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
    if let Some(endpoint) = endpoint {
        builder = builder.with_endpoint(&endpoint);
        if endpoint.starts_with("http://") {
            builder = builder.with_allow_http(true);
        }
    }
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        builder = builder.with_region("us-east-1");
    }
    let store = builder.build().map_err(|e| s3_error(url, e))?;
    Ok(Arc::new(store))
}

/// An object store error as this crate's, naming the location.
pub(crate) fn s3_error(location: impl std::fmt::Display, error: impl std::fmt::Display) -> Error {
    Error::Remote {
        location: location.to_string(),
        message: error.to_string(),
    }
}

/// The tokio runtime the S3 calls of one command run on (ingest itself is not async).
#[derive(Debug, Clone)]
pub(crate) struct Runtime(Arc<tokio::runtime::Runtime>);

impl Runtime {
    pub(crate) fn new() -> Result<Runtime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("trailscope-s3")
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("cannot start the S3 client's threads: {e}")))?;
        Ok(Runtime(Arc::new(runtime)))
    }

    /// Runs `future` to its end from a thread outside the runtime.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        self.0.handle()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_split_into_bucket_and_prefix() {
        let url = S3Url::parse("s3://trails/AWSLogs/111/").unwrap();
        assert_eq!(url.bucket, "trails");
        assert_eq!(url.prefix, "AWSLogs/111");
        assert_eq!(url.to_string(), "s3://trails/AWSLogs/111");
        assert_eq!(S3Url::parse("s3://lake").unwrap().prefix, "");
        assert!(S3Url::parse("s3:///x").is_err());
        assert!(S3Url::parse("/local/path").is_err());
        assert!(S3Url::is_s3("s3://b") && !S3Url::is_s3("./s3"));
    }
}
