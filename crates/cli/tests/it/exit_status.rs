//! Exit statuses and messages as a script sees them.

use crate::*;

#[test]
fn clean_input_exits_0_and_bad_input_exits_2_naming_each_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let lake = lake.to_str().unwrap();
    let (trail, _) = generated_trail(tmp.path(), 256 << 10);
    let corpus = bad_corpus(tmp.path());
    let clean = run(&["ingest", trail.to_str().unwrap(), "--out", lake]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(String::from_utf8_lossy(&clean.stdout).contains("0 rejected"));

    let bad = run(&["ingest", corpus.to_str().unwrap(), "--out", lake]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    for expected in [
        "corrupt-record.json: record 1: invalid JSON",
        "gzip-bomb.json.gz: decompressed data exceeds 200x",
        "empty.json.gz: empty file",
        "wrong-shape.json: record 0: not a JSON object",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    // --quiet drops the summary, not the problem lines nor the status: a scheduled job
    // learns which files. Unchanged bad files are named again without being read.
    let quiet = run(&["ingest", corpus.to_str().unwrap(), "--out", lake, "--quiet"]);
    assert_eq!(quiet.status.code(), Some(2));
    assert!(quiet.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    for expected in [
        "gzip-bomb.json.gz: decompressed data exceeds 200x",
        "empty.json.gz: empty file (no records) (unchanged since run",
        "binary.json: ",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(stderr.contains("not read again"), "{stderr}");
}

#[test]
fn json_summary_accounts_for_every_record() {
    let tmp = tempfile::tempdir().unwrap();
    let (trail, records) = generated_trail(tmp.path(), 512 << 10);
    let out = run(&[
        "ingest",
        trail.to_str().unwrap(),
        bad_corpus(tmp.path()).to_str().unwrap(),
        "--out",
        tmp.path().join("lake").to_str().unwrap(),
        "--json",
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &summary["records"];
    let n = |k: &str| r[k].as_u64().unwrap();
    assert_eq!(n("seen"), n("written") + n("duplicate") + n("rejected"));
    assert!(n("rejected") > 0, "the bad corpus has rejected records");
    // The corpus repeats three of the fixture records around its bad ones, and what it
    // keeps of the truncated file depends on the cut: only the trail's count is exact.
    assert!(n("written") + n("duplicate") > records);
    // No progress bar, but every problem on its own line.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().count() as u64,
        summary["issues_total"].as_u64().unwrap(),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&[
        "ingest",
        "/nonexistent/trail",
        "--out",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/trail"));
    let out = run(&[
        "export",
        "--dataset",
        tmp.path().join("nothing").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a trailscope dataset"));
    let out = run(&["ingest", "x", "--out", "y", "--compression", "gzip"]);
    assert_eq!(out.status.code(), Some(2));
    // 2^44 MiB overflowed into a 4096-byte limit.
    let out = run(&[
        "ingest",
        "x",
        "--out",
        "y",
        "--max-record-mib",
        "17592186044416",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 1 and 4096"));
    let out = run(&["ingest", "x", "--out", "y", "--dedupe-keys", "10"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dedupe-keys must be at least 64"));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let (trail, _) = generated_trail(tmp.path(), 256 << 10);
    run(&[
        "ingest",
        trail.to_str().unwrap(),
        "--out",
        lake.to_str().unwrap(),
        "-q",
    ]);
    assert_closed_pipe_is_no_error(trailscope().args([
        "export",
        "--dataset",
        lake.to_str().unwrap(),
    ]));
}
