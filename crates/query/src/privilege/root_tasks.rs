//! The table `root_tasks`: the calls only the root user can make
//! (`data/privilege/root_tasks.tsv`), and the view `root_calls` (`root_calls.sql`): every
//! root API call with the root-only task it is, for the root detections.

use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::Result;

const ROOT_TASKS_TSV: &str = include_str!("../../data/privilege/root_tasks.tsv");
const ROOT_CALLS_SQL: &str = include_str!("root_calls.sql");

/// The rows of the table: event source, event name, condition, task.
pub fn rows() -> Vec<[&'static str; 4]> {
    super::data_rows(ROOT_TASKS_TSV)
        .filter_map(|fields| <[&str; 4]>::try_from(fields).ok())
        .collect()
}

/// Registers `root_tasks` (event_source, event_name, condition, task) and the view
/// `root_calls` on `ctx`, whose `signed_events` is already registered.
pub async fn register(ctx: &SessionContext) -> Result<()> {
    let names = ["event_source", "event_name", "condition", "task"];
    // Nullable though always filled: `root_calls` left-joins the table, and Ballista's
    // static planner carries the table's nullability past the join, where a call that is
    // no root task has nulls ("declared as non-nullable but contains null values").
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let rows = rows();
    let columns = (0..names.len())
        .map(|i| Arc::new(rows.iter().map(|r| Some(r[i])).collect::<StringArray>()) as _)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(datafusion::error::DataFusionError::from)?;
    ctx.register_table(
        "root_tasks",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;
    let view = ctx.sql(ROOT_CALLS_SQL).await?.into_view();
    ctx.register_table("root_calls", view)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privilege::mapping::{EventActions, Mapping};

    #[test]
    fn every_row_is_a_known_api_call_with_a_known_condition() {
        let rows = rows();
        assert!(rows.len() >= 15);
        for [source, name, condition, task] in rows {
            assert!(
                matches!(
                    EventActions::get().map(source, name, None),
                    Mapping::Action { .. }
                ),
                "{source} {name}"
            );
            assert!(
                matches!(condition, "any" | "own_credentials" | "mfa_delete"),
                "{condition}"
            );
            assert!(!task.is_empty());
        }
    }
}
