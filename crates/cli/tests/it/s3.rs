//! Trails and datasets on S3, against a real S3 API: moto's server (PyPI `moto[server]`),
//! started here on a free local port. `.ci/run` installs it; where it is missing the tests
//! say by name that they were skipped (a failure under CI).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{event_identities, quiet_ingest, trailscope};

/// `moto_server`: `TRAILSCOPE_MOTO_SERVER`, or the one on PATH. Absent, the calling test
/// says it was skipped; under CI (`CI` set) that is a failure.
fn moto_server(test: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TRAILSCOPE_MOTO_SERVER") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("moto_server"))
        .find(|path| path.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: no moto_server (CI must install it: .ci/run does)"
        );
        eprintln!("SKIPPED {test}: no moto_server on PATH (pip install 'moto[server]')");
    }
    found
}

/// A moto S3 server on a free port of 127.0.0.1, stopped when dropped.
pub(crate) struct S3Server {
    child: Child,
    port: u16,
}

impl S3Server {
    pub(crate) fn start(test: &str) -> Option<S3Server> {
        let program = moto_server(test)?;
        // One server starts at a time: a free port is free only until a server binds it,
        // and two tests picking the same one would share (and then lose) a server.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _starting = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let server = S3Server { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One plain HTTP request (moto does not check signatures); returns status and body.
    fn http(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        )
        .unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    fn create_bucket(&self, bucket: &str) {
        let (status, text) = self.http("PUT", &format!("/{bucket}"), b"");
        assert_eq!(status, 200, "{text}");
    }

    /// Uploads every file under `dir` to `s3://bucket/<prefix>/<path under dir>`.
    fn upload_dir(&self, dir: &Path, bucket: &str, prefix: &str) -> usize {
        let mut uploaded = 0;
        let mut pending = vec![dir.to_path_buf()];
        while let Some(next) = pending.pop() {
            for entry in std::fs::read_dir(&next).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let relative = path.strip_prefix(dir).unwrap().to_string_lossy();
                let key = if prefix.is_empty() {
                    format!("/{bucket}/{relative}")
                } else {
                    format!("/{bucket}/{prefix}/{relative}")
                };
                let (status, text) = self.http("PUT", &key, &std::fs::read(&path).unwrap());
                assert_eq!(status, 200, "{text}");
                uploaded += 1;
            }
        }
        uploaded
    }

    /// The keys under `s3://bucket/prefix`.
    pub(crate) fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let (status, text) = self.http(
            "GET",
            &format!("/{bucket}?list-type=2&max-keys=100000&prefix={prefix}"),
            b"",
        );
        assert_eq!(status, 200, "{text}");
        text.split("<Key>")
            .skip(1)
            .filter_map(|part| part.split_once("</Key>").map(|(key, _)| key.to_string()))
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `trailscope` with test credentials for the local server.
pub(crate) fn with_credentials(mut command: Command) -> Command {
    command
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT");
    command
}

pub(crate) fn s3_ingest(
    server: &S3Server,
    input: &str,
    out: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut command = with_credentials(trailscope());
    command
        .args([
            "ingest",
            input,
            "--out",
            out,
            "--endpoint",
            &server.endpoint(),
            "--json",
        ])
        .args(extra);
    command.output().unwrap()
}

/// `trailscope sql -d DATASET SQL -f csv`, DATASET local or on the server.
fn sql(server: &S3Server, dataset: &str, query: &str) -> String {
    let mut command = with_credentials(trailscope());
    command.args(["sql", "-d", dataset, query, "-f", "csv"]);
    if dataset.starts_with("s3://") {
        command.args(["--endpoint", &server.endpoint()]);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn findings_json(server: &S3Server, dataset: &str) -> serde_json::Value {
    let mut command = with_credentials(trailscope());
    command.args(["findings", "-d", dataset, "-f", "json"]);
    if dataset.starts_with("s3://") {
        command.args(["--endpoint", &server.endpoint()]);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// What a dataset holds, for comparing two: events, distinct identities, and a
/// fingerprint of every field that detections read.
pub(crate) const CONTENT: &str = "SELECT count(*) AS events, count(DISTINCT event_id) AS ids, \
     sum(length(event_name)) AS names, min(event_time) AS first, max(event_time) AS last \
     FROM events";

fn synth(dir: &Path, name: &str, days: u32, seed: u32) -> PathBuf {
    let trail = dir.join(name);
    let out = trailscope()
        .args([
            "synth",
            "--size",
            "2MiB",
            "--days",
            &days.to_string(),
            "--layout",
            "mixed",
        ])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(&trail)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    trail
}

/// Two generated trails (seeds `seed` and `seed + 1`) in `dir`, uploaded under
/// `s3://trails/first/` and `s3://trails/second/`, and the empty bucket `lake`.
pub(crate) fn two_trails(server: &S3Server, dir: &Path, seed: u32) -> (PathBuf, PathBuf) {
    let first = synth(dir, "first", 2, seed);
    let second = synth(dir, "second", 2, seed + 1);
    server.create_bucket("trails");
    server.create_bucket("lake");
    server.upload_dir(&first.join("AWSLogs"), "trails", "first/AWSLogs");
    server.upload_dir(&second.join("AWSLogs"), "trails", "second/AWSLogs");
    (first, second)
}

#[test]
fn a_trail_read_from_s3_into_an_s3_dataset_equals_the_local_ingest() {
    let Some(server) =
        S3Server::start("a_trail_read_from_s3_into_an_s3_dataset_equals_the_local_ingest")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let trail = synth(dir.path(), "trail", 3, 11);
    server.create_bucket("trails");
    server.create_bucket("lake");
    server.upload_dir(&trail.join("AWSLogs"), "trails", "org/AWSLogs");
    let local = dir.path().join("local");
    assert!(
        quiet_ingest(&trail.join("AWSLogs"), &local)
            .status()
            .unwrap()
            .success()
    );

    let out = s3_ingest(&server, "s3://trails/org/AWSLogs", "s3://lake/ds", &[]);
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["dataset"], "s3://lake/ds");
    assert!(
        summary["records"]["duplicate"].as_u64().unwrap() > 0,
        "{summary}"
    );

    let local_text = local.to_string_lossy().into_owned();
    assert_eq!(
        sql(&server, "s3://lake/ds", CONTENT),
        sql(&server, &local_text, CONTENT)
    );
    assert_eq!(
        findings_json(&server, "s3://lake/ds"),
        findings_json(&server, &local_text)
    );
    // The commit names every data file it uploaded, and readers see nothing else.
    let data_files = server
        .keys("lake", "ds/event_date=")
        .into_iter()
        .filter(|k| k.ends_with(".parquet"))
        .count();
    assert!(data_files > 0);
    assert_eq!(server.keys("lake", "ds/_trailscope/commits/").len(), 1);

    // Incremental: the same trail again reads nothing and stores nothing.
    let again = s3_ingest(&server, "s3://trails/org/AWSLogs", "s3://lake/ds", &[]);
    assert!(again.status.success(), "{again:?}");
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["files"]["read"], 0, "{again}");
    assert_eq!(again["records"]["written"], 0, "{again}");
    assert_eq!(
        sql(&server, "s3://lake/ds", CONTENT),
        sql(&server, &local_text, CONTENT)
    );
    // A local trail into an S3 dataset and an S3 trail into a local one work alike.
    let mixed = dir.path().join("from-s3");
    let mixed_text = mixed.to_string_lossy().into_owned();
    let out = s3_ingest(&server, "s3://trails/org/AWSLogs", &mixed_text, &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(event_identities(&mixed), event_identities(&local));
}

#[test]
fn since_skips_the_delivery_days_before_it_without_listing_them() {
    let Some(server) =
        S3Server::start("since_skips_the_delivery_days_before_it_without_listing_them")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let trail = synth(dir.path(), "trail", 4, 12);
    server.create_bucket("trails");
    server.upload_dir(&trail.join("AWSLogs"), "trails", "AWSLogs");
    // The delivery days of the export, from its paths; --since the third.
    let mut days: Vec<String> = server
        .keys("trails", "AWSLogs/")
        .iter()
        .filter_map(|key| {
            let parts: Vec<&str> = key.split('/').collect();
            let at = parts.iter().position(|p| *p == "CloudTrail")?;
            (parts.len() > at + 5).then(|| parts[at + 2..at + 5].join("-"))
        })
        .collect();
    days.sort();
    days.dedup();
    assert!(days.len() >= 3, "{days:?}");
    let since = &days[2];
    let expected = server
        .keys("trails", "AWSLogs/")
        .iter()
        .filter(|key| key.contains("/CloudTrail/") && !key.contains("CloudTrail-Digest"))
        .filter(|key| {
            let parts: Vec<&str> = key.split('/').collect();
            let at = parts.iter().position(|p| *p == "CloudTrail").unwrap();
            parts[at + 2..at + 5].join("-") >= *since
        })
        .count();

    let lake = dir.path().join("lake");
    let out = s3_ingest(
        &server,
        "s3://trails/AWSLogs",
        &lake.to_string_lossy(),
        &["--since", since],
    );
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["files"]["found"], expected as u64, "{summary}");
    assert!(summary["files"]["folders_before_since"].as_u64().unwrap() > 0);
    // A local copy of the export is pruned alike.
    let local = dir.path().join("local");
    let out = quiet_ingest(&trail.join("AWSLogs"), &local)
        .args(["--since", since])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(event_identities(&lake), event_identities(&local));
}

#[test]
fn a_writer_killed_before_its_commit_leaves_only_committed_data_visible() {
    let Some(server) =
        S3Server::start("a_writer_killed_before_its_commit_leaves_only_committed_data_visible")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = two_trails(&server, dir.path(), 21);
    let local = dir.path().join("local");
    let local_text = local.to_string_lossy().into_owned();
    assert!(
        quiet_ingest(&first.join("AWSLogs"), &local)
            .status()
            .unwrap()
            .success()
    );
    let after_first = sql(&server, &local_text, CONTENT);

    let out = s3_ingest(&server, "s3://trails/first", "s3://lake/ds", &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(sql(&server, "s3://lake/ds", CONTENT), after_first);
    let committed_files = server.keys("lake", "ds/event_date=").len();
    assert!(
        quiet_ingest(&second.join("AWSLogs"), &local)
            .status()
            .unwrap()
            .success()
    );
    let after_both = sql(&server, &local_text, CONTENT);

    for point in ["s3-after-first-upload", "s3-before-commit"] {
        let mut command = with_credentials(trailscope());
        command
            .args([
                "ingest",
                "s3://trails/second",
                "--out",
                "s3://lake/ds",
                "-q",
            ])
            .args(["--endpoint", &server.endpoint()])
            .env("TRAILSCOPE_CRASH_AT", point);
        let crashed = command.output().unwrap();
        assert!(!crashed.status.success(), "{point}: {crashed:?}");
        // Uploaded, uncommitted files are in the bucket, and readers do not see them.
        assert_eq!(
            sql(&server, "s3://lake/ds", CONTENT),
            after_first,
            "{point}"
        );
        assert_eq!(
            server.keys("lake", "ds/_trailscope/commits/").len(),
            1,
            "{point}"
        );
    }
    // The aborted runs did upload data files: they are there, uncommitted.
    let orphans = server.keys("lake", "ds/event_date=").len();
    assert!(
        orphans > committed_files,
        "{orphans} files, {committed_files} committed"
    );
    let out = s3_ingest(&server, "s3://trails/second", "s3://lake/ds", &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(sql(&server, "s3://lake/ds", CONTENT), after_both);
    assert!(server.keys("lake", "ds/event_date=").len() > orphans);
}

#[test]
fn of_two_writers_from_one_commit_the_second_to_commit_fails_and_commits_nothing() {
    let Some(server) = S3Server::start(
        "of_two_writers_from_one_commit_the_second_to_commit_fails_and_commits_nothing",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = two_trails(&server, dir.path(), 31);
    let go = dir.path().join("go");
    // Writer A checks out the empty dataset, uploads its files, and waits before its
    // commit; writer B then ingests the second trail and commits first.
    let mut held = with_credentials(trailscope());
    held.args(["ingest", "s3://trails/first", "--out", "s3://lake/ds", "-q"])
        .args(["--endpoint", &server.endpoint()])
        .env("TRAILSCOPE_WAIT_AT", "s3-before-commit")
        .env("TRAILSCOPE_WAIT_FOR", &go)
        .stderr(Stdio::piped());
    let held = held.spawn().unwrap();
    let started = Instant::now();
    while server.keys("lake", "ds/event_date=").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "writer A uploaded nothing"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = s3_ingest(&server, "s3://trails/second", "s3://lake/ds", &[]);
    assert!(out.status.success(), "{out:?}");
    std::fs::write(&go, b"").unwrap();
    let lost = held.wait_with_output().unwrap();
    assert_eq!(lost.status.code(), Some(2), "{lost:?}");
    let stderr = String::from_utf8_lossy(&lost.stderr);
    assert!(stderr.contains("another writer committed"), "{stderr}");

    // Readers see writer B's events only; A's uploaded files are not read.
    let local = dir.path().join("local");
    let local_text = local.to_string_lossy().into_owned();
    assert!(
        quiet_ingest(&second.join("AWSLogs"), &local)
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        sql(&server, "s3://lake/ds", CONTENT),
        sql(&server, &local_text, CONTENT)
    );
    // A again, from B's commit: both trails, each event once.
    let out = s3_ingest(&server, "s3://trails/first", "s3://lake/ds", &[]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        quiet_ingest(&first.join("AWSLogs"), &local)
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        sql(&server, "s3://lake/ds", CONTENT),
        sql(&server, &local_text, CONTENT)
    );
}
