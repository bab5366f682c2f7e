//! `policy` against the generator's ground truth, and over trails nobody here wrote: every
//! action a policy grants is one IAM knows, every resource one the action can be scoped to.

use std::collections::BTreeSet;
use std::path::Path;

use trailscope_query::privilege::catalogue::Catalogue;
use trailscope_query::privilege::{
    Outcome, PolicyDocument, PolicyReport, PolicySubject, ResourceScope, policies,
};
use trailscope_query::{QueryOptions, open_session};

use super::attribution::generated;
use super::{real_dataset, samples_dataset};

fn denied(report: &PolicyReport) -> BTreeSet<String> {
    report
        .with_outcome(Outcome::Denied)
        .filter_map(|u| u.action.clone())
        .collect()
}

/// Whether every action is in the catalogue and every statement names only resources
/// each of its actions can be scoped to.
fn assert_valid(subject: &str, policy: &PolicyDocument) {
    let catalogue = Catalogue::get();
    assert!(!policy.statements.is_empty(), "{subject}");
    for statement in &policy.statements {
        let mut sorted = statement.actions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted, statement.actions,
            "{subject}: sorted, no duplicates"
        );
        for action in &statement.actions {
            let info = catalogue
                .lookup(action)
                .unwrap_or_else(|| panic!("{subject}: {action} is not an IAM action"));
            for resource in &statement.resources {
                assert!(
                    resource == "*" || catalogue.scopes_to(info, resource),
                    "{subject}: {action} cannot be scoped to {resource}"
                );
            }
        }
    }
}

#[tokio::test]
async fn policies_reproduce_the_actions_each_principal_and_person_used() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, truth) = generated(tmp.path());
    assert!(
        truth.permissions.len() >= 4,
        "the generator's permission truth"
    );
    let ctx = open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    for expected in &truth.permissions {
        let subject = match expected.subject_kind.as_str() {
            "actor" => PolicySubject::Actor(expected.subject.clone()),
            _ => PolicySubject::Principal(expected.subject.clone()),
        };
        let report = policies(&ctx, &subject, ResourceScope::Named)
            .await
            .unwrap();
        assert_eq!(report.policies.len(), 1, "{subject:?}");
        let (_, policy) = &report.policies[0];
        assert_valid(&expected.subject, policy);
        let granted: Vec<&str> = policy.actions().into_iter().collect();
        assert_eq!(granted, expected.allowed, "allowed actions of {subject:?}");
        let denied: Vec<String> = denied(&report).into_iter().collect();
        assert_eq!(denied, expected.denied, "denied actions of {subject:?}");
    }
}

#[tokio::test]
async fn statements_are_scoped_to_the_resources_the_calls_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, truth) = generated(tmp.path());
    let ctx = open_session(&dataset, &QueryOptions::default())
        .await
        .unwrap();
    let ingest_role = truth
        .permissions
        .iter()
        .find(|p| p.subject.ends_with(":role/lp-ingest-role"))
        .unwrap();
    let account = ingest_role.subject.split(':').nth(4).unwrap();
    let subject = PolicySubject::Principal(ingest_role.subject.clone());
    let report = policies(&ctx, &subject, ResourceScope::Named)
        .await
        .unwrap();
    let (_, policy) = &report.policies[0];
    let resources_of = |action: &str| -> Vec<String> {
        policy
            .statements
            .iter()
            .filter(|s| s.actions.iter().any(|a| a == action))
            .flat_map(|s| s.resources.clone())
            .collect()
    };
    assert_eq!(
        resources_of("s3:PutObject"),
        [format!("arn:aws:s3:::lp-landing-{account}/in/big.parquet")]
    );
    assert_eq!(
        resources_of("s3:ListBucket"),
        [format!("arn:aws:s3:::lp-landing-{account}")]
    );
    assert_eq!(
        resources_of("dynamodb:PutItem"),
        [format!(
            "arn:aws:dynamodb:us-east-1:{account}:table/lp-orders"
        )]
    );
    assert_eq!(
        resources_of("logs:CreateLogStream"),
        [format!(
            "arn:aws:logs:us-east-1:{account}:log-group:/aws/lambda/lp-ingest:log-stream:2026/10/03/[$LATEST]0f3c"
        )]
    );
    // SQS names its queue by URL, which this release does not turn into an ARN.
    assert_eq!(resources_of("sqs:ReceiveMessage"), ["*"]);
    let any = policies(&ctx, &subject, ResourceScope::Any).await.unwrap();
    let (_, any) = &any.policies[0];
    assert!(any.statements.iter().all(|s| s.resources == ["*"]));
    assert_eq!(any.actions(), policy.actions());
}

/// Every role's policy from trails nobody here wrote is valid against the catalogue.
async fn every_role_policy_is_valid(dataset: &Path) -> usize {
    let ctx = open_session(dataset, &QueryOptions::default())
        .await
        .unwrap();
    let report = policies(&ctx, &PolicySubject::AllRoles, ResourceScope::Named)
        .await
        .unwrap();
    for (role, policy) in &report.policies {
        assert_valid(role, policy);
    }
    report.policies.len()
}

#[tokio::test]
async fn role_policies_of_the_shared_samples_are_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((dataset, _)) = samples_dataset(tmp.path()) else {
        return;
    };
    assert!(every_role_policy_is_valid(&dataset).await > 0);
}

#[tokio::test]
async fn role_policies_of_the_real_trails_are_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((dataset, _)) = real_dataset(tmp.path()) else {
        return;
    };
    assert!(every_role_policy_is_valid(&dataset).await > 0);
}

/// The python with parliament (`TRAILSCOPE_PARLIAMENT_PYTHON`, set by `.ci/run`); `None`
/// after saying the test was skipped, where it is not set (a failure under CI).
fn parliament_python(test: &str) -> Option<std::ffi::OsString> {
    let python = std::env::var_os("TRAILSCOPE_PARLIAMENT_PYTHON");
    if python.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: CI must set TRAILSCOPE_PARLIAMENT_PYTHON (.ci/run installs parliament)"
        );
        eprintln!("{test}: skipped (set TRAILSCOPE_PARLIAMENT_PYTHON to a python with parliament)");
    }
    python
}

/// Writes the policy of every role and IAM user of `dataset` (and of `actors`) into `out`.
async fn write_policies(dataset: &Path, actors: &[String], out: &Path, tag: &str) -> usize {
    let ctx = open_session(dataset, &QueryOptions::default())
        .await
        .unwrap();
    let mut subjects = vec![PolicySubject::AllRoles, PolicySubject::AllUsers];
    subjects.extend(actors.iter().cloned().map(PolicySubject::Actor));
    let mut written = 0;
    for subject in subjects {
        let report = policies(&ctx, &subject, ResourceScope::Named)
            .await
            .unwrap();
        for (_, policy) in report.policies {
            written += 1;
            std::fs::write(out.join(format!("{tag}-{written}.json")), policy.to_json()).unwrap();
        }
    }
    written
}

#[tokio::test]
async fn every_policy_passes_the_parliament_linter() {
    let test = "every_policy_passes_the_parliament_linter";
    let Some(python) = parliament_python(test) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("policies");
    std::fs::create_dir_all(&out).unwrap();
    let (dataset, truth) = generated(&tmp.path().join("generated"));
    let actors: Vec<String> = truth
        .permissions
        .iter()
        .filter(|p| p.subject_kind == "actor")
        .map(|p| p.subject.clone())
        .collect();
    let mut written = write_policies(&dataset, &actors, &out, "generated").await;
    if let Some((dataset, _)) = samples_dataset(&tmp.path().join("samples")) {
        written += write_policies(&dataset, &[], &out, "samples").await;
    }
    if let Some((dataset, _)) = real_dataset(&tmp.path().join("real")) {
        written += write_policies(&dataset, &[], &out, "real").await;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint/parliament_check.py");
    let run = std::process::Command::new(python)
        .arg(script)
        .arg(&out)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&run.stdout);
    let errors: Vec<&str> = report
        .lines()
        .filter(|l| l.contains(r#""error": true"#))
        .collect();
    assert!(
        run.status.success(),
        "parliament found errors in {written} policies: {errors:#?}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        report.contains(&format!(r#""files": {written}"#)),
        "{report}"
    );
}

#[tokio::test]
async fn mostly_unused_grants_are_found_only_where_they_are() {
    use trailscope_query::detections::{DetectionSet, Severity, findings};
    use trailscope_query::privilege::{authorization, summary};
    let tmp = tempfile::tempdir().unwrap();
    let (dataset, truth) = generated(tmp.path());
    let role = |name: &str| {
        truth
            .permissions
            .iter()
            .find(|p| p.subject.ends_with(&format!(":role/{name}")))
            .unwrap()
            .clone()
    };
    let (analyst, ingest) = (role("LpAnalyst"), role("lp-ingest-role"));
    // The analyst may do anything in S3 and CloudWatch; the function exactly what it used.
    let details = serde_json::json!({
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
        "RoleDetailList": [
            {"RoleName": "LpAnalyst", "Arn": analyst.subject, "AttachedManagedPolicies": [],
             "RolePolicyList": [{"PolicyName": "broad", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "sts:AssumeRole"], "Resource": "*"}]}}]},
            {"RoleName": "lp-ingest-role", "Arn": ingest.subject, "AttachedManagedPolicies": [],
             "RolePolicyList": [{"PolicyName": "exact", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": ingest.allowed, "Resource": "*"}]}}]}
        ]
    });
    let granted = authorization::parse(&details.to_string()).unwrap();
    let options = QueryOptions {
        detections: DetectionSet::builtin()
            .only(&["permissions-mostly-unused".to_string()])
            .unwrap(),
        ..QueryOptions::default()
    };
    let ctx = open_session(&dataset, &options).await.unwrap();
    let rows = summary::granted_vs_used(&ctx, &granted).await.unwrap();
    let exact = rows
        .iter()
        .find(|r| r.comparison.arn == ingest.subject)
        .unwrap();
    assert_eq!(exact.comparison.used, ingest.allowed.len());
    assert_eq!(exact.comparison.unused, 0);
    assert!(exact.comparison.used_not_granted.is_empty());
    let broad = rows
        .iter()
        .find(|r| r.comparison.arn == analyst.subject)
        .unwrap();
    assert_eq!(broad.comparison.used, analyst.allowed.len());
    summary::fill(&ctx, &rows).await.unwrap();
    let found = findings(&ctx, Severity::Info).await.unwrap();
    assert_eq!(
        found.strings("principal"),
        std::slice::from_ref(&analyst.subject)
    );
}
