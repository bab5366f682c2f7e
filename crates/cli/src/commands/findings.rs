//! `trailscope findings`: what the detections found, most severe first.

use crate::Outcome;
use crate::args::FindingsConfig;
use crate::session::with_session;

/// Runs the detections; exit status 1 when `--fail-on` is met.
pub fn run(config: FindingsConfig) -> anyhow::Result<Outcome> {
    with_session(&config.dataset, async |ctx| {
        if let Some(granted) = &config.granted {
            let rows = trailscope_query::privilege::summary::granted_vs_used(&ctx, granted).await?;
            trailscope_query::privilege::summary::fill(&ctx, &rows).await?;
        }
        // Every detection runs once: the rows are written, then checked for --fail-on.
        let found = trailscope_query::detections::findings(&ctx, config.min_severity).await?;
        let firing = config
            .fail_on
            .is_some_and(|threshold| trailscope_query::detections::any_at_least(&found, threshold));
        config
            .output
            .write_batches(&ctx, found.schema, found.batches)
            .await?;
        Ok(if firing {
            Outcome::Findings
        } else {
            Outcome::Clean
        })
    })
}
