//! Attribution: every event to the principal that signed it and, through STS sessions,
//! to the actor (person or workload) behind it.
//!
//! Views on the session (stable column names, documented in the README):
//! - `signed_events`: `events` with `root_principal`, `via_aws_service` and `root_use`
//!   (one definition each, read by the detections);
//! - `attribution`: one row per event of `events` (so within the session's time window);
//! - `sessions`: one row per temporary credential issued or used anywhere in the dataset;
//! - `principals`: one row per principal and per resolved actor.
//!
//! Credentials are resolved over the whole dataset, whatever the window, the first time
//! a query reads one of these views (the `__credentials` table); queries on
//! `events` alone never pay for it.

mod credentials;
mod questions;
mod resolve;

pub use questions::{
    PrincipalFilter, PrincipalKind, PrincipalSort, TimelineOf, WhoAnswer, principals, timeline, who,
};

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::prelude::SessionContext;

use crate::Result;

const PRINCIPAL_SQL: &str = include_str!("principal.sql");
const ROOT_PRINCIPAL_SQL: &str = include_str!("root_principal.sql");
const PRINCIPAL_TYPE_SQL: &str = include_str!("principal_type.sql");

/// The normalized signing principal of a row of `events`, as a SQL expression to inline.
pub fn principal_expr() -> String {
    strip_comments(PRINCIPAL_SQL).replace("{root_principal}", &root_principal_expr())
}

/// The ARN of the root user of a row of `events` signed by root, as a SQL expression.
pub fn root_principal_expr() -> String {
    strip_comments(ROOT_PRINCIPAL_SQL)
}

/// The type of [`principal_expr`], as a SQL expression to inline.
pub fn principal_type_expr() -> String {
    strip_comments(PRINCIPAL_TYPE_SQL)
}

const SIGNED_EVENTS_SQL: &str = include_str!("signed_events.sql");
const ATTRIBUTION_SQL: &str = include_str!("attribution.sql");
const SERVICE_SESSIONS_SQL: &str = include_str!("service_sessions.sql");
const SESSIONS_SQL: &str = include_str!("sessions.sql");
const PRINCIPALS_SQL: &str = include_str!("principals.sql");
const ACTOR_NAMES_SQL: &str = include_str!("actor_names.sql");
const ACTOR_NAME_SQL: &str = include_str!("actor_name.sql");
const ACTOR_NAME_SOURCE_SQL: &str = include_str!("actor_name_source.sql");

/// The internal table of resolved credentials.
pub const CREDENTIALS: &str = "__credentials";

/// Registers `signed_events`, `attribution`, `sessions` and `principals` on `ctx`, whose `events` is
/// already registered; `all_events` is the whole dataset (the window left out).
///
/// `distributed` (a cluster session): the credentials are resolved now, into an in-memory
/// table a plan can carry, and `__service_sessions` is a plain view.
pub async fn register(
    ctx: &SessionContext,
    all_events: Arc<dyn TableProvider>,
    distributed: bool,
) -> Result<()> {
    if distributed {
        let batch = credentials::build(all_events, ctx.runtime_env()).await?;
        let table = datafusion::datasource::MemTable::try_new(batch.schema(), vec![vec![batch]])?;
        ctx.register_table(CREDENTIALS, Arc::new(table))?;
        let view = ctx.sql(SERVICE_SESSIONS_SQL).await?.into_view();
        ctx.register_table("__service_sessions", view)?;
    } else {
        ctx.register_table(
            CREDENTIALS,
            Arc::new(credentials::CredentialsTable::new(all_events)),
        )?;
        // Small, and read by every query that attributes events: computed once, on first
        // read.
        let plan = ctx.sql(SERVICE_SESSIONS_SQL).await?.into_unoptimized_plan();
        ctx.register_table(
            "__service_sessions",
            Arc::new(crate::cached_view::CachedView::new(plan)),
        )?;
    }
    let views = [
        ("signed_events", signed_events_sql()),
        ("__actor_names", ACTOR_NAMES_SQL.to_string()),
        ("attribution", attribution_sql()),
        ("sessions", with_actor_names(SESSIONS_SQL, "c.actor")),
        ("principals", PRINCIPALS_SQL.to_string()),
    ];
    for (name, sql) in views {
        let view = ctx.sql(&sql).await?.into_view();
        ctx.register_table(name, view)?;
    }
    Ok(())
}

fn signed_events_sql() -> String {
    SIGNED_EVENTS_SQL.replace("{root_principal}", &root_principal_expr())
}

fn attribution_sql() -> String {
    with_actor_names(ATTRIBUTION_SQL, "base.actor")
        .replace("{principal}", &principal_expr())
        .replace("{principal_type}", &principal_type_expr())
        .replace("{events}", "events")
        .replace("{passthrough}", "")
}

/// The `attribution` of the rows of `relation` (a table or CTE with the columns of
/// `events`, such as a filtered part of it), as a query: each row with its `principal`
/// and `actor` (no `actor_name`), and the columns `passthrough` (`, e.rule`) of `relation`.
///
/// A query that needs the people behind a few million rows joins them here to the small
/// credential tables, rather than joining the `attribution` of every event by row key.
pub fn attributed(relation: &str, passthrough: &str) -> String {
    let sql = ATTRIBUTION_SQL
        .replace("{principal}", &principal_expr())
        .replace("{principal_type}", &principal_type_expr())
        .replace("{events}", relation)
        .replace("{passthrough}", passthrough);
    let start = sql
        .find("WITH base AS (")
        .expect("attribution.sql has a base")
        + 14;
    let end = sql
        .rfind("\n)\nSELECT base.*")
        .expect("attribution.sql ends with its select");
    strip_comments(&sql[start..end])
}

/// Fills the `{actor_name}` and `{actor_name_source}` placeholders of `sql` for the actor
/// column `actor`, whose `__actor_names` row is joined as `n`.
fn with_actor_names(sql: &str, actor: &str) -> String {
    let expr = |template: &str| {
        strip_comments(template)
            .replace("{actor}", actor)
            .replace("{names}", "n")
    };
    sql.replace("{actor_name}", &expr(ACTOR_NAME_SQL))
        .replace("{actor_name_source}", &expr(ACTOR_NAME_SOURCE_SQL))
}

/// The SQL without its `--` comment lines, to be inlined in another statement.
fn strip_comments(sql: &str) -> String {
    sql.lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}
