//! A Sigma rule's detection to one SQL predicate over `events`, with the specification's
//! semantics (<https://sigmahq.io/docs/basics/modifiers.html>,
//! <https://github.com/SigmaHQ/sigma-specification>): string matches are case-insensitive
//! unless `|cased`; `*` and `?` are wildcards and `\` escapes them; a list of values is OR
//! (`|all`: AND); a missing field matches nothing but `null`, and `not` of a selection over
//! a missing field is true (each item is `coalesce(..., false)`).

use std::collections::HashMap;

use rsigma_parser::{
    ConditionExpr, Detection, DetectionItem, Modifier, Quantifier, SelectorPattern, SigmaString,
    SigmaValue, SpecialChar, StringPart,
};

use super::fields::{field_text, record_text};
use crate::literal;

/// The predicate of a rule's detection: its conditions (several are OR), over its named
/// detections.
pub fn rule_predicate(
    named: &HashMap<String, Detection>,
    conditions: &[ConditionExpr],
) -> Result<String, String> {
    if conditions.is_empty() {
        return Err("the rule has no condition".into());
    }
    let parts = conditions
        .iter()
        .map(|c| condition_sql(c, named))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(join(&parts, "OR", "FALSE"))
}

fn condition_sql(c: &ConditionExpr, named: &HashMap<String, Detection>) -> Result<String, String> {
    Ok(match c {
        ConditionExpr::And(parts) => join(&all(parts, named)?, "AND", "TRUE"),
        ConditionExpr::Or(parts) => join(&all(parts, named)?, "OR", "FALSE"),
        ConditionExpr::Not(inner) => format!("(NOT {})", condition_sql(inner, named)?),
        ConditionExpr::Identifier(name) => match named.get(name) {
            Some(detection) => detection_sql(detection)?,
            None => {
                return Err(format!(
                    "the condition names `{name}`, which is not defined"
                ));
            }
        },
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let mut names: Vec<&String> = named
                .keys()
                .filter(|name| match pattern {
                    // `them`: every search identifier but those starting with `_`.
                    SelectorPattern::Them => !name.starts_with('_'),
                    SelectorPattern::Pattern(glob) => glob_matches(glob, name),
                })
                .collect();
            names.sort();
            if names.is_empty() {
                return Err(format!("`{pattern}` names no detection"));
            }
            let parts = names
                .iter()
                .map(|n| detection_sql(&named[*n]))
                .collect::<Result<Vec<_>, _>>()?;
            match quantifier {
                Quantifier::Any => join(&parts, "OR", "FALSE"),
                Quantifier::All => join(&parts, "AND", "TRUE"),
                Quantifier::Count(n) => {
                    let counted: Vec<String> = parts
                        .iter()
                        .map(|p| format!("CASE WHEN {p} THEN 1 ELSE 0 END"))
                        .collect();
                    format!("(({}) >= {n})", counted.join(" + "))
                }
            }
        }
    })
}

fn all(parts: &[ConditionExpr], named: &HashMap<String, Detection>) -> Result<Vec<String>, String> {
    parts.iter().map(|p| condition_sql(p, named)).collect()
}

/// Whether the condition's `x*` pattern names `name`.
pub(super) fn glob_matches(glob: &str, name: &str) -> bool {
    match glob.split_once('*') {
        None => glob == name,
        Some((prefix, rest)) => name.strip_prefix(prefix).is_some_and(|tail| {
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob_matches(rest, &tail[i..]))
        }),
    }
}

fn detection_sql(d: &Detection) -> Result<String, String> {
    Ok(match d {
        Detection::AllOf(items) => join(&each(items, item_sql)?, "AND", "TRUE"),
        Detection::AnyOf(detections) => join(&each(detections, detection_sql)?, "OR", "FALSE"),
        Detection::And(detections) => join(&each(detections, detection_sql)?, "AND", "TRUE"),
        Detection::Conditional { named, condition } => condition_sql(condition, named)?,
        Detection::Keywords(values) => {
            let field = record_text();
            let parts = values
                .iter()
                .map(|v| value_sql(&field, v, &[Modifier::Contains]))
                .collect::<Result<Vec<_>, _>>()?;
            format!("coalesce({}, false)", join(&parts, "OR", "FALSE"))
        }
        Detection::ArrayMatch { .. } => {
            return Err("array quantifiers are not supported".into());
        }
    })
}

/// The SQL of each of `parts`, or the first reason one cannot be compiled.
fn each<T>(parts: &[T], sql: impl Fn(&T) -> Result<String, String>) -> Result<Vec<String>, String> {
    parts.iter().map(sql).collect()
}

/// One `field|modifiers: value(s)` item.
fn item_sql(item: &DetectionItem) -> Result<String, String> {
    let mut modifiers = item.field.modifiers.clone();
    if modifiers.contains(&Modifier::Expand) {
        return Err(
            "placeholders (`expand`, `%name%`) are not supported: their values come from a \
             processing pipeline"
                .into(),
        );
    }
    if let Some(m) = modifiers.iter().find(|m| !SUPPORTED.contains(m)) {
        return Err(format!("the modifier {m:?} is not supported"));
    }
    let (name, field) = match &item.field.name {
        Some(name) => (name.as_str(), field_text(name)?),
        // A keyword with modifiers (`'|all': [...]`): anywhere in the record's text.
        None => {
            let anchored = [Modifier::StartsWith, Modifier::EndsWith, Modifier::Re];
            if !modifiers.iter().any(|m| anchored.contains(m)) {
                modifiers.push(Modifier::Contains);
            }
            ("keywords", record_text())
        }
    };
    let modifiers = &modifiers;
    if modifiers.contains(&Modifier::Exists) {
        let wanted = matches!(item.values.first(), Some(SigmaValue::Bool(true)))
            || matches!(item.values.first(), Some(SigmaValue::String(s)) if s.original.eq_ignore_ascii_case("true"));
        return Ok(format!(
            "({field} IS {}NULL)",
            if wanted { "NOT " } else { "" }
        ));
    }
    if item.values.is_empty() {
        return Err(format!("`{name}` has no value"));
    }
    let parts = if super::encoding::encodes(modifiers) {
        encoded_sql(&field, &item.values, modifiers)?
    } else {
        item.values
            .iter()
            .map(|v| value_sql(&field, v, modifiers))
            .collect::<Result<Vec<_>, _>>()?
    };
    let joined = if modifiers.contains(&Modifier::All) {
        join(&parts, "AND", "TRUE")
    } else {
        join(&parts, "OR", "FALSE")
    };
    // A missing field matches nothing (not NULL): `not selection` is then true.
    Ok(format!("coalesce({joined}, false)"))
}

const SUPPORTED: &[Modifier] = &[
    Modifier::Contains,
    Modifier::StartsWith,
    Modifier::EndsWith,
    Modifier::All,
    Modifier::Re,
    Modifier::Cidr,
    Modifier::Cased,
    Modifier::Exists,
    Modifier::FieldRef,
    Modifier::Gt,
    Modifier::Gte,
    Modifier::Lt,
    Modifier::Lte,
    Modifier::Neq,
    Modifier::IgnoreCase,
    Modifier::Multiline,
    Modifier::DotAll,
    Modifier::Base64,
    Modifier::Base64Offset,
    Modifier::Wide,
    Modifier::Utf16,
    Modifier::Utf16be,
];

/// Each value, encoded (`base64`, `base64offset`, with `wide`/`utf16*`), as the OR of
/// the texts it becomes, matched with the other modifiers (`contains`, ...).
fn encoded_sql(
    field: &str,
    values: &[SigmaValue],
    modifiers: &[Modifier],
) -> Result<Vec<String>, String> {
    let encoding = [
        Modifier::Base64,
        Modifier::Base64Offset,
        Modifier::Wide,
        Modifier::Utf16,
        Modifier::Utf16be,
    ];
    let rest: Vec<Modifier> = modifiers
        .iter()
        .filter(|m| !encoding.contains(m))
        .cloned()
        .collect();
    values
        .iter()
        .map(|v| {
            let SigmaValue::String(s) = v else {
                return Err("base64 applies to strings only".to_string());
            };
            let texts = super::encoding::encoded(s, modifiers)?;
            let parts = texts
                .iter()
                .map(|t| string_sql(field, &SigmaString::from_raw(t), &rest, None))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(join(&parts, "OR", "FALSE"))
        })
        .collect()
}

fn value_sql(field: &str, value: &SigmaValue, modifiers: &[Modifier]) -> Result<String, String> {
    let has = |m: Modifier| modifiers.contains(&m);
    let comparison = [
        (Modifier::Gt, ">"),
        (Modifier::Gte, ">="),
        (Modifier::Lt, "<"),
        (Modifier::Lte, "<="),
    ]
    .into_iter()
    .find(|(m, _)| has(*m))
    .map(|(_, op)| op);
    let negate = |sql: String| {
        if has(Modifier::Neq) {
            format!("(NOT {sql})")
        } else {
            sql
        }
    };
    let number = |text: String| -> String {
        match comparison {
            Some(op) => format!("(TRY_CAST({field} AS DOUBLE) {op} {text})"),
            None => format!("({field} = {})", literal(&text)),
        }
    };
    Ok(match value {
        SigmaValue::Null => format!(
            "({field} IS {}NULL)",
            if has(Modifier::Neq) { "NOT " } else { "" }
        ),
        SigmaValue::Integer(n) => negate(number(n.to_string())),
        SigmaValue::Float(x) => negate(number(x.to_string())),
        SigmaValue::Bool(b) => negate(format!("(lower({field}) = '{b}')")),
        SigmaValue::String(s) => negate(string_sql(field, s, modifiers, comparison)?),
    })
}

fn string_sql(
    field: &str,
    s: &SigmaString,
    modifiers: &[Modifier],
    comparison: Option<&str>,
) -> Result<String, String> {
    let has = |m: Modifier| modifiers.contains(&m);
    if has(Modifier::Re) {
        let mut flags = String::new();
        for (m, flag) in [
            (Modifier::IgnoreCase, 'i'),
            (Modifier::Multiline, 'm'),
            (Modifier::DotAll, 's'),
        ] {
            if has(m) {
                flags.push(flag);
            }
        }
        return Ok(if flags.is_empty() {
            format!("regexp_like({field}, {})", literal(&s.original))
        } else {
            format!(
                "regexp_like({field}, {}, {})",
                literal(&s.original),
                literal(&flags)
            )
        });
    }
    if has(Modifier::Cidr) {
        return Ok(format!("ip_in_cidr({field}, {})", literal(&s.original)));
    }
    if has(Modifier::FieldRef) {
        let other = field_text(&s.original)?;
        return Ok(if has(Modifier::Cased) {
            format!("({field} = {other})")
        } else {
            format!("(lower({field}) = lower({other}))")
        });
    }
    if let Some(op) = comparison {
        return Ok(format!(
            "(TRY_CAST({field} AS DOUBLE) {op} TRY_CAST({} AS DOUBLE))",
            literal(&s.original)
        ));
    }
    let (lead, trail) = (
        has(Modifier::Contains) || has(Modifier::EndsWith),
        has(Modifier::Contains) || has(Modifier::StartsWith),
    );
    let cased = has(Modifier::Cased);
    if !lead && !trail && !s.contains_wildcards() {
        let text = s.as_plain().unwrap_or_default();
        return Ok(if cased {
            format!("({field} = {})", literal(&text))
        } else {
            format!("(lower({field}) = lower({}))", literal(&text))
        });
    }
    let mut pattern = String::new();
    if lead {
        pattern.push('%');
    }
    for part in &s.parts {
        match part {
            StringPart::Plain(text) => {
                for c in text.chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        pattern.push('\\');
                    }
                    pattern.push(c);
                }
            }
            StringPart::Special(SpecialChar::WildcardMulti) => pattern.push('%'),
            StringPart::Special(SpecialChar::WildcardSingle) => pattern.push('_'),
        }
    }
    if trail {
        pattern.push('%');
    }
    Ok(format!(
        "({field} {} {} ESCAPE '\\')",
        if cased { "LIKE" } else { "ILIKE" },
        literal(&pattern)
    ))
}

/// `parts` joined with `op`, parenthesized; `empty` when there are none.
fn join(parts: &[String], op: &str, empty: &str) -> String {
    match parts {
        [] => empty.to_string(),
        [one] => one.clone(),
        many => format!("({})", many.join(&format!(" {op} "))),
    }
}
