//! Sigma rules as detections: each AWS CloudTrail rule compiles to one query over `events`
//! returning finding rows, with `principal` and `actor` from `attribution` (so a hit on a
//! role session names the person behind it), and runs in `findings` beside the built-in
//! detections.
//!
//! Parsing (YAML, the condition grammar, modifiers, wildcards) is `rsigma-parser`'s; the
//! compilation to SQL is here ([`compile`]), and fields go through the schema's own field
//! tree ([`fields`]). Not supported yet, each with a one-line reason per rule: correlation
//! rules, keyword (field-less) searches, array quantifiers, and the encoding modifiers
//! (`base64`, `base64offset`, `wide`, `utf16*`, `windash`), placeholders (`expand`) and
//! time parts.

mod compile;
mod fields;

use std::path::{Path, PathBuf};

use rsigma_parser::{Level, SigmaRule};

use crate::detections::{Detection, Grain, Severity};
use crate::literal;

pub use compile::rule_predicate;
pub use fields::field_text;

/// What loading Sigma files gave.
#[derive(Debug, Default)]
pub struct SigmaLoad {
    /// The rules that compiled, each as a detection of its own (`sigma:<rule id>`), for
    /// listing, reading and running one.
    pub detections: Vec<Detection>,
    /// What [`rule_set`] needs of the same rules, in the same order.
    pub compiled: Vec<Compiled>,
    /// Rules or files not used, each with its source and the reason.
    pub not_supported: Vec<(String, String)>,
    /// Rules whose id an earlier file's rule has (rule sets copy each other's rules): the
    /// first one read is used.
    pub duplicates: Vec<(String, String)>,
    /// Files read.
    pub files: usize,
}

/// A rule's predicate over `events` and its tags.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The detection as one SQL predicate over `events`.
    pub predicate: String,
    /// The rule's tags (ATT&CK techniques, ...), for the evidence.
    pub tags: Vec<String>,
}

/// Loads every `.yml`/`.yaml` file of `paths` (files, or directories read recursively).
pub fn load(paths: &[PathBuf]) -> SigmaLoad {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files);
    }
    files.sort();
    let mut out = SigmaLoad {
        files: files.len(),
        ..SigmaLoad::default()
    };
    for file in &files {
        let source = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                out.not_supported
                    .push((source, format!("cannot read: {e}")));
                continue;
            }
        };
        load_text(&text, &source, &mut out);
    }
    out
}

/// Loads the rules of one file's text.
pub fn load_text(text: &str, source: &str, out: &mut SigmaLoad) {
    let collection = match rsigma_parser::parse_sigma_yaml(text) {
        Ok(collection) => collection,
        Err(e) => {
            out.not_supported
                .push((source.to_string(), format!("not a Sigma rule: {e}")));
            return;
        }
    };
    for error in &collection.errors {
        out.not_supported
            .push((source.to_string(), format!("not a Sigma rule: {error}")));
    }
    for correlation in &collection.correlations {
        out.not_supported.push((
            source.to_string(),
            format!(
                "correlation rule `{}`: correlation rules are not supported yet",
                correlation.title
            ),
        ));
    }
    for rule in &collection.rules {
        match compile_rule(rule, source) {
            Ok((d, compiled)) => match out.detections.iter().find(|e| e.id == d.id) {
                Some(first) => out.duplicates.push((
                    source.to_string(),
                    format!("rule id {} was read first from {}", d.id, first.source),
                )),
                None => {
                    out.compiled.push(compiled);
                    out.detections.push(d);
                }
            },
            Err(why) => out.not_supported.push((source.to_string(), why)),
        }
    }
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                collect(&entry.path(), out);
            }
        }
    } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
        out.push(path.to_path_buf());
    }
}

/// A rule as a detection, or why it cannot be one.
pub fn detection(rule: &SigmaRule, source: &str) -> Result<Detection, String> {
    compile_rule(rule, source).map(|(d, _)| d)
}

/// A rule as a detection and its compiled parts, or why it cannot be one.
fn compile_rule(rule: &SigmaRule, source: &str) -> Result<(Detection, Compiled), String> {
    let logsource = &rule.logsource;
    let aws = logsource
        .product
        .as_deref()
        .is_some_and(|p| p.eq_ignore_ascii_case("aws"));
    let cloudtrail = logsource
        .service
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("cloudtrail"));
    if !aws || !cloudtrail {
        return Err(format!(
            "`{}`: its logsource is not AWS CloudTrail",
            rule.title
        ));
    }
    let predicate = rule_predicate(&rule.detection.named, &rule.detection.conditions)
        .map_err(|why| format!("`{}`: {why}", rule.title))?;
    let id = format!(
        "sigma:{}",
        rule.id.clone().unwrap_or_else(|| file_stem(source))
    );
    let severity = match rule.level {
        Some(Level::Informational) => Severity::Info,
        Some(Level::Low) => Severity::Low,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
        Some(Level::Medium) | None => Severity::Medium,
    };
    let detection = Detection {
        id,
        title: rule.title.clone(),
        severity,
        description: rule.description.clone().unwrap_or_default(),
        rationale: format!("Sigma rule; tags: {}", rule.tags.join(", ")),
        references: rule.references.clone(),
        false_positives: rule.falsepositives.join("; "),
        grain: Grain::Finding,
        sql: query(rule, &predicate),
        source: source.to_string(),
    };
    let compiled = Compiled {
        predicate,
        tags: rule.tags.clone(),
    };
    Ok((detection, compiled))
}

/// Every loaded rule in one detection (`sigma`) that reads the events once: each event
/// gets the list of rules it matches, and the hits are grouped per rule, actor, account
/// and UTC day, as each rule's own query does. Many rules over one dataset are then one
/// scan, not one per rule. `None` when no rule compiled.
pub fn rule_set(load: &SigmaLoad) -> Option<Detection> {
    if load.detections.is_empty() {
        return None;
    }
    let cases: Vec<String> = load
        .compiled
        .iter()
        .enumerate()
        .map(|(i, c)| format!("CASE WHEN {} THEN {i} END", c.predicate))
        .collect();
    let rules: Vec<String> = load
        .detections
        .iter()
        .zip(&load.compiled)
        .enumerate()
        .map(|(i, (d, c))| {
            format!(
                "({i}, {}, {}, {}, {}, {}, {})",
                literal(&d.id),
                literal(d.severity.as_str()),
                d.severity.rank(),
                literal(&d.title),
                literal(&c.tags.join(", ")),
                literal(&d.references.join(", "))
            )
        })
        .collect();
    let sql = format!(
        "WITH hits AS (
  SELECT * FROM (
    SELECT e.source_file, e.record_index, e.event_id, e.event_time, e.event_name,
           e.source_ip_address, e.user_agent, e.recipient_account_id,
           unnest(make_array({cases})) AS rule
    FROM events e
  ) matched
  WHERE rule IS NOT NULL
),
rules AS (
  SELECT column1 AS rule, column2 AS detection_id, column3 AS severity,
         column4 AS severity_rank, column5 AS title, column6 AS tags, column7 AS refs
  FROM (VALUES {rules}) v
)
SELECT r.detection_id, r.severity, r.severity_rank, r.title,
       a.principal, a.actor, h.recipient_account_id AS account_id,
       min(h.event_time) AS first_seen, max(h.event_time) AS last_seen, count(*) AS event_count,
       array_agg(h.event_id ORDER BY h.event_time, h.event_id) AS event_ids,
       to_json(named_struct(
         'rule', r.title,
         'tags', r.tags,
         'references', r.refs,
         'event_names', array_sort(array_agg(DISTINCT h.event_name)),
         'source_ips', array_sort(array_agg(DISTINCT h.source_ip_address)),
         'user_agents', array_sort(array_agg(DISTINCT h.user_agent))
       )) AS evidence
FROM hits h
JOIN rules r ON h.rule = r.rule
LEFT JOIN attribution a ON a.source_file = h.source_file AND a.record_index = h.record_index
GROUP BY r.detection_id, r.severity, r.severity_rank, r.title, r.tags, r.refs,
         a.principal, a.actor, h.recipient_account_id, date_trunc('day', h.event_time)",
        cases = cases.join(",\n             "),
        rules = rules.join(",\n  "),
    );
    Some(Detection {
        id: "sigma".into(),
        title: format!("{} Sigma rules", load.detections.len()),
        severity: Severity::Info,
        description: "Every loaded Sigma rule, evaluated in one pass over the events.".into(),
        rationale: String::new(),
        references: Vec::new(),
        false_positives: String::new(),
        grain: Grain::RuleSet,
        sql,
        source: "sigma".into(),
    })
}

fn file_stem(source: &str) -> String {
    Path::new(source)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The finding query of a rule: its matching events, one finding per actor, account and
/// UTC day, named through `attribution`.
fn query(rule: &SigmaRule, predicate: &str) -> String {
    let list = |items: &[String]| literal(&items.join(", "));
    format!(
        "SELECT a.principal, a.actor, e.recipient_account_id AS account_id,
       min(e.event_time) AS first_seen, max(e.event_time) AS last_seen, count(*) AS event_count,
       array_agg(e.event_id ORDER BY e.event_time, e.event_id) AS event_ids,
       to_json(named_struct(
         'rule', {title},
         'tags', {tags},
         'references', {references},
         'event_names', array_sort(array_agg(DISTINCT e.event_name)),
         'source_ips', array_sort(array_agg(DISTINCT e.source_ip_address)),
         'user_agents', array_sort(array_agg(DISTINCT e.user_agent))
       )) AS evidence
FROM (SELECT * FROM events WHERE {predicate}) e
LEFT JOIN attribution a ON a.source_file = e.source_file AND a.record_index = e.record_index
GROUP BY a.principal, a.actor, e.recipient_account_id, date_trunc('day', e.event_time)",
        title = literal(&rule.title),
        tags = list(&rule.tags),
        references = list(&rule.references),
    )
}
