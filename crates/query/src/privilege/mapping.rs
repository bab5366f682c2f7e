//! Which IAM action authorizes a CloudTrail event: `<service prefix>:<eventName>` by
//! default, with the exceptions of `data/privilege/event_actions.tsv`, checked against
//! the [`Catalogue`] so that no action IAM does not know is ever given.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::catalogue::Catalogue;
use super::data_rows;

const EVENT_ACTIONS_TSV: &str = include_str!("../../data/privilege/event_actions.tsv");

/// What a call needs, as far as an identity policy goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// The IAM action that authorizes it, with where the mapping came from.
    Action {
        /// `prefix:Action` as the Service Authorization Reference spells it.
        action: String,
        /// `default` (prefix and event name), `table` (an exception row), or
        /// `default+suffix` (the event name without its API version suffix).
        source: &'static str,
    },
    /// The call needs no permission a policy grants (`sts:GetCallerIdentity`, ...).
    NoPermission,
    /// The event is not a call a policy governs (a sign-in, a service event).
    NotApiCall,
    /// No IAM action matches; the reason says what was tried.
    Unmapped(String),
}

/// The exceptions table, parsed once.
#[derive(Debug, Default)]
pub struct EventActions {
    by_event: HashMap<(String, String), String>,
    by_source: HashMap<String, String>,
}

impl EventActions {
    /// The table compiled into the binary.
    pub fn get() -> &'static EventActions {
        static TABLE: OnceLock<EventActions> = OnceLock::new();
        TABLE.get_or_init(|| EventActions::parse(EVENT_ACTIONS_TSV))
    }

    fn parse(text: &str) -> EventActions {
        let mut table = EventActions::default();
        for fields in data_rows(text) {
            let [source, name, action, ..] = fields[..] else {
                continue;
            };
            if name == "*" {
                table.by_source.insert(source.into(), action.into());
            } else {
                table
                    .by_event
                    .insert((source.into(), name.into()), action.into());
            }
        }
        table
    }

    /// Every action the table names (not renames, `-` or `!`), for validation.
    pub fn named_actions(&self) -> impl Iterator<Item = &str> {
        self.by_event
            .values()
            .chain(self.by_source.values())
            .map(String::as_str)
            .filter(|a| a.contains(':') && !a.ends_with(":*"))
    }

    /// Every prefix the table renames a source to.
    pub fn renamed_prefixes(&self) -> impl Iterator<Item = &str> {
        self.by_source.values().filter_map(|a| a.strip_suffix(":*"))
    }

    /// The mapping of one event; `event_type` is CloudTrail's `eventType`.
    pub fn map(&self, event_source: &str, event_name: &str, event_type: Option<&str>) -> Mapping {
        // Only API calls are authorized by policies; sign-ins, service events and
        // Insights are not (eventType in the record contents reference,
        // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
        if event_type.is_some_and(|t| t != "AwsApiCall") {
            return Mapping::NotApiCall;
        }
        let explicit = self
            .by_event
            .get(&(event_source.to_string(), event_name.to_string()))
            .or_else(|| {
                self.by_source
                    .get(event_source)
                    .filter(|a| !a.ends_with(":*"))
            });
        let catalogue = Catalogue::get();
        if let Some(action) = explicit {
            return match action.as_str() {
                "-" => Mapping::NoPermission,
                "!" => Mapping::NotApiCall,
                action => match catalogue.lookup(action) {
                    Some(info) => Mapping::Action {
                        action: info.name.clone(),
                        source: "table",
                    },
                    None => Mapping::Unmapped(format!("the table's {action} is not an IAM action")),
                },
            };
        }
        let prefix = self
            .by_source
            .get(event_source)
            .and_then(|a| a.strip_suffix(":*"))
            .unwrap_or_else(|| {
                event_source
                    .strip_suffix(".amazonaws.com")
                    .unwrap_or(event_source)
            });
        if let Some(info) = catalogue.action(prefix, event_name) {
            return Mapping::Action {
                action: info.name.clone(),
                source: "default",
            };
        }
        let unversioned = without_version_suffix(event_name);
        if unversioned != event_name
            && let Some(info) = catalogue.action(prefix, unversioned)
        {
            return Mapping::Action {
                action: info.name.clone(),
                source: "default+suffix",
            };
        }
        Mapping::Unmapped(if catalogue.has_service(prefix) {
            format!("IAM has no action {prefix}:{unversioned}")
        } else {
            format!("IAM has no service prefix {prefix}")
        })
    }
}

/// The event name without the API version some sources append: Lambda's
/// `ListFunctions20150331`, `UpdateFunctionCode20150331v2`, CloudFront's
/// `CreateDistribution2020_05_31`.
fn without_version_suffix(name: &str) -> &str {
    let bytes = name.as_bytes();
    let mut end = bytes.len();
    // An optional `v<digits>` after the date.
    let digits = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits > 0 && digits < end && bytes[end - digits - 1] == b'v' {
        end -= digits + 1;
    }
    let date = &name[..end];
    for len in [8usize, 10] {
        if date.len() > len {
            let tail = &date[date.len() - len..];
            let compact = len == 8 && tail.bytes().all(|b| b.is_ascii_digit());
            let underscored = len == 10
                && tail.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'_'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            if (compact || underscored) && tail.starts_with("20") {
                return &date[..date.len() - len];
            }
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(source: &str, name: &str) -> Mapping {
        EventActions::get().map(source, name, Some("AwsApiCall"))
    }

    fn is(mapping: Mapping, expected: &str) {
        match mapping {
            Mapping::Action { action, .. } => assert_eq!(action, expected),
            other => panic!("{expected}: {other:?}"),
        }
    }

    #[test]
    fn every_action_the_table_names_is_known_to_iam() {
        let table = EventActions::get();
        let catalogue = Catalogue::get();
        for action in table.named_actions() {
            assert!(catalogue.lookup(action).is_some(), "{action}");
        }
        for prefix in table.renamed_prefixes() {
            assert!(catalogue.has_service(prefix), "{prefix}");
        }
    }

    #[test]
    fn maps_defaults_exceptions_and_version_suffixes() {
        is(
            action("ec2.amazonaws.com", "DescribeInstances"),
            "ec2:DescribeInstances",
        );
        is(action("s3.amazonaws.com", "HeadObject"), "s3:GetObject");
        is(action("s3.amazonaws.com", "ListObjectsV2"), "s3:ListBucket");
        is(
            action("s3.amazonaws.com", "GetBucketCors"),
            "s3:GetBucketCORS",
        );
        is(
            action("monitoring.amazonaws.com", "GetMetricData"),
            "cloudwatch:GetMetricData",
        );
        is(
            action("lambda.amazonaws.com", "ListFunctions20150331"),
            "lambda:ListFunctions",
        );
        is(
            action("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"),
            "lambda:UpdateFunctionCode",
        );
        is(
            action("cloudfront.amazonaws.com", "CreateDistribution2020_05_31"),
            "cloudfront:CreateDistribution",
        );
        assert_eq!(
            action("sts.amazonaws.com", "GetCallerIdentity"),
            Mapping::NoPermission
        );
        assert_eq!(
            action("signin.amazonaws.com", "ConsoleLogin"),
            Mapping::NotApiCall
        );
        assert_eq!(
            EventActions::get().map("kms.amazonaws.com", "RotateKey", Some("AwsServiceEvent")),
            Mapping::NotApiCall
        );
        assert!(matches!(
            action("s3.amazonaws.com", "NoSuchCall"),
            Mapping::Unmapped(_)
        ));
        assert!(matches!(
            action("nothing.amazonaws.com", "Call"),
            Mapping::Unmapped(_)
        ));
    }
}
