//! `s3://` trails and datasets (feature `s3`): the glue between the arguments and the
//! libraries' S3 support. Built without the feature, an `s3://` argument is an error that
//! says so.

use std::path::Path;

use datafusion::prelude::SessionContext;
use trailscope_ingest::{IngestOptions, Manifest};
use trailscope_query::QueryOptions;

/// Whether a path argument is an `s3://` URL.
pub fn is_s3(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.starts_with("s3://"))
}

/// Where and how to reach an S3 dataset.
#[derive(Debug, Clone)]
pub struct RemoteDataset {
    pub url: String,
    pub endpoint: Option<String>,
}

#[cfg(feature = "s3")]
mod enabled {
    use std::sync::Arc;

    use anyhow::{Context, bail};
    use trailscope_ingest::s3::{S3Dataset, S3Inputs, S3Options, S3Url};

    use super::*;

    fn s3_options(endpoint: &Option<String>) -> S3Options {
        S3Options {
            endpoint: endpoint.clone(),
        }
    }

    /// The S3 dataset `remote` names.
    pub fn s3_dataset(remote: &RemoteDataset) -> anyhow::Result<S3Dataset> {
        let url = S3Url::parse(&remote.url)?;
        Ok(S3Dataset::new(&url, &s3_options(&remote.endpoint))?)
    }

    /// The query session over an S3 dataset's last commit.
    pub async fn open_session(
        remote: &RemoteDataset,
        query: &QueryOptions,
    ) -> anyhow::Result<SessionContext> {
        let dataset = s3_dataset(remote)?;
        Ok(trailscope_query::s3::open_s3_session(&dataset, query).await?)
    }

    /// The manifest of an S3 dataset's last commit.
    pub async fn manifest(remote: &RemoteDataset) -> anyhow::Result<Manifest> {
        let dataset = s3_dataset(remote)?;
        match dataset.latest().await? {
            Some((_, commit)) => Ok(commit.manifest),
            None => bail!("{} is not a trailscope dataset (no commit)", remote.url),
        }
    }

    /// Points `options` at S3 where the arguments are `s3://` URLs: the inputs are listed
    /// and fetched from S3, and an `s3://` dataset is written through a local working
    /// copy in a temporary directory (returned, to be kept until the run ends).
    pub fn prepare_ingest(
        options: &mut IngestOptions,
        out: Option<&RemoteDataset>,
        endpoint: &Option<String>,
    ) -> anyhow::Result<Option<tempfile::TempDir>> {
        let remote_inputs = options.inputs.iter().filter(|p| is_s3(p)).count();
        if remote_inputs > 0 {
            if remote_inputs != options.inputs.len() {
                bail!("the inputs are either all s3:// URLs or all local paths");
            }
            let urls = options
                .inputs
                .iter()
                .map(|p| S3Url::parse(&p.to_string_lossy()))
                .collect::<Result<Vec<_>, _>>()?;
            options.remote = Some(Arc::new(S3Inputs::new(&urls, &s3_options(endpoint))?));
            options.inputs.clear();
        }
        let Some(out) = out else {
            return Ok(None);
        };
        let work = tempfile::Builder::new()
            .prefix("trailscope-s3-")
            .tempdir()
            .context("cannot create the local working copy of the S3 dataset")?;
        let publication = s3_dataset(out)?.checkout(work.path())?;
        options.dataset = work.path().to_path_buf();
        options.publish = Some(Arc::new(publication));
        Ok(Some(work))
    }
}

#[cfg(not(feature = "s3"))]
mod enabled {
    use anyhow::bail;

    use super::*;

    const NO_S3: &str = "this trailscope was built without S3 support (cargo feature `s3`)";

    pub async fn open_session(
        _remote: &RemoteDataset,
        _query: &QueryOptions,
    ) -> anyhow::Result<SessionContext> {
        bail!(NO_S3)
    }

    pub async fn manifest(_remote: &RemoteDataset) -> anyhow::Result<Manifest> {
        bail!(NO_S3)
    }

    pub fn prepare_ingest(
        options: &mut IngestOptions,
        out: Option<&RemoteDataset>,
        _endpoint: &Option<String>,
    ) -> anyhow::Result<Option<tempfile::TempDir>> {
        if out.is_some() || options.inputs.iter().any(|p| is_s3(p)) {
            bail!(NO_S3);
        }
        Ok(None)
    }
}

#[cfg(all(feature = "s3", feature = "cluster"))]
pub use enabled::s3_dataset;
pub use enabled::{manifest, open_session, prepare_ingest};
