//! Parsing, validating and listing detections, and the `findings` view over them.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use datafusion::prelude::SessionContext;

use crate::cached_view::CachedView;
use crate::{Error, Result, literal};

/// How bad a finding is, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Worth a look.
    Low,
    /// Worth a look soon.
    Medium,
    /// Act on it.
    High,
    /// Act on it now.
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Its name: `info`, `low`, `medium`, `high` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// 0 (info) to 4 (critical), for sorting and thresholds in SQL.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// Whether this is `threshold` or worse.
    pub fn at_least(self, threshold: Severity) -> bool {
        self >= threshold
    }

    /// A severity by name, in any case.
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// What one row of a detection's query is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grain {
    /// A finding: the query returns `first_seen`, `last_seen`, `event_count` and
    /// `event_ids` itself.
    #[default]
    Finding,
    /// One event is one finding (`-- grain: event`): the query returns `event_time` and
    /// `event_id`, and the finding's time span, count and ids are made from them.
    Event,
    /// Many rules in one query (the Sigma rules, evaluated in one pass): like `Finding`,
    /// and each row also names its `detection_id`, `severity`, `severity_rank` and `title`.
    RuleSet,
}

/// One detection: its metadata and its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// Unique: lowercase letters, digits and dashes.
    pub id: String,
    /// One line.
    pub title: String,
    /// How bad its findings are.
    pub severity: Severity,
    /// What fires it, and how findings are grouped.
    pub description: String,
    /// Why it matters.
    pub rationale: String,
    /// Documentation it follows (URLs).
    pub references: Vec<String>,
    /// What fires it and is fine.
    pub false_positives: String,
    /// What one row of the query is.
    pub grain: Grain,
    /// The query, without its header.
    pub sql: String,
    /// Where it came from: `builtin` or a file path.
    pub source: String,
}

/// Identities used from several addresses in turn, for the shared-identity detections
/// (and any user detection): see `interleaved.sql`.
pub const INTERLEAVED: &str = "__interleaved";
const INTERLEAVED_SQL: &str = include_str!("interleaved.sql");

/// Role sessions AWS runs for a workload (instances, functions, tasks), with how each was
/// recognized: see `workload_sessions.sql`.
pub const WORKLOAD_SESSIONS: &str = "__workload_sessions";
const WORKLOAD_SESSIONS_SQL: &str = include_str!("workload_sessions.sql");

/// The built-in detections' files, embedded.
const BUILTIN: &[(&str, &str)] = &[
    (
        "root_activity.sql",
        include_str!("builtin/root_activity.sql"),
    ),
    (
        "root_console_signin.sql",
        include_str!("builtin/root_console_signin.sql"),
    ),
    (
        "root_console_signin_without_mfa.sql",
        include_str!("builtin/root_console_signin_without_mfa.sql"),
    ),
    (
        "root_failed_signin.sql",
        include_str!("builtin/root_failed_signin.sql"),
    ),
    (
        "root_access_key_used.sql",
        include_str!("builtin/root_access_key_used.sql"),
    ),
    (
        "root_access_key_created.sql",
        include_str!("builtin/root_access_key_created.sql"),
    ),
    (
        "root_password_change.sql",
        include_str!("builtin/root_password_change.sql"),
    ),
    (
        "root_mfa_change.sql",
        include_str!("builtin/root_mfa_change.sql"),
    ),
    (
        "root_signin_after_silence.sql",
        include_str!("builtin/root_signin_after_silence.sql"),
    ),
    (
        "root_assumed_session.sql",
        include_str!("builtin/root_assumed_session.sql"),
    ),
    (
        "root_shared_console.sql",
        include_str!("builtin/root_shared_console.sql"),
    ),
    (
        "shared_access_key.sql",
        include_str!("builtin/shared_access_key.sql"),
    ),
    (
        "shared_iam_user_console.sql",
        include_str!("builtin/shared_iam_user_console.sql"),
    ),
    (
        "shared_role_session.sql",
        include_str!("builtin/shared_role_session.sql"),
    ),
    (
        "workload_credentials_outside.sql",
        include_str!("builtin/workload_credentials_outside.sql"),
    ),
    (
        "iam_console_signin_without_mfa.sql",
        include_str!("builtin/iam_console_signin_without_mfa.sql"),
    ),
    (
        "access_key_created_for_another_user.sql",
        include_str!("builtin/access_key_created_for_another_user.sql"),
    ),
    (
        "cloudtrail_tampering.sql",
        include_str!("builtin/cloudtrail_tampering.sql"),
    ),
    (
        "iam_credentials_created_and_used.sql",
        include_str!("builtin/iam_credentials_created_and_used.sql"),
    ),
    (
        "access_key_human_and_automation.sql",
        include_str!("builtin/access_key_human_and_automation.sql"),
    ),
    (
        "root_use_not_requiring_root.sql",
        include_str!("builtin/root_use_not_requiring_root.sql"),
    ),
    ("root_task.sql", include_str!("builtin/root_task.sql")),
    (
        "role_never_used.sql",
        include_str!("builtin/role_never_used.sql"),
    ),
    (
        "permissions_mostly_unused.sql",
        include_str!("builtin/permissions_mostly_unused.sql"),
    ),
];

/// The built-in detections, sorted by id.
pub fn builtin() -> Vec<Detection> {
    let mut all: Vec<Detection> = BUILTIN
        .iter()
        .map(|(name, text)| {
            parse(text, &format!("builtin/{name}")).expect("built-in detections are valid (tested)")
        })
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

/// Parses a detection file: `-- key: value` header lines, then the query.
pub fn parse(text: &str, source: &str) -> Result<Detection> {
    let invalid = |why: String| Error::Detection(format!("{source}: {why}"));
    let mut fields = std::collections::HashMap::new();
    let mut body = Vec::new();
    let mut in_header = true;
    for line in text.lines() {
        let trimmed = line.trim();
        if in_header {
            if let Some(comment) = trimmed.strip_prefix("--") {
                if let Some((key, value)) = comment.split_once(':')
                    && !key.trim().contains(' ')
                {
                    let key = key.trim().to_string();
                    if fields
                        .insert(key.clone(), value.trim().to_string())
                        .is_some()
                    {
                        return Err(invalid(format!("`{key}` is given twice")));
                    }
                }
                continue;
            }
            if trimmed.is_empty() {
                continue;
            }
            in_header = false;
        }
        body.push(line);
    }
    let mut take = |key: &str| -> Result<String> {
        match fields.remove(key) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(invalid(format!("the header has no `-- {key}:` line"))),
        }
    };
    let id = take("id")?;
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(invalid(format!(
            "id {id:?}: use lowercase letters, digits and dashes"
        )));
    }
    let severity_text = take("severity")?;
    let severity = Severity::parse(&severity_text).ok_or_else(|| {
        invalid(format!(
            "severity {severity_text:?}: one of info, low, medium, high, critical"
        ))
    })?;
    let detection = Detection {
        id,
        title: take("title")?,
        severity,
        description: take("description")?,
        rationale: take("rationale")?,
        references: take("references")?
            .split(',')
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect(),
        false_positives: fields.remove("false_positives").unwrap_or_default(),
        grain: match fields.remove("grain").as_deref() {
            None | Some("finding") => Grain::Finding,
            Some("event") => Grain::Event,
            Some(other) => {
                return Err(invalid(format!("grain {other:?}: one of finding, event")));
            }
        },
        sql: body.join("\n").trim().trim_end_matches(';').to_string(),
        source: source.to_string(),
    };
    if let Some(unknown) = fields.keys().next() {
        return Err(invalid(format!("unknown header key `{unknown}`")));
    }
    if detection.sql.is_empty() {
        return Err(invalid("no query after the header".into()));
    }
    Ok(detection)
}

/// Loads every `*.sql` file of `dir` as a detection, sorted by file name.
pub fn load_dir(dir: &Path) -> Result<Vec<Detection>> {
    let entries = std::fs::read_dir(dir).map_err(|e| trailscope_ingest::Error::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| trailscope_ingest::Error::io(dir, e))?
            .path();
        if path.extension().is_some_and(|e| e == "sql") {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .iter()
        .map(|path| {
            // A FIFO would block the read forever: only regular files are detections.
            if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
                return Err(Error::Detection(format!(
                    "{}: not a regular file",
                    path.display()
                )));
            }
            let text =
                std::fs::read_to_string(path).map_err(|e| trailscope_ingest::Error::io(path, e))?;
            parse(&text, &path.display().to_string())
        })
        .collect()
}

/// The `findings` query over `detections`: each detection's rows with its id, severity
/// and title, and a stable `finding_id`. Fails on repeated ids.
pub fn findings_sql(detections: &[Detection]) -> Result<String> {
    let mut seen = HashSet::new();
    let mut parts = Vec::new();
    for d in detections {
        if !seen.insert(d.id.as_str()) {
            return Err(Error::Detection(format!(
                "detection id {} is used twice ({})",
                d.id, d.source
            )));
        }
        let (first_seen, last_seen, event_count, event_ids) = match d.grain {
            Grain::Finding | Grain::RuleSet => (
                "d.first_seen",
                "d.last_seen",
                "CAST(d.event_count AS BIGINT)",
                "d.event_ids",
            ),
            Grain::Event => (
                "d.event_time",
                "d.event_time",
                "CAST(1 AS BIGINT)",
                "make_array(d.event_id)",
            ),
        };
        // A rule set's rows name their own rule; a detection's are all its own.
        let (id, severity, rank, title) = match d.grain {
            Grain::RuleSet => (
                "d.detection_id".to_string(),
                "d.severity".to_string(),
                "d.severity_rank".to_string(),
                "d.title".to_string(),
            ),
            _ => (
                literal(&d.id),
                literal(d.severity.as_str()),
                d.severity.rank().to_string(),
                literal(&d.title),
            ),
        };
        parts.push(format!(
            "SELECT concat({id}, '/', coalesce(CAST(d.account_id AS VARCHAR), ''), '/', \
                    coalesce(CAST(d.actor AS VARCHAR), CAST(d.principal AS VARCHAR), ''), '/', \
                    CAST(CAST({first_seen} AS BIGINT) AS VARCHAR)) AS finding_id, \
                    CAST({id} AS VARCHAR) AS detection_id, CAST({severity} AS VARCHAR) AS severity, \
                    CAST({rank} AS INT) AS severity_rank, CAST({title} AS VARCHAR) AS title, \
                    CAST(d.principal AS VARCHAR) AS principal, CAST(d.actor AS VARCHAR) AS actor, \
                    CAST(d.account_id AS VARCHAR) AS account_id, \
                    {first_seen} AS first_seen, {last_seen} AS last_seen, \
                    {event_count} AS event_count, {event_ids} AS event_ids, \
                    CAST(d.evidence AS VARCHAR) AS evidence \
             FROM (\n{sql}\n) d",
            sql = d.sql,
        ));
    }
    if parts.is_empty() {
        return Err(Error::Detection("no detections to run".into()));
    }
    Ok(parts.join("\nUNION ALL\n"))
}

/// Registers the view `findings` over `detections` on `ctx`; each detection is planned
/// first on its own, so a bad one is named.
///
/// `distributed` (a cluster session): the tables several detections read are plain views,
/// computed where they are read, in place of views computed once and cached.
pub(crate) async fn register_findings(
    ctx: &SessionContext,
    detections: &[Detection],
    distributed: bool,
) -> Result<()> {
    // Read by several detections in one findings query: computed once, on first read.
    for (name, sql) in [
        (WORKLOAD_SESSIONS, WORKLOAD_SESSIONS_SQL),
        (INTERLEAVED, INTERLEAVED_SQL),
    ] {
        if distributed {
            let view = ctx.sql(sql).await?.into_view();
            ctx.register_table(name, view)?;
        } else {
            let plan = ctx.sql(sql).await?.into_unoptimized_plan();
            ctx.register_table(name, Arc::new(CachedView::new(plan)))?;
        }
    }
    for d in detections {
        ctx.sql(&findings_sql(std::slice::from_ref(d))?)
            .await
            .map_err(|e| {
                Error::Detection(format!(
                    "{} ({}): {}",
                    d.id,
                    d.source,
                    first_line(&e.to_string())
                ))
            })?;
    }
    let view = ctx.sql(&findings_sql(detections)?).await?.into_view();
    ctx.register_table("findings", view)?;
    Ok(())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_ids_are_unique_and_every_field_is_filled() {
        let all = builtin();
        assert_eq!(all.len(), BUILTIN.len());
        let ids: HashSet<_> = all.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids.len(), all.len(), "repeated ids");
        for d in &all {
            assert!(
                !d.references.is_empty() && d.references.iter().all(|r| r.starts_with("https://")),
                "{d:?}"
            );
            assert!(!d.false_positives.is_empty(), "{}", d.id);
            assert!(
                d.sql.starts_with("SELECT") || d.sql.starts_with("WITH"),
                "{}",
                d.id
            );
        }
        assert!(findings_sql(&all).is_ok());
        // The README's table of detections lists every one.
        let readme = include_str!("../../../../README.md");
        for d in &all {
            let row = format!("| `{}` | {} |", d.id, d.severity.as_str());
            assert!(readme.contains(&row), "README lacks {row}");
        }
    }

    #[test]
    fn every_file_of_the_builtin_directory_is_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/detections/builtin");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let mut listed: Vec<String> = BUILTIN.iter().map(|(name, _)| name.to_string()).collect();
        listed.sort();
        assert_eq!(files, listed, "BUILTIN must list every file of {dir}");
    }

    #[test]
    fn bad_headers_are_named_clearly() {
        let ok = "-- id: x\n-- title: T\n-- severity: low\n-- description: D\n-- rationale: R\n-- references: https://a\nSELECT 1";
        assert!(parse(ok, "ok.sql").is_ok());
        let no_id = ok.replace("-- id: x\n", "");
        assert!(
            parse(&no_id, "f.sql")
                .unwrap_err()
                .to_string()
                .contains("f.sql: the header has no `-- id:` line")
        );
        let bad = ok.replace("low", "urgent");
        assert!(
            parse(&bad, "f.sql")
                .unwrap_err()
                .to_string()
                .contains("severity \"urgent\"")
        );
        let unknown = ok.replace("-- rationale: R", "-- rationale: R\n-- colour: red");
        assert!(
            parse(&unknown, "f.sql")
                .unwrap_err()
                .to_string()
                .contains("unknown header key `colour`")
        );
        let empty = ok.replace("SELECT 1", "");
        assert!(
            parse(&empty, "f.sql")
                .unwrap_err()
                .to_string()
                .contains("no query")
        );
        let twice = findings_sql(&[parse(ok, "a").unwrap(), parse(ok, "b").unwrap()]);
        assert!(twice.unwrap_err().to_string().contains("used twice"));
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert_eq!(Severity::parse("urgent"), None);
    }
}
