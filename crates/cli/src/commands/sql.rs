//! `trailscope sql`: one query, its result in the chosen format.

use crate::Outcome;
use crate::args::SqlConfig;
use crate::session::with_session;

pub fn run(config: SqlConfig) -> anyhow::Result<Outcome> {
    with_session(&config.dataset, async |ctx| {
        config
            .output
            .write_frame(ctx.sql(&config.sql).await?)
            .await?;
        Ok(Outcome::Clean)
    })
}
