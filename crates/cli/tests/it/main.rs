//! End-to-end tests of the `trailscope` binary.

mod attribution;
#[cfg(feature = "cluster")]
mod cluster;
mod compact;
mod crash;
mod demo;
mod exit_status;
mod findings;
mod merge;
mod policy;
mod report;
mod s3;
mod sql;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The third-party samples in `../shared/testdata`, or `None` after the calling test said
/// that it was skipped (a failure under CI).
pub use trailscope_ingest::synth::shared::for_test as shared_samples;

/// The project's own bad-input corpus, written into `dir/bad`.
pub fn bad_corpus(dir: &Path) -> PathBuf {
    let out = dir.join("bad");
    trailscope_ingest::synth::fixtures::write_bad_corpus(&out).unwrap();
    out
}

/// A generated trail of about `bytes` of JSON over two days, in `dir/trail`; returns its
/// `AWSLogs` folder and how many records its files hold.
pub fn generated_trail(dir: &Path, bytes: u64) -> (PathBuf, u64) {
    let out = dir.join("trail");
    let summary = trailscope_ingest::synth::fixtures::small_trail(&out, bytes, 2).unwrap();
    (out.join("AWSLogs"), summary.truth.totals.records)
}

pub fn trailscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trailscope"))
}

/// `trailscope ingest INPUT --out DATASET -q`, ready to run.
pub fn quiet_ingest(input: &Path, dataset: &Path) -> Command {
    let mut command = trailscope();
    command
        .arg("ingest")
        .arg(input)
        .arg("--out")
        .arg(dataset)
        .arg("-q");
    command
}

/// A generated trail of about `bytes` ingested into `dir/<name>`; returns the dataset.
pub fn ingested_trail(dir: &Path, bytes: u64, name: &str) -> PathBuf {
    let (trail, _) = generated_trail(dir, bytes);
    let lake = dir.join(name);
    let output = quiet_ingest(&trail, &lake).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    lake
}

/// Runs `command`, reads the first bytes of its output, then closes the pipe; asserts that
/// the command took that as no error (exit status 0).
pub fn assert_closed_pipe_is_no_error(command: &mut Command) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // stdout is now closed: the command's next writes fail with EPIPE.
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn run(args: &[&str]) -> Output {
    trailscope().args(args).output().expect("trailscope runs")
}

/// Exported records of a dataset as (source_file, record_index) -> JSON, failing on repeats.
pub fn records(dataset: &Path) -> std::collections::BTreeMap<(String, i64), serde_json::Value> {
    let mut out = std::collections::BTreeMap::new();
    trailscope_ingest::export::for_each_record(dataset, |r| {
        let value = r.value()?;
        let place = (r.source_file, i64::from(r.record_index));
        assert!(
            out.insert(place.clone(), value).is_none(),
            "{place:?} stored twice"
        );
        Ok(())
    })
    .unwrap();
    out
}

/// The identity of each stored event (eventID with recipient account, or its place when it
/// has no eventID), sorted, failing if any is stored twice. Which copy of a duplicated
/// event is kept depends on worker timing, so runs are compared on this.
pub fn event_identities(dataset: &Path) -> Vec<String> {
    let mut ids: Vec<String> = records(dataset)
        .into_iter()
        .map(
            |((source, index), record)| match record["eventID"].as_str() {
                Some(id) => format!(
                    "{id}/{}",
                    record["recipientAccountId"].as_str().unwrap_or("")
                ),
                None => format!("{source}#{index}"),
            },
        )
        .collect();
    ids.sort();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "an event is stored twice");
    ids
}
