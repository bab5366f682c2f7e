//! `trailscope timeline`: every event of one actor, principal, key or address, in order.

use crate::Outcome;
use crate::args::TimelineConfig;
use crate::session::with_session;

pub fn run(config: TimelineConfig) -> anyhow::Result<Outcome> {
    with_session(&config.dataset, async |ctx| {
        let frame = trailscope_query::attribution::timeline(&ctx, &config.of).await?;
        config.output.write_frame(frame).await?;
        Ok(Outcome::Clean)
    })
}
