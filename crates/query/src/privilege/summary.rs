//! The table `privilege_summary`: per user and role of the authorization details given,
//! what it is granted and what it used. Empty unless [`fill`] is called (with
//! `--authorization-details`); the detection `permissions-mostly-unused` reads it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use super::authorization::{Comparison, Granted, compare};
use super::usage::{Outcome, PolicySubject, usage};
use crate::{Answer, Error, Result};

/// The table's name.
pub const SUMMARY_TABLE: &str = "privilege_summary";

fn schema() -> SchemaRef {
    let time = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("principal", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("account_id", DataType::Utf8, true),
        Field::new("granted", DataType::UInt64, false),
        Field::new("used", DataType::UInt64, false),
        Field::new("unused", DataType::UInt64, false),
        Field::new("ratio", DataType::Float64, false),
        Field::new("used_not_granted", DataType::Utf8, false),
        Field::new("unused_services", DataType::Utf8, false),
        Field::new("last_use_by_service", DataType::Utf8, false),
        Field::new("first_use", time.clone(), true),
        Field::new("last_use", time, true),
    ]))
}

/// Registers the empty table on `ctx`.
pub fn register(ctx: &SessionContext) -> Result<()> {
    let table = MemTable::try_new(schema(), vec![vec![]])?;
    ctx.register_table(SUMMARY_TABLE, Arc::new(table))?;
    Ok(())
}

/// One row of the summary with the first and last use of the principal.
#[derive(Debug, Clone)]
pub struct PrincipalPrivilege {
    /// Granted against used.
    pub comparison: Comparison,
    /// Its first and last allowed call, as text.
    pub first_use: Option<String>,
    /// See `first_use`.
    pub last_use: Option<String>,
}

/// Compares each principal of `granted` with what its allowed calls used in `ctx`.
pub async fn granted_vs_used(
    ctx: &SessionContext,
    granted: &[Granted],
) -> Result<Vec<PrincipalPrivilege>> {
    let mut used: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    let mut span: HashMap<String, (String, String)> = HashMap::new();
    // One query for every role and one for every user; principals the details do not
    // name are left out by `compare`.
    for subject in [PolicySubject::AllRoles, PolicySubject::AllUsers] {
        for row in usage(ctx, &subject).await? {
            let (Some(action), Outcome::Allowed) = (&row.action, row.outcome) else {
                continue;
            };
            let last = used
                .entry(row.subject.clone())
                .or_default()
                .entry(action.clone())
                .or_default();
            if row.last_use > *last {
                *last = row.last_use.clone();
            }
            let entry = span
                .entry(row.subject.clone())
                .or_insert_with(|| (row.first_use.clone(), row.last_use.clone()));
            if row.first_use < entry.0 {
                entry.0 = row.first_use.clone();
            }
            if row.last_use > entry.1 {
                entry.1 = row.last_use.clone();
            }
        }
    }
    Ok(compare(granted, &used)
        .into_iter()
        .map(|comparison| {
            let (first_use, last_use) = span.get(&comparison.arn).cloned().unzip();
            PrincipalPrivilege {
                comparison,
                first_use,
                last_use,
            }
        })
        .collect())
}

fn micros(text: &Option<String>) -> Option<i64> {
    let text = text.as_deref()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .or_else(|| chrono::DateTime::parse_from_rfc3339(&format!("{text}Z")).ok())
        .map(|t| t.timestamp_micros())
}

/// The rows as a batch of the table's schema.
pub fn batch(rows: &[PrincipalPrivilege]) -> Result<RecordBatch> {
    let text = |f: &dyn Fn(&PrincipalPrivilege) -> String| -> ArrayRef {
        Arc::new(rows.iter().map(|r| Some(f(r))).collect::<StringArray>())
    };
    let count = |f: &dyn Fn(&Comparison) -> usize| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|r| f(&r.comparison) as u64)
                .collect::<UInt64Array>(),
        )
    };
    let time = |f: &dyn Fn(&PrincipalPrivilege) -> Option<i64>| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(f)
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        )
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|r| r.comparison.arn.clone()),
        text(&|r| r.comparison.kind.to_string()),
        Arc::new(
            rows.iter()
                .map(|r| r.comparison.arn.split(':').nth(4).map(str::to_string))
                .collect::<StringArray>(),
        ),
        count(&|c| c.granted),
        count(&|c| c.used),
        count(&|c| c.unused),
        Arc::new(
            rows.iter()
                .map(|r| r.comparison.ratio)
                .collect::<Float64Array>(),
        ),
        text(&|r| r.comparison.used_not_granted.join(",")),
        text(&|r| r.comparison.unused_services.join(",")),
        text(&|r| serde_json::to_string(&r.comparison.last_use_by_service).unwrap_or_default()),
        time(&|r| micros(&r.first_use)),
        time(&|r| micros(&r.last_use)),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::DataFusion(e.into()))
}

/// Puts `rows` into the session's `privilege_summary`.
pub async fn fill(ctx: &SessionContext, rows: &[PrincipalPrivilege]) -> Result<()> {
    let provider = ctx.table_provider(SUMMARY_TABLE).await?;
    let any: &dyn std::any::Any = provider.as_ref();
    let table = any
        .downcast_ref::<MemTable>()
        .ok_or_else(|| Error::Invalid(format!("{SUMMARY_TABLE} is not the session's own table")))?;
    let mut partition = table.batches[0].write().await;
    partition.clear();
    partition.push(batch(rows)?);
    Ok(())
}

/// The rows as an [`Answer`], for printing.
pub fn answer(rows: &[PrincipalPrivilege]) -> Result<Answer> {
    Ok(Answer {
        schema: schema(),
        batches: vec![batch(rows)?],
    })
}
