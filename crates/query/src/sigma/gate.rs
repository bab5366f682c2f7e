//! The event names a Sigma rule can match at all (its "gate"), read off its detection: most
//! CloudTrail rules name their API calls (`eventName: CreateUser`), so the one-pass query
//! evaluates a rule only on the events with one of those names instead of on every event.
//!
//! The gate is a necessary condition, never a guess: a rule gets one only when every way
//! its condition can be true requires `eventName` to equal (case-insensitively, as Sigma
//! compares) one of a finite set of names. Anything else (a `not`, a wildcard, a modifier,
//! a count of selections) leaves the rule ungated, and it is evaluated on every event.

use std::collections::{BTreeSet, HashMap};

use rsigma_parser::{
    ConditionExpr, Detection, DetectionItem, Modifier, Quantifier, SelectorPattern, SigmaValue,
};

/// Lowercased event names; `None`: any event may match.
pub type Gate = Option<BTreeSet<String>>;

/// The gate of a rule: its conditions are OR-ed.
pub fn rule_gate(named: &HashMap<String, Detection>, conditions: &[ConditionExpr]) -> Gate {
    union(conditions.iter().map(|c| condition_gate(c, named)))
}

fn condition_gate(c: &ConditionExpr, named: &HashMap<String, Detection>) -> Gate {
    match c {
        ConditionExpr::And(parts) => intersection(parts.iter().map(|p| condition_gate(p, named))),
        ConditionExpr::Or(parts) => union(parts.iter().map(|p| condition_gate(p, named))),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Identifier(name) => named.get(name).and_then(detection_gate),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let gates = named
                .iter()
                .filter(|(name, _)| match pattern {
                    SelectorPattern::Them => !name.starts_with('_'),
                    SelectorPattern::Pattern(glob) => super::compile::glob_matches(glob, name),
                })
                .map(|(_, d)| detection_gate(d));
            match quantifier {
                Quantifier::Any => union(gates),
                Quantifier::All => intersection(gates),
                Quantifier::Count(_) => None,
            }
        }
    }
}

fn detection_gate(d: &Detection) -> Gate {
    match d {
        Detection::AllOf(items) => intersection(items.iter().map(item_gate)),
        Detection::AnyOf(parts) => union(parts.iter().map(detection_gate)),
        Detection::And(parts) => intersection(parts.iter().map(detection_gate)),
        _ => None,
    }
}

/// `eventName: X` or `eventName: [X, Y]` (plain values, no modifier but `cased`).
fn item_gate(item: &DetectionItem) -> Gate {
    if item.field.name.as_deref() != Some("eventName")
        || item.field.modifiers.iter().any(|m| *m != Modifier::Cased)
        || item.values.is_empty()
    {
        return None;
    }
    item.values
        .iter()
        .map(|v| match v {
            SigmaValue::String(s) if !s.contains_wildcards() => {
                s.as_plain().map(|text| text.to_lowercase())
            }
            _ => None,
        })
        .collect::<Option<BTreeSet<String>>>()
}

/// Any of the parts: gated only when every part is.
fn union(gates: impl Iterator<Item = Gate>) -> Gate {
    let mut out = BTreeSet::new();
    let mut any = false;
    for gate in gates {
        out.extend(gate?);
        any = true;
    }
    any.then_some(out)
}

/// All of the parts: the tightest gate among them (one necessary condition is enough).
fn intersection(gates: impl Iterator<Item = Gate>) -> Gate {
    gates.flatten().min_by_key(BTreeSet::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate_of(yaml: &str) -> Gate {
        let collection = rsigma_parser::parse_sigma_yaml(yaml).unwrap();
        let rule = &collection.rules[0];
        rule_gate(&rule.detection.named, &rule.detection.conditions)
    }

    fn rule(detection: &str) -> String {
        format!(
            "title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}"
        )
    }

    fn names(list: &[&str]) -> Gate {
        Some(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn named_calls_gate_the_rule() {
        let yaml = rule(
            "  sel:\n    eventSource: iam.amazonaws.com\n    eventName:\n      - CreateUser\n      - CreateAccessKey\n  condition: sel\n",
        );
        assert_eq!(gate_of(&yaml), names(&["createaccesskey", "createuser"]));
    }

    #[test]
    fn an_or_with_an_ungated_side_is_ungated() {
        let yaml = rule(
            "  a:\n    eventName: CreateUser\n  b:\n    userIdentity.type: Root\n  condition: a or b\n",
        );
        assert_eq!(gate_of(&yaml), None);
    }

    #[test]
    fn and_takes_the_tightest_and_not_takes_none() {
        let yaml = rule(
            "  a:\n    eventName: [A, B, C]\n  b:\n    eventName: B\n  f:\n    eventName: C\n  condition: a and b and not f\n",
        );
        assert_eq!(gate_of(&yaml), names(&["b"]));
        let yaml = rule("  f:\n    eventName: C\n  condition: not f\n");
        assert_eq!(gate_of(&yaml), None);
    }

    #[test]
    fn wildcards_and_modifiers_are_not_gates() {
        let yaml = rule("  a:\n    eventName: Create*\n  condition: a\n");
        assert_eq!(gate_of(&yaml), None);
        let yaml = rule("  a:\n    eventName|contains: Create\n  condition: a\n");
        assert_eq!(gate_of(&yaml), None);
    }

    #[test]
    fn one_of_pattern_unions_its_selections() {
        let yaml = rule(
            "  sel_a:\n    eventName: A\n  sel_b:\n    eventName: B\n  condition: 1 of sel_*\n",
        );
        assert_eq!(gate_of(&yaml), names(&["a", "b"]));
    }
}
