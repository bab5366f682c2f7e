//! The generator's own tests: determinism, layout, and that the ground truth
//! describes exactly what was written.

mod determinism;
mod truth;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trailscope_ingest::synth::{SynthOptions, SynthSummary, generate};

/// Every file under `root`, as (relative path, bytes).
pub fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The records of every trail file (not digest or Insight), with the file they are in.
pub fn trail_records(root: &Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, bytes) in files(root) {
        if !path.contains("/CloudTrail/") {
            continue;
        }
        let mut json = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut json)
            .unwrap();
        let doc: Value = serde_json::from_slice(&json).unwrap();
        for record in doc["Records"].as_array().unwrap() {
            out.push((path.clone(), record.clone()));
        }
    }
    out
}

pub fn small(out: PathBuf, seed: u64) -> SynthOptions {
    let mut options = SynthOptions::new(out);
    options.size_bytes = 2 << 20;
    options.seed = seed;
    options.days = 5;
    options
}

pub fn generated(options: &SynthOptions) -> SynthSummary {
    generate(options).unwrap()
}
