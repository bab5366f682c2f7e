//! Sigma correlation rules (<https://github.com/SigmaHQ/sigma-specification>, "Sigma
//! Correlation Rules") as one finding query each: the events of the rules they name, in
//! groups (`group-by`), counted over a sliding window of `timespan` ending at each event.
//!
//! - `event_count`: the window's events, against the condition (`gte: 10`, ...);
//! - `value_count`: the distinct values of the condition's `field` in the window;
//! - `temporal`: every named rule has an event in the window (or the condition's boolean
//!   expression over the rules' names is true);
//! - `temporal_ordered`: the named rules' events occur in the window in the order given.
//!
//! A window fires at its last event; the findings list every event of a firing window,
//! one finding per group, account and UTC day, with the principals and people behind them
//! (a group of one IP address may hold several). Window functions do the counting, so no
//! group is joined with itself: the cost stays linear in the matched events.

use std::collections::HashMap;

use rsigma_parser::{
    ConditionExpr, ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType,
    WindowMode,
};

use super::field_text;
use crate::literal;

/// A rule a correlation can name: by its id, its `name` or its title.
pub struct Base<'a> {
    pub id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub title: &'a str,
    /// Its predicate over `events`.
    pub predicate: &'a str,
}

impl Base<'_> {
    fn is(&self, reference: &str) -> bool {
        self.id == Some(reference) || self.name == Some(reference) || self.title == reference
    }
}

/// The finding query of a correlation over `bases` (the rules it can name), and the
/// indexes of the bases it uses; or why it cannot be compiled.
pub fn correlation_query(
    rule: &CorrelationRule,
    bases: &[Base],
) -> Result<(String, Vec<usize>), String> {
    if rule.window != WindowMode::Sliding {
        return Err(format!(
            "a `{}` window is not supported (only sliding windows are)",
            rule.window.as_str()
        ));
    }
    if !rule.aliases.is_empty() {
        return Err("field aliases are not supported".into());
    }
    let used = rule
        .rules
        .iter()
        .map(|reference| {
            bases.iter().position(|b| b.is(reference)).ok_or_else(|| {
                format!("the correlation names the rule `{reference}`, which is not loaded")
            })
        })
        .collect::<Result<Vec<usize>, String>>()?;
    let groups = rule
        .group_by
        .iter()
        .map(|path| field_text(path).map(|sql| format!("coalesce(CAST({sql} AS VARCHAR), '')")))
        .collect::<Result<Vec<_>, _>>()?;
    let seconds = rule.timespan.seconds;
    let partition = if groups.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = (0..groups.len()).map(|i| format!("g{i}")).collect();
        format!("PARTITION BY {} ", names.join(", "))
    };
    let window = |frame: &str| format!("({partition}ORDER BY event_time {frame})");
    let back = window(&format!(
        "RANGE BETWEEN INTERVAL '{seconds} seconds' PRECEDING AND CURRENT ROW"
    ));
    let mut value = None;
    let mut levels: Vec<String> = Vec::new();
    let fired = match rule.correlation_type {
        CorrelationType::EventCount => {
            levels.push(format!("count(*) OVER {back} AS score"));
            threshold(&rule.condition, "score")?
        }
        CorrelationType::ValueCount => {
            let CorrelationCondition::Threshold {
                field: Some(fields),
                ..
            } = &rule.condition
            else {
                return Err("a value_count correlation needs a condition `field`".into());
            };
            let [field] = fields.as_slice() else {
                return Err("a value_count over several fields is not supported".into());
            };
            value = Some(field_text(field)?);
            levels.push(format!("count(DISTINCT v) OVER {back} AS score"));
            threshold(&rule.condition, "score")?
        }
        CorrelationType::Temporal => {
            let has: Vec<String> = (1..=used.len())
                .map(|i| format!("max(CASE WHEN array_has(rules, {i}) THEN 1 ELSE 0 END) OVER {back} AS has{i}"))
                .collect();
            levels.push(has.join(", "));
            match &rule.condition {
                // The specification: every named rule in the window (rsigma-parser reads a
                // missing condition as a threshold; a threshold is not a temporal form).
                CorrelationCondition::Threshold { .. } => (1..=used.len())
                    .map(|i| format!("has{i} = 1"))
                    .collect::<Vec<_>>()
                    .join(" AND "),
                CorrelationCondition::Extended(expr) => extended(expr, &rule.rules)?,
            }
        }
        CorrelationType::TemporalOrdered => {
            if matches!(rule.condition, CorrelationCondition::Extended(_)) {
                return Err("a condition expression on temporal_ordered is not supported".into());
            }
            // chain{j}: the latest time at which rules 1..=j have occurred in order, up to
            // this event (each rule's event at or after the previous one's).
            let upto = window("RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW");
            for j in 1..=used.len() {
                let previous = if j == 1 {
                    "event_time".to_string()
                } else {
                    format!("chain{}", j - 1)
                };
                levels.push(format!(
                    "max(CASE WHEN array_has(rules, {j}) THEN {previous} END) OVER {upto} AS chain{j}"
                ));
            }
            format!(
                "array_has(rules, {k}) AND chain{k} >= event_time - INTERVAL '{seconds} seconds'",
                k = used.len()
            )
        }
        other => {
            return Err(format!(
                "`{}` correlations are not supported",
                other.as_str()
            ));
        }
    };
    let cases: Vec<String> = used
        .iter()
        .enumerate()
        .map(|(i, &b)| format!("CASE WHEN {} THEN {} END", bases[b].predicate, i + 1))
        .collect();
    let any: Vec<&str> = used.iter().map(|&b| bases[b].predicate).collect();
    let group_columns: String = groups
        .iter()
        .enumerate()
        .map(|(i, g)| format!(", {g} AS g{i}"))
        .collect();
    let group_passthrough: String = (0..groups.len()).map(|i| format!(", e.g{i}")).collect();
    let value_column = value
        .as_deref()
        .map(|v| format!(", {v} AS v"))
        .unwrap_or_default();
    // Each level is a subquery over the one before (a chain level reads the previous).
    let mut scored = "SELECT * FROM matched".to_string();
    for level in &levels {
        scored = format!("SELECT *, {level} FROM ({scored}) l");
    }
    let forward = window(&format!(
        "RANGE BETWEEN CURRENT ROW AND INTERVAL '{seconds} seconds' FOLLOWING"
    ));
    let group_evidence: Vec<String> = rule
        .group_by
        .iter()
        .enumerate()
        .map(|(i, path)| format!("concat({}, '=', g{i})", literal(path)))
        .collect();
    let group_evidence = if group_evidence.is_empty() {
        "CAST(make_array() AS VARCHAR[])".to_string()
    } else {
        format!("make_array({})", group_evidence.join(", "))
    };
    let sql = format!(
        "WITH matched AS (
  SELECT e.*{group_columns}{value_column}, make_array({cases}) AS rules
  FROM events e
  WHERE {any}
),
scored AS ({scored}),
marked AS (
  SELECT *, max(CASE WHEN {fired} THEN 1 ELSE 0 END) OVER {forward} AS member FROM scored
),
members AS (SELECT * FROM marked WHERE member = 1),
attributed AS (
{attributed}
)
SELECT {principal} AS principal, {actor} AS actor, m.account_id,
       min(m.event_time) AS first_seen, max(m.event_time) AS last_seen, count(*) AS event_count,
       ids_in_order(m.event_time, m.event_id) AS event_ids,
       to_json(named_struct(
         'rule', {title},
         'author', {author},
         'correlation', {kind},
         'timespan', {timespan},
         'group', {group_evidence},
         'tags', {tags},
         'references', {references},
         'event_names', distinct_sorted(m.event_name),
         'source_ips', distinct_sorted(m.source_ip_address),
         'user_agents', distinct_sorted(m.user_agent)
       )) AS evidence
FROM attributed m
GROUP BY m.account_id{group_by_groups}, date_trunc('day', m.event_time)",
        any = any
            .iter()
            .map(|p| format!("({p})"))
            .collect::<Vec<_>>()
            .join(" OR "),
        cases = cases.join(", "),
        principal = one_or_all("m.principal", "principals"),
        actor = one_or_all("m.actor", "actors"),
        attributed = crate::attribution::attributed("members", &group_passthrough),
        title = literal(&rule.title),
        author = literal(rule.author.as_deref().unwrap_or_default()),
        kind = literal(rule.correlation_type.as_str()),
        timespan = literal(&rule.timespan.original),
        tags = literal(&rule.tags.join(", ")),
        references = literal(&rule.references.join(", ")),
        group_by_groups = (0..groups.len())
            .map(|i| format!(", m.g{i}"))
            .collect::<String>(),
    );
    Ok((sql, used))
}

/// The one value of `column` in the group, or "N <plural>: a, b, ..." when there are more.
fn one_or_all(column: &str, plural: &str) -> String {
    format!(
        "CASE WHEN count(DISTINCT {column}) <= 1 THEN min({column}) \
         ELSE concat(CAST(count(DISTINCT {column}) AS VARCHAR), ' {plural}: ', \
         array_to_string(array_sort(array_agg(DISTINCT {column})), ', ')) END"
    )
}

/// A threshold condition (`gte: 10`, or a range) over `score`.
fn threshold(condition: &CorrelationCondition, score: &str) -> Result<String, String> {
    let CorrelationCondition::Threshold { predicates, .. } = condition else {
        return Err("a count correlation needs a threshold condition".into());
    };
    Ok(predicates
        .iter()
        .map(|(op, n)| {
            let op = match op {
                ConditionOperator::Lt => "<",
                ConditionOperator::Lte => "<=",
                ConditionOperator::Gt => ">",
                ConditionOperator::Gte => ">=",
                ConditionOperator::Eq => "=",
                ConditionOperator::Neq => "<>",
            };
            format!("{score} {op} {n}")
        })
        .collect::<Vec<_>>()
        .join(" AND "))
}

/// A temporal condition expression (`a and (b or c)`) over the named rules' presence.
fn extended(expr: &ConditionExpr, rules: &[String]) -> Result<String, String> {
    let index: HashMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i + 1))
        .collect();
    fn walk(e: &ConditionExpr, index: &HashMap<&str, usize>) -> Result<String, String> {
        let join = |parts: &[ConditionExpr], op: &str| -> Result<String, String> {
            let parts = parts
                .iter()
                .map(|p| walk(p, index))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(format!("({})", parts.join(op)))
        };
        match e {
            ConditionExpr::And(parts) => join(parts, " AND "),
            ConditionExpr::Or(parts) => join(parts, " OR "),
            ConditionExpr::Not(inner) => Ok(format!("(NOT {})", walk(inner, index)?)),
            ConditionExpr::Identifier(name) => index
                .get(name.as_str())
                .map(|i| format!("has{i} = 1"))
                .ok_or_else(|| format!("the condition names `{name}`, not one of the rules")),
            ConditionExpr::Selector { .. } => {
                Err("`1 of`/`all of` in a correlation condition is not supported".into())
            }
        }
    }
    walk(expr, &index)
}
