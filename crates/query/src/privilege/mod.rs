//! Least privilege from the logs: the IAM actions each principal or person used, the
//! policy that grants exactly those, and the calls that were denied.
//!
//! Calls map to IAM actions through a data table ([`mapping`]) checked against AWS's
//! Service Authorization Reference ([`catalogue`]); a call that maps to no action IAM
//! knows is reported unmapped, never guessed.

pub mod authorization;
pub mod catalogue;
pub mod mapping;
mod policy;
pub mod root_tasks;
pub mod summary;
mod usage;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;

pub use policy::{PolicyDocument, RESOURCES_PER_ACTION, ResourceScope, Statement};
pub use usage::{Outcome, PolicySubject, Usage, usage};

use crate::{Answer, Error, Result};

/// The tab-separated fields of each line of one of the data files (`data/iam`,
/// `data/privilege`), comment and blank lines left out.
fn data_rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| line.split('\t').collect())
}

/// The policies of a [`PolicySubject`], with the usage they come from.
#[derive(Debug, Clone)]
pub struct PolicyReport {
    /// Every (subject, action, resource, outcome), and the calls with no action.
    pub usage: Vec<Usage>,
    /// Each subject with at least one allowed call that needs a permission, and the
    /// policy that grants what it used.
    pub policies: Vec<(String, PolicyDocument)>,
}

/// The policies `subject` needs, scoped as `scope` says.
pub async fn policies(
    ctx: &SessionContext,
    subject: &PolicySubject,
    scope: ResourceScope,
) -> Result<PolicyReport> {
    let usage = usage(ctx, subject).await?;
    if usage.is_empty()
        && let PolicySubject::Principal(who) | PolicySubject::Actor(who) = subject
    {
        return Err(Error::NotFound(format!(
            "calls by {who} (in the time window)"
        )));
    }
    let mut by_subject: BTreeMap<&str, Vec<&Usage>> = BTreeMap::new();
    for row in &usage {
        by_subject.entry(&row.subject).or_default().push(row);
    }
    let policies = by_subject
        .into_iter()
        .map(|(subject, rows)| {
            (
                subject.to_string(),
                PolicyDocument::from_usages(rows, scope),
            )
        })
        .filter(|(_, policy)| !policy.is_empty())
        .collect();
    Ok(PolicyReport { usage, policies })
}

impl PolicyReport {
    /// The usage as rows: subject, action, resource, outcome, calls, first and last use,
    /// event source and name, and the mapping's source.
    pub fn usage_answer(&self) -> Answer {
        let text = |f: &dyn Fn(&Usage) -> Option<String>| -> ArrayRef {
            Arc::new(self.usage.iter().map(f).collect::<StringArray>())
        };
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("subject", text(&|u| Some(u.subject.clone()))),
            ("action", text(&|u| u.action.clone())),
            ("resource", text(&|u| Some(u.resource.clone()))),
            ("outcome", text(&|u| Some(u.outcome.as_str().into()))),
            (
                "calls",
                Arc::new(self.usage.iter().map(|u| u.calls).collect::<UInt64Array>()),
            ),
            ("first_use", text(&|u| Some(u.first_use.clone()))),
            ("last_use", text(&|u| Some(u.last_use.clone()))),
            ("event_source", text(&|u| Some(u.event_source.clone()))),
            ("event_name", text(&|u| Some(u.event_name.clone()))),
            ("mapping", text(&|u| Some(u.mapping.clone()))),
        ];
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(name, array)| {
                    Field::new(
                        *name,
                        array.data_type().clone(),
                        *array.data_type() != DataType::UInt64,
                    )
                })
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.into_iter().map(|(_, array)| array).collect(),
        )
        .expect("columns of one length");
        Answer {
            schema,
            batches: vec![batch],
        }
    }

    /// The usages of `outcome`.
    pub fn with_outcome(&self, outcome: Outcome) -> impl Iterator<Item = &Usage> {
        self.usage.iter().filter(move |u| u.outcome == outcome)
    }
}
