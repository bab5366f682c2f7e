//! The async runtime and the query session every query command runs in.

use datafusion::prelude::SessionContext;
use tokio::runtime::Runtime;
use trailscope_ingest::Manifest;

use crate::args::DatasetConfig;

/// The async runtime DataFusion queries run on.
pub fn runtime() -> anyhow::Result<Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// A runtime and the dataset's session on it, for commands that ask many questions.
pub fn open(dataset: &DatasetConfig) -> anyhow::Result<(Runtime, SessionContext)> {
    let runtime = runtime()?;
    let ctx = match (&dataset.remote, &dataset.cluster) {
        (_, Some(cluster)) => runtime.block_on(open_on_cluster(cluster, dataset))?,
        (Some(remote), None) => {
            runtime.block_on(crate::remote::open_session(remote, &dataset.options))?
        }
        (None, None) => runtime.block_on(trailscope_query::open_session(
            &dataset.root,
            &dataset.options,
        ))?,
    };
    Ok((runtime, ctx))
}

#[cfg(feature = "cluster")]
async fn open_on_cluster(cluster: &str, dataset: &DatasetConfig) -> anyhow::Result<SessionContext> {
    Ok(match &dataset.remote {
        Some(remote) => {
            let s3 = crate::remote::s3_dataset(remote)?;
            trailscope_query::cluster::open_cluster_s3_session(cluster, &s3, &dataset.options)
                .await?
        }
        None => {
            trailscope_query::cluster::open_cluster_session(
                cluster,
                &dataset.root,
                &dataset.options,
            )
            .await?
        }
    })
}

#[cfg(not(feature = "cluster"))]
async fn open_on_cluster(
    _cluster: &str,
    _dataset: &DatasetConfig,
) -> anyhow::Result<SessionContext> {
    anyhow::bail!(crate::NO_CLUSTER)
}

/// The dataset's committed manifest.
pub fn manifest(runtime: &Runtime, dataset: &DatasetConfig) -> anyhow::Result<Manifest> {
    Ok(match &dataset.remote {
        Some(remote) => runtime.block_on(crate::remote::manifest(remote))?,
        None => Manifest::load(&dataset.root)?,
    })
}

/// Opens the dataset's session and runs `question` on it to the end.
pub fn with_session<T>(
    dataset: &DatasetConfig,
    question: impl AsyncFnOnce(SessionContext) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let (runtime, ctx) = open(dataset)?;
    runtime.block_on(question(ctx))
}
