//! Queries on an Apache DataFusion Ballista cluster (feature `cluster`): the session a
//! query command opens with `--cluster df://HOST:PORT`, and the scheduler and executor
//! processes (`trailscope scheduler`, `trailscope executor`) with trailscope's SQL
//! functions and codec.
//!
//! Everything a query reads must travel in its plan: the dataset is a Parquet listing
//! table (a path every executor can read: a shared file system, or S3), the views are
//! plain views (the detections' cached views are computed where they are read), and the
//! resolved credentials behind attribution, computed on the client, travel as an
//! in-memory table encoded by [`TrailscopeCodec`].

mod codec;
mod leaves;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use ballista::prelude::SessionConfigExt;
use ballista_core::extension::SessionStateExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

pub use codec::TrailscopeCodec;

use trailscope_ingest::Manifest;

use crate::session::{QueryOptions, file_url, new_session, register_dataset};
use crate::{Error, Result, udf};

/// Where a cluster's scheduler listens: `df://HOST:PORT`.
pub fn scheduler_url(cluster: &str) -> Result<String> {
    let rest = cluster
        .strip_prefix("df://")
        .ok_or_else(|| Error::Invalid(format!("--cluster {cluster}: expected df://HOST:PORT")))?;
    if rest.is_empty() || rest.contains('/') {
        return Err(Error::Invalid(format!(
            "--cluster {cluster}: expected df://HOST:PORT"
        )));
    }
    Ok(format!("df://{rest}"))
}

/// Opens the dataset at `root` (a directory every executor reads at the same path: a
/// shared file system) as a session whose queries run on the cluster at `cluster`
/// (`df://HOST:PORT`), with the tables and views of a local session.
pub async fn open_cluster_session(
    cluster: &str,
    root: &Path,
    options: &QueryOptions,
) -> Result<SessionContext> {
    let manifest = Manifest::load_checked(root)?;
    if manifest.data_files.is_empty() {
        return Err(Error::Empty(root.display().to_string()));
    }
    let location = file_url(
        &root
            .canonicalize()
            .map_err(|e| trailscope_ingest::Error::io(root, e))?,
    );
    on_cluster(cluster, &location, options, None).await
}

/// Opens the S3 dataset `dataset` as a session on the cluster at `cluster`: the client,
/// the scheduler and the executors each list only the files of its last commit
/// ([`crate::s3::CommittedStores`]; the executors and scheduler read S3 with their own
/// environment's credentials and `AWS_ENDPOINT`).
pub async fn open_cluster_s3_session(
    cluster: &str,
    dataset: &trailscope_ingest::s3::S3Dataset,
    options: &QueryOptions,
) -> Result<SessionContext> {
    let manifest = crate::s3::committed_manifest(dataset).await?;
    let url = dataset.url().to_string();
    let store = crate::s3::committed_files(dataset, &manifest);
    on_cluster(
        cluster,
        &format!("{url}/"),
        options,
        Some((dataset.url().bucket_url(), store)),
    )
    .await
}

/// The cluster session over the dataset at `location`, with `store` registered for its
/// bucket on the client.
async fn on_cluster(
    cluster: &str,
    location: &str,
    options: &QueryOptions,
    store: Option<(String, Arc<dyn object_store::ObjectStore>)>,
) -> Result<SessionContext> {
    let url = scheduler_url(cluster)?;
    let local = new_session(options)?;
    let config = local
        .state()
        .config()
        .clone()
        .with_ballista_logical_extension_codec(Arc::new(TrailscopeCodec::default()));
    let config = static_planning(config.upgrade_for_ballista());
    let state = datafusion::execution::SessionStateBuilder::new_from_existing(local.state())
        .with_config(config)
        .build()
        .upgrade_for_ballista(url)?;
    let mut ctx = SessionContext::new_with_state(state);
    // Ballista's upgrade installs its own function list: ours go back on top.
    udf::register_all(&mut ctx)?;
    if let Some((bucket, store)) = store {
        let bucket = datafusion::execution::object_store::ObjectStoreUrl::parse(bucket)?;
        ctx.register_object_store(bucket.as_ref(), store);
    }
    let distributed = QueryOptions {
        distributed: true,
        ..options.clone()
    };
    register_dataset(&ctx, location, &distributed).await?;
    Ok(ctx)
}

/// `config` with Ballista's static distributed planner in place of its adaptive one
/// (AQE, on by default in Ballista 55): on a `findings --min-severity` plan, whose
/// filtered-out detections leave empty branches, the adaptive planner re-plans the
/// stages in the scheduler on every task report and never finished (10 minutes on a
/// 3 MiB dataset; the static planner takes 2 seconds, and 1 to 2 seconds for plain
/// `findings` where AQE took 6).
fn static_planning(config: SessionConfig) -> SessionConfig {
    config.with_ballista_adaptive_query_planner(false)
}

/// The session state the scheduler plans with: trailscope's functions and codec, and
/// [`leaves::MeasurableLeaves`] after the physical optimizer's rules, over
/// the configuration the client sent.
fn scheduler_state(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    let config = config.with_ballista_logical_extension_codec(Arc::new(TrailscopeCodec::default()));
    let state = ballista_core::utils::default_session_builder(config)?;
    let state = datafusion::execution::SessionStateBuilder::new_from_existing(state)
        .with_runtime_env(committed_runtime()?)
        .with_physical_optimizer_rule(Arc::new(leaves::MeasurableLeaves))
        .build();
    let mut ctx = SessionContext::new_with_state(state);
    crate::context::remove_leaf_pushdown(&ctx);
    udf::register_all(&mut ctx)
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
    Ok(ctx.state())
}

/// A runtime whose `s3://` stores list only committed files.
fn committed_runtime()
-> datafusion::error::Result<Arc<datafusion::execution::runtime_env::RuntimeEnv>> {
    datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_object_store_registry(Arc::new(crate::s3::CommittedStores::default()))
        .build_arc()
}

/// Runs a scheduler on `address` until the process ends.
pub async fn run_scheduler(address: SocketAddr) -> Result<()> {
    let config = SchedulerConfig {
        bind_host: address.ip().to_string(),
        bind_port: address.port(),
        external_host: address.ip().to_string(),
        override_logical_codec: Some(Arc::new(TrailscopeCodec::default())),
        ..SchedulerConfig::default()
    }
    .with_override_session_builder(Arc::new(scheduler_state))
    .with_override_config_producer(Arc::new(|| {
        static_planning(SessionConfig::new_with_ballista())
            .with_ballista_logical_extension_codec(Arc::new(TrailscopeCodec::default()))
    }));
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(cluster_error)?;
    start_server(cluster, address, Arc::new(config))
        .await
        .map_err(cluster_error)
}

/// Where an executor listens and which scheduler it serves.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler, `HOST:PORT`.
    pub scheduler: (String, u16),
    /// The address to bind (`127.0.0.1`, `0.0.0.0`).
    pub bind_host: String,
    /// The Arrow Flight port (shuffle data).
    pub flight_port: u16,
    /// The gRPC port (tasks).
    pub grpc_port: u16,
    /// Tasks run at once (default: one per core).
    pub task_slots: Option<usize>,
    /// Where shuffle files go (default: a temporary directory).
    pub work_dir: Option<String>,
}

/// Runs an executor with trailscope's functions and codec until the process ends.
pub async fn run_executor(options: ExecutorOptions) -> Result<()> {
    let functions = {
        let mut ctx = SessionContext::new();
        udf::register_all(&mut ctx)?;
        Arc::new(BallistaFunctionRegistry::from(&ctx.state()))
    };
    let mut config = ExecutorProcessConfig {
        bind_host: options.bind_host.clone(),
        port: options.flight_port,
        grpc_port: options.grpc_port,
        scheduler_host: options.scheduler.0.clone(),
        scheduler_port: options.scheduler.1,
        work_dir: options.work_dir.clone(),
        override_function_registry: Some(functions),
        override_logical_codec: Some(Arc::new(TrailscopeCodec::default())),
        override_runtime_producer: Some(Arc::new(|_config| committed_runtime())),
        override_config_producer: Some(Arc::new(|| {
            SessionConfig::new_with_ballista()
                .with_ballista_logical_extension_codec(Arc::new(TrailscopeCodec::default()))
        })),
        ..ExecutorProcessConfig::default()
    };
    if let Some(slots) = options.task_slots {
        config.vcores = slots.max(1);
    }
    start_executor_process(Arc::new(config))
        .await
        .map_err(cluster_error)
}

fn cluster_error(error: ballista_core::error::BallistaError) -> Error {
    Error::Invalid(format!("cluster: {error}"))
}

#[cfg(test)]
mod tests {
    use super::scheduler_url;

    #[test]
    fn clusters_are_named_by_their_scheduler() {
        assert_eq!(
            scheduler_url("df://127.0.0.1:50050").unwrap(),
            "df://127.0.0.1:50050"
        );
        assert!(scheduler_url("http://x:1").is_err());
        assert!(scheduler_url("df://").is_err());
        assert!(scheduler_url("df://x:1/lake").is_err());
    }
}
