//! Arguments of `trailscope scheduler` and `trailscope executor`: the processes of a
//! Ballista cluster with trailscope's functions (cargo feature `cluster`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// The address to listen on (query commands reach it with `--cluster df://HOST:PORT`).
    #[arg(long, default_value = "127.0.0.1:50050", value_name = "HOST:PORT")]
    pub bind: SocketAddr,
}

#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler to serve.
    #[arg(long, default_value = "127.0.0.1:50050", value_name = "HOST:PORT")]
    pub scheduler: String,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1", value_name = "HOST")]
    pub bind_host: String,
    /// The Arrow Flight port (shuffle data between executors).
    #[arg(long, default_value_t = 50051, value_name = "PORT")]
    pub port: u16,
    /// The gRPC port (tasks from the scheduler).
    #[arg(long, default_value_t = 50052, value_name = "PORT")]
    pub grpc_port: u16,
    /// Tasks run at once. A findings query (every detection in one plan) never finished
    /// on two executors of 2 or 8 slots each, and does on two of 64 (measured; see
    /// benches/RESULTS.md). Most slots wait; the threads doing work are the cores'.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub task_slots: usize,
    /// Where shuffle files go (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

#[cfg(feature = "cluster")]
impl ExecutorArgs {
    /// The scheduler as (host, port), or why it is not one.
    pub fn scheduler(&self) -> anyhow::Result<(String, u16)> {
        let (host, port) = self
            .scheduler
            .rsplit_once(':')
            .ok_or_else(|| anyhow::anyhow!("--scheduler {}: expected HOST:PORT", self.scheduler))?;
        let port = port
            .parse()
            .map_err(|_| anyhow::anyhow!("--scheduler {}: expected HOST:PORT", self.scheduler))?;
        Ok((host.to_string(), port))
    }
}
