//! `trailscope demo` and `trailscope synth` end to end: the generated trail is ingested
//! with every record accounted for, and the demo's findings match the ground truth.

use crate::{quiet_ingest, shared_samples, trailscope};

#[test]
fn demo_runs_from_a_fresh_checkout_and_finds_exactly_the_injected_root_usage() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("demo.html");
    let out = trailscope()
        .args(["demo", "--size", "2MiB", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Root user activity"), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Root usage events found"))
        .expect("the demo compares with the ground truth");
    assert!(line.ends_with("(all found, none extra)"), "{line}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Shared identities found"))
        .expect("the demo compares with the ground truth");
    assert!(line.ends_with("(all found, none extra)"), "{line}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Events of the"))
        .expect("the demo compares attribution with the ground truth");
    assert!(line.ends_with("(all)"), "{line}");
    // The demo writes its report too, and says where.
    assert!(
        stdout.contains(&format!("Report written to {}", report.display())),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<section id=\"root\">"), "{html}");
}

#[test]
fn demo_on_the_shared_samples_still_works() {
    if shared_samples().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("samples.html");
    let out = trailscope()
        .args(["demo", "--samples", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    // 447 distinct eventIDs in the four sample folders, 2,900 in the invictus-ir trail and
    // 17,600 in the grycap trail, as ../shared/testdata/README.md counts them; and two
    // more records: two pairs of AWS documentation examples share an eventID but differ
    // (`additionalEventData.MfaType`), and both of each pair are kept as conflicting ids.
    assert!(stdout.contains(" 20949 written + "), "{stdout}");
    assert!(stdout.contains(" 2 conflicting ids"), "{stdout}");
}

#[test]
fn a_mixed_layout_trail_ingests_clean_with_its_duplicates_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    let out = trailscope()
        .args([
            "synth", "--size", "2MiB", "--days", "3", "--layout", "mixed", "--seed", "3", "--out",
        ])
        .arg(&trail)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(trail.join("ground-truth.json")).unwrap()).unwrap();
    let totals = &truth["totals"];
    let out = quiet_ingest(&trail.join("AWSLogs"), &dir.path().join("dataset"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["records"]["seen"], totals["records"]);
    assert_eq!(summary["records"]["written"], totals["unique_events"]);
    assert_eq!(summary["records"]["duplicate"], totals["duplicate_records"]);
    assert_eq!(summary["records"]["rejected"], 0);
    assert_eq!(summary["files"]["read"], totals["trail_files"]);
    assert_eq!(summary["files"]["digest_skipped"], totals["digest_files"]);
    assert_eq!(summary["files"]["insight_skipped"], totals["insight_files"]);
}

#[test]
fn demo_samples_without_the_shared_samples_says_where_they_come_from() {
    let out = trailscope()
        .args(["demo", "--samples"])
        .env("TRAILSCOPE_SHARED_TESTDATA", "/nonexistent/shared/testdata")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("../shared/testdata"), "{stderr}");
    assert!(stderr.contains("not part of this repository"), "{stderr}");
}
