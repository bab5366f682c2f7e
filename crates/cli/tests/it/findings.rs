//! `trailscope findings` and `trailscope detections`: exit statuses, user detections.

use super::attribution::{dataset, run};
use super::trailscope;

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn fail_on_sets_the_exit_status() {
    let (lake, truth) = dataset();
    // The generated trail holds root sign-ins without MFA: critical findings.
    assert!(
        truth["root_usage"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["mfa"] == false)
    );
    let critical = run("findings", lake, &["-f", "jsonl", "--fail-on", "critical"]);
    assert_eq!(critical.status.code(), Some(1), "{}", stderr(&critical));
    let lines = String::from_utf8(critical.stdout).unwrap();
    assert!(
        lines
            .lines()
            .any(|l| l.contains("\"severity\":\"critical\""))
    );

    // Only a detection that finds high severity: --fail-on critical does not fire.
    let high = run(
        "findings",
        lake,
        &[
            "-f",
            "csv",
            "--detection",
            "root-mfa-change",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(high.status.code(), Some(0), "{}", stderr(&high));
    let rows = String::from_utf8(high.stdout).unwrap();
    assert!(
        rows.lines()
            .skip(1)
            .all(|l| l.starts_with("high,root-mfa-change,")),
        "{rows}"
    );

    // --min-severity filters what is shown.
    let shown = run(
        "findings",
        lake,
        &["-f", "jsonl", "--min-severity", "critical"],
    );
    let text = String::from_utf8(shown.stdout).unwrap();
    assert!(
        !text.is_empty()
            && text
                .lines()
                .all(|l| l.contains("\"severity\":\"critical\""))
    );
}

#[test]
fn users_add_detections_from_a_directory_and_bad_ones_are_named() {
    let (lake, _) = dataset();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("console_logins.sql"),
        "-- id: any-console-login\n-- title: Console sign-ins\n-- severity: info\n\
         -- description: Every console sign-in, per principal.\n-- rationale: A test.\n\
         -- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html\n\
         -- false_positives: All of them.\n\
         SELECT user_identity_arn AS principal, user_identity_arn AS actor, recipient_account_id AS account_id,\n\
                min(event_time) AS first_seen, max(event_time) AS last_seen, count(*) AS event_count,\n\
                array_agg(event_id) AS event_ids, to_json(named_struct('n', count(*))) AS evidence\n\
         FROM events WHERE event_name = 'ConsoleLogin' GROUP BY 1, 2, 3\n",
    )
    .unwrap();
    let dir = tmp.path().to_str().unwrap();
    let output = run(
        "findings",
        lake,
        &[
            "-f",
            "csv",
            "--extra-detections",
            dir,
            "--detection",
            "any-console-login",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.lines().count() > 2
            && text
                .lines()
                .skip(1)
                .all(|l| l.starts_with("info,any-console-login,")),
        "{text}"
    );

    let listed = trailscope()
        .args(["detections", "-f", "csv", "--extra-detections", dir])
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains("any-console-login,info,") && listed.contains("root-activity,high,"),
        "{listed}"
    );

    // A header without an id, and a query that does not plan: each one line, exit 2.
    std::fs::write(tmp.path().join("broken.sql"), "-- title: x\nSELECT 1\n").unwrap();
    let output = run("findings", lake, &["--extra-detections", dir]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("broken.sql: the header has no `-- id:` line"),
        "{}",
        stderr(&output)
    );
    std::fs::write(
        tmp.path().join("broken.sql"),
        "-- id: broken\n-- title: x\n-- severity: low\n-- description: d\n-- rationale: r\n\
         -- references: https://example.com\nSELECT nope FROM events\n",
    )
    .unwrap();
    let output = run("findings", lake, &["--extra-detections", dir]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("broken") && err.contains("nope") && err.trim().lines().count() == 1,
        "{err}"
    );
}

#[test]
fn a_user_detection_with_a_built_in_id_replaces_it() {
    let (lake, _) = dataset();
    let before = run(
        "findings",
        lake,
        &["-f", "csv", "--detection", "shared-access-key"],
    );
    assert_eq!(
        String::from_utf8(before.stdout).unwrap().lines().count(),
        3,
        "two findings: a key two machines share, and one four share round robin"
    );
    // The same detection with a stricter threshold: at least 1000 returns.
    let text = include_str!("../../../query/src/detections/builtin/shared_access_key.sql").replace(
        "WHERE kind = 'access_key'",
        "WHERE kind = 'access_key' AND returns >= 1000",
    );
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("stricter.sql"), text).unwrap();
    let dir = tmp.path().to_str().unwrap();
    let after = run(
        "findings",
        lake,
        &[
            "-f",
            "csv",
            "--extra-detections",
            dir,
            "--detection",
            "shared-access-key",
        ],
    );
    assert!(after.status.success(), "{}", stderr(&after));
    assert_eq!(
        String::from_utf8(after.stdout).unwrap().lines().count(),
        1,
        "header only"
    );
    let listed = trailscope()
        .args(["detections", "-f", "csv", "--extra-detections", dir])
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    let row = listed
        .lines()
        .find(|l| l.starts_with("shared-access-key,"))
        .unwrap();
    assert!(row.ends_with("stricter.sql"), "{row}");
}

#[test]
fn sigma_rules_run_in_findings_and_name_the_actor() {
    let (lake, _) = dataset();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("failed_root.yml"),
        "title: Root console sign-in failed\nid: 11111111-2222-3333-4444-555555555555\nlevel: high\n\
         tags:\n  - attack.t1110\nlogsource:\n  product: aws\n  service: cloudtrail\n\
         detection:\n  sel:\n    eventName: ConsoleLogin\n    userIdentity.type: Root\n    \
         responseElements.ConsoleLogin: failure\n  condition: sel\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("placeholder.yml"),
        "title: Placeholder\nlogsource:\n  product: aws\n  service: cloudtrail\n\
         detection:\n  sel:\n    userIdentity.arn|expand: '%admins%'\n  condition: sel\n",
    )
    .unwrap();
    let dir = tmp.path().to_str().unwrap();
    let output = run(
        "findings",
        lake,
        &["-f", "csv", "--no-builtin", "--sigma", dir],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("placeholder.yml: not supported: `Placeholder`: placeholders"),
        "{err}"
    );
    assert!(
        err.contains(
            "2 files, 1 rules compiled, 0 correlations (over 0 base rules), 1 not supported"
        ),
        "{err}"
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(!rows.is_empty(), "{text}");
    for row in rows {
        assert!(
            row.starts_with(
                "high,sigma:11111111-2222-3333-4444-555555555555,Root console sign-in failed,"
            ),
            "{row}"
        );
        assert!(
            row.contains(":root,arn:aws:iam::"),
            "principal and actor: {row}"
        );
    }
    let sql = trailscope()
        .args(["sigma", "sql"])
        .arg(tmp.path().join("failed_root.yml"))
        .output()
        .unwrap();
    let sql = String::from_utf8(sql.stdout).unwrap();
    assert!(
        sql.contains("lower(event_name) = lower('ConsoleLogin')"),
        "{sql}"
    );
}
