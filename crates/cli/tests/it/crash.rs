//! Crash safety: after `kill -9` at any point, the dataset holds only complete, committed
//! files, and the next run finishes with nothing duplicated and nothing lost.

use std::path::Path;
use std::time::Duration;

use crate::*;

/// Every Parquet file under the partitions opens and reads to its end.
fn assert_only_complete_files(dataset: &Path) {
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
    for point in [
        "before-journal",
        "after-journal",
        "after-first-rename",
        "before-manifest",
        "after-manifest",
    ] {
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
        let mut child = quiet_ingest(&input, &dataset)
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
        let again = quiet_ingest(&input, &dataset).output().unwrap();
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
