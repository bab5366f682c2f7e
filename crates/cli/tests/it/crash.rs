//! Crash safety: after `kill -9` at any point, the dataset holds only complete, committed
//! files, and the next run finishes with nothing duplicated and nothing lost.

use std::path::Path;
use std::time::Duration;

use crate::*;

/// The steps of a commit at which `TRAILSCOPE_CRASH_AT` aborts the process.
pub const CRASH_POINTS: [&str; 5] = [
    "before-journal",
    "after-journal",
    "after-first-rename",
    "before-manifest",
    "after-manifest",
];

/// Every Parquet file under the partitions opens and reads to its end.
pub fn assert_only_complete_files(dataset: &Path) {
    for entry in std::fs::read_dir(dataset).unwrap() {
        let dir = entry.unwrap().path();
        if !dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("event_date=")
        {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(&path).unwrap(),
            )
            .unwrap_or_else(|e| panic!("{} is incomplete: {e}", path.display()))
            .build()
            .unwrap();
            for batch in reader {
                batch.unwrap_or_else(|e| panic!("{} is corrupt: {e}", path.display()));
            }
        }
    }
}

fn reference(input: &Path, dataset: &Path) -> Vec<String> {
    let out = quiet_ingest(input, dataset).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    event_identities(dataset)
}

#[test]
fn a_crash_at_each_commit_step_is_recovered() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, _) = generated_trail(tmp.path(), 512 << 10);
    let expected = reference(&input, &tmp.path().join("reference"));
    for point in CRASH_POINTS {
        let dataset = tmp.path().join(point);
        let crashed = quiet_ingest(&input, &dataset)
            .env("TRAILSCOPE_CRASH_AT", point)
            .output()
            .unwrap();
        assert_eq!(
            crashed.status.code(),
            None,
            "{point}: the process was killed by a signal"
        );
        assert_only_complete_files(&dataset);
        let again = quiet_ingest(&input, &dataset).output().unwrap();
        assert_eq!(
            again.status.code(),
            Some(0),
            "{point}: {}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert_eq!(
            event_identities(&dataset),
            expected,
            "{point}: recovered dataset differs"
        );
        assert!(
            !dataset.join("_staging").exists()
                && !dataset.join("_trailscope/journal.json").exists()
        );
    }
}

#[test]
fn kill_9_at_any_time_loses_and_duplicates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, _) = generated_trail(tmp.path(), 4 << 20);
    let expected = reference(&input, &tmp.path().join("reference"));
    for (round, delay_ms) in [0u64, 5, 15, 30, 60, 120, 250].into_iter().enumerate() {
        let dataset = tmp.path().join(format!("kill-{round}"));
        // Every other round holds 200 dedupe keys in memory: killed while keys are
        // spilled to scratch files, and recovered through the same small budget.
        let budget = if round % 2 == 1 { "200" } else { "1048576" };
        let mut child = quiet_ingest(&input, &dataset)
            .args(["--dedupe-keys", budget])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if dataset.exists() {
            assert_only_complete_files(&dataset);
        }
        let again = quiet_ingest(&input, &dataset)
            .args(["--dedupe-keys", budget])
            .output()
            .unwrap();
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert_eq!(
            event_identities(&dataset),
            expected,
            "after a kill at {delay_ms} ms"
        );
    }
}

#[test]
fn a_file_truncated_while_it_is_read_is_reported_not_a_crash() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap();
    let padding = "x".repeat(900);
    let records: Vec<String> = (0..40_000)
        .map(|i| {
            format!(
                r#"{{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"t-{i}","eventTime":"2026-03-02T10:00:00Z","requestParameters":{{"pad":"{padding}"}}}}"#
            )
        })
        .collect();
    let text = format!("{{\"Records\":[{}]}}", records.join(","));
    for (round, delay_ms) in [20u64, 150, 600].into_iter().enumerate() {
        let input = tmp.path().join(format!("trail-{round}.json"));
        std::fs::write(&input, &text).unwrap();
        let dataset = tmp.path().join(format!("lake-{round}"));
        let child = trailscope()
            .args(["ingest", "-q", "-j", "1", "-o"])
            .arg(&dataset)
            .arg(&input)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // A sync in progress rewrites the file: it shrinks under the reader.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&input)
            .unwrap()
            .set_len(text.len() as u64 / 3)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.signal(),
            None,
            "round {round}: killed by a signal: {stderr}"
        );
        match out.status.code() {
            // Read before the cut: every record.
            Some(0) => assert_eq!(event_identities(&dataset).len(), 40_000),
            // Cut while read: named, the records before the cut kept.
            Some(2) => {
                assert!(stderr.contains(&format!("trail-{round}.json")), "{stderr}");
                let kept = event_identities(&dataset).len();
                assert!(kept > 0 && kept < 40_000, "round {round}: {kept} kept");
            }
            other => panic!("round {round}: exit {other:?}: {stderr}"),
        }
        // One round's 37 MB on disk at a time.
        std::fs::remove_file(&input).unwrap();
        std::fs::remove_dir_all(&dataset).unwrap();
    }
}

/// The inputs and data files the dataset's manifest has committed.
fn committed(dataset: &Path) -> (usize, usize) {
    let Ok(text) = std::fs::read_to_string(dataset.join("_trailscope/manifest.json")) else {
        return (0, 0);
    };
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let count = |key: &str| {
        manifest[key]
            .as_object()
            .map(|o| o.len())
            .or_else(|| manifest[key].as_array().map(|a| a.len()))
            .unwrap_or(0)
    };
    (count("inputs"), count("runs"))
}

#[test]
fn a_kill_after_a_checkpoint_keeps_it_and_the_next_run_reads_only_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, _) = generated_trail(tmp.path(), 4 << 20);
    let expected = reference(&input, &tmp.path().join("reference"));
    let total_files = committed(&tmp.path().join("reference")).0;
    let mut interrupted = 0;
    for round in 0..3usize {
        let dataset = tmp.path().join(format!("checkpointed-{round}"));
        let mut child = quiet_ingest(&input, &dataset)
            .args(["--checkpoint", "64KiB", "-j", "1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill once round + 1 checkpoints are committed (or the run has ended).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while committed(&dataset).1 < round + 1
            && child.try_wait().unwrap().is_none()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        assert_only_complete_files(&dataset);
        let (kept, checkpoints) = committed(&dataset);
        assert!(
            checkpoints > round,
            "round {round}: {checkpoints} checkpoints"
        );
        assert!(kept > 0, "round {round}: the checkpoints committed files");
        eprintln!("round {round}: {checkpoints} checkpoints, {kept} of {total_files} files");
        if kept < total_files {
            interrupted += 1;
        }
        let again = quiet_ingest(&input, &dataset)
            .arg("--json")
            .output()
            .unwrap();
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
        // The next run reads only what the checkpoints had not committed.
        assert_eq!(summary["files"]["unchanged"], kept as u64, "round {round}");
        assert_eq!(
            summary["files"]["read"],
            (total_files - kept) as u64,
            "round {round}"
        );
        assert_eq!(
            event_identities(&dataset),
            expected,
            "round {round}: every event once"
        );
    }
    assert!(interrupted > 0, "no kill came before the run's end");
}
