//! `trailscope report` in a real browser: the page of a generated trail opens in headless
//! Chromium with no console message, no network request, every section present and its
//! script run; a screenshot is kept as an artifact (`target/tmp/report-screenshot.png`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{ingested_trail, trailscope};

/// The sections the report promises, by their element ids.
const SECTIONS: [&str; 8] = [
    "scope",
    "root",
    "findings",
    "people",
    "shared",
    "activity",
    "privilege",
    "queries",
];

/// Chromium: `TRAILSCOPE_CHROMIUM`, or the first of the usual names on PATH. Absent, the
/// calling test says that it was skipped; under CI (`CI` set) that is a failure, as
/// `.ci/run` installs Debian's `chromium`.
fn chromium(test: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TRAILSCOPE_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|path| path.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: no chromium on PATH (CI must install it: .ci/run does)"
        );
        eprintln!("SKIPPED {test}: no chromium on PATH (apt-get install chromium)");
    }
    found
}

/// Headless Chromium on `page` with `args`; returns (stdout, stderr).
fn headless(chromium: &Path, profile: &Path, page: &Path, args: &[String]) -> (String, String) {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            // Containers often give /dev/shm a few MiB only.
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The URLs the page itself asked for, from a Chromium net log: requests with the page's
/// (file, hence opaque: "null") origin as initiator. Chromium's own background requests
/// have none ("not an origin").
fn page_requests(net_log: &Path) -> Vec<String> {
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(net_log).unwrap()).unwrap();
    let types = &log["constants"]["logEventTypes"];
    let start = types["URL_REQUEST_START_JOB"].as_i64().unwrap();
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_i64() == Some(start))
        .filter(|e| {
            let initiator = e["params"]["initiator"].as_str().unwrap_or("not an origin");
            initiator != "not an origin"
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_report_opens_in_headless_chromium_with_no_error_and_no_network() {
    let test = "the_report_opens_in_headless_chromium_with_no_error_and_no_network";
    let Some(chromium) = chromium(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lake = ingested_trail(dir.path(), 2 << 20, "lake");
    let page = dir.path().join("report.html");
    let out = trailscope()
        .args(["report", "--title", "Test report", "-d"])
        .arg(&lake)
        .arg("-o")
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("Report written to {}", page.display())),
        "{out:?}"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() < 5 << 20, "{} bytes", html.len());
    // Nothing to fetch: no external address in an attribute, and a policy that forbids it.
    for attribute in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(attribute), "{attribute}");
    }
    assert!(html.contains("content=\"default-src 'none';"));
    // Each number's query is one hover away, as a command that reruns it.
    assert!(html.contains("class=\"q\" href=\"#q-findings\" title=\"trailscope sql -d "));

    let profile = dir.path().join("profile");
    let net_log = dir.path().join("net-log.json");
    let (dom, stderr) = headless(
        &chromium,
        &profile,
        &page,
        &[
            format!("--log-net-log={}", net_log.display()),
            "--dump-dom".to_string(),
        ],
    );
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert_eq!(page_requests(&net_log), Vec::<String>::new());
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script did not finish"
    );
    for section in SECTIONS {
        assert!(
            dom.contains(&format!("<section id=\"{section}\">")),
            "section {section} missing"
        );
    }
    // The script ran over the findings: it counted them and paged the long tables.
    assert!(dom.contains(" findings</span>"), "no findings count");
    assert!(dom.contains("class=\"sev "), "no finding listed");
    assert!(dom.contains("<svg"), "no chart");

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &chromium,
        &profile,
        &page,
        &[
            "--hide-scrollbars".to_string(),
            "--window-size=1280,2400".to_string(),
            format!("--screenshot={}", shot.display()),
        ],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}

#[test]
fn a_report_of_a_missing_dataset_fails_in_one_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = trailscope()
        .args(["report", "-d"])
        .arg(dir.path().join("nothing"))
        .arg("-o")
        .arg(dir.path().join("r.html"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("r.html").exists());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
