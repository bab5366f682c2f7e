//! `trailscope policy` as a user runs it: the policy it prints (snapshotted), the files of
//! `--all-roles`, granted against used, and the errors for bad input.

use std::process::Output;

use super::trailscope;

fn policy(args: &[&str]) -> Output {
    trailscope()
        .arg("policy")
        .arg("--dataset")
        .arg(&super::attribution::dataset().0)
        .args(args)
        .output()
        .unwrap()
}

/// The ARN of the generated trail's role `name`, from its ground truth.
fn role(name: &str) -> String {
    let truth = &super::attribution::dataset().1;
    truth["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["subject"].as_str().unwrap().to_string())
        .find(|s| s.ends_with(&format!(":role/{name}")))
        .unwrap()
}

#[test]
fn prints_the_policy_a_role_needs_and_its_denied_calls_apart() {
    let out = policy(&["--principal", &role("lp-ingest-role")]);
    assert!(out.status.success(), "{out:?}");
    insta::assert_snapshot!(
        "lp_ingest_role_policy",
        String::from_utf8(out.stdout).unwrap()
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("1 calls were denied"), "{stderr}");
    assert!(stderr.contains("secretsmanager:GetSecretValue"), "{stderr}");
}

#[test]
fn all_roles_writes_one_valid_policy_file_per_role() {
    let tmp = tempfile::tempdir().unwrap();
    let out = policy(&["--all-roles", tmp.path().to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let files: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(files.len() > 5);
    let analyst = tmp.path().join(format!(
        "{}_role_LpAnalyst.json",
        role("LpAnalyst").split(':').nth(4).unwrap()
    ));
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(analyst).unwrap()).unwrap();
    assert_eq!(document["Version"], "2012-10-17");
}

#[test]
fn granted_against_used_reads_authorization_details() {
    let tmp = tempfile::tempdir().unwrap();
    let details = tmp.path().join("auth.json");
    std::fs::write(
        &details,
        serde_json::json!({
            "UserDetailList": [], "GroupDetailList": [], "Policies": [],
            "RoleDetailList": [{"RoleName": "LpAnalyst", "Arn": role("LpAnalyst"),
                "AttachedManagedPolicies": [],
                "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                    {"Effect": "Allow", "Action": ["s3:*", "sts:AssumeRole"], "Resource": "*"}]}}]}]
        })
        .to_string(),
    )
    .unwrap();
    let out = policy(&[
        "--authorization-details",
        details.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert!(
        row.starts_with(&format!("{},role,", role("LpAnalyst"))),
        "{csv}"
    );
}

#[test]
fn bad_input_is_a_one_line_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let details = tmp.path().join("not-details.json");
    std::fs::write(&details, r#"{"Records": []}"#).unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &["--authorization-details", details.to_str().unwrap()],
            "not-details.json",
        ),
        (&["--principal", "alice"], "--principal takes an ARN"),
        (
            &["--principal", "arn:aws:iam::111122223333:role/nobody"],
            "no calls by arn:aws:iam::111122223333:role/nobody",
        ),
    ];
    for (args, expected) in cases {
        let out = policy(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}
