//! Writes the records of a dataset back out as CloudTrail JSON, value-equal to the input.
//!
//! Each row is rebuilt along [`RECORD_FIELDS`] (the same tree ingest used to take it apart)
//! and the `unmapped` object is merged back in. The record is built as JSON text, never
//! as a parsed value, so that every number comes back as it was written (integers beyond
//! 64 bits, `1e400`: see [`crate::number_text`]). This is what makes ingest lossless, and
//! the tests check it over every sample.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::TimestampMicrosecondType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::dataset::Manifest;
use crate::error::{Error, Result};
use crate::json_text::write_string;
use crate::schema::{Col, FieldSpec, Kind, RECORD_FIELDS, RESOURCE_KEYS};
use crate::time::format_timestamp_micros;

/// One exported record with its provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedRecord {
    /// The file it came from.
    pub source_file: String,
    /// Its index in that file.
    pub record_index: i32,
    /// The record, as one line of JSON text.
    pub json: String,
}

impl ExportedRecord {
    /// The record parsed with serde_json (numbers beyond `f64` become approximations or an
    /// error: [`Self::json`] has them exactly).
    pub fn value(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.json).map_err(|e| {
            Error::Config(format!(
                "{} record {}: exported JSON does not parse: {e}",
                self.source_file, self.record_index
            ))
        })
    }
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
        out.write_all(exported.json.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| Error::io("<output>", e))
    })
}

/// A JSON value being rebuilt: text, or an object whose members may still be merged into.
#[derive(Debug)]
enum Json {
    /// A complete value, as JSON text.
    Text(String),
    /// Members as (key as a JSON string literal, value), in order.
    Object(Vec<(String, Json)>),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Text(text) => out.push_str(text),
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_string(text, &mut out);
    out
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
    let mut record = build_object(RECORD_FIELDS, batch, row, substituted);
    if let Some(unmapped) = text(Col::Unmapped) {
        let patch = object_members(unmapped).ok_or_else(|| {
            Error::Config(format!(
                "{source_file} record {record_index}: corrupt unmapped column"
            ))
        })?;
        merge(&mut record, patch).ok_or_else(|| {
            Error::Config(format!(
                "{source_file} record {record_index}: corrupt unmapped column"
            ))
        })?;
    }
    let mut json = String::new();
    Json::Object(record).write(&mut json);
    Ok(ExportedRecord {
        source_file,
        record_index,
        json,
    })
}

fn build_object(
    spec: &[FieldSpec],
    batch: &RecordBatch,
    row: usize,
    substituted: bool,
) -> Vec<(String, Json)> {
    let mut object = Vec::new();
    for field in spec {
        let value = match &field.kind {
            Kind::Object(inner) => {
                let inner = build_object(inner, batch, row, substituted);
                (!inner.is_empty()).then_some(Json::Object(inner))
            }
            Kind::Str(col) => string(batch, *col, row).map(|s| Json::Text(literal(s))),
            Kind::Bool(col) => boolean(batch, *col, row).map(|b| Json::Text(b.to_string())),
            Kind::BoolText(col) => {
                boolean(batch, *col, row).map(|b| Json::Text(format!("\"{b}\"")))
            }
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
                        Json::Text(literal(&text))
                    })
                }
            }
            // Written by ingest as JSON text: passed through as it is.
            Kind::Json(col) => string(batch, *col, row).map(|text| Json::Text(text.to_string())),
            Kind::Resources(col) => resources(batch, *col, row),
        };
        if let Some(value) = value {
            object.push((literal(field.key), value));
        }
    }
    object
}

fn string(batch: &RecordBatch, col: Col, row: usize) -> Option<&str> {
    let array = batch.column(col as usize).as_string::<i32>();
    array.is_valid(row).then(|| array.value(row))
}

fn boolean(batch: &RecordBatch, col: Col, row: usize) -> Option<bool> {
    let array = batch.column(col as usize).as_boolean();
    array.is_valid(row).then(|| array.value(row))
}

fn resources(batch: &RecordBatch, col: Col, row: usize) -> Option<Json> {
    let list = batch.column(col as usize).as_list::<i32>();
    if list.is_null(row) {
        return None;
    }
    let items = list.value(row);
    let items = items.as_struct();
    let fields: Vec<_> = (0..3).map(|i| items.column(i).as_string::<i32>()).collect();
    let mut out = String::from("[");
    for i in 0..items.len() {
        if i > 0 {
            out.push(',');
        }
        let members: Vec<(String, Json)> = RESOURCE_KEYS
            .iter()
            .zip(&fields)
            .filter(|(_, field)| field.is_valid(i))
            .map(|(key, field)| (literal(key), Json::Text(literal(field.value(i)))))
            .collect();
        Json::Object(members).write(&mut out);
    }
    out.push(']');
    Some(Json::Text(out))
}

/// Merges `patch` into `target`: objects member by member, anything else replaces.
/// `None` when a nested object of the patch is not well-formed.
fn merge(target: &mut Vec<(String, Json)>, patch: Vec<(String, &str)>) -> Option<()> {
    for (key, value) in patch {
        let existing = target.iter_mut().find(|(k, _)| *k == key);
        match existing {
            Some((_, Json::Object(members))) if value.starts_with('{') => {
                merge(members, object_members(value)?)?;
            }
            Some((_, slot)) => *slot = Json::Text(value.to_string()),
            None => target.push((key, Json::Text(value.to_string()))),
        }
    }
    Some(())
}

/// The members of the JSON object `text` (as ingest wrote it: canonical, minified), as
/// (key literal, value text); `None` when it is not such an object.
fn object_members(text: &str) -> Option<Vec<(String, &str)>> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'{') || bytes.last() != Some(&b'}') {
        return None;
    }
    let mut members = Vec::new();
    let mut at = 1;
    if bytes.get(at) == Some(&b'}') {
        return (at + 1 == bytes.len()).then_some(members);
    }
    loop {
        let key_end = value_end(bytes, at)?;
        if bytes[at] != b'"' || bytes.get(key_end) != Some(&b':') {
            return None;
        }
        let value_start = key_end + 1;
        let end = value_end(bytes, value_start)?;
        members.push((text[at..key_end].to_string(), &text[value_start..end]));
        match bytes.get(end) {
            Some(b',') => at = end + 1,
            Some(b'}') if end + 1 == bytes.len() => return Some(members),
            _ => return None,
        }
    }
}

/// The end of the JSON value starting at `bytes[start]` (strings, nesting and scalars).
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = start;
    let mut in_string = false;
    while at < bytes.len() {
        let byte = bytes[at];
        if in_string {
            match byte {
                b'\\' => at += 1,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return Some(at + 1);
                    }
                }
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(at + 1);
                    }
                }
                b',' | b'}' | b']' if depth == 0 => return (at > start).then_some(at),
                _ => {}
            }
        }
        at += 1;
    }
    (depth == 0 && !in_string && at > start).then_some(at)
}
