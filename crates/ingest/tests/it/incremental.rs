//! Re-runs read only what is new, and add nothing twice.

use std::fs;

use crate::common::*;

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
