//! A physical optimizer rule for the scheduler: the empty leaves of a plan
//! (`EmptyExec`, `PlaceholderRowExec`) become the same rows as an in-memory scan.
//!
//! Why: Ballista 55 gives each task of a stage its own copy of the stage's plan, and
//! replaces a `UnionExec` branch that the task does not read by a zero-partition
//! in-memory scan. An in-memory scan reports metrics; `EmptyExec` and
//! `PlaceholderRowExec` report none. Two tasks of one stage then report different
//! numbers of operator metrics, the scheduler rejects the second report ("task metrics
//! array size .. does not equal with the stage metrics array size") and the job never
//! ends. Plans get such leaves wherever a filter is known false for a branch: a
//! `findings --min-severity` drops every detection below the threshold that way.
//! With the in-memory scan everywhere, every copy reports the same metrics.

use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions, new_null_array};
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::placeholder_row::PlaceholderRowExec;

/// Replaces `EmptyExec` (no rows) and `PlaceholderRowExec` (one row of nulls per
/// partition) with an in-memory scan of the same partitions and rows.
#[derive(Debug, Default)]
pub struct MeasurableLeaves;

impl PhysicalOptimizerRule for MeasurableLeaves {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let partitions = node.properties().output_partitioning().partition_count();
            let rows: Option<Vec<Vec<RecordBatch>>> = if node.is::<EmptyExec>() {
                Some(vec![Vec::new(); partitions])
            } else if node.is::<PlaceholderRowExec>() {
                placeholder_row(&node.schema()).map(|row| vec![vec![row]; partitions])
            } else {
                None
            };
            match rows {
                Some(rows) => {
                    let source = MemorySourceConfig::try_new(&rows, node.schema(), None)?;
                    Ok(Transformed::yes(DataSourceExec::from_data_source(source)))
                }
                None => Ok(Transformed::no(node)),
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "trailscope_measurable_leaves"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The row `PlaceholderRowExec` produces for `schema`: one row of nulls, or of no
/// columns; none where a column cannot hold a null (the leaf is then left as it is).
fn placeholder_row(schema: &SchemaRef) -> Option<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| new_null_array(f.data_type(), 1))
        .collect();
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_plan::collect;
    use datafusion::physical_plan::union::UnionExec;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn leaves_become_scans_of_the_same_rows() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Utf8, true)]));
        let plan = UnionExec::try_new(vec![
            Arc::new(EmptyExec::new(schema.clone()).with_partitions(2)),
            Arc::new(PlaceholderRowExec::new(schema).with_partitions(3)),
        ])
        .unwrap();
        let rewritten = MeasurableLeaves
            .optimize(plan.clone(), &ConfigOptions::default())
            .unwrap();
        let text = datafusion::physical_plan::displayable(rewritten.as_ref())
            .indent(false)
            .to_string();
        assert!(!text.contains("EmptyExec") && !text.contains("PlaceholderRowExec"));
        assert_eq!(
            rewritten
                .properties()
                .output_partitioning()
                .partition_count(),
            plan.properties().output_partitioning().partition_count()
        );
        for child in rewritten.children() {
            assert!(child.metrics().is_some(), "{text}");
        }
        let task = SessionContext::new().task_ctx();
        let rows = |p: Arc<dyn ExecutionPlan>| {
            let task = task.clone();
            async move {
                collect(p, task)
                    .await
                    .unwrap()
                    .iter()
                    .map(|b| b.num_rows())
                    .sum::<usize>()
            }
        };
        assert_eq!(rows(rewritten).await, 3);
        assert_eq!(rows(plan).await, 3);
    }
}
