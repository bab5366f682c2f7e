//! Readers see exactly the committed files; a dataset whose files and manifest disagree
//! is an error naming the file and the repair, never a silent reset or a partial answer.

use std::path::{Path, PathBuf};

use trailscope_ingest::export::for_each_record;
use trailscope_ingest::{IngestOptions, Silent, ingest};

use crate::common::*;

/// A small committed dataset and one of its data files.
fn dataset(tmp: &Path) -> (PathBuf, PathBuf) {
    let lake = tmp.join("lake");
    run_ingest(&[small_trail(tmp, 128 << 10)], &lake);
    let manifest = trailscope_ingest::Manifest::load(&lake).unwrap();
    let file = manifest.data_file_paths(&lake)[0].clone();
    (lake, file)
}

fn export_error(lake: &Path) -> String {
    for_each_record(lake, |_| Ok(())).unwrap_err().to_string()
}

#[test]
fn a_file_the_manifest_does_not_name_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (lake, file) = dataset(tmp.path());
    assert!(for_each_record(&lake, |_| Ok(())).unwrap() > 0);
    std::fs::copy(&file, file.with_file_name("part-stray.parquet")).unwrap();
    let err = export_error(&lake);
    assert!(
        err.contains("part-stray.parquet is not a committed data file"),
        "{err}"
    );
}

#[test]
fn an_empty_or_truncated_data_file_is_an_error() {
    for keep in [0, 100] {
        let tmp = tempfile::tempdir().unwrap();
        let (lake, file) = dataset(tmp.path());
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..keep]).unwrap();
        let err = export_error(&lake);
        assert!(
            err.contains(&format!("is {keep} bytes, committed as")),
            "{err}"
        );
    }
}

#[test]
fn a_missing_data_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (lake, file) = dataset(tmp.path());
    std::fs::remove_file(&file).unwrap();
    let err = export_error(&lake);
    assert!(err.contains("is missing"), "{err}");
}

#[test]
fn a_lost_manifest_is_an_error_not_a_new_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let (lake, _) = dataset(tmp.path());
    std::fs::remove_file(lake.join("_trailscope/manifest.json")).unwrap();
    let options = IngestOptions::new(vec![shapes(tmp.path())], lake.clone());
    let err = ingest(&options, &Silent).unwrap_err().to_string();
    assert!(
        err.contains("is missing, but the dataset holds data files"),
        "{err}"
    );
    assert!(!lake.join("_trailscope/manifest.json").exists());
}
