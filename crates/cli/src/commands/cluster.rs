//! `trailscope scheduler` and `trailscope executor`: a Ballista cluster's processes with
//! trailscope's functions, running until they are stopped.

use crate::Outcome;
use crate::args::{ExecutorArgs, SchedulerArgs};

#[cfg(feature = "cluster")]
pub fn scheduler(args: SchedulerArgs) -> anyhow::Result<Outcome> {
    init_logging();
    eprintln!("trailscope scheduler listening on {}", args.bind);
    crate::session::runtime()?.block_on(trailscope_query::cluster::run_scheduler(args.bind))?;
    Ok(Outcome::Clean)
}

#[cfg(feature = "cluster")]
pub fn executor(args: ExecutorArgs) -> anyhow::Result<Outcome> {
    init_logging();
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

/// Ballista's own log lines on stderr: warnings and errors, or what `RUST_LOG` asks for.
/// Not by default: the scheduler's error that it cannot show a finished stage's plan
/// with its metrics (its plan and its executors' count the operators of a union's
/// branches apart), which says nothing about the query.
#[cfg(feature = "cluster")]
fn init_logging() {
    let quiet = "warn,ballista_scheduler::display=off";
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(quiet)).init();
}

#[cfg(not(feature = "cluster"))]
pub fn scheduler(_args: SchedulerArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!(crate::NO_CLUSTER)
}

#[cfg(not(feature = "cluster"))]
pub fn executor(_args: ExecutorArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!(crate::NO_CLUSTER)
}
