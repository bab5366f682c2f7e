//! `ingest --shard K/N` and `merge`: a trail ingested as one dataset and as four shards
//! merged gives the same events, none twice; merging again adds nothing.

use std::path::Path;

use crate::{event_identities, quiet_ingest, records, trailscope};

/// Every stored record's JSON text, sorted: equal for two datasets that hold the same
/// events, whichever copy of a duplicated event each kept.
fn record_texts(dataset: &Path) -> Vec<String> {
    let mut texts: Vec<String> = records(dataset)
        .into_values()
        .map(|v| v.to_string())
        .collect();
    texts.sort();
    texts
}

fn merge(out: &Path, shards: &[&Path]) -> serde_json::Value {
    let output = trailscope()
        .arg("merge")
        .arg("--out")
        .arg(out)
        .args(shards)
        .arg("--json")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_trail_ingested_as_four_shards_and_merged_holds_the_same_events_as_one_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    // The mixed layout delivers events through an organization trail and account trails:
    // the same event in two files, in two places of the S3 layout.
    let out = trailscope()
        .args([
            "synth", "--size", "3MiB", "--days", "3", "--layout", "mixed", "--seed", "5", "--out",
        ])
        .arg(&trail)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let input = trail.join("AWSLogs");
    let whole = dir.path().join("whole");
    assert!(quiet_ingest(&input, &whole).status().unwrap().success());

    let shards: Vec<_> = (1..=4)
        .map(|k| dir.path().join(format!("shard{k}")))
        .collect();
    let mut shard_rows = 0;
    for (k, shard) in shards.iter().enumerate() {
        let status = quiet_ingest(&input, shard)
            .arg("--shard")
            .arg(format!("{}/4", k + 1))
            .status()
            .unwrap();
        assert!(status.success());
        let rows = records(shard).len();
        assert!(rows > 0, "shard {} is empty", k + 1);
        shard_rows += rows;
    }
    // Every copy of an event went to one shard: the shards hold each event once.
    let whole_texts = record_texts(&whole);
    assert_eq!(shard_rows, whole_texts.len());

    let merged = dir.path().join("merged");
    let refs: Vec<&Path> = shards.iter().map(|p| p.as_path()).collect();
    let summary = merge(&merged, &refs);
    assert_eq!(
        summary["rows_written"],
        serde_json::json!(whole_texts.len())
    );
    assert_eq!(record_texts(&merged), whole_texts);
    assert_eq!(event_identities(&merged), event_identities(&whole));

    // Idempotent: the shards again, and the whole dataset, add nothing.
    let again = merge(&merged, &refs);
    assert_eq!(again["rows_written"], serde_json::json!(0));
    assert_eq!(
        again["rows_duplicate"],
        serde_json::json!(whole_texts.len())
    );
    let whole_again = merge(&merged, &[whole.as_path()]);
    assert_eq!(whole_again["rows_written"], serde_json::json!(0));
    assert_eq!(record_texts(&merged), whole_texts);
}

#[test]
fn a_merge_crashed_at_each_commit_step_or_killed_is_finished_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let (input, _) = crate::generated_trail(dir.path(), 2 << 20);
    let whole = dir.path().join("whole");
    assert!(quiet_ingest(&input, &whole).status().unwrap().success());
    let shards: Vec<_> = (1..=2)
        .map(|k| dir.path().join(format!("shard{k}")))
        .collect();
    for (k, shard) in shards.iter().enumerate() {
        let status = quiet_ingest(&input, shard)
            .arg("--shard")
            .arg(format!("{}/2", k + 1))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let expected = event_identities(&whole);
    let merge_command = |target: &Path| {
        let mut command = trailscope();
        command.arg("merge").arg("--out").arg(target).args(&shards);
        command
    };
    // The journal's crash points (TRAILSCOPE_CRASH_AT, as ingest's test uses them).
    for point in crate::crash::CRASH_POINTS {
        let target = dir.path().join(format!("merged-{point}"));
        let crashed = merge_command(&target)
            .env("TRAILSCOPE_CRASH_AT", point)
            .output()
            .unwrap();
        assert_eq!(crashed.status.code(), None, "{point}: not killed");
        crate::crash::assert_only_complete_files(&target);
        let again = merge_command(&target).output().unwrap();
        assert!(again.status.success(), "{point}: {again:?}");
        assert_eq!(event_identities(&target), expected, "{point}");
    }
    // kill -9 at any time.
    for (round, delay_ms) in [0u64, 10, 30, 80].into_iter().enumerate() {
        let target = dir.path().join(format!("killed-{round}"));
        let mut child = merge_command(&target)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        if target.exists() {
            crate::crash::assert_only_complete_files(&target);
        }
        let again = merge_command(&target).output().unwrap();
        assert!(
            again.status.success(),
            "after a kill at {delay_ms} ms: {again:?}"
        );
        assert_eq!(
            event_identities(&target),
            expected,
            "after a kill at {delay_ms} ms"
        );
    }
}

#[test]
fn a_bad_shard_argument_or_a_missing_shard_is_an_error_that_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = trailscope()
        .args(["ingest", "--shard", "5/4", "--out"])
        .arg(dir.path().join("lake"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--shard"),
        "{out:?}"
    );

    let target = dir.path().join("merged");
    let out = trailscope()
        .arg("merge")
        .arg("--out")
        .arg(&target)
        .arg(dir.path().join("no-such-shard"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!target.exists(), "the target was created");
}
