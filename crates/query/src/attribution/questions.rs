//! The questions asked of the attribution views: who are the principals and actors, who
//! is behind a key or session, and what did one identity do, in order. The CLI's
//! `principals`, `who` and `timeline`, the demo and the tests all ask them here.

use datafusion::prelude::{DataFrame, SessionContext};

use crate::{Answer, Error, Result, literal};

/// Which rows of `principals` to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrincipalKind {
    /// Signing identities and resolved actors.
    #[default]
    All,
    /// Signing identities only.
    Principal,
    /// Resolved actors only.
    Actor,
}

/// The column `principals` is sorted by (descending, then by kind and id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrincipalSort {
    /// Most events first.
    #[default]
    Events,
    /// Most source addresses first.
    SourceIps,
    /// Most errors first.
    Errors,
    /// Latest first appearance first.
    FirstSeen,
    /// Latest activity first.
    LastSeen,
}

impl PrincipalSort {
    fn column(self) -> &'static str {
        match self {
            PrincipalSort::Events => "events",
            PrincipalSort::SourceIps => "source_ips",
            PrincipalSort::Errors => "errors",
            PrincipalSort::FirstSeen => "first_seen",
            PrincipalSort::LastSeen => "last_seen",
        }
    }
}

/// Which principals and actors to list, and how.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrincipalFilter {
    /// Principals, actors or both.
    pub kind: PrincipalKind,
    /// Only those seen in this account.
    pub account: Option<String>,
    /// Only this type (`IAMUser`, `AssumedRole`, `Root`, ...).
    pub type_name: Option<String>,
    /// The order.
    pub sort: PrincipalSort,
    /// At most this many rows (0: all).
    pub limit: usize,
}

/// Top principals and actors, filtered and sorted.
pub async fn principals(ctx: &SessionContext, filter: &PrincipalFilter) -> Result<DataFrame> {
    Ok(ctx.sql(&principals_sql(filter)).await?)
}

fn principals_sql(filter: &PrincipalFilter) -> String {
    let mut conditions = Vec::new();
    match filter.kind {
        PrincipalKind::All => {}
        PrincipalKind::Principal => conditions.push("kind = 'principal'".to_string()),
        PrincipalKind::Actor => conditions.push("kind = 'actor'".to_string()),
    }
    if let Some(account) = &filter.account {
        conditions.push(format!("array_has(accounts, {})", literal(account)));
    }
    if let Some(type_name) = &filter.type_name {
        conditions.push(format!("type = {}", literal(type_name)));
    }
    let filter_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let limit = match filter.limit {
        0 => String::new(),
        n => format!(" LIMIT {n}"),
    };
    format!(
        "SELECT kind, id, name, type, accounts, events, source_ips, errors, first_seen, last_seen, \
                user_agent_families, regions, cardinality(access_keys) AS access_keys \
         FROM principals{filter_sql} ORDER BY {} DESC, kind, id{limit}",
        filter.sort.column()
    )
}

/// What `who` found for its subject.
#[derive(Debug, Clone)]
pub enum WhoAnswer {
    /// Temporary credentials: one row per hop of each matching session's chain, with
    /// the call that issued it.
    Sessions(Answer),
    /// No session: the long-term identities (or events) the subject names, summarized.
    Direct(Answer),
}

impl WhoAnswer {
    /// The rows, whichever kind they are.
    pub fn answer(&self) -> &Answer {
        match self {
            WhoAnswer::Sessions(answer) | WhoAnswer::Direct(answer) => answer,
        }
    }
}

/// Who is behind `subject`: an access key id, a session or principal ARN, a role session
/// name, an actor, or an event id. Sessions are looked for first; a subject that names
/// none is summarized from the events it names. Nothing at all is [`Error::NotFound`].
pub async fn who(ctx: &SessionContext, subject: &str) -> Result<WhoAnswer> {
    let subject = subject.trim();
    if subject.is_empty() {
        return Err(Error::NotFound("an empty subject".into()));
    }
    let sessions = Answer::collect(ctx.sql(&who_sessions_sql(subject)).await?).await?;
    if sessions.rows() > 0 {
        return Ok(WhoAnswer::Sessions(sessions));
    }
    let direct = Answer::collect(ctx.sql(&who_direct_sql(subject)).await?).await?;
    if direct.rows() > 0 {
        return Ok(WhoAnswer::Direct(direct));
    }
    Err(Error::NotFound(format!(
        "access key, session, principal, actor or event {subject}"
    )))
}

/// The chain of every session that `subject` names (its key, session ARN, session name,
/// issuing event, or an event signed with it), one row per hop with the issuing call.
fn who_sessions_sql(subject: &str) -> String {
    let s = literal(subject);
    format!(
        "WITH matched AS ( \
           SELECT access_key_id FROM sessions \
           WHERE access_key_id = {s} OR principal = {s} OR session_name = {s} \
              OR issuing_event_id = {s} OR issuing_copy_event_id = {s} \
           UNION SELECT access_key_id FROM attribution \
           WHERE event_id = {s} AND access_key_id IN (SELECT access_key_id FROM sessions) \
         ), hops AS ( \
           SELECT access_key_id, actor, actor_name, actor_type, method, chain, \
                  unnest(range(1, CAST(array_length(chain) AS BIGINT) + 1)) AS step \
           FROM sessions WHERE access_key_id IN (SELECT access_key_id FROM matched) \
         ) \
         SELECT h.access_key_id AS session_key, h.actor, h.actor_name, h.actor_type, h.method, h.step, \
                h.chain[h.step]['arn'] AS arn, h.chain[h.step]['access_key_id'] AS access_key_id, \
                h.chain[h.step]['issuing_api'] AS issued_by, \
                h.chain[h.step]['issuing_event_id'] AS issuing_event_id, \
                e.event_time AS issued_at, e.source_ip_address AS issued_from \
         FROM hops h LEFT JOIN attribution e ON e.event_id = h.chain[h.step]['issuing_event_id'] \
         ORDER BY session_key, step"
    )
}

/// When `subject` names no session: the events it names, by signing identity.
fn who_direct_sql(subject: &str) -> String {
    let s = literal(subject);
    format!(
        "SELECT principal, principal_type, actor, actor_name, actor_type, method, access_key_id, \
                count(*) AS events, min(event_time) AS first_seen, max(event_time) AS last_seen \
         FROM attribution \
         WHERE event_id = {s} OR access_key_id = {s} OR principal = {s} OR actor = {s} \
            OR actor_name = {s} \
         GROUP BY principal, principal_type, actor, actor_name, actor_type, method, access_key_id \
         ORDER BY events DESC, principal"
    )
}

/// Whose timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimelineOf {
    /// A resolved actor (an IAM user ARN, a SAML or web identity subject, ...).
    Actor(String),
    /// A signing principal.
    Principal(String),
    /// An access key id.
    AccessKey(String),
    /// An address, or a CIDR block.
    Ip(String),
}

impl TimelineOf {
    /// An address or CIDR block, validated.
    pub fn ip(text: &str) -> Result<TimelineOf> {
        let (address, prefix) = text.split_once('/').unwrap_or((text, "0"));
        if address.parse::<std::net::IpAddr>().is_err() || prefix.parse::<u8>().is_err() {
            return Err(Error::Invalid(format!(
                "{text}: not an IP address or CIDR block"
            )));
        }
        Ok(TimelineOf::Ip(text.to_string()))
    }
}

/// Every event of one identity or address, in time order.
pub async fn timeline(ctx: &SessionContext, of: &TimelineOf) -> Result<DataFrame> {
    Ok(ctx.sql(&timeline_sql(of)).await?)
}

fn timeline_sql(of: &TimelineOf) -> String {
    let condition = match of {
        TimelineOf::Actor(actor) => {
            format!("(actor = {a} OR actor_name = {a})", a = literal(actor))
        }
        TimelineOf::Principal(principal) => format!("principal = {}", literal(principal)),
        TimelineOf::AccessKey(key) => format!("access_key_id = {}", literal(key)),
        TimelineOf::Ip(ip) if ip.contains('/') => {
            format!("ip_in_cidr(source_ip_address, {})", literal(ip))
        }
        TimelineOf::Ip(ip) => format!("source_ip_address = {}", literal(ip)),
    };
    format!(
        "SELECT event_time, account_id, event_source, event_name, principal, actor, actor_name, method, \
                access_key_id, source_ip_address, user_agent_family(user_agent) AS client, \
                aws_region, error_code, event_id \
         FROM attribution WHERE {condition} ORDER BY event_time, event_id"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_in_subjects_stay_literals() {
        let sql = timeline_sql(&TimelineOf::Actor("o'brien".into()));
        assert!(
            sql.contains("(actor = 'o''brien' OR actor_name = 'o''brien')"),
            "{sql}"
        );
        assert!(who_sessions_sql("x' OR 1=1 --").contains("'x'' OR 1=1 --'"));
    }

    #[test]
    fn a_cidr_block_filters_by_range() {
        assert!(
            timeline_sql(&TimelineOf::ip("10.0.0.0/8").unwrap())
                .contains("ip_in_cidr(source_ip_address, '10.0.0.0/8')")
        );
        assert!(
            timeline_sql(&TimelineOf::ip("10.1.2.3").unwrap())
                .contains("source_ip_address = '10.1.2.3'")
        );
        assert!(TimelineOf::ip("10.1.2").is_err());
        assert!(TimelineOf::ip("10.1.2.3/x").is_err());
    }

    #[test]
    fn principals_filters_combine() {
        let sql = principals_sql(&PrincipalFilter {
            kind: PrincipalKind::Actor,
            account: Some("111122223333".into()),
            type_name: Some("IAMUser".into()),
            sort: PrincipalSort::SourceIps,
            limit: 0,
        });
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
