//! `trailscope who`: the chain of credentials behind a key, session or event.

use crate::Outcome;
use crate::args::WhoConfig;
use crate::session::with_session;

pub fn run(config: WhoConfig) -> anyhow::Result<Outcome> {
    with_session(&config.dataset, async |ctx| {
        let found = trailscope_query::attribution::who(&ctx, &config.subject).await?;
        let answer = found.answer();
        config
            .output
            .write_batches(&ctx, answer.schema.clone(), answer.batches.clone())
            .await?;
        Ok(Outcome::Clean)
    })
}
