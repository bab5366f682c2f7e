//! `trailscope sql`: one query, its result in the chosen format.

use crate::Outcome;
use crate::args::SqlConfig;

pub fn run(config: SqlConfig) -> anyhow::Result<Outcome> {
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let ctx =
            trailscope_query::open_session(&config.dataset.root, &config.dataset.options).await?;
        let frame = ctx.sql(&config.sql).await?;
        config.output.write_frame(frame).await?;
        Ok(Outcome::Clean)
    })
}
