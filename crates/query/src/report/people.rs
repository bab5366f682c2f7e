//! Section 4 of the report: the busiest actors, and for the people among them each chain
//! of sessions (person → role → role) with what was done at its end.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, AsArray, RecordBatch};
use datafusion::prelude::SessionContext;
use serde::Serialize;

use super::table::{Table, integer, text};
use super::{CHAIN_ACTORS, Queries, queries};

/// How many of the busiest actors are listed (the query's `actor_rank <= 25`).
const ACTORS: i64 = 25;
use crate::Result;

/// At most this many chains are drawn per actor, and this many actions per chain.
const PATHS_PER_ACTOR: usize = 6;
const ACTIONS_PER_PATH: usize = 5;

/// One actor's session chains.
#[derive(Debug, Clone, Serialize)]
pub struct ActorChains {
    /// The actor.
    pub actor: String,
    /// Its type (IAMUser, SAMLUser, IdentityCenterUser, ...).
    pub actor_type: String,
    /// The chains, busiest first.
    pub paths: Vec<ChainPath>,
    /// Chains left out.
    pub more_paths: usize,
}

/// One chain: the identities from the actor to the principal that signed, with what the
/// principal's sessions did.
#[derive(Debug, Clone, Serialize)]
pub struct ChainPath {
    /// The actor, each role (`ROLE (ACCOUNT)`), in order.
    pub hops: Vec<String>,
    /// Sessions (principals) that took this path.
    pub sessions: usize,
    /// Their events.
    pub events: i64,
    /// The most frequent calls, with counts.
    pub actions: Vec<(String, i64)>,
}

pub(super) async fn gather(
    ctx: &SessionContext,
    queries: &mut Queries,
) -> Result<(Table, Vec<ActorChains>)> {
    let calls = queries
        .table(
            ctx,
            "actor-calls",
            "What the busiest actors did, per principal, account and call (the busiest \
             actors' table sums its rows)",
            queries::ACTOR_CALLS,
        )
        .await?;
    let actors = actor_totals(&calls);
    let chosen = busiest_people(&calls);
    if chosen.is_empty() {
        return Ok((actors, Vec::new()));
    }
    let list = chosen
        .iter()
        .map(|(actor, _)| crate::literal(actor))
        .collect::<Vec<_>>()
        .join(", ");
    let sessions = queries
        .run(
            ctx,
            "chains",
            "The session chains of the busiest people",
            queries::fill(queries::CHAINS, &[("actors", list)]),
        )
        .await?;
    let mut hops_of: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for batch in &sessions.batches {
        for (actor, principal, hops) in chain_rows(batch) {
            hops_of.insert((actor, principal), hops);
        }
    }
    Ok((actors, group(&chosen, &hops_of, &calls)))
}

/// The busiest actors, from the rows of `actor-calls` with an `actor_rank` of at most
/// [`ACTORS`]: events, distinct principals and accounts, errors, first and last event.
fn actor_totals(calls: &Table) -> Table {
    let columns = [
        "actor",
        "actor_type",
        "events",
        "principals",
        "accounts",
        "errors",
        "first_seen",
        "last_seen",
    ];
    // Rows come ordered by rank: one actor's rows are together.
    let mut totals: Vec<((String, String), ActorTotals)> = Vec::new();
    if let Some([a, t, p, acc, e, x, f, l, r]) = calls.columns_of([
        "actor",
        "actor_type",
        "principal",
        "account_id",
        "events",
        "errors",
        "first_seen",
        "last_seen",
        "actor_rank",
    ]) {
        for row in calls.rows.iter().filter(|row| integer(&row[r]) <= ACTORS) {
            let key = (text(&row[a]), text(&row[t]));
            if totals.last().is_none_or(|(k, _)| *k != key) {
                totals.push((key, ActorTotals::default()));
            }
            let sum = &mut totals.last_mut().expect("pushed above").1;
            sum.principals.insert(text(&row[p]));
            sum.accounts.insert(text(&row[acc]));
            sum.events += integer(&row[e]);
            sum.errors += integer(&row[x]);
            let (first, last) = (text(&row[f]), text(&row[l]));
            sum.first = Some(sum.first.take().map_or(first.clone(), |s| s.min(first)));
            sum.last = Some(sum.last.take().map_or(last.clone(), |s| s.max(last)));
        }
    }
    let rows = totals
        .into_iter()
        .map(|((actor, kind), sum)| {
            vec![
                actor.into(),
                kind.into(),
                sum.events.into(),
                sum.principals.len().into(),
                sum.accounts.len().into(),
                sum.errors.into(),
                sum.first.unwrap_or_default().into(),
                sum.last.unwrap_or_default().into(),
            ]
        })
        .collect();
    Table {
        query: calls.query.clone(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

/// One actor's sums over its `actor-calls` rows.
#[derive(Debug, Default)]
struct ActorTotals {
    principals: BTreeSet<String>,
    accounts: BTreeSet<String>,
    events: i64,
    errors: i64,
    first: Option<String>,
    last: Option<String>,
}

/// The busiest people (actors other than AWS services), busiest first.
fn busiest_people(calls: &Table) -> Vec<(String, String)> {
    let Some([a, t, person, rank]) =
        calls.columns_of(["actor", "actor_type", "person", "person_rank"])
    else {
        return Vec::new();
    };
    let mut people: Vec<(i64, String, String)> = calls
        .rows
        .iter()
        .filter(|row| {
            row[person].as_bool() == Some(true) && integer(&row[rank]) <= CHAIN_ACTORS as i64
        })
        .map(|row| (integer(&row[rank]), text(&row[a]), text(&row[t])))
        .collect();
    people.sort();
    people.dedup();
    people
        .into_iter()
        .map(|(_, actor, kind)| (actor, kind))
        .collect()
}

/// (actor, principal, hop labels) of each row of a `sessions` batch.
fn chain_rows(batch: &RecordBatch) -> Vec<(String, String, Vec<String>)> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).ok())
    };
    let (Some(actor), Some(principal), Some(chain)) = (
        column("actor"),
        column("principal"),
        batch.column_by_name("chain"),
    ) else {
        return Vec::new();
    };
    let (actor, principal) = (actor.as_string::<i32>(), principal.as_string::<i32>());
    let Some(chain) = chain.as_list_opt::<i32>() else {
        return Vec::new();
    };
    (0..batch.num_rows())
        .map(|row| {
            let mut hops = Vec::new();
            if chain.is_valid(row) {
                let hop = chain.value(row);
                if let Some(arns) = hop
                    .as_struct_opt()
                    .and_then(|s| s.column_by_name("arn"))
                    .and_then(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).ok())
                {
                    hops = arns
                        .as_string::<i32>()
                        .iter()
                        .flatten()
                        .map(label)
                        .collect();
                }
            }
            (
                actor.value(row).to_string(),
                principal.value(row).to_string(),
                hops,
            )
        })
        .collect()
}

/// The paths of each actor, with the calls of the principals at their ends.
fn group(
    chosen: &[(String, String)],
    hops_of: &BTreeMap<(String, String), Vec<String>>,
    calls: &Table,
) -> Vec<ActorChains> {
    let Some([a, p, n, e]) = calls.columns_of(["actor", "principal", "event_name", "events"])
    else {
        return Vec::new();
    };
    chosen
        .iter()
        .map(|(actor, actor_type)| {
            // path → (principals, events, calls by name)
            type PathCalls = (Vec<String>, i64, BTreeMap<String, i64>);
            let mut paths: BTreeMap<Vec<String>, PathCalls> = BTreeMap::new();
            for row in calls.rows.iter().filter(|r| text(&r[a]) == *actor) {
                let principal = text(&row[p]);
                let key = (actor.clone(), principal.clone());
                let mut hops = hops_of.get(&key).cloned().unwrap_or_default();
                if hops.is_empty() {
                    hops = vec![label(actor), label(&principal)];
                }
                if hops.first() != Some(&label(actor)) {
                    hops.insert(0, label(actor));
                }
                hops.dedup();
                let entry = paths.entry(hops).or_default();
                if !entry.0.contains(&principal) {
                    entry.0.push(principal);
                }
                entry.1 += integer(&row[e]);
                *entry.2.entry(text(&row[n])).or_default() += integer(&row[e]);
            }
            let mut paths: Vec<ChainPath> = paths
                .into_iter()
                .map(|(hops, (principals, events, by_name))| {
                    let mut actions: Vec<(String, i64)> = by_name.into_iter().collect();
                    actions.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
                    actions.truncate(ACTIONS_PER_PATH);
                    ChainPath {
                        hops,
                        sessions: principals.len(),
                        events,
                        actions,
                    }
                })
                .collect();
            paths.sort_by(|x, y| y.events.cmp(&x.events).then_with(|| x.hops.cmp(&y.hops)));
            let more_paths = paths.len().saturating_sub(PATHS_PER_ACTOR);
            paths.truncate(PATHS_PER_ACTOR);
            ActorChains {
                actor: actor.clone(),
                actor_type: actor_type.clone(),
                paths,
                more_paths,
            }
        })
        .collect()
}

/// A short name for an identity: `ROLE (ACCOUNT)` for a role session, `user NAME
/// (ACCOUNT)` for an IAM user, the text itself otherwise.
fn label(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6 && parts[0] == "arn" {
        let account = parts[4];
        let resource = parts[5];
        if let Some(rest) = resource.strip_prefix("assumed-role/") {
            let role = rest.split('/').next().unwrap_or(rest);
            return format!("{role} ({account})");
        }
        if let Some(user) = resource.strip_prefix("user/") {
            let name = user.rsplit('/').next().unwrap_or(user);
            return format!("user {name} ({account})");
        }
        if let Some(user) = resource.strip_prefix("federated-user/") {
            return format!("federated {user} ({account})");
        }
        if let Some(role) = resource.strip_prefix("role/") {
            let name = role.rsplit('/').next().unwrap_or(role);
            return format!("{name} ({account})");
        }
    }
    arn.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_labelled_by_role_or_user_and_account() {
        assert_eq!(
            label("arn:aws:sts::111122223333:assumed-role/Admin/alice"),
            "Admin (111122223333)"
        );
        assert_eq!(
            label("arn:aws:iam::111122223333:user/ops/bob"),
            "user bob (111122223333)"
        );
        assert_eq!(label("alice@example.com"), "alice@example.com");
    }

    #[test]
    fn sessions_of_one_role_path_are_grouped_with_their_calls() {
        let chosen = vec![("alice".to_string(), "SAMLUser".to_string())];
        let mut hops_of = BTreeMap::new();
        for session in ["s1", "s2"] {
            hops_of.insert(
                (
                    "alice".to_string(),
                    format!("arn:aws:sts::1:assumed-role/Admin/{session}"),
                ),
                vec![
                    label("alice"),
                    label(&format!("arn:aws:sts::1:assumed-role/Admin/{session}")),
                ],
            );
        }
        let row = |p: &str, n: &str, e: i64| {
            vec![
                serde_json::Value::from("alice"),
                serde_json::Value::from(p),
                serde_json::Value::from(n),
                serde_json::Value::from(e),
            ]
        };
        let calls = Table {
            query: "actor-calls".into(),
            columns: vec![
                "actor".into(),
                "principal".into(),
                "event_name".into(),
                "events".into(),
            ],
            rows: vec![
                row("arn:aws:sts::1:assumed-role/Admin/s1", "ListBuckets", 3),
                row("arn:aws:sts::1:assumed-role/Admin/s2", "ListBuckets", 2),
                row("arn:aws:sts::1:assumed-role/Admin/s2", "GetObject", 7),
            ],
        };
        let out = group(&chosen, &hops_of, &calls);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].paths.len(), 1);
        let path = &out[0].paths[0];
        assert_eq!(path.hops, vec!["alice", "Admin (1)"]);
        assert_eq!((path.sessions, path.events), (2, 12));
        assert_eq!(
            path.actions,
            vec![("GetObject".to_string(), 7), ("ListBuckets".to_string(), 5)]
        );
    }
}
