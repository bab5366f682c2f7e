//! `trailscope detections`: every detection, with what it looks for and why.

use datafusion::prelude::SessionContext;

use crate::Outcome;
use crate::args::DetectionsConfig;

pub fn run(config: DetectionsConfig) -> anyhow::Result<Outcome> {
    let batch = trailscope_query::detections::listing(&config.detections)?;
    crate::session::runtime()?.block_on(async {
        let frame = SessionContext::new().read_batch(batch)?;
        config.output.write_frame(frame).await?;
        Ok(Outcome::Clean)
    })
}
