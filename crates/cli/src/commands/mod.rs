//! One module per command: each turns its validated config into output and an outcome.

mod cluster;
mod compact;
mod demo;
mod detections;
mod export;
mod findings;
mod ingest;
mod merge;
mod policy;
mod principals;
mod report;
mod shell;
mod sigma;
mod sql;
mod synth;
mod timeline;
mod who;

use crate::Outcome;
use crate::args::Command;

/// Validates the command's arguments and runs it.
pub fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Ingest(a) => ingest::run(a.into_config()?),
        Command::Export(a) => export::run(a.into_config()?),
        Command::Compact(a) => compact::run(a.into_options()?),
        Command::Merge(a) => merge::run(a.into_options()?),
        Command::Demo(a) => demo::run(a),
        Command::Synth(a) => synth::run(a.into_options()?),
        Command::Sql(a) => sql::run(a.into_config()?),
        Command::Shell(a) => shell::run(a.into_config()?),
        Command::Principals(a) => principals::run(a.into_config()?),
        Command::Policy(a) => policy::run(a.into_config()?),
        Command::Who(a) => who::run(a.into_config()?),
        Command::Timeline(a) => timeline::run(a.into_config()?),
        Command::Findings(a) => findings::run(a.into_config()?),
        Command::Report(a) => report::run(a.into_config()?),
        Command::Detections(a) => detections::run(a.into_config()?),
        Command::Sigma(crate::args::SigmaCommand::Sql { rules, one_pass }) => {
            sigma::sql(&rules, one_pass)
        }
        Command::Scheduler(a) => cluster::scheduler(a),
        Command::Executor(a) => cluster::executor(a),
    }
}
