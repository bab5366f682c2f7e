//! `trailscope sql` and `trailscope shell` over a generated trail: formats, the time
//! window, errors, and snapshots of the tables people read.

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use super::trailscope;

/// The generated trail that the attribution tests use, ingested once.
fn dataset() -> &'static Path {
    &super::attribution::dataset().0
}

fn sql(extra: &[&str], query: &str) -> Output {
    trailscope()
        .arg("sql")
        .arg("--dataset")
        .arg(dataset())
        .args(extra)
        .arg(query)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Timestamps vary with nothing here, but snapshots filter them so that a change of
/// display precision does not hide a real difference elsewhere.
macro_rules! assert_table_snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({filters => vec![
            (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?", "[time]"),
        ]}, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

#[test]
fn a_table_of_identity_types() {
    let out = stdout(&sql(
        &[],
        "SELECT user_identity_type, count(*) AS events, count(DISTINCT source_ip_address) AS ips \
         FROM events GROUP BY 1 ORDER BY events DESC, user_identity_type NULLS LAST",
    ));
    assert_table_snapshot!("identity_types", out);
}

#[test]
fn a_table_of_root_activity_with_the_functions() {
    let out = stdout(&sql(
        &[],
        "SELECT event_time, event_name, arn_account(user_identity_arn) AS account, \
                user_agent_family(user_agent) AS client, is_aws_service_source(source_ip_address) AS service \
         FROM events WHERE user_identity_type = 'Root' ORDER BY event_time, event_name",
    ));
    assert_table_snapshot!("root_activity", out);
}

#[test]
fn machine_formats_carry_every_row() {
    let query = "SELECT event_id, event_name, request_parameters FROM events \
                 WHERE event_source = 'iam.amazonaws.com' ORDER BY event_id";
    let count: usize = stdout(&sql(
        &["--format", "csv"],
        "SELECT count(*) FROM events WHERE event_source = 'iam.amazonaws.com'",
    ))
    .lines()
    .nth(1)
    .unwrap()
    .parse()
    .unwrap();
    assert!(count > 5, "{count}");

    let csv = stdout(&sql(&["--format", "csv"], query));
    assert!(
        csv.starts_with("event_id,event_name,request_parameters\n"),
        "{csv}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&sql(&["-f", "json"], query))).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), count);
    assert!(rows.iter().all(|r| r["event_name"].is_string()));

    let jsonl = stdout(&sql(&["-f", "jsonl"], query));
    assert_eq!(jsonl.lines().count(), count);
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first, rows[0]);

    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("iam.parquet");
    stdout(&sql(
        &["-f", "parquet", "-o", file.to_str().unwrap()],
        query,
    ));
    let reader =
        parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&file).unwrap())
            .unwrap();
    use parquet::file::reader::FileReader;
    assert_eq!(reader.metadata().file_metadata().num_rows() as usize, count);

    // In a file, a table is never cut.
    let table_file = tmp.path().join("iam.txt");
    stdout(&sql(
        &["-o", table_file.to_str().unwrap(), "--max-cell", "10"],
        query,
    ));
    let table = std::fs::read_to_string(&table_file).unwrap();
    assert!(!table.contains('…'));
    assert!(table.contains(&format!("{count} rows")));
}

#[test]
fn since_and_until_restrict_events() {
    let count = |extra: &[&str]| -> i64 {
        let out = stdout(&sql(
            &[&["-f", "csv"], extra].concat(),
            "SELECT count(*) FROM events",
        ));
        out.lines().nth(1).unwrap().parse().unwrap()
    };
    let all = count(&[]);
    let day = count(&["--since", "2026-10-02", "--until", "2026-10-03"]);
    let direct = stdout(&sql(
        &["-f", "csv"],
        "SELECT count(*) FROM events WHERE event_time >= TIMESTAMP '2026-10-02T00:00:00Z' \
         AND event_time < TIMESTAMP '2026-10-03T00:00:00Z'",
    ));
    assert!(day > 0 && day < all);
    assert_eq!(day.to_string(), direct.lines().nth(1).unwrap());
    // Relative to now: the trail ends on 2026-10-03, and no clock runs backwards.
    assert_eq!(count(&["--since", "7d"]), 0);
}

/// One line on stderr, exit status 2.
fn assert_clear_error(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
}

#[test]
fn errors_are_one_clear_line() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = trailscope()
        .args(["sql", "-d"])
        .arg(tmp.path().join("nowhere"))
        .arg("SELECT 1")
        .output()
        .unwrap();
    assert_clear_error(&missing, "not a trailscope dataset");

    let empty = tmp.path().join("empty");
    drop(trailscope_ingest::dataset::DatasetWriter::open(&empty).unwrap());
    let output = trailscope()
        .args(["sql", "-d"])
        .arg(&empty)
        .arg("SELECT 1")
        .output()
        .unwrap();
    assert_clear_error(&output, "holds no events yet");

    let manifest = empty.join("_trailscope").join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let version = format!(
        "\"schema_version\": {}",
        trailscope_ingest::schema::SCHEMA_VERSION
    );
    std::fs::write(&manifest, text.replace(&version, "\"schema_version\": 999")).unwrap();
    let output = trailscope()
        .args(["sql", "-d"])
        .arg(&empty)
        .arg("SELECT 1")
        .output()
        .unwrap();
    assert_clear_error(&output, "999");

    assert_clear_error(&sql(&[], "SELECT nope FROM events"), "nope");
    assert_clear_error(&sql(&["--since", "yesterday"], "SELECT 1"), "yesterday");
    assert_clear_error(&sql(&["-f", "parquet"], "SELECT 1"), "--output");
}

#[test]
fn the_shell_runs_statements_over_lines_and_describes_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = trailscope()
        .args(["shell", "--dataset"])
        .arg(dataset())
        .arg("--history")
        .arg(tmp.path().join("history"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"\\d\n\\d events\n\\df\nSELECT count(*) AS root_events\n  FROM events\n  WHERE user_identity_type = 'Root';\nSELECT nope;\n\\q\n",
        )
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{err}");
    assert!(out.contains("│ events "), "{out}");
    assert!(out.contains("user_identity_type"), "{out}");
    assert!(out.contains("`userIdentity.type`"), "{out}");
    assert!(out.contains("ip_in_cidr(ip, cidr)"), "{out}");
    assert!(out.contains("root_events"), "{out}");
    assert!(out.contains(" s)"), "{out}");
    // A bad statement is reported and the shell goes on to \q.
    assert!(err.contains("nope"), "{err}");
    let history = std::fs::read_to_string(tmp.path().join("history")).unwrap();
    assert!(
        history.contains("user_identity_type = 'Root';"),
        "{history}"
    );
}

#[test]
fn no_rows_still_give_a_header_and_an_empty_array() {
    let query = "SELECT event_id, event_name FROM events WHERE false";
    assert_eq!(stdout(&sql(&["-f", "csv"], query)), "event_id,event_name\n");
    assert_eq!(stdout(&sql(&["-f", "json"], query)).trim(), "[]");
    assert_eq!(stdout(&sql(&["-f", "jsonl"], query)), "");
}

/// Every file under `dir`, with its permission bits.
fn files_with_modes(dir: &Path) -> Vec<(std::path::PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                out.push((path, mode));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_dataset_is_read_only_and_what_sql_writes_is_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = super::ingested_trail(tmp.path(), 256 << 10, "lake");
    let before = files_with_modes(&lake);
    let run = |query: &str, extra: &[&str]| {
        trailscope()
            .args(["sql", "-d"])
            .arg(&lake)
            .args(extra)
            .arg(query)
            .output()
            .unwrap()
    };

    let insert = run("INSERT INTO events SELECT * FROM events LIMIT 1", &[]);
    assert_clear_error(&insert, "read-only");
    let inside = lake.join("copy.csv");
    let copy_inside = run(
        &format!(
            "COPY (SELECT event_id FROM events LIMIT 3) TO '{}'",
            inside.display()
        ),
        &[],
    );
    assert_clear_error(&copy_inside, "inside the dataset");
    assert_eq!(files_with_modes(&lake), before, "the dataset changed");

    let out = tmp.path().join("out.csv");
    let copied = run(
        &format!(
            "COPY (SELECT event_id FROM events LIMIT 3) TO '{}'",
            out.display()
        ),
        &[],
    );
    assert!(copied.status.success(), "{copied:?}");
    let table = tmp.path().join("table.txt");
    let written = run(
        "SELECT count(*) FROM events",
        &["-o", table.to_str().unwrap()],
    );
    assert!(written.status.success(), "{written:?}");
    // COPY writes one file, or a directory of files, depending on the path.
    let mode = |path: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    };
    let mut created = if out.is_dir() {
        files_with_modes(&out)
    } else {
        vec![(out.clone(), mode(&out))]
    };
    created.push((table.clone(), mode(&table)));
    assert!(created.len() >= 2, "{created:?}");
    for (path, mode) in created {
        assert_eq!(mode, 0o600, "{}", path.display());
    }
}

#[test]
fn a_closed_pipe_ends_csv_output_quietly() {
    // Megabytes of CSV: far more than a pipe holds, so writes fail once it is closed.
    super::assert_closed_pipe_is_no_error(
        trailscope()
            .args(["sql", "-f", "csv", "-d"])
            .arg(dataset())
            .arg("SELECT * FROM events"),
    );
}

#[test]
fn a_table_shows_the_first_rows_and_counts_the_rest() {
    let total: usize = stdout(&sql(&["-f", "csv"], "SELECT count(*) FROM events"))
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(total > 1000, "{total}");
    let capped = stdout(&sql(&[], "SELECT event_id FROM events ORDER BY event_id"));
    assert!(
        capped.ends_with(&format!(
            "{total} rows; the first 1000 shown (--max-rows 0 shows all, -f csv streams them)\n"
        )),
        "{}",
        capped.lines().last().unwrap()
    );
    // Every line that starts with a cell, less the header.
    let rows = |text: &str| text.lines().filter(|l| l.starts_with("│ ")).count() - 1;
    assert_eq!(rows(&capped), 1000);
    let few = stdout(&sql(&["--max-rows", "5"], "SELECT event_id FROM events"));
    assert_eq!(rows(&few), 5);
    let all = stdout(&sql(&["--max-rows", "0"], "SELECT event_id FROM events"));
    assert_eq!(rows(&all), total);
    assert!(all.ends_with(&format!("{total} rows\n")));
}

#[test]
fn a_damaged_data_file_is_an_error_not_fewer_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = super::ingested_trail(tmp.path(), 128 << 10, "la[k]e ?*");
    // A path that would be a glob pattern, unescaped, is read as the directory it names.
    let count = trailscope()
        .args(["sql", "-f", "csv", "-d"])
        .arg(&lake)
        .arg("SELECT count(*) AS n FROM events")
        .output()
        .unwrap();
    assert!(count.status.success(), "{count:?}");
    assert_ne!(String::from_utf8_lossy(&count.stdout), "n\n0\n");
    let manifest = trailscope_ingest::Manifest::load(&lake).unwrap();
    std::fs::write(&manifest.data_file_paths(&lake)[0], b"").unwrap();
    let output = trailscope()
        .args(["sql", "-d"])
        .arg(&lake)
        .arg("SELECT count(*) FROM events")
        .output()
        .unwrap();
    assert_clear_error(&output, "is 0 bytes, committed as");
}
