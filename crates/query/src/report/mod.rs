//! The data of `trailscope report`: one answer per question an investigator asks of a
//! trail (scope, root use, findings, people and sessions, shared identities, activity,
//! least privilege), each traced to the query that gives it. The CLI renders it as HTML;
//! tests snapshot it.

mod people;
mod queries;
mod root;
mod scope;
mod shared;
mod table;

use std::sync::Arc;
use trailscope_ingest::Manifest;

use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use serde::Serialize;

pub use people::{ActorChains, ChainPath};
pub use queries::QueryText;
pub use root::RootAccount;
pub use scope::{AccountScope, Scope};
pub use shared::{SharedEvent, SharedIdentity};
pub use table::{Table, integer, text};

use crate::privilege::authorization::Granted;
use crate::{Answer, Result};

/// At most this many root events are listed (their count is always given).
pub const ROOT_EVENT_CAP: usize = 2_000;
/// At most this many event ids are listed per finding (their count is always given).
pub const FINDING_ID_CAP: usize = 10;
/// At most this many actors get session graphs.
pub const CHAIN_ACTORS: usize = 8;
/// At most this many shared-identity findings get a timeline.
pub const SHARED_CAP: usize = 20;
/// At most this many evidence events are drawn per shared-identity timeline.
pub const SHARED_EVENT_CAP: usize = 500;

/// What the report is asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    /// The title on the page.
    pub title: String,
    /// The dataset, as named on the command line (for the queries' one-liners).
    pub dataset_label: String,
    /// `--since`/`--until` as given, for the queries' one-liners and the scope.
    pub window_args: String,
    /// What each user and role is granted (`--authorization-details`), for least privilege.
    pub granted: Option<Vec<Granted>>,
}

/// Everything the report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The title.
    pub title: String,
    /// The dataset, as named on the command line, and the period asked for.
    pub dataset: String,
    /// See `dataset`: `--since`/`--until` as given (empty: all the data).
    pub window: String,
    /// The command that reruns a query: `trailscope sql -d LAKE [window]`.
    pub rerun: String,
    /// 1. What the data covers and how complete it is.
    pub scope: Scope,
    /// 2. Root use, per account (every account of the data, used or not).
    pub root: Vec<RootAccount>,
    /// Every root use (at most [`ROOT_EVENT_CAP`]).
    pub root_events: Table,
    /// How many root uses there are in all.
    pub root_events_total: usize,
    /// 3. Every finding, most severe first.
    pub findings: Vec<Finding>,
    /// 4. The busiest actors.
    pub actors: Table,
    /// Their session chains with what each did.
    pub chains: Vec<ActorChains>,
    /// 5. The shared-identity findings with their evidence in time order.
    pub shared: Vec<SharedIdentity>,
    /// 6. Events and errors per day and identity type.
    pub activity: Table,
    /// The most frequent calls.
    pub top_events: Table,
    /// The most frequent errors.
    pub top_errors: Table,
    /// 7. Granted against used per principal, when authorization details were given.
    pub privilege: Option<Table>,
    /// Every query behind the numbers, by id.
    pub queries: Vec<QueryText>,
}

/// One finding, with its evidence parsed and its event ids cut to [`FINDING_ID_CAP`].
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// critical, high, medium, low or info.
    pub severity: String,
    /// The detection.
    pub detection_id: String,
    /// The detection's title.
    pub title: String,
    /// The account.
    pub account_id: String,
    /// The identity it is about.
    pub principal: String,
    /// Who is behind it.
    pub actor: String,
    /// Its first event.
    pub first_seen: String,
    /// Its last event.
    pub last_seen: String,
    /// How many events.
    pub event_count: i64,
    /// The detection's evidence, as an object of named values.
    pub evidence: serde_json::Value,
    /// The first event ids.
    pub event_ids: Vec<String>,
    /// Its stable id.
    pub finding_id: String,
}

/// Collects the queries the report ran, with their text, as it goes.
#[derive(Debug, Default)]
struct Queries(Vec<QueryText>);

impl Queries {
    /// Runs `sql` as query `id` and records it.
    async fn run(
        &mut self,
        ctx: &SessionContext,
        id: &str,
        title: &str,
        sql: String,
    ) -> Result<Answer> {
        let started = std::time::Instant::now();
        let answer = Answer::collect(ctx.sql(&sql).await?).await?;
        self.record(id, title, sql, started.elapsed());
        Ok(answer)
    }

    /// Runs `sql` as query `id` and returns its rows as a table.
    async fn table(
        &mut self,
        ctx: &SessionContext,
        id: &str,
        title: &str,
        sql: &str,
    ) -> Result<Table> {
        let answer = self.run(ctx, id, title, sql.to_string()).await?;
        Table::from_answer(id, &answer)
    }

    fn record(&mut self, id: &str, title: &str, sql: String, elapsed: std::time::Duration) {
        self.0.push(QueryText {
            id: id.to_string(),
            title: title.to_string(),
            sql,
            elapsed,
        });
    }
}

/// Asks every question of the report on `ctx`, a session over the dataset whose committed
/// state is `manifest`.
///
/// The `findings` view is replaced in `ctx` by a table of its rows: the detections run
/// once, and every later query that reads `findings` (as the one-liners shown do) gets
/// the same rows the view gives.
pub async fn gather(
    ctx: &SessionContext,
    manifest: &Manifest,
    request: &ReportRequest,
) -> Result<Report> {
    let mut queries = Queries::default();
    if let Some(granted) = &request.granted {
        let rows = crate::privilege::summary::granted_vs_used(ctx, granted).await?;
        crate::privilege::summary::fill(ctx, &rows).await?;
    }
    // The questions that do not read the findings run while the detections do: both
    // have stretches that keep one core busy (windows, final aggregations).
    let mut early = Queries::default();
    let started = std::time::Instant::now();
    let (materialized, independent) = tokio::join!(
        async {
            let result = materialize_findings(ctx).await;
            (result, started.elapsed())
        },
        independent_questions(ctx, manifest, &mut early)
    );
    let (materialized, detections_took) = materialized;
    materialized?;
    queries.record(
        "detections",
        "Every detection, run once (the findings view, kept for the queries below)",
        "SELECT * FROM findings".to_string(),
        detections_took,
    );
    let Independent {
        scope,
        actors,
        chains,
        activity,
        top_events,
        top_errors,
    } = independent?;
    queries.0.extend(early.0);
    let findings = findings(ctx, &mut queries).await?;
    let (root_accounts, root_events, root_events_total) =
        root::gather(ctx, &scope, &findings, &mut queries).await?;
    let shared = shared::gather(ctx, &findings, &mut queries).await?;
    let privilege = match request.granted {
        Some(_) => Some(
            queries
                .table(
                    ctx,
                    "privilege",
                    "Granted against used, per user and role \
                     (fill it with `trailscope findings --authorization-details FILE`)",
                    "SELECT principal, kind, account_id, granted, used, unused, ratio, \
                     unused_services, first_use, last_use FROM privilege_summary \
                     ORDER BY ratio, unused DESC, principal",
                )
                .await?,
        ),
        None => None,
    };
    let rerun = format!(
        "trailscope sql -d {}{}",
        shell_word(&request.dataset_label),
        if request.window_args.is_empty() {
            String::new()
        } else {
            format!(" {}", request.window_args)
        }
    );
    Ok(Report {
        title: request.title.clone(),
        dataset: request.dataset_label.clone(),
        window: request.window_args.clone(),
        rerun,
        scope,
        root: root_accounts,
        root_events,
        root_events_total,
        findings,
        actors,
        chains,
        shared,
        activity,
        top_events,
        top_errors,
        privilege,
        queries: queries.0,
    })
}

/// The answers that do not depend on the detections.
struct Independent {
    scope: Scope,
    actors: Table,
    chains: Vec<ActorChains>,
    activity: Table,
    top_events: Table,
    top_errors: Table,
}

async fn independent_questions(
    ctx: &SessionContext,
    manifest: &Manifest,
    queries: &mut Queries,
) -> Result<Independent> {
    let scope = scope::gather(ctx, manifest, queries).await?;
    let (actors, chains) = people::gather(ctx, queries).await?;
    let activity = queries
        .table(
            ctx,
            "activity-by-day",
            "Events and errors per day and identity type",
            queries::ACTIVITY_BY_DAY,
        )
        .await?;
    let top_events = queries
        .table(
            ctx,
            "top-events",
            "The most frequent calls",
            queries::TOP_EVENTS,
        )
        .await?;
    let top_errors = queries
        .table(
            ctx,
            "top-errors",
            "The most frequent errors",
            queries::TOP_ERRORS,
        )
        .await?;
    Ok(Independent {
        scope,
        actors,
        chains,
        activity,
        top_events,
        top_errors,
    })
}

/// Replaces the `findings` view of `ctx` with a table of its rows.
async fn materialize_findings(ctx: &SessionContext) -> Result<()> {
    let frame = ctx.sql("SELECT * FROM findings").await?;
    let schema = Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await?;
    let table = MemTable::try_new(schema, vec![batches])?;
    ctx.deregister_table("findings")?;
    ctx.register_table("findings", Arc::new(table))?;
    Ok(())
}

/// Every finding, with its event ids cut.
async fn findings(ctx: &SessionContext, queries: &mut Queries) -> Result<Vec<Finding>> {
    let answer = queries
        .run(
            ctx,
            "findings",
            "The findings, most severe first",
            queries::FINDINGS.to_string(),
        )
        .await?;
    let mut out = Vec::with_capacity(answer.rows());
    for batch in &answer.batches {
        let ids = event_ids(batch);
        let rows = table::batch_rows(batch)?;
        let names: Vec<&str> = answer
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        for (row, ids) in rows.into_iter().zip(ids) {
            let get = |name: &str| {
                names
                    .iter()
                    .position(|n| *n == name)
                    .map(|i| row[i].clone())
                    .unwrap_or_default()
            };
            let evidence = serde_json::from_str(&text(&get("evidence"))).unwrap_or_default();
            out.push(Finding {
                severity: text(&get("severity")),
                detection_id: text(&get("detection_id")),
                title: text(&get("title")),
                account_id: text(&get("account_id")),
                principal: text(&get("principal")),
                actor: text(&get("actor")),
                first_seen: text(&get("first_seen")),
                last_seen: text(&get("last_seen")),
                event_count: integer(&get("event_count")),
                evidence,
                event_ids: ids,
                finding_id: text(&get("finding_id")),
            });
        }
    }
    Ok(out)
}

/// The first [`FINDING_ID_CAP`] event ids of each row of a findings batch.
fn event_ids(batch: &arrow::array::RecordBatch) -> Vec<Vec<String>> {
    use arrow::array::{Array, AsArray};
    let Some(column) = batch.column_by_name("event_ids") else {
        return vec![Vec::new(); batch.num_rows()];
    };
    let Some(lists) = column.as_list_opt::<i32>() else {
        return vec![Vec::new(); batch.num_rows()];
    };
    (0..batch.num_rows())
        .map(|row| {
            if lists.is_null(row) {
                return Vec::new();
            }
            let values = lists.value(row);
            let Ok(values) = arrow::compute::cast(&values, &arrow::datatypes::DataType::Utf8)
            else {
                return Vec::new();
            };
            values
                .as_string::<i32>()
                .iter()
                .flatten()
                .take(FINDING_ID_CAP)
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// `text` quoted for a POSIX shell when it needs to be.
pub fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
