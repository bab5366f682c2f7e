//! `trailscope`: offline AWS CloudTrail analytics.
//!
//! `main` stays thin: parse arguments, run the command, turn the outcome into an exit
//! status (0 clean, 1 findings when asked, 2 error). A closed pipe is not an error.

/// What a cluster command or option says in a build without the `cluster` feature.
#[cfg(not(feature = "cluster"))]
const NO_CLUSTER: &str = "this trailscope was built without cluster support (cargo feature `cluster`: cargo build --release -p trailscope --features cluster)";

mod args;
mod commands;
mod errors;
mod html;
mod output;
mod remote;
mod report;
mod session;
mod table;

use std::process::ExitCode;

use clap::Parser;

/// What a command ended with, beyond success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything went as asked.
    Clean,
    /// The command finished, but some input could not be used (exit status 2).
    InputProblems,
    /// Findings at or above `--fail-on` fired (exit status 1).
    Findings,
}

fn main() -> ExitCode {
    owner_only_files();
    let cli = args::Cli::parse();
    match commands::run(cli.command) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::InputProblems) => ExitCode::from(2),
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(err) if errors::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("trailscope: error: {}", errors::one_line(&err));
            ExitCode::from(2)
        }
    }
}

/// Every file and directory this process creates (the dataset, `--output` files, what
/// `COPY ... TO` writes) is readable by its owner only: trails name people, keys and
/// addresses.
fn owner_only_files() {
    // SAFETY: umask only sets the process's file mode creation mask; it cannot fail and
    // touches no memory. It runs first in main, before any thread exists.
    unsafe {
        libc::umask(0o077);
    }
}
