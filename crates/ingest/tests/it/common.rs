//! Helpers: an independent reader of input files (serde_json, not the ingest path) and
//! ingest/export wrappers.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trailscope_ingest::export::for_each_record;
use trailscope_ingest::{IngestOptions, IngestSummary, Silent, discover, ingest};

/// The third-party samples in `../shared/testdata`, or `None` after the calling test said
/// that it was skipped (a failure under CI).
pub use trailscope_ingest::synth::shared::for_test as shared_samples;

/// The four sample folders (not `real/`): Stratus Red Team, OTRF, plaso, AWS docs.
pub fn sample_folders(shared: &Path) -> Vec<PathBuf> {
    [
        "stratus-red-team",
        "otrf-security-datasets",
        "plaso",
        "aws-docs",
    ]
    .iter()
    .map(|f| shared.join(f))
    .collect()
}

/// The project's own input shapes, written into `dir/shapes`.
pub fn shapes(dir: &Path) -> PathBuf {
    let out = dir.join("shapes");
    trailscope_ingest::synth::fixtures::write_shapes(&out).unwrap();
    out
}

/// The project's own bad-input corpus, written into `dir/bad`.
pub fn bad_corpus(dir: &Path) -> PathBuf {
    let out = dir.join("bad");
    trailscope_ingest::synth::fixtures::write_bad_corpus(&out).unwrap();
    out
}

/// A small generated trail (about `bytes` of JSON over two days) in `dir/trail`.
pub fn small_trail(dir: &Path, bytes: u64) -> PathBuf {
    let out = dir.join("trail");
    trailscope_ingest::synth::fixtures::small_trail(&out, bytes, 2).unwrap();
    out.join("AWSLogs")
}

pub fn run_ingest(inputs: &[PathBuf], dataset: &Path) -> IngestSummary {
    let mut options = IngestOptions::new(inputs.to_vec(), dataset.to_path_buf());
    options.threads = 2;
    let summary = ingest(&options, &Silent).expect("ingest runs");
    let r = &summary.records;
    assert_eq!(
        r.seen,
        r.written + r.duplicate + r.rejected,
        "every record is accounted for"
    );
    summary
}

/// Every record of a dataset, by (source file, index).
pub fn exported(dataset: &Path) -> BTreeMap<(String, i64), Value> {
    let mut out = BTreeMap::new();
    for_each_record(dataset, |r| {
        let value = r.value()?;
        let old = out.insert((r.source_file, i64::from(r.record_index)), value);
        assert!(old.is_none(), "a record is stored twice");
        Ok(())
    })
    .expect("export runs");
    out
}

/// What a file holds, read with serde_json: each top-level item, by index.
pub fn read_items(path: &Path) -> Vec<Value> {
    let mut bytes = std::fs::read(path).unwrap();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        bytes = out;
    }
    let items = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut object)) => {
            match object.remove("Records").or_else(|| object.remove("Events")) {
                Some(Value::Array(items)) => items,
                _ => vec![Value::Object(object)],
            }
        }
        Ok(Value::Array(items)) => items,
        Ok(other) => vec![other],
        Err(_) => String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect(),
    };
    items
        .into_iter()
        .map(|item| match item.get("CloudTrailEvent") {
            Some(Value::String(inner)) => serde_json::from_str(inner).unwrap(),
            _ => item,
        })
        .collect()
}

/// Whether a value is a CloudTrail record (the rule the ingest documents).
pub fn is_record(value: &Value) -> bool {
    let has = |key: &str| value.get(key).is_some_and(Value::is_string);
    (has("eventVersion") || has("eventSource"))
        && (has("eventName") || has("eventType") || has("eventID"))
}

/// The expected records of the trail files under `inputs`, by (source, index).
pub fn expected(inputs: &[PathBuf]) -> (BTreeMap<(String, i64), Value>, u64) {
    let found = discover(inputs, None).unwrap();
    let mut records = BTreeMap::new();
    let mut not_records = 0;
    for file in &found.files {
        for (index, item) in read_items(file.path()).into_iter().enumerate() {
            if is_record(&item) {
                records.insert((file.source().to_string(), index as i64), item);
            } else {
                not_records += 1;
            }
        }
    }
    (records, not_records)
}

pub fn dedupe_key(record: &Value) -> Option<(String, String)> {
    let id = record.get("eventID")?.as_str()?.to_string();
    let account = record
        .get("recipientAccountId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    Some((id, account))
}
