//! Re-runs read only what is new, and add nothing twice.

use std::fs;

use crate::common::*;
use trailscope_ingest::{IngestOptions, Silent, ingest};

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_rerun_reads_only_new_files_and_adds_nothing_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let trail = tmp.path().join("trail");
    let dataset = tmp.path().join("lake");
    copy_dir(
        &small_trail(&tmp.path().join("generated"), 256 << 10),
        &trail,
    );
    let extra = shapes(tmp.path()).join("records.jsonl");
    let first = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert!(first.records.written > 0);
    let rows = first.dataset_rows;

    let again = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert_eq!(again.files.read, 0);
    assert_eq!(again.files.unchanged, first.files.read);
    assert_eq!(again.records.seen, 0);
    assert_eq!(again.dataset_rows, rows);

    // The tree grows by one file: only that file is read.
    fs::copy(extra, trail.join("new.jsonl")).unwrap();
    let grown = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert_eq!(grown.files.read, 1);
    assert_eq!(grown.records.written, 6);
    assert_eq!(grown.dataset_rows, rows + 6);

    // The same events under another name are duplicates, not new rows.
    fs::copy(trail.join("new.jsonl"), trail.join("copy-of-new.jsonl")).unwrap();
    let copy = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert_eq!(
        (
            copy.files.read,
            copy.records.written,
            copy.records.duplicate
        ),
        (1, 0, 6)
    );
    assert_eq!(exported(&dataset).len() as u64, rows + 6);
}

#[test]
fn the_dataset_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dataset = tmp.path().join("lake");
    run_ingest(&[shapes(tmp.path()).join("records.jsonl")], &dataset);
    let mut checked = 0;
    let mut stack = vec![dataset.clone()];
    while let Some(dir) = stack.pop() {
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700,
            "{dir:?}"
        );
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                assert_eq!(
                    fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                    0o600,
                    "{path:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 3, "data, manifest and keys were checked");
}

#[test]
fn a_same_size_rewrite_is_read_again() {
    let tmp = tempfile::tempdir().unwrap();
    let trail = tmp.path().join("trail");
    fs::create_dir(&trail).unwrap();
    let file = trail.join("records.jsonl");
    fs::copy(shapes(tmp.path()).join("records.jsonl"), &file).unwrap();
    let dataset = tmp.path().join("lake");
    assert_eq!(
        run_ingest(std::slice::from_ref(&trail), &dataset)
            .files
            .read,
        1
    );
    // The same bytes, rewritten later: same size, newer modification time.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let again = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert_eq!((again.files.read, again.files.unchanged), (1, 0));
    assert_eq!(again.records.duplicate, 6);
}

#[test]
fn an_unchanged_bad_file_is_reported_without_being_read_and_a_changed_one_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let trail = tmp.path().join("trail");
    fs::create_dir(&trail).unwrap();
    let file = trail.join("broken.json");
    fs::write(&file, b"this is not json").unwrap();
    let dataset = tmp.path().join("lake");
    let first = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert_eq!((first.files.read, first.files.failed), (1, 1));

    let second = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert_eq!(second.files.read, 0);
    assert_eq!((second.files.failed, second.files.unchanged_bad), (1, 1));
    assert!(!second.is_clean());
    let issue = &second.issues[0];
    assert!(issue.message.contains("not read again"), "{issue}");
    assert!(issue.message.contains("not JSON"), "{issue}");

    // Synced again, now complete: read, and no longer reported.
    fs::copy(shapes(tmp.path()).join("records.jsonl"), &file).unwrap();
    let third = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert_eq!((third.files.read, third.files.failed), (1, 0));
    assert!(third.is_clean());
    assert_eq!(third.records.written, 6);
    let fourth = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert_eq!((fourth.files.unchanged, fourth.files.failed), (1, 0));
}

/// A trail file of events `ids` on `day` (`YYYY-MM-DD`).
fn day_file(path: &std::path::Path, day: &str, ids: &[&str]) {
    let records: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"{id}","eventTime":"{day}T10:00:00Z"}}"#
            )
        })
        .collect();
    fs::write(path, format!(r#"{{"Records":[{}]}}"#, records.join(","))).unwrap();
}

#[test]
fn a_day_dropped_from_memory_between_checkpoints_still_finds_its_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let trail = tmp.path().join("trail");
    let dataset = tmp.path().join("lake");
    fs::create_dir_all(&trail).unwrap();
    // One file per checkpoint, read in name order: day 1, day 2 (day 1 leaves memory),
    // day 1 again (its keys read back from the committed key file).
    day_file(&trail.join("a.json"), "2026-01-01", &["a1", "a2", "a3"]);
    day_file(&trail.join("b.json"), "2026-01-02", &["b1", "b2"]);
    day_file(
        &trail.join("c.json"),
        "2026-01-01",
        &["a1", "a2", "a3", "c1"],
    );
    let mut options = IngestOptions::new(vec![trail.clone()], dataset.clone());
    options.threads = 1;
    options.checkpoint_bytes = 1;
    let first = ingest(&options, &Silent).unwrap();
    assert_eq!(
        (first.records.written, first.records.duplicate),
        (6, 3),
        "{first:?}"
    );
    // The same events on another day are that day's events, not duplicates.
    day_file(&trail.join("d.json"), "2026-01-02", &["a1", "b1"]);
    day_file(&trail.join("e.json"), "2026-01-03", &["a1"]);
    let second = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert_eq!(
        (second.records.written, second.records.duplicate),
        (2, 1),
        "{second:?}"
    );
    assert_eq!(exported(&dataset).len(), 8);
}

#[test]
fn keys_spilled_out_of_memory_still_find_every_duplicate() {
    // Every event twice, in files of different names, read by 4 workers that may hold
    // 50 keys in memory: the rest are spilled, and every copy must still be found.
    let tmp = tempfile::tempdir().unwrap();
    let trail = tmp.path().join("trail");
    let generated = small_trail(&tmp.path().join("generated"), 256 << 10);
    copy_dir(&generated, &trail.join("a"));
    copy_dir(&generated, &trail.join("b"));
    let run = |dataset: &std::path::Path, keys_in_memory: usize, reread: bool| {
        let mut options = IngestOptions::new(vec![trail.clone()], dataset.to_path_buf());
        options.threads = 4;
        options.keys_in_memory = keys_in_memory;
        options.checkpoint_bytes = 64 << 10;
        options.reread = reread;
        ingest(&options, &Silent).unwrap()
    };
    let unlimited = run(&tmp.path().join("unlimited"), usize::MAX, false);
    let spilled = run(&tmp.path().join("spilled"), 50, false);
    assert!(unlimited.records.duplicate > 0);
    assert_eq!(
        unlimited.records.written + unlimited.records.duplicate,
        unlimited.records.seen
    );
    assert_eq!(
        (spilled.records.written, spilled.records.duplicate),
        (unlimited.records.written, unlimited.records.duplicate),
    );
    assert_eq!(
        spilled.records.written, spilled.records.duplicate,
        "each event was stored once"
    );
    assert_eq!(
        exported(&tmp.path().join("spilled")).len() as u64,
        spilled.records.written
    );
    // Read again, the committed keys come back through the same budget.
    let again = run(&tmp.path().join("spilled"), 50, true);
    assert_eq!(
        (again.records.written, again.records.duplicate),
        (0, spilled.records.seen)
    );
}
