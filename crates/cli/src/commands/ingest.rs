//! `trailscope ingest`.

use crate::Outcome;
use crate::args::IngestConfig;
use crate::report::{Progress, ingest_summary};

pub fn run(config: IngestConfig) -> anyhow::Result<Outcome> {
    let progress = Progress::new(config.output.quiet || config.output.json);
    let result = trailscope_ingest::ingest(&config.options, &progress);
    progress.finish();
    let mut summary = result?;
    if let Some(remote) = &config.remote_out {
        // The run wrote to a local working copy and published each commit to S3.
        summary.dataset = remote.url.clone().into();
    }
    if config.output.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if !config.output.quiet {
        print!("{}", ingest_summary(&summary));
    }
    Ok(if summary.is_clean() {
        Outcome::Clean
    } else {
        Outcome::InputProblems
    })
}
