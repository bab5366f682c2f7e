//! Writes the records of a dataset back out as CloudTrail JSON, value-equal to the input.
//!
//! Each row is rebuilt along [`RECORD_FIELDS`] (the same tree ingest used to take it apart)
//! and the `unmapped` object is merged back in. This is what makes ingest lossless, and the
//! tests check it over every sample in `testdata/`.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::TimestampMicrosecondType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value};

use crate::dataset::Manifest;
use crate::error::{Error, Result};
use crate::schema::{Col, FieldSpec, Kind, RECORD_FIELDS, RESOURCE_KEYS};
use crate::time::format_timestamp_micros;

/// One exported record with its provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedRecord {
    /// The file it came from.
    pub source_file: String,
    /// Its index in that file.
    pub record_index: i32,
    /// The record.
    pub record: Value,
}

/// Calls `each` with every committed record of the dataset at `root`, file by file.
pub fn for_each_record(
    root: &Path,
    mut each: impl FnMut(ExportedRecord) -> Result<()>,
) -> Result<u64> {
    let manifest = Manifest::load_checked(root)?;
    let mut count = 0;
    for path in manifest.data_file_paths(root) {
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
        for batch in reader {
            let batch = batch?;
            for row in 0..batch.num_rows() {
                each(rebuild(&batch, row)?)?;
                count += 1;
            }
        }
    }
    Ok(count)
}

/// Writes every record as one JSON line; returns the number written.
pub fn write_json_lines(root: &Path, out: &mut dyn Write) -> Result<u64> {
    for_each_record(root, |exported| {
        serde_json::to_writer(&mut *out, &exported.record)
            .map_err(|e| Error::io("<output>", e.into()))?;
        out.write_all(b"\n").map_err(|e| Error::io("<output>", e))
    })
}

/// Rebuilds the record in row `row` of `batch`.
pub fn rebuild(batch: &RecordBatch, row: usize) -> Result<ExportedRecord> {
    let text = |col: Col| string(batch, col, row);
    let source_file = text(Col::SourceFile).unwrap_or_default().to_string();
    let record_index = batch
        .column(Col::RecordIndex as usize)
        .as_primitive::<arrow::datatypes::Int32Type>()
        .value(row);
    let substituted = text(Col::EventTimeSubstitute).is_some();
    let mut record = build_object(RECORD_FIELDS, batch, row, substituted)?;
    if let Some(unmapped) = text(Col::Unmapped) {
        let patch: Value = serde_json::from_str(unmapped).map_err(|e| {
            Error::Config(format!(
                "{source_file} record {record_index}: corrupt unmapped column: {e}"
            ))
        })?;
        merge(&mut record, patch);
    }
    Ok(ExportedRecord {
        source_file,
        record_index,
        record: Value::Object(record),
    })
}

fn build_object(
    spec: &[FieldSpec],
    batch: &RecordBatch,
    row: usize,
    substituted: bool,
) -> Result<Map<String, Value>> {
    let mut object = Map::new();
    for field in spec {
        let value = match &field.kind {
            Kind::Object(inner) => {
                let inner = build_object(inner, batch, row, substituted)?;
                (!inner.is_empty()).then_some(Value::Object(inner))
            }
            Kind::Str(col) => string(batch, *col, row).map(|s| Value::String(s.to_string())),
            Kind::Bool(col) => boolean(batch, *col, row).map(Value::Bool),
            Kind::BoolText(col) => boolean(batch, *col, row).map(|b| Value::String(b.to_string())),
            Kind::Time(col) => {
                if *col == Col::EventTime && substituted {
                    None
                } else {
                    let array = batch
                        .column(*col as usize)
                        .as_primitive::<TimestampMicrosecondType>();
                    array.is_valid(row).then(|| {
                        let mut text = String::new();
                        format_timestamp_micros(array.value(row), &mut text);
                        Value::String(text)
                    })
                }
            }
            Kind::Json(col) => match string(batch, *col, row) {
                Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                    Error::Config(format!("corrupt JSON in column {}: {e}", field.key))
                })?),
                None => None,
            },
            Kind::Resources(col) => resources(batch, *col, row),
        };
        if let Some(value) = value {
            object.insert(field.key.to_string(), value);
        }
    }
    Ok(object)
}

fn string(batch: &RecordBatch, col: Col, row: usize) -> Option<&str> {
    let array = batch.column(col as usize).as_string::<i32>();
    array.is_valid(row).then(|| array.value(row))
}

fn boolean(batch: &RecordBatch, col: Col, row: usize) -> Option<bool> {
    let array = batch.column(col as usize).as_boolean();
    array.is_valid(row).then(|| array.value(row))
}

fn resources(batch: &RecordBatch, col: Col, row: usize) -> Option<Value> {
    let list = batch.column(col as usize).as_list::<i32>();
    if list.is_null(row) {
        return None;
    }
    let items = list.value(row);
    let items = items.as_struct();
    let fields: Vec<_> = (0..3).map(|i| items.column(i).as_string::<i32>()).collect();
    let array = (0..items.len())
        .map(|i| {
            let mut object = Map::new();
            for (key, field) in RESOURCE_KEYS.iter().zip(&fields) {
                if field.is_valid(i) {
                    object.insert(key.to_string(), Value::String(field.value(i).to_string()));
                }
            }
            Value::Object(object)
        })
        .collect();
    Some(Value::Array(array))
}

/// Merges `patch` into `target`: objects member by member, anything else replaces.
fn merge(target: &mut Map<String, Value>, patch: Value) {
    let Value::Object(patch) = patch else {
        return;
    };
    for (key, value) in patch {
        match (target.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(inner)) => {
                merge(existing, Value::Object(inner));
            }
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
}
