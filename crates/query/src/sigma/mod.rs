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
mod correlate;
mod encoding;
mod fields;
mod gate;

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
    /// The correlation rules, each a detection of its own (`sigma:<rule id>`).
    pub correlations: Vec<Detection>,
    /// Rules read only as part of a correlation (`generate: false`, the default): they
    /// give no findings of their own.
    pub base_rules: usize,
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
    /// The rule's `author`: the Detection Rule License asks that findings keep it.
    pub author: String,
    /// The (lowercased) event names the rule can match at all; `None`: any.
    pub gate: gate::Gate,
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
            out.not_supported.push((
                source.to_string(),
                format!("not a Sigma rule: {}", one_line(&e.to_string())),
            ));
            return;
        }
    };
    for error in &collection.errors {
        out.not_supported.push((
            source.to_string(),
            format!("not a Sigma rule: {}", one_line(error)),
        ));
    }
    let compiled: Vec<Result<(Detection, Compiled), String>> = collection
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            compile_rule(
                rule,
                &rule_id(rule.id.as_ref(), rule.name.as_ref(), source, i),
                source,
            )
        })
        .collect();
    // A correlation names rules of its own file (by id, name or title).
    let (bases, base_rules): (Vec<correlate::Base>, Vec<usize>) = collection
        .rules
        .iter()
        .zip(&compiled)
        .enumerate()
        .filter_map(|(i, (rule, result))| {
            let (_, c) = result.as_ref().ok()?;
            let base = correlate::Base {
                id: rule.id.as_deref(),
                name: rule.name.as_deref(),
                title: &rule.title,
                predicate: &c.predicate,
            };
            Some((base, i))
        })
        .unzip();
    let mut consumed = std::collections::HashSet::new();
    for correlation in &collection.correlations {
        match correlation_detection(correlation, &bases, source) {
            Ok((d, used)) => {
                if !correlation.generate {
                    consumed.extend(used.iter().map(|&b| base_rules[b]));
                }
                if out.correlations.iter().any(|e| e.id == d.id) {
                    out.duplicates.push((
                        source.to_string(),
                        format!("rule id {} was read first", d.id),
                    ));
                } else {
                    out.correlations.push(d);
                }
            }
            Err(why) => out.not_supported.push((
                source.to_string(),
                format!("correlation rule `{}`: {why}", correlation.title),
            )),
        }
    }
    for (i, result) in compiled.into_iter().enumerate() {
        if consumed.contains(&i) {
            out.base_rules += 1;
            continue;
        }
        match result {
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

/// A correlation rule as a detection, and the bases it uses.
fn correlation_detection(
    rule: &rsigma_parser::CorrelationRule,
    bases: &[correlate::Base],
    source: &str,
) -> Result<(Detection, Vec<usize>), String> {
    let (sql, used) = correlate::correlation_query(rule, bases)?;
    let detection = Detection {
        id: format!(
            "sigma:{}",
            rule_id(rule.id.as_ref(), rule.name.as_ref(), source, 0)
        ),
        title: rule.title.clone(),
        severity: severity(rule.level),
        description: rule.description.clone().unwrap_or_default(),
        rationale: format!(
            "Sigma {} correlation over {} within {}; tags: {}",
            rule.correlation_type.as_str(),
            rule.rules.join(", "),
            rule.timespan.original,
            rule.tags.join(", ")
        ),
        references: rule.references.clone(),
        false_positives: rule.falsepositives.join("; "),
        grain: Grain::Finding,
        sql,
        source: source.to_string(),
    };
    Ok((detection, used))
}

/// A parser's message in one line: its first line, and what it expected (pest's message
/// draws the spot over several lines).
fn one_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim);
    let first = lines.next().unwrap_or_default();
    let first = first
        .split(" -->")
        .next()
        .unwrap_or(first)
        .trim_end_matches([' ', ':']);
    match lines.find_map(|l| l.strip_prefix("= ")) {
        Some(expected) => format!("{first} {expected}"),
        None => first.to_string(),
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
    let id = rule_id(rule.id.as_ref(), rule.name.as_ref(), source, 0);
    compile_rule(rule, &id, source).map(|(d, _)| d)
}

/// A rule as a detection and its compiled parts, or why it cannot be one.
fn compile_rule(rule: &SigmaRule, id: &str, source: &str) -> Result<(Detection, Compiled), String> {
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
    let id = format!("sigma:{id}");
    let detection = Detection {
        id,
        title: rule.title.clone(),
        severity: severity(rule.level),
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
        author: rule.author.clone().unwrap_or_default(),
        gate: gate::rule_gate(&rule.detection.named, &rule.detection.conditions),
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
    let matched = matched_rules(&load.compiled, true);
    let rules: Vec<String> = load
        .detections
        .iter()
        .zip(&load.compiled)
        .enumerate()
        .map(|(i, (d, c))| {
            format!(
                "({i}, {}, {}, {}, {}, {}, {}, {})",
                literal(&d.id),
                literal(d.severity.as_str()),
                d.severity.rank(),
                literal(&d.title),
                literal(&c.tags.join(", ")),
                literal(&d.references.join(", ")),
                literal(&c.author)
            )
        })
        .collect();
    let sql = format!(
        "WITH attributed AS (
{attributed}
),
hits AS (
  SELECT * FROM (SELECT a.*, unnest(a.rules) AS rule FROM attributed a) unnested
  WHERE rule IS NOT NULL
),
rules AS (
  SELECT column1 AS rule, column2 AS detection_id, column3 AS severity,
         column4 AS severity_rank, column5 AS title, column6 AS tags, column7 AS refs,
         column8 AS author
  FROM (VALUES {rules}) v
),
grouped AS (
  SELECT h.rule, h.principal, h.actor, h.account_id,
         min(h.event_time) AS first_seen, max(h.event_time) AS last_seen,
         count(*) AS event_count,
         ids_in_order(h.event_time, h.event_id) AS event_ids,
         distinct_sorted(h.event_name) AS event_names,
         distinct_sorted(h.source_ip_address) AS source_ips,
         distinct_sorted(h.user_agent) AS user_agents
  FROM hits h
  GROUP BY h.rule, h.principal, h.actor, h.account_id, date_trunc('day', h.event_time)
)
SELECT r.detection_id, r.severity, r.severity_rank, r.title,
       g.principal, g.actor, g.account_id, g.first_seen, g.last_seen, g.event_count,
       g.event_ids,
       to_json(named_struct(
         'rule', r.title,
         'author', r.author,
         'tags', r.tags,
         'references', r.refs,
         'event_names', g.event_names,
         'source_ips', g.source_ips,
         'user_agents', g.user_agents
       )) AS evidence
FROM grouped g
JOIN rules r ON g.rule = r.rule",
        rules = rules.join(",\n  "),
        attributed = crate::attribution::attributed("events", &format!(",\n  {matched} AS rules")),
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

/// The SQL list of the rules an event matches (with NULLs for those it does not).
///
/// Gated rules are evaluated only on the events with one of their names: the event's
/// lowercased name picks its group through one hash lookup (DataFusion evaluates a `CASE`
/// of literals as a lookup table), and a `CASE` on the group evaluates only that group's
/// predicates, on only its rows. Ungated rules are evaluated on every event.
fn matched_rules(compiled: &[Compiled], gated: bool) -> String {
    let case = |i: usize, c: &Compiled| format!("CASE WHEN {} THEN {i} END", c.predicate);
    let mut groups: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    let mut ungated = Vec::new();
    for (i, c) in compiled.iter().enumerate() {
        match c.gate.as_ref().filter(|_| gated) {
            Some(names) => {
                for name in names {
                    groups.entry(name).or_default().push(i);
                }
            }
            None => ungated.push(case(i, c)),
        }
    }
    let mut parts = Vec::new();
    if !groups.is_empty() {
        let lookup: Vec<String> = groups
            .keys()
            .enumerate()
            .map(|(g, name)| format!("WHEN {} THEN {}", literal(name), g + 1))
            .collect();
        let branches: Vec<String> = groups
            .values()
            .enumerate()
            .map(|(g, rules)| {
                let cases: Vec<String> = rules.iter().map(|&i| case(i, &compiled[i])).collect();
                format!("WHEN {} THEN make_array({})", g + 1, cases.join(", "))
            })
            .collect();
        parts.push(format!(
            "CASE (CASE lower(e.event_name) {} ELSE 0 END)\n  {}\n  ELSE make_array(CAST(NULL AS BIGINT)) END",
            lookup.join(" "),
            branches.join("\n  ")
        ));
    }
    if !ungated.is_empty() {
        parts.push(format!("make_array({})", ungated.join(",\n  ")));
    }
    match parts.as_slice() {
        [one] => one.clone(),
        _ => format!("array_concat({})", parts.join(",\n")),
    }
}

/// Sigma's `level` as a severity (`informational` is `info`; none is `medium`).
fn severity(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Informational) => Severity::Info,
        Some(Level::Low) => Severity::Low,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
        Some(Level::Medium) | None => Severity::Medium,
    }
}

/// Each event's id and `source_file`/`record_index` with the index of every rule it
/// matches, in the order of `load.compiled`: through the gates of the one-pass query, or
/// (`gated: false`) with every rule evaluated on every event, for tests to compare.
pub fn hits_sql(load: &SigmaLoad, gated: bool) -> String {
    format!(
        "SELECT * FROM (
  SELECT e.event_id, e.source_file, e.record_index, unnest({}) AS rule FROM events e
) m WHERE rule IS NOT NULL",
        matched_rules(&load.compiled, gated)
    )
}

/// A rule's id: its `id`, else its `name`, else its file's name (with the rule's place in
/// the file after the first).
fn rule_id(id: Option<&String>, name: Option<&String>, source: &str, index: usize) -> String {
    match (id.or(name), index) {
        (Some(id), _) => id.clone(),
        (None, 0) => file_stem(source),
        (None, i) => format!("{}#{}", file_stem(source), i + 1),
    }
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
         'author', {author},
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
        author = literal(rule.author.as_deref().unwrap_or_default()),
        tags = list(&rule.tags),
        references = list(&rule.references),
    )
}
