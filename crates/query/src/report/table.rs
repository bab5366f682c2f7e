//! A query's answer as rows of JSON values, for the report's templates and snapshots.

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, TimeUnit};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::Serialize;
use serde_json::Value;

use crate::{Answer, Result};

/// The columns and rows of one answer, with the id of the query that gave them.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The id of the query in [`super::Report::queries`].
    pub query: String,
    /// The column names.
    pub columns: Vec<String>,
    /// The rows: numbers as numbers, times as `YYYY-MM-DD HH:MM:SS` (UTC), lists and
    /// structs as text.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// Every row of `answer`.
    pub fn from_answer(query: &str, answer: &Answer) -> Result<Table> {
        let columns = answer
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut rows = Vec::with_capacity(answer.rows());
        for batch in &answer.batches {
            rows.extend(batch_rows(batch)?);
        }
        Ok(Table {
            query: query.to_string(),
            columns,
            rows,
        })
    }

    /// The index of a column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The indexes of several columns, or `None` when one is missing.
    pub fn columns_of<const N: usize>(&self, names: [&str; N]) -> Option<[usize; N]> {
        let mut out = [0; N];
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = self.column(name)?;
        }
        Some(out)
    }

    /// The text of column `name` in every row (empty text for nulls).
    pub fn texts(&self, name: &str) -> Vec<String> {
        let Some(i) = self.column(name) else {
            return Vec::new();
        };
        self.rows.iter().map(|r| text(&r[i])).collect()
    }
}

/// A cell as text: strings unquoted, null as empty.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A cell as an integer (0 when null or not a number).
pub fn integer(value: &Value) -> i64 {
    value.as_i64().unwrap_or(0)
}

/// The rows of one batch.
pub fn batch_rows(batch: &RecordBatch) -> Result<Vec<Vec<Value>>> {
    let cells: Vec<Vec<Value>> = batch
        .columns()
        .iter()
        .map(column_values)
        .collect::<Result<_>>()?;
    Ok((0..batch.num_rows())
        .map(|row| cells.iter().map(|c| c[row].clone()).collect())
        .collect())
}

/// The values of one column.
fn column_values(column: &ArrayRef) -> Result<Vec<Value>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{Float64Type, Int64Type, UInt64Type};
    let n = column.len();
    let numeric = |c: &ArrayRef, to: &DataType| arrow::compute::cast(c, to);
    Ok(match column.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => {
            let c = numeric(column, &DataType::Int64).map_err(arrow_error)?;
            let c = c.as_primitive::<Int64Type>();
            (0..n)
                .map(|i| c.is_valid(i).then(|| Value::from(c.value(i))))
                .map(Option::unwrap_or_default)
                .collect()
        }
        DataType::UInt64 => {
            let c = column.as_primitive::<UInt64Type>();
            (0..n)
                .map(|i| c.is_valid(i).then(|| Value::from(c.value(i))))
                .map(Option::unwrap_or_default)
                .collect()
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let c = numeric(column, &DataType::Float64).map_err(arrow_error)?;
            let c = c.as_primitive::<Float64Type>();
            (0..n)
                .map(|i| {
                    c.is_valid(i)
                        .then(|| {
                            serde_json::Number::from_f64((c.value(i) * 1e4).round() / 1e4)
                                .map(Value::Number)
                        })
                        .flatten()
                        .unwrap_or_default()
                })
                .collect()
        }
        DataType::Boolean => {
            let c = column.as_boolean();
            (0..n)
                .map(|i| c.is_valid(i).then(|| Value::from(c.value(i))))
                .map(Option::unwrap_or_default)
                .collect()
        }
        DataType::Timestamp(..) => {
            let c = numeric(column, &DataType::Timestamp(TimeUnit::Microsecond, None))
                .map_err(arrow_error)?;
            let c = c.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
            (0..n)
                .map(|i| {
                    c.is_valid(i)
                        .then(|| {
                            chrono::DateTime::from_timestamp_micros(c.value(i))
                                .map(|t| Value::from(t.format("%Y-%m-%d %H:%M:%S").to_string()))
                        })
                        .flatten()
                        .unwrap_or_default()
                })
                .collect()
        }
        _ => {
            let options = FormatOptions::default().with_null("");
            let formatter =
                ArrayFormatter::try_new(column.as_ref(), &options).map_err(arrow_error)?;
            (0..n)
                .map(|i| {
                    if column.is_valid(i) {
                        Value::from(formatter.value(i).to_string())
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
    })
}

fn arrow_error(e: arrow::error::ArrowError) -> crate::Error {
    datafusion::error::DataFusionError::from(e).into()
}
