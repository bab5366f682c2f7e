//! `trailscope compact`: the small files of many runs merged, the records unchanged, and
//! crash-safe at every step of its commit.

use std::path::Path;

use crate::*;

fn data_files(dataset: &Path) -> usize {
    let text = std::fs::read_to_string(dataset.join("_trailscope/manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest["data_files"].as_array().unwrap().len()
}

fn partitions(dataset: &Path) -> usize {
    std::fs::read_dir(dataset)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("event_date=")
        })
        .count()
}

fn compact(dataset: &Path) -> std::process::Output {
    trailscope()
        .args(["compact", "-d"])
        .arg(dataset)
        .output()
        .unwrap()
}

#[test]
fn compaction_merges_each_partitions_files_and_keeps_every_record() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, _) = generated_trail(tmp.path(), 2 << 20);
    let dataset = tmp.path().join("lake");
    let out = quiet_ingest(&input, &dataset)
        .args(["--checkpoint", "32KiB", "--compact-at", "0"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let before = records(&dataset);
    let files = data_files(&dataset);
    assert!(files > 2 * partitions(&dataset), "{files} files");
    let out = compact(&dataset);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(data_files(&dataset), partitions(&dataset));
    // Every record, value for value (exported from the new files; provenance unchanged).
    assert_eq!(records(&dataset), before);
    // Nothing is left in staging, and compacting again changes nothing.
    assert!(!dataset.join("_staging").exists());
    let out = compact(&dataset);
    assert!(String::from_utf8_lossy(&out.stderr).contains("compacted 0 of"));
    // The dataset stays incremental: a re-run reads nothing and adds nothing.
    let again = quiet_ingest(&input, &dataset)
        .arg("--json")
        .output()
        .unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(summary["files"]["read"], 0);
    assert_eq!(records(&dataset), before);
}

#[test]
fn a_crash_at_each_step_of_a_compaction_is_recovered() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, _) = generated_trail(tmp.path(), 1 << 20);
    for point in crate::crash::CRASH_POINTS
        .into_iter()
        .chain(["after-first-remove"])
    {
        let dataset = tmp.path().join(point);
        let out = quiet_ingest(&input, &dataset)
            .args(["--checkpoint", "32KiB", "--compact-at", "0"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let before = records(&dataset);
        let crashed = trailscope()
            .args(["compact", "-d"])
            .arg(&dataset)
            .env("TRAILSCOPE_CRASH_AT", point)
            .output()
            .unwrap();
        assert_eq!(crashed.status.code(), None, "{point}: killed by a signal");
        // The next writer finishes or discards the swap; then every record is there once.
        let out = compact(&dataset);
        assert!(
            out.status.success(),
            "{point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(records(&dataset), before, "{point}");
        assert_eq!(data_files(&dataset), partitions(&dataset), "{point}");
        assert!(
            !dataset.join("_trailscope/journal.json").exists(),
            "{point}"
        );
    }
}

#[test]
fn ingest_compacts_the_partitions_it_leaves_with_many_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, _) = generated_trail(tmp.path(), 2 << 20);
    let reference = tmp.path().join("reference");
    assert!(quiet_ingest(&input, &reference).status().unwrap().success());
    // Many checkpoints: many files per partition, merged at the end of the run.
    let dataset = tmp.path().join("lake");
    let out = quiet_ingest(&input, &dataset)
        .args(["--checkpoint", "32KiB", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        summary["partitions_compacted"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert!(summary["data_files_written"].as_u64().unwrap() > data_files(&dataset) as u64);
    assert!(data_files(&dataset) < 5 * partitions(&dataset));
    assert_eq!(event_identities(&dataset), event_identities(&reference));
}

#[test]
fn a_run_writes_one_file_per_partition_whatever_its_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, _) = generated_trail(tmp.path(), 2 << 20);
    let reference = tmp.path().join("reference");
    let out = quiet_ingest(&input, &reference)
        .args(["-j", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // Eight workers share each partition's file: nothing for the run to compact.
    let dataset = tmp.path().join("lake");
    let out = quiet_ingest(&input, &dataset)
        .args(["-j", "8", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["partitions_compacted"], 0, "{summary}");
    assert_eq!(data_files(&dataset), partitions(&dataset));
    assert_eq!(records(&dataset), records(&reference));
}
