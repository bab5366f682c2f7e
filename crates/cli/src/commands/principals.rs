//! `trailscope principals`: principals and the actors behind them.

use crate::Outcome;
use crate::args::PrincipalsConfig;
use crate::session::with_session;

pub fn run(config: PrincipalsConfig) -> anyhow::Result<Outcome> {
    with_session(&config.dataset, async |ctx| {
        let frame = trailscope_query::attribution::principals(&ctx, &config.filter).await?;
        config.output.write_frame(frame).await?;
        Ok(Outcome::Clean)
    })
}
