//! What each subject did, per IAM action and resource: the calls of `events` grouped in
//! SQL (`usage.sql`), then mapped to actions ([`super::mapping`]) and scoped to the
//! resources their actions support ([`super::catalogue`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::SessionContext;
use futures_util::StreamExt;

use super::catalogue::Catalogue;
use super::mapping::{EventActions, Mapping};
use crate::attribution::{attributed, principal_expr, root_principal_expr};
use crate::{Error, Result, literal};

const USAGE_SQL: &str = include_str!("usage.sql");

/// Whose calls: one principal, one actor, or every role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySubject {
    /// A role, IAM user or root ARN: the calls it signed (a role's through its sessions).
    Principal(String),
    /// A person or workload (an `attribution` actor): the calls of every session
    /// attributed to it, whatever role it used.
    Actor(String),
    /// Every role seen signing calls, each a subject (service-linked roles left out:
    /// AWS writes their policies).
    AllRoles,
    /// Every IAM user seen signing calls, each a subject.
    AllUsers,
}

/// Whether a call was allowed, denied, or failed for another reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// It succeeded: the permission was used.
    Allowed,
    /// Authorization failed (`AccessDenied`, `UnauthorizedOperation`, ...).
    Denied,
    /// It failed for another reason; it says nothing sure about permissions.
    Failed,
}

impl Outcome {
    /// `allowed`, `denied` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Outcome {
        match text {
            "allowed" => Outcome::Allowed,
            "denied" => Outcome::Denied,
            _ => Outcome::Failed,
        }
    }
}

/// The calls of one subject that needed one IAM action on one resource (or, where no
/// action maps, of one event name), with one outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The principal ARN or actor.
    pub subject: String,
    /// The IAM action, or `None` when the call needs none or maps to none.
    pub action: Option<String>,
    /// The resource the action was used on: an ARN, or `*` where the calls named none
    /// the action can be scoped to.
    pub resource: String,
    /// Allowed, denied or failed.
    pub outcome: Outcome,
    /// The event source and name (the first seen, where several map to one action).
    pub event_source: String,
    /// See `event_source`.
    pub event_name: String,
    /// Where the action came from (`default`, `table`, `default+suffix`), or why there is
    /// none (`no permission needed`, `not an API call`, `unmapped: ...`).
    pub mapping: String,
    /// How many calls.
    pub calls: u64,
    /// The first call, as text.
    pub first_use: String,
    /// The last call, as text.
    pub last_use: String,
}

/// The SQL relation, subject expression and filter for `subject`.
fn scope(subject: &PolicySubject) -> Result<(String, String, String)> {
    Ok(match subject {
        PolicySubject::Principal(arn) => {
            let filter = if arn.contains(":role/") {
                format!(
                    "user_identity_type = 'AssumedRole' AND session_issuer_arn = {}",
                    literal(arn)
                )
            } else if arn.contains(":user/") {
                format!(
                    "user_identity_type = 'IAMUser' AND ({}) = {}",
                    principal_expr(),
                    literal(arn)
                )
            } else if arn.ends_with(":root") {
                format!(
                    "user_identity_type = 'Root' AND ({}) = {}",
                    root_principal_expr(),
                    literal(arn)
                )
            } else {
                return Err(Error::Invalid(format!(
                    "{arn} is not a role, IAM user or root ARN (arn:aws:iam::ACCOUNT:role/NAME, \
                     :user/NAME or :root; a session's policy is its role's)"
                )));
            };
            ("events".into(), literal(arn), filter)
        }
        PolicySubject::AllRoles => (
            "events".into(),
            "session_issuer_arn".into(),
            "user_identity_type = 'AssumedRole' AND session_issuer_arn LIKE 'arn:%:iam::%:role/%' \
             AND session_issuer_arn NOT LIKE '%:role/aws-service-role/%'"
                .into(),
        ),
        PolicySubject::AllUsers => (
            "events".into(),
            principal_expr(),
            "user_identity_type = 'IAMUser'".into(),
        ),
        PolicySubject::Actor(actor) => (
            format!(
                "({}) AS attributed_events",
                attributed(
                    "events",
                    ", e.resources, e.request_parameters, e.recipient_account_id, e.user_identity_account_id"
                )
            ),
            "actor".into(),
            // The role account's copy of a cross-account call (type AWSAccount) is the
            // same call as the caller's record: counted once.
            format!(
                "actor = {} AND principal_type IS DISTINCT FROM 'AWSAccount'",
                literal(actor)
            ),
        ),
    })
}

/// A call group as the SQL gives it.
struct Group {
    subject: String,
    account: String,
    source: String,
    name: String,
    event_type: Option<String>,
    outcome: Outcome,
    candidates: [Option<String>; 3],
    calls: u64,
    first: String,
    last: String,
}

/// What `subject` did, one [`Usage`] per (subject, action, resource, outcome).
pub async fn usage(ctx: &SessionContext, subject: &PolicySubject) -> Result<Vec<Usage>> {
    let (relation, expr, filter) = scope(subject)?;
    let sql = USAGE_SQL
        .replace("{subject}", &expr)
        .replace("{relation}", &relation)
        .replace("{filter}", &filter)
        .replace(
            "{partition}",
            "CASE WHEN aws_region LIKE 'cn-%' THEN 'aws-cn' \
             WHEN aws_region LIKE 'us-gov-%' THEN 'aws-us-gov' ELSE 'aws' END",
        );
    let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
    let mut folder = Folder::new(ctx);
    while let Some(batch) = stream.next().await {
        for group in groups(&batch?)? {
            folder.add(group).await?;
        }
    }
    Ok(folder.finish())
}

fn text(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::Invalid(format!("usage query lacks {name}")))?;
    let column = arrow::compute::cast(column, &DataType::Utf8)
        .map_err(datafusion::error::DataFusionError::from)?;
    let strings = column.as_string::<i32>();
    Ok((0..strings.len())
        .map(|i| strings.is_valid(i).then(|| strings.value(i).to_string()))
        .collect())
}

fn groups(batch: &RecordBatch) -> Result<Vec<Group>> {
    let [
        subject,
        account,
        source,
        name,
        event_type,
        outcome,
        l1,
        l2,
        derived,
        first,
        last,
    ] = [
        "subject",
        "account_id",
        "event_source",
        "event_name",
        "event_type",
        "outcome",
        "listed_1",
        "listed_2",
        "derived",
        "first_use",
        "last_use",
    ]
    .map(|c| text(batch, c));
    let calls = arrow::compute::cast(
        batch
            .column_by_name("calls")
            .expect("usage.sql counts calls"),
        &DataType::Int64,
    )
    .map_err(datafusion::error::DataFusionError::from)?;
    let calls = calls.as_primitive::<Int64Type>();
    let (subject, account, source, name, event_type, outcome) =
        (subject?, account?, source?, name?, event_type?, outcome?);
    let (l1, l2, derived, first, last) = (l1?, l2?, derived?, first?, last?);
    Ok((0..batch.num_rows())
        .filter_map(|i| {
            Some(Group {
                subject: subject[i].clone()?,
                account: account[i].clone().unwrap_or_default(),
                source: source[i].clone().unwrap_or_default(),
                name: name[i].clone().unwrap_or_default(),
                event_type: event_type[i].clone(),
                outcome: Outcome::parse(outcome[i].as_deref().unwrap_or("failed")),
                candidates: [l1[i].clone(), l2[i].clone(), derived[i].clone()],
                calls: calls.value(i) as u64,
                first: first[i].clone().unwrap_or_default(),
                last: last[i].clone().unwrap_or_default(),
            })
        })
        .collect())
}

/// Folds call groups into usages.
struct Folder<'c> {
    ctx: &'c SessionContext,
    /// IAM role and user ARNs seen in the dataset, by account and `role/NAME` or
    /// `user/NAME`, to give a name in a request its path (loaded when first needed).
    iam_arns: Option<HashMap<(String, String), String>>,
    usages: BTreeMap<(String, Option<String>, String, Outcome, String), Usage>,
}

impl<'c> Folder<'c> {
    fn new(ctx: &'c SessionContext) -> Self {
        Folder {
            ctx,
            iam_arns: None,
            usages: BTreeMap::new(),
        }
    }

    async fn add(&mut self, group: Group) -> Result<()> {
        let mapping =
            EventActions::get().map(&group.source, &group.name, group.event_type.as_deref());
        let (action, how, resource) = match mapping {
            Mapping::Action { action, source } => {
                let resource = self.resource(&action, &group).await?;
                (Some(action), source.to_string(), resource)
            }
            Mapping::NoPermission => (None, "no permission needed".into(), "*".into()),
            Mapping::NotApiCall => (None, "not an API call".into(), "*".into()),
            Mapping::Unmapped(why) => (None, format!("unmapped: {why}"), "*".into()),
        };
        // Calls without an action are kept apart per event name.
        let event_key = if action.is_none() {
            format!("{} {}", group.source, group.name)
        } else {
            String::new()
        };
        let key = (
            group.subject.clone(),
            action.clone(),
            resource.clone(),
            group.outcome,
            event_key,
        );
        let entry = self.usages.entry(key).or_insert_with(|| Usage {
            subject: group.subject.clone(),
            action,
            resource,
            outcome: group.outcome,
            event_source: group.source.clone(),
            event_name: group.name.clone(),
            mapping: how,
            calls: 0,
            first_use: group.first.clone(),
            last_use: group.last.clone(),
        });
        entry.calls += group.calls;
        if group.first < entry.first_use {
            entry.first_use = group.first;
        }
        if group.last > entry.last_use {
            entry.last_use = group.last;
        }
        Ok(())
    }

    /// The first of the group's resources `action` can be scoped to, or `*`.
    async fn resource(&mut self, action: &str, group: &Group) -> Result<String> {
        let catalogue = Catalogue::get();
        let info = catalogue
            .lookup(action)
            .expect("mapped actions are in the catalogue");
        if info.resource_types.is_empty() {
            return Ok("*".into());
        }
        for candidate in group.candidates.iter().flatten() {
            let arn = match candidate.strip_prefix("name:") {
                Some(name) => self.iam_arn(&group.account, name).await?,
                None => candidate.clone(),
            };
            if catalogue.scopes_to(info, &arn) {
                return Ok(arn);
            }
        }
        Ok("*".into())
    }

    /// The ARN of the IAM role or user `kind_name` (`role/NAME`) of `account`: as seen in
    /// the dataset (with its path), else with the default path `/`.
    async fn iam_arn(&mut self, account: &str, kind_name: &str) -> Result<String> {
        if self.iam_arns.is_none() {
            let answer = crate::Answer::collect(
                self.ctx
                    .sql(
                        "SELECT DISTINCT session_issuer_arn AS arn FROM events \
                         WHERE session_issuer_arn LIKE 'arn:%:iam::%:role/%' \
                         UNION SELECT DISTINCT user_identity_arn FROM events \
                         WHERE user_identity_type = 'IAMUser' AND user_identity_arn LIKE 'arn:%:iam::%:user/%'",
                    )
                    .await?,
            )
            .await?;
            let mut known = HashMap::new();
            for arn in answer.strings("arn") {
                let mut fields = arn.splitn(6, ':');
                let (Some(account), Some(resource)) = (fields.nth(4), fields.next()) else {
                    continue;
                };
                let (kind, path_name) = resource.split_once('/').unwrap_or((resource, ""));
                let name = path_name.rsplit('/').next().unwrap_or(path_name);
                known.insert((account.to_string(), format!("{kind}/{name}")), arn.clone());
            }
            self.iam_arns = Some(known);
        }
        let known = self.iam_arns.as_ref().expect("loaded above");
        Ok(known
            .get(&(account.to_string(), kind_name.to_string()))
            .cloned()
            .unwrap_or_else(|| format!("arn:aws:iam::{account}:{kind_name}")))
    }

    fn finish(self) -> Vec<Usage> {
        self.usages.into_values().collect()
    }
}

/// The distinct resources of one action, generalized when there are more than `cap`:
/// S3 objects to their bucket's `bucket/*`, other ARNs to their last path or field
/// replaced by `*` (`log-group:G:log-stream:*`), kept only where the action can still be
/// scoped to them; else `*`.
pub fn generalize(action: &str, resources: &BTreeSet<String>, cap: usize) -> Vec<String> {
    if resources.contains("*") {
        return vec!["*".into()];
    }
    if resources.len() <= cap {
        return resources.iter().cloned().collect();
    }
    let catalogue = Catalogue::get();
    let general: Option<BTreeSet<String>> = resources
        .iter()
        .map(|arn| {
            let cut = match arn.strip_prefix("arn:aws:s3:::") {
                Some(rest) => rest.find('/').map(|n| "arn:aws:s3:::".len() + n),
                None => arn.rfind(['/', ':']),
            }?;
            let general = format!("{}*", &arn[..=cut]);
            let info = catalogue.lookup(action)?;
            catalogue.scopes_to(info, &general).then_some(general)
        })
        .collect();
    match general {
        Some(general) if general.len() <= cap => general.into_iter().collect(),
        _ => vec!["*".into()],
    }
}
