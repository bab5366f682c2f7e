//! `trailscope scheduler` and `trailscope executor`: a Ballista cluster's processes with
//! trailscope's functions, running until they are stopped.

use crate::Outcome;
use crate::args::{ExecutorArgs, SchedulerArgs};

#[cfg(feature = "cluster")]
pub fn scheduler(args: SchedulerArgs) -> anyhow::Result<Outcome> {
    eprintln!("trailscope scheduler listening on {}", args.bind);
    crate::session::runtime()?.block_on(trailscope_query::cluster::run_scheduler(args.bind))?;
    Ok(Outcome::Clean)
}

#[cfg(feature = "cluster")]
pub fn executor(args: ExecutorArgs) -> anyhow::Result<Outcome> {
    let options = trailscope_query::cluster::ExecutorOptions {
        scheduler: args.scheduler()?,
        bind_host: args.bind_host.clone(),
        flight_port: args.port,
        grpc_port: args.grpc_port,
        task_slots: Some(args.task_slots),
        work_dir: args.work_dir.map(|d| d.to_string_lossy().into_owned()),
    };
    eprintln!(
        "trailscope executor on {}:{} serving scheduler {}",
        options.bind_host, options.flight_port, args.scheduler
    );
    crate::session::runtime()?.block_on(trailscope_query::cluster::run_executor(options))?;
    Ok(Outcome::Clean)
}

#[cfg(not(feature = "cluster"))]
pub fn scheduler(_args: SchedulerArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!(crate::NO_CLUSTER)
}

#[cfg(not(feature = "cluster"))]
pub fn executor(_args: ExecutorArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!(crate::NO_CLUSTER)
}
