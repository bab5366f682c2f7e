//! A query's result held in memory, with its schema even when it has no rows.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::prelude::DataFrame;

use crate::Result;

/// The rows of a finished query.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The columns, even with no rows.
    pub schema: SchemaRef,
    /// The rows.
    pub batches: Vec<RecordBatch>,
}

impl Answer {
    /// Runs `frame` to the end.
    pub async fn collect(frame: DataFrame) -> Result<Answer> {
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.collect().await?;
        Ok(Answer { schema, batches })
    }

    /// How many rows it holds.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The non-null values of a text column (of any string type), in order; empty when
    /// there is no such column.
    pub fn strings(&self, column: &str) -> Vec<String> {
        let mut out = Vec::new();
        for batch in &self.batches {
            let Some(values) = batch.column_by_name(column) else {
                continue;
            };
            let Ok(text) = arrow::compute::cast(values, &arrow::datatypes::DataType::Utf8) else {
                continue;
            };
            if let Some(text) = text.as_any().downcast_ref::<arrow::array::StringArray>() {
                out.extend(text.iter().flatten().map(str::to_string));
            }
        }
        out
    }

    /// The sum of an integer column (0 when there is no such column).
    pub fn sum(&self, column: &str) -> i64 {
        self.batches
            .iter()
            .filter_map(|b| b.column_by_name(column))
            .filter_map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Int64).ok())
            .filter_map(|c| {
                c.as_any()
                    .downcast_ref::<arrow::array::Int64Array>()
                    .map(|a| a.iter().flatten().sum::<i64>())
            })
            .sum()
    }
}
