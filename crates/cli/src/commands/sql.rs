//! `trailscope sql`: one query, its result in the chosen format.

use crate::Outcome;
use crate::args::SqlConfig;
use crate::session::with_session;

pub fn run(config: SqlConfig) -> anyhow::Result<Outcome> {
    with_session(&config.dataset, async |ctx| {
        let frame = trailscope_query::analyst_sql(&ctx, &config.dataset.root, &config.sql).await?;
        config.output.write_frame(frame).await?;
        Ok(Outcome::Clean)
    })
}
