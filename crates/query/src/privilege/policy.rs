//! The IAM policy document that grants exactly what a subject's allowed calls used.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::usage::{Outcome, Usage, generalize};

/// At most this many resources per action before they are generalized (S3 objects to
/// `bucket/*`, else `*`), so that a busy role's policy stays within IAM's size limits.
pub const RESOURCES_PER_ACTION: usize = 20;

/// How statements name resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceScope {
    /// The resources the calls named, where the action supports resource-level permissions.
    #[default]
    Named,
    /// `"*"` for every action.
    Any,
}

/// An IAM policy document (`Version` 2012-10-17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDocument {
    /// Always `2012-10-17`.
    #[serde(rename = "Version")]
    pub version: &'static str,
    /// One statement per service and set of resources.
    #[serde(rename = "Statement")]
    pub statements: Vec<Statement>,
}

/// One `Allow` statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// The service prefix and a number, letters and digits only.
    #[serde(rename = "Sid")]
    pub sid: String,
    /// Always `Allow`.
    #[serde(rename = "Effect")]
    pub effect: &'static str,
    /// Sorted, no duplicates.
    #[serde(rename = "Action")]
    pub actions: Vec<String>,
    /// Sorted ARNs, or `*`.
    #[serde(rename = "Resource")]
    pub resources: Vec<String>,
}

impl PolicyDocument {
    /// The policy granting the actions of the allowed `usages` (all of one subject).
    pub fn from_usages<'u>(
        usages: impl IntoIterator<Item = &'u Usage>,
        scope: ResourceScope,
    ) -> Self {
        let mut by_action: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for usage in usages {
            let (Some(action), Outcome::Allowed) = (&usage.action, usage.outcome) else {
                continue;
            };
            let resource = match scope {
                ResourceScope::Named => usage.resource.clone(),
                ResourceScope::Any => "*".into(),
            };
            by_action.entry(action).or_default().insert(resource);
        }
        // Actions of one service on the same resources share a statement.
        let mut statements: BTreeMap<(&str, Vec<String>), Vec<String>> = BTreeMap::new();
        for (action, resources) in &by_action {
            let prefix = action.split(':').next().unwrap_or_default();
            statements
                .entry((prefix, generalize(action, resources, RESOURCES_PER_ACTION)))
                .or_default()
                .push(action.to_string());
        }
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        let statements = statements
            .into_iter()
            .map(|((prefix, resources), actions)| {
                let n = count.entry(prefix).or_default();
                *n += 1;
                Statement {
                    sid: sid(prefix, *n),
                    effect: "Allow",
                    actions,
                    resources,
                }
            })
            .collect();
        PolicyDocument {
            version: "2012-10-17",
            statements,
        }
    }

    /// Whether it grants nothing (a subject with no allowed call that needs a permission).
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a policy document serializes")
    }

    /// Every action it grants.
    pub fn actions(&self) -> BTreeSet<&str> {
        self.statements
            .iter()
            .flat_map(|s| s.actions.iter().map(String::as_str))
            .collect()
    }
}

/// `S3Allow1`: the prefix in CamelCase (letters and digits only, as IAM asks of a Sid).
fn sid(prefix: &str, n: usize) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in prefix.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = true;
        }
    }
    format!("{out}{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(action: &str, resource: &str, outcome: Outcome) -> Usage {
        Usage {
            subject: "arn:aws:iam::111122223333:role/app".into(),
            action: Some(action.into()),
            resource: resource.into(),
            outcome,
            event_source: String::new(),
            event_name: String::new(),
            mapping: "default".into(),
            calls: 1,
            first_use: String::new(),
            last_use: String::new(),
        }
    }

    #[test]
    fn groups_by_service_and_resources_sorted_without_denied_calls() {
        let usages = [
            used("s3:PutObject", "arn:aws:s3:::b/k2", Outcome::Allowed),
            used("s3:GetObject", "arn:aws:s3:::b/k1", Outcome::Allowed),
            used("s3:GetObject", "arn:aws:s3:::b/k1", Outcome::Allowed),
            used("s3:ListAllMyBuckets", "*", Outcome::Allowed),
            used("iam:CreateUser", "*", Outcome::Denied),
            used("ec2:DescribeInstances", "*", Outcome::Allowed),
        ];
        let policy = PolicyDocument::from_usages(&usages, ResourceScope::Named);
        let json = serde_json::to_value(&policy).unwrap();
        assert_eq!(json["Version"], "2012-10-17");
        let sids: Vec<&str> = policy.statements.iter().map(|s| s.sid.as_str()).collect();
        assert_eq!(sids, ["Ec21", "S31", "S32", "S33"]);
        assert!(!policy.actions().contains("iam:CreateUser"));
        let any = PolicyDocument::from_usages(&usages, ResourceScope::Any);
        assert_eq!(any.statements.len(), 2);
        assert_eq!(
            any.statements[1].actions,
            ["s3:GetObject", "s3:ListAllMyBuckets", "s3:PutObject"]
        );
    }

    #[test]
    fn many_objects_become_their_buckets() {
        let objects: BTreeSet<String> = (0..30).map(|i| format!("arn:aws:s3:::b/k{i}")).collect();
        assert_eq!(
            generalize("s3:GetObject", &objects, 20),
            ["arn:aws:s3:::b/*"]
        );
        let streams: BTreeSet<String> = (0..30)
            .map(|i| {
                format!(
                    "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/f:log-stream:{i}"
                )
            })
            .collect();
        assert_eq!(
            generalize("logs:CreateLogStream", &streams, 20),
            ["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/f:log-stream:*"]
        );
        let keys: BTreeSet<String> = (0..30)
            .map(|i| format!("arn:aws:kms:us-east-1:111122223333:key/{i}"))
            .collect();
        assert_eq!(
            generalize("kms:Decrypt", &keys, 20),
            ["arn:aws:kms:us-east-1:111122223333:key/*"]
        );
        let many: BTreeSet<String> = (0..30)
            .map(|i| format!("arn:aws:kms:us-east-1:{i:012}:key/k"))
            .collect();
        assert_eq!(generalize("kms:Decrypt", &many, 20), ["*"]);
    }
}
