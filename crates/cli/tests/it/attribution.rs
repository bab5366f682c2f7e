//! `trailscope principals`, `who` and `timeline` over a small generated trail.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use super::{quiet_ingest, trailscope};

/// A generated trail (seed 7), ingested once for every test here, with its ground truth.
pub fn dataset() -> &'static (PathBuf, serde_json::Value) {
    static DATASET: OnceLock<(tempfile::TempDir, (PathBuf, serde_json::Value))> = OnceLock::new();
    let (_, out) = DATASET.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let trail = tmp.path().join("trail");
        let status = trailscope()
            .args([
                "synth", "--size", "3MiB", "--days", "3", "--seed", "7", "--out",
            ])
            .arg(&trail)
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
        let lake = tmp.path().join("lake");
        let status = quiet_ingest(&trail.join("AWSLogs"), &lake)
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
        let truth = std::fs::read_to_string(trail.join("ground-truth.json")).unwrap();
        (tmp, (lake, serde_json::from_str(&truth).unwrap()))
    });
    out
}

pub fn run(command: &str, lake: &Path, extra: &[&str]) -> Output {
    trailscope()
        .arg(command)
        .arg("-d")
        .arg(lake)
        .args(extra)
        .output()
        .unwrap()
}

fn csv_rows(output: &Output) -> Vec<Vec<String>> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect()
}

fn session<'a>(truth: &'a serde_json::Value, scenario: &str) -> &'a serde_json::Value {
    truth["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scenario"] == scenario)
        .unwrap()
}

#[test]
fn who_shows_every_hop_of_a_cross_account_chain() {
    let (lake, truth) = dataset();
    let chain = session(truth, "role_chain_cross_account");
    let key = chain["access_key_id"].as_str().unwrap();
    let output = run("who", lake, &[key]);
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    insta::with_settings!({filters => vec![(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[time]")]}, {
        insta::assert_snapshot!("who_cross_account_chain", text);
    });
    // The same by the session's ARN and by an event signed with it, as CSV.
    let by_arn = csv_rows(&run(
        "who",
        lake,
        &["-f", "csv", chain["principal_arn"].as_str().unwrap()],
    ));
    let event = chain["event_ids"][0].as_str().unwrap();
    let by_event = csv_rows(&run("who", lake, &["-f", "csv", event]));
    assert_eq!(by_arn, by_event);
    assert_eq!(by_arn.len(), chain["hops"].as_array().unwrap().len());
    for (row, hop) in by_arn.iter().zip(chain["hops"].as_array().unwrap()) {
        assert_eq!(row[6], hop["arn"].as_str().unwrap());
        assert_eq!(row[9], hop["issuing_event_id"].as_str().unwrap_or(""));
    }
}

#[test]
fn timeline_lists_an_actors_events_across_sessions_in_order() {
    let (lake, truth) = dataset();
    let chain = session(truth, "role_chain_cross_account");
    let actor = chain["actor"]["id"].as_str().unwrap();
    let rows = csv_rows(&run("timeline", lake, &["-f", "csv", "--actor", actor]));
    // The user's own events, the Admin session's and the Deployer session's.
    let first = session(truth, "assume_role");
    for id in chain["event_ids"]
        .as_array()
        .unwrap()
        .iter()
        .chain(first["event_ids"].as_array().unwrap())
    {
        assert!(
            rows.iter().any(|r| r[13] == id.as_str().unwrap()),
            "{id} missing"
        );
    }
    let times: Vec<&String> = rows.iter().map(|r| &r[0]).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "not in time order");
    let sql = csv_rows(
        &trailscope()
            .args(["sql", "-f", "csv", "-d"])
            .arg(lake)
            .arg(format!(
                "SELECT count(*) FROM attribution WHERE actor = '{actor}'"
            ))
            .output()
            .unwrap(),
    );
    assert_eq!(sql[0][0], rows.len().to_string());

    // An address block.
    let ip = &rows[0][9];
    let block = format!("{ip}/32");
    assert_eq!(
        csv_rows(&run("timeline", lake, &["-f", "csv", "--ip", ip])),
        csv_rows(&run("timeline", lake, &["-f", "csv", "--ip", &block]))
    );
}

#[test]
fn principals_lists_actors_by_type() {
    let (lake, truth) = dataset();
    let web = session(truth, "web_identity");
    let output = run(
        "principals",
        lake,
        &[
            "-f",
            "jsonl",
            "--kind",
            "actor",
            "--type",
            "WebIdentityUser",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["id"], web["actor"]["id"]);
    // The session's events and the AssumeRoleWithWebIdentity call the subject signed.
    assert_eq!(
        rows[0]["events"],
        web["event_ids"].as_array().unwrap().len() + 1
    );
    // Lists travel as lists in JSON, and as text in CSV.
    assert!(rows[0]["accounts"].is_array());
    let csv = run(
        "principals",
        lake,
        &["-f", "csv", "--kind", "actor", "--type", "WebIdentityUser"],
    );
    assert!(
        String::from_utf8(csv.stdout).unwrap().contains("\"["),
        "lists as text"
    );
}

#[test]
fn unknown_subjects_and_bad_addresses_are_one_line_errors() {
    let (lake, _) = dataset();
    for output in [
        run("who", lake, &["ASIANOTHINGHERE"]),
        run("timeline", lake, &["--ip", "300.1.2.3"]),
        run("timeline", lake, &[]),
    ] {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(!stderr.trim().is_empty());
    }
    let output = run("who", lake, &["ASIANOTHINGHERE"]);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr)
            .trim()
            .lines()
            .count(),
        1
    );
}
