//! `trailscope principals`, `who` and `timeline`: queries over the attribution views.

use std::sync::Arc;

use crate::Outcome;
use crate::args::{PrincipalKind, PrincipalSort, ViewQueryConfig};

/// A SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Top principals and actors, filtered and sorted.
pub fn principals_sql(
    kind: PrincipalKind,
    account: Option<&str>,
    type_name: Option<&str>,
    sort: PrincipalSort,
    limit: usize,
) -> String {
    let mut conditions = Vec::new();
    match kind {
        PrincipalKind::All => {}
        PrincipalKind::Principal => conditions.push("kind = 'principal'".to_string()),
        PrincipalKind::Actor => conditions.push("kind = 'actor'".to_string()),
    }
    if let Some(account) = account {
        conditions.push(format!("array_has(accounts, {})", literal(account)));
    }
    if let Some(type_name) = type_name {
        conditions.push(format!("type = {}", literal(type_name)));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let order = match sort {
        PrincipalSort::Events => "events",
        PrincipalSort::SourceIps => "source_ips",
        PrincipalSort::Errors => "errors",
        PrincipalSort::FirstSeen => "first_seen",
        PrincipalSort::LastSeen => "last_seen",
    };
    let limit = if limit == 0 {
        String::new()
    } else {
        format!(" LIMIT {limit}")
    };
    format!(
        "SELECT kind, id, type, accounts, events, source_ips, errors, first_seen, last_seen, \
                user_agent_families, regions, cardinality(access_keys) AS access_keys \
         FROM principals{filter} ORDER BY {order} DESC, kind, id{limit}"
    )
}

/// The chain of every session that `subject` names (its key, session ARN, session name,
/// issuing event, or an event signed with it), one row per hop with the issuing call;
/// for a long-term identity, its attribution summary instead.
pub fn who_sql(subject: &str) -> String {
    let s = literal(subject);
    format!(
        "WITH matched AS ( \
           SELECT access_key_id FROM sessions \
           WHERE access_key_id = {s} OR principal = {s} OR session_name = {s} \
              OR issuing_event_id = {s} OR issuing_copy_event_id = {s} \
           UNION SELECT access_key_id FROM attribution \
           WHERE event_id = {s} AND access_key_id IN (SELECT access_key_id FROM sessions) \
         ), hops AS ( \
           SELECT access_key_id, actor, actor_type, method, chain, \
                  unnest(range(1, CAST(array_length(chain) AS BIGINT) + 1)) AS step \
           FROM sessions WHERE access_key_id IN (SELECT access_key_id FROM matched) \
         ) \
         SELECT h.access_key_id AS session_key, h.actor, h.actor_type, h.method, h.step, \
                h.chain[h.step]['arn'] AS arn, h.chain[h.step]['access_key_id'] AS access_key_id, \
                h.chain[h.step]['issuing_api'] AS issued_by, \
                h.chain[h.step]['issuing_event_id'] AS issuing_event_id, \
                e.event_time AS issued_at, e.source_ip_address AS issued_from \
         FROM hops h LEFT JOIN attribution e ON e.event_id = h.chain[h.step]['issuing_event_id'] \
         ORDER BY session_key, step"
    )
}

/// When `subject` names no session: the events it names, signed by long-term identities.
fn who_direct_sql(subject: &str) -> String {
    let s = literal(subject);
    format!(
        "SELECT principal, principal_type, actor, actor_type, method, access_key_id, \
                count(*) AS events, min(event_time) AS first_seen, max(event_time) AS last_seen \
         FROM attribution \
         WHERE event_id = {s} OR access_key_id = {s} OR principal = {s} OR actor = {s} \
         GROUP BY principal, principal_type, actor, actor_type, method, access_key_id \
         ORDER BY events DESC, principal"
    )
}

/// Whose timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimelineOf {
    Actor(String),
    Principal(String),
    AccessKey(String),
    /// An address or a CIDR block.
    Ip(String),
}

pub fn timeline_sql(of: &TimelineOf) -> String {
    let condition = match of {
        TimelineOf::Actor(actor) => format!("actor = {}", literal(actor)),
        TimelineOf::Principal(principal) => format!("principal = {}", literal(principal)),
        TimelineOf::AccessKey(key) => format!("access_key_id = {}", literal(key)),
        TimelineOf::Ip(ip) if ip.contains('/') => {
            format!("ip_in_cidr(source_ip_address, {})", literal(ip))
        }
        TimelineOf::Ip(ip) => format!("source_ip_address = {}", literal(ip)),
    };
    format!(
        "SELECT event_time, account_id, event_source, event_name, principal, actor, method, \
                access_key_id, source_ip_address, user_agent_family(user_agent) AS client, \
                aws_region, error_code, event_id \
         FROM attribution WHERE {condition} ORDER BY event_time, event_id"
    )
}

/// Runs a `principals`, `who` or `timeline` query.
pub fn run(config: ViewQueryConfig) -> anyhow::Result<Outcome> {
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let ctx =
            trailscope_query::open_session(&config.dataset.root, &config.dataset.options).await?;
        let Some(subject) = &config.subject else {
            config
                .output
                .write_frame(ctx.sql(&config.sql).await?)
                .await?;
            return Ok(Outcome::Clean);
        };
        // `who`: sessions first; a long-term identity or event has no chain.
        for sql in [config.sql.clone(), who_direct_sql(subject)] {
            let frame = ctx.sql(&sql).await?;
            let schema = Arc::new(frame.schema().as_arrow().clone());
            let batches = frame.collect().await?;
            if batches.iter().any(|b| b.num_rows() > 0) {
                config.output.write_batches(&ctx, schema, batches).await?;
                return Ok(Outcome::Clean);
            }
        }
        anyhow::bail!("no access key, session, principal, actor or event {subject} in the dataset")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_in_subjects_stay_literals() {
        let sql = timeline_sql(&TimelineOf::Actor("o'brien".into()));
        assert!(sql.contains("actor = 'o''brien'"), "{sql}");
        assert!(who_sql("x' OR 1=1 --").contains("'x'' OR 1=1 --'"));
    }

    #[test]
    fn a_cidr_block_filters_by_range() {
        assert!(
            timeline_sql(&TimelineOf::Ip("10.0.0.0/8".into()))
                .contains("ip_in_cidr(source_ip_address, '10.0.0.0/8')")
        );
        assert!(
            timeline_sql(&TimelineOf::Ip("10.1.2.3".into()))
                .contains("source_ip_address = '10.1.2.3'")
        );
    }

    #[test]
    fn principals_filters_combine() {
        let sql = principals_sql(
            PrincipalKind::Actor,
            Some("111122223333"),
            Some("IAMUser"),
            PrincipalSort::SourceIps,
            0,
        );
        assert!(
            sql.contains(
                "WHERE kind = 'actor' AND array_has(accounts, '111122223333') AND type = 'IAMUser'"
            ),
            "{sql}"
        );
        assert!(sql.contains("ORDER BY source_ips DESC"), "{sql}");
        assert!(!sql.contains("LIMIT"), "{sql}");
    }
}
