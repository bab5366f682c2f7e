//! How a dataset's answers compare with the ground truth of the generated trail it was
//! ingested from (the demo's check, and the tests'): root usage, shared identities, and
//! the actor and method of every session event.

use datafusion::prelude::SessionContext;
use trailscope_ingest::synth::GroundTruth;

use crate::overview::{Question, answer};
use crate::{Answer, Result, literal};

/// Found against expected, for each kind of ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TruthCheck {
    /// Root usage events (CIS semantics) found, and injected.
    pub root_found: u64,
    /// Root usage events the generator injected.
    pub root_expected: u64,
    /// Shared-identity findings, and shared identities injected.
    pub shared_found: u64,
    /// Shared identities the generator injected.
    pub shared_expected: u64,
    /// Events of the injected sessions whose actor and method `attribution` gives as the
    /// generator does, and such events in all.
    pub session_events_agreeing: u64,
    /// Events of the injected sessions.
    pub session_events: u64,
}

/// Compares the overview's answers ([`crate::overview::ask`]) and the session's
/// attribution with `truth`.
pub async fn compare(
    ctx: &SessionContext,
    overview: &[(Question, Answer)],
    truth: &GroundTruth,
) -> Result<TruthCheck> {
    let root_found = answer(overview, "root-activity").map_or(0, |a| a.sum("events")) as u64;
    let shared_found = answer(overview, "findings").map_or(0, |a| {
        a.strings("detection_id")
            .iter()
            .filter(|id| {
                id.starts_with("shared-")
                    || *id == "root-shared-console"
                    || *id == "workload-credentials-outside"
            })
            .count()
    }) as u64;
    let (session_events_agreeing, session_events) = check_sessions(ctx, truth).await?;
    Ok(TruthCheck {
        root_found,
        root_expected: truth.root_usage.len() as u64,
        shared_found,
        shared_expected: truth.shared_identities.len() as u64,
        session_events_agreeing,
        session_events,
    })
}

/// How many events of the ground truth's sessions `attribution` gives the same actor and
/// method as the generator, and how many such events there are.
async fn check_sessions(ctx: &SessionContext, truth: &GroundTruth) -> Result<(u64, u64)> {
    let expected: Vec<String> = truth
        .sessions
        .iter()
        .flat_map(|s| {
            s.event_ids.iter().map(move |id| {
                format!(
                    "({}, {}, {})",
                    literal(id),
                    literal(&s.actor.id),
                    literal(&s.method)
                )
            })
        })
        .collect();
    if expected.is_empty() {
        return Ok((0, 0));
    }
    let sql = format!(
        "SELECT count(*) AS agreeing FROM (VALUES {}) AS t(event_id, actor, method) \
         JOIN attribution a ON a.event_id = t.event_id AND a.actor = t.actor AND a.method = t.method",
        expected.join(", ")
    );
    let agreeing = Answer::collect(ctx.sql(&sql).await?).await?.sum("agreeing");
    Ok((agreeing as u64, expected.len() as u64))
}
