//! Granted against used: the output of `aws iam get-account-authorization-details` (one
//! or more accounts), each user's and role's attached, inline and group policies expanded
//! to IAM actions through the [`Catalogue`], then compared with what the logs say they used.
//!
//! Identity policies only: service control policies, permission boundaries, session and
//! resource policies are not in that output. A `Deny` removes an action only when it
//! applies to every resource (`Resource` `*`) without a `Condition`; a narrower `Deny`, or
//! an `Allow` with `NotResource`, still leaves the action granted on some resources.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::catalogue::Catalogue;
use crate::{Error, Result};

/// One user or role and the actions its identity policies grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// The user or role ARN.
    pub arn: String,
    /// `user` or `role`.
    pub kind: &'static str,
    /// Every action some `Allow` grants and no unconditional `Deny` on `*` takes away.
    pub actions: BTreeSet<String>,
}

/// Parses `get-account-authorization-details` output: one JSON document, or several (one
/// per account) concatenated or in a JSON array.
pub fn parse(text: &str) -> Result<Vec<Granted>> {
    let mut documents = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        let value = value.map_err(|e| Error::Invalid(format!("authorization details: {e}")))?;
        match value {
            Value::Array(items) => documents.extend(items),
            other => documents.push(other),
        }
    }
    let mut out = Vec::new();
    for document in &documents {
        if document.get("UserDetailList").is_none() && document.get("RoleDetailList").is_none() {
            return Err(Error::Invalid(
                "authorization details: expected the output of `aws iam get-account-authorization-details` \
                 (UserDetailList, RoleDetailList, GroupDetailList, Policies)"
                    .into(),
            ));
        }
        out.extend(expand_account(document));
    }
    Ok(out)
}

fn list<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

/// A policy document as the API gives it: a JSON object, or URL-encoded JSON text.
fn document(value: &Value) -> Option<Value> {
    match value {
        Value::Object(_) => Some(value.clone()),
        Value::String(s) => serde_json::from_str(s)
            .ok()
            .or_else(|| serde_json::from_str(&percent_decode(s)).ok()),
        _ => None,
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) if hex.iter().all(u8::is_ascii_hexdigit) => {
                out.push(
                    u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("0"), 16).unwrap_or(0),
                );
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn expand_account(account: &Value) -> Vec<Granted> {
    // Managed policies by ARN: their default version's document.
    let managed: HashMap<&str, Value> = list(account, "Policies")
        .iter()
        .filter_map(|p| {
            let version = list(p, "PolicyVersionList")
                .iter()
                .find(|v| v.get("IsDefaultVersion").and_then(Value::as_bool) == Some(true))?;
            Some((text(p, "Arn")?, document(version.get("Document")?)?))
        })
        .collect();
    let attached = |entity: &Value| -> Vec<Value> {
        list(entity, "AttachedManagedPolicies")
            .iter()
            .filter_map(|p| managed.get(text(p, "PolicyArn")?).cloned())
            .collect()
    };
    let inline = |entity: &Value, key: &str| -> Vec<Value> {
        list(entity, key)
            .iter()
            .filter_map(|p| document(p.get("PolicyDocument")?))
            .collect()
    };
    let groups: HashMap<&str, Vec<Value>> = list(account, "GroupDetailList")
        .iter()
        .filter_map(|g| {
            let mut docs = attached(g);
            docs.extend(inline(g, "GroupPolicyList"));
            Some((text(g, "GroupName")?, docs))
        })
        .collect();
    let mut out = Vec::new();
    for user in list(account, "UserDetailList") {
        let Some(arn) = text(user, "Arn") else {
            continue;
        };
        let mut docs = attached(user);
        docs.extend(inline(user, "UserPolicyList"));
        for group in list(user, "GroupList").iter().filter_map(Value::as_str) {
            docs.extend(groups.get(group).cloned().unwrap_or_default());
        }
        out.push(Granted {
            arn: arn.into(),
            kind: "user",
            actions: granted_actions(&docs),
        });
    }
    for role in list(account, "RoleDetailList") {
        let Some(arn) = text(role, "Arn") else {
            continue;
        };
        let mut docs = attached(role);
        docs.extend(inline(role, "RolePolicyList"));
        out.push(Granted {
            arn: arn.into(),
            kind: "role",
            actions: granted_actions(&docs),
        });
    }
    out
}

/// The strings of a policy element that may be one string or a list of them.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The actions a statement's `Action` or `NotAction` covers.
fn statement_actions(statement: &Value) -> BTreeSet<String> {
    let catalogue = Catalogue::get();
    let expand = |patterns: Vec<&str>| -> BTreeSet<String> {
        patterns
            .into_iter()
            .flat_map(|p| catalogue.expand(p))
            .map(|a| a.name.clone())
            .collect()
    };
    if let Some(not) = statement.get("NotAction") {
        // Every action but those: `NotAction` with `Allow` grants all the others.
        let excluded = expand(strings(Some(not)));
        return expand(vec!["*"])
            .into_iter()
            .filter(|a| !excluded.contains(a))
            .collect();
    }
    expand(strings(statement.get("Action")))
}

/// The actions `documents` grant: every `Allow`'s, less those of unconditional `Deny`s
/// on every resource.
pub fn granted_actions(documents: &[Value]) -> BTreeSet<String> {
    let mut allowed = BTreeSet::new();
    let mut denied = BTreeSet::new();
    for doc in documents {
        let statements: Vec<&Value> = match doc.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(single @ Value::Object(_)) => vec![single],
            _ => Vec::new(),
        };
        for statement in statements {
            let actions = statement_actions(statement);
            match text(statement, "Effect") {
                Some("Allow") => allowed.extend(actions),
                Some("Deny") => {
                    let everywhere = statement.get("NotResource").is_none()
                        && strings(statement.get("Resource")).contains(&"*");
                    if everywhere && statement.get("Condition").is_none() {
                        denied.extend(actions);
                    }
                }
                _ => {}
            }
        }
    }
    allowed.retain(|a| !denied.contains(a));
    allowed
}

/// One principal's granted and used permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The user or role ARN.
    pub arn: String,
    /// `user` or `role`.
    pub kind: &'static str,
    /// How many actions its policies grant.
    pub granted: usize,
    /// How many of those its allowed calls used.
    pub used: usize,
    /// Granted and never used.
    pub unused: usize,
    /// Used but not granted by its identity policies (a resource policy, a group or
    /// policy missing from the details, or details older than the logs).
    pub used_not_granted: Vec<String>,
    /// `used / granted` (1 when it is granted nothing).
    pub ratio: f64,
    /// The last use of each service it used: prefix to time.
    pub last_use_by_service: BTreeMap<String, String>,
    /// Services it is granted and never used.
    pub unused_services: Vec<String>,
}

/// Compares what each principal is granted with the actions (and last uses) it used.
pub fn compare(
    granted: &[Granted],
    used: &HashMap<String, BTreeMap<String, String>>,
) -> Vec<Comparison> {
    granted
        .iter()
        .map(|g| {
            let empty = BTreeMap::new();
            let used_actions = used.get(&g.arn).unwrap_or(&empty);
            let used_granted = used_actions
                .keys()
                .filter(|a| g.actions.contains(*a))
                .count();
            let used_not_granted = used_actions
                .keys()
                .filter(|a| !g.actions.contains(*a))
                .cloned()
                .collect();
            let mut last_use_by_service: BTreeMap<String, String> = BTreeMap::new();
            for (action, last) in used_actions {
                let prefix = action.split(':').next().unwrap_or_default().to_string();
                let entry = last_use_by_service.entry(prefix).or_default();
                if *last > *entry {
                    *entry = last.clone();
                }
            }
            let unused_services = g
                .actions
                .iter()
                .map(|a| a.split(':').next().unwrap_or_default().to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter(|p| !last_use_by_service.contains_key(p))
                .collect();
            Comparison {
                arn: g.arn.clone(),
                kind: g.kind,
                granted: g.actions.len(),
                used: used_granted,
                unused: g.actions.len() - used_granted,
                used_not_granted,
                ratio: if g.actions.is_empty() {
                    1.0
                } else {
                    used_granted as f64 / g.actions.len() as f64
                },
                last_use_by_service,
                unused_services,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-written `get-account-authorization-details` document: a managed policy
    /// attached to a group and a role, inline user and role policies, wildcards, a `Deny`
    /// on `*`, a conditional and a narrower `Deny`, `NotAction` and `NotResource`, and one
    /// inline document URL-encoded as the raw API returns it.
    const DETAILS: &str = r#"{
      "UserDetailList": [
        {"UserName": "alice", "Arn": "arn:aws:iam::111122223333:user/alice", "GroupList": ["readers"],
         "AttachedManagedPolicies": [],
         "UserPolicyList": [{"PolicyName": "own", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:ChangePassword", "Resource": "*"}]}}]},
        {"UserName": "bob", "Arn": "arn:aws:iam::111122223333:user/bob", "GroupList": [],
         "AttachedManagedPolicies": [],
         "UserPolicyList": [{"PolicyName": "encoded", "PolicyDocument":
            "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22sqs%3ASendMessage%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"}]}
      ],
      "GroupDetailList": [
        {"GroupName": "readers", "Arn": "arn:aws:iam::111122223333:group/readers",
         "AttachedManagedPolicies": [{"PolicyName": "S3Read", "PolicyArn": "arn:aws:iam::111122223333:policy/S3Read"}],
         "GroupPolicyList": [{"PolicyName": "no-delete", "PolicyDocument": {"Statement": [
            {"Effect": "Deny", "Action": "s3:GetObjectTagging", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:GetObjectAcl", "Resource": "arn:aws:s3:::secret/*"},
            {"Effect": "Deny", "Action": "s3:GetBucketAcl", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}]}}]}
      ],
      "RoleDetailList": [
        {"RoleName": "ops", "Arn": "arn:aws:iam::111122223333:role/team/ops",
         "AttachedManagedPolicies": [{"PolicyName": "S3Read", "PolicyArn": "arn:aws:iam::111122223333:policy/S3Read"}],
         "RolePolicyList": [{"PolicyName": "everything-but-iam", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "NotResource": "arn:aws:s3:::audit/*"},
            {"Effect": "Deny", "NotAction": "ec2:Describe*", "NotResource": "arn:aws:ec2:*:*:instance/*"}]}}]}
      ],
      "Policies": [
        {"PolicyName": "S3Read", "Arn": "arn:aws:iam::111122223333:policy/S3Read", "DefaultVersionId": "v2",
         "PolicyVersionList": [
           {"VersionId": "v1", "IsDefaultVersion": false, "Document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
           {"VersionId": "v2", "IsDefaultVersion": true, "Document": {"Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}}]}
      ]
    }"#;

    fn granted(arn_end: &str) -> Granted {
        parse(DETAILS)
            .unwrap()
            .into_iter()
            .find(|g| g.arn.ends_with(arn_end))
            .unwrap()
    }

    #[test]
    fn expands_managed_inline_and_group_policies_with_their_wildcards() {
        let alice = granted("user/alice");
        assert_eq!(alice.kind, "user");
        // Inline, and the group's managed policy in its default version only.
        assert!(alice.actions.contains("iam:ChangePassword"));
        assert!(alice.actions.contains("s3:GetObject"));
        assert!(alice.actions.contains("s3:ListBucket"));
        assert!(!alice.actions.contains("s3:PutObject"));
        assert!(alice.actions.iter().all(|a| a.starts_with("s3:Get")
            || a.starts_with("s3:List")
            || a == "iam:ChangePassword"));
        // A Deny on * removes; a narrower or conditional Deny does not.
        assert!(!alice.actions.contains("s3:GetObjectTagging"));
        assert!(alice.actions.contains("s3:GetObjectAcl"));
        assert!(alice.actions.contains("s3:GetBucketAcl"));
        let bob = granted("user/bob");
        assert_eq!(bob.actions.iter().collect::<Vec<_>>(), ["sqs:SendMessage"]);
    }

    #[test]
    fn not_action_grants_everything_else_and_not_resource_keeps_the_action() {
        let ops = granted("role/team/ops");
        assert_eq!(ops.kind, "role");
        assert!(ops.actions.contains("ec2:RunInstances"));
        assert!(
            ops.actions.contains("s3:PutObject"),
            "Allow with NotResource still grants"
        );
        assert!(
            !ops.actions
                .iter()
                .any(|a| a.starts_with("iam:") || a.starts_with("organizations:"))
        );
        // The Deny has NotResource: it leaves the instances, so nothing is removed.
        assert!(ops.actions.contains("ec2:TerminateInstances"));
        assert!(ops.actions.len() > 10_000);
    }

    #[test]
    fn compares_used_with_granted() {
        let alice = granted("user/alice");
        let mut used = HashMap::new();
        used.insert(
            alice.arn.clone(),
            BTreeMap::from([
                (
                    "s3:GetObject".to_string(),
                    "2026-03-02T10:00:00Z".to_string(),
                ),
                (
                    "sts:AssumeRole".to_string(),
                    "2026-03-03T10:00:00Z".to_string(),
                ),
            ]),
        );
        let [row] = &compare(std::slice::from_ref(&alice), &used)[..] else {
            panic!("one row")
        };
        assert_eq!(row.used, 1);
        assert_eq!(row.granted, alice.actions.len());
        assert_eq!(row.unused, row.granted - 1);
        assert_eq!(row.used_not_granted, ["sts:AssumeRole"]);
        assert_eq!(row.last_use_by_service["sts"], "2026-03-03T10:00:00Z");
        assert_eq!(row.unused_services, ["iam"]);
        assert!(row.ratio > 0.0 && row.ratio < 0.05);
    }

    #[test]
    fn other_json_is_a_clear_error() {
        let err = parse(r#"{"Records": []}"#).unwrap_err().to_string();
        assert!(err.contains("get-account-authorization-details"), "{err}");
    }
}
