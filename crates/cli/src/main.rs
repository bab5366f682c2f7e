//! `trailscope`: offline AWS CloudTrail analytics.
//!
//! `main` stays thin: parse arguments, run the command, turn the outcome into an exit
//! status (0 clean, 1 findings when asked, 2 error). A closed pipe is not an error.

mod args;
mod attribution_cmd;
mod demo;
mod errors;
mod export_cmd;
mod findings_cmd;
mod ingest_cmd;
mod output;
mod report;
mod shell;
mod sql_cmd;
mod synth_cmd;
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
    let cli = args::Cli::parse();
    match run(cli) {
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

fn run(cli: args::Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        args::Command::Ingest(a) => ingest_cmd::run(a.into_config()?),
        args::Command::Export(a) => export_cmd::run(a.into_config()),
        args::Command::Demo(a) => demo::run(a),
        args::Command::Synth(a) => synth_cmd::run(a.into_options()?),
        args::Command::Sql(a) => sql_cmd::run(a.into_config()?),
        args::Command::Shell(a) => shell::run(a.into_config()?),
        args::Command::Principals(a) => attribution_cmd::run(a.into_config()?),
        args::Command::Who(a) => attribution_cmd::run(a.into_config()?),
        args::Command::Timeline(a) => attribution_cmd::run(a.into_config()?),
        args::Command::Findings(a) => findings_cmd::run_findings(a.into_config()?),
        args::Command::Detections(a) => findings_cmd::run_detections(a.into_config()?),
    }
}

/// The async runtime DataFusion queries run on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
