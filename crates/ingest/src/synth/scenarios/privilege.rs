//! Roles and a person whose every call is known, each with the IAM action that authorizes
//! it as AWS's Service Authorization Reference names it: the ground truth of
//! `trailscope policy`. The calls include the shapes that need more than
//! `<source>:<eventName>` (S3 operations authorized by other actions, Lambda's versioned
//! event names, CloudWatch's `monitoring` endpoint, calls needing no permission) and denied
//! calls in the error codes services really use.

use super::{Builder, actor};
use crate::synth::event::{Identity, Resource};
use crate::synth::truth::PermissionTruth;
use crate::synth::world::agents;

/// One call: source, event name, the IAM action it needs (`None`: no permission), the
/// request parameters, and the error code when it is denied.
struct Call {
    source: &'static str,
    name: &'static str,
    action: Option<&'static str>,
    request: String,
    denied: Option<&'static str>,
}

fn call(
    source: &'static str,
    name: &'static str,
    action: Option<&'static str>,
    request: String,
) -> Call {
    Call {
        source,
        name,
        action,
        request,
        denied: None,
    }
}

fn denied(
    source: &'static str,
    name: &'static str,
    action: &'static str,
    code: &'static str,
) -> Call {
    Call {
        source,
        name,
        action: Some(action),
        request: "{}".into(),
        denied: Some(code),
    }
}

/// What a principal's calls used and were denied.
#[derive(Default)]
struct Used {
    allowed: Vec<String>,
    denied: Vec<String>,
}

impl Used {
    fn truth(&self, scenario: &str, kind: &str, subject: &str) -> PermissionTruth {
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            v
        };
        PermissionTruth {
            scenario: scenario.into(),
            subject_kind: kind.into(),
            subject: subject.into(),
            allowed: sorted(&self.allowed),
            denied: sorted(&self.denied),
        }
    }
}

impl Builder<'_> {
    /// Emits `calls` one a minute from `start`, signed by `identity`, and records what
    /// they used in `used`; returns their event ids.
    fn calls(
        &mut self,
        account: usize,
        start: i64,
        identity: &Identity,
        ip: &str,
        agent: &str,
        calls: Vec<Call>,
        used: &mut Used,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        for (i, c) in calls.into_iter().enumerate() {
            let mut ev = self.call(
                account,
                start + 60 * i as i64,
                identity.clone(),
                c.source,
                c.name,
            );
            ev.source_ip = ip.into();
            ev.user_agent = agent.into();
            ev.request_parameters = Some(c.request.clone());
            // S3 lists the object (where there is one) and then its bucket.
            if let Some(bucket) = field(&c.request, "bucketName") {
                if let Some(key) = field(&c.request, "key") {
                    ev.resources.push(Resource {
                        arn: format!("arn:aws:s3:::{bucket}/{key}"),
                        account: None,
                        kind: "AWS::S3::Object",
                    });
                }
                ev.resources.push(Resource {
                    arn: format!("arn:aws:s3:::{bucket}"),
                    account: Some(self.account_id(account)),
                    kind: "AWS::S3::Bucket",
                });
            }
            match (c.denied, c.action) {
                (Some(code), Some(action)) => {
                    ev.error = Some((
                        code.into(),
                        format!(
                            "User: {} is not authorized to perform: {action}",
                            identity.arn().unwrap_or_default()
                        ),
                    ));
                    used.denied.push(action.into());
                }
                (None, Some(action)) => used.allowed.push(action.into()),
                _ => {}
            }
            ids.push(self.emit(account, ev));
        }
        ids
    }
}

/// The text value of `name` in a flat JSON object.
fn field<'r>(request: &'r str, name: &str) -> Option<&'r str> {
    let label = format!(r#""{name}":""#);
    let start = request.find(&label)? + label.len();
    let end = request[start..].find('"')?;
    Some(&request[start..start + end])
}

pub(super) fn inject(b: &mut Builder<'_>) {
    let a1 = b.member(1);
    let a2 = b.member(2);
    let day = 2.min(b.world.days - 1);
    analyst_through_a_role_chain(b, a1, a2, day);
    ingest_function(b, a1, day);
}

/// Dana signs in through SAML as LpAnalyst, reads reports, is denied creating a user,
/// then chains into LpDeployer in another account and ships a Lambda function.
fn analyst_through_a_role_chain(b: &mut Builder<'_>, a1: usize, a2: usize, day: i64) {
    let subject = "lp-dana@example.com";
    let okta = format!("arn:aws:iam::{}:saml-provider/Okta", b.account_id(a1));
    let ip = b.fresh_ip();
    let t = b.at(day, 14, 0);
    let analyst = b.federated_assume(
        a1,
        false,
        &okta,
        subject,
        "LpAnalyst",
        subject,
        t,
        &ip,
        agents::CHROME,
    );
    let bucket = format!("lp-reports-{}", b.account_id(a1));
    let mut analyst_used = Used::default();
    let calls = vec![
        call(
            "s3.amazonaws.com",
            "ListBuckets",
            Some("s3:ListAllMyBuckets"),
            "{}".into(),
        ),
        call(
            "s3.amazonaws.com",
            "ListObjectsV2",
            Some("s3:ListBucket"),
            format!(r#"{{"bucketName":"{bucket}","list-type":"2","prefix":"2026/"}}"#),
        ),
        call(
            "s3.amazonaws.com",
            "HeadObject",
            Some("s3:GetObject"),
            format!(r#"{{"bucketName":"{bucket}","key":"2026/q3.csv"}}"#),
        ),
        call(
            "s3.amazonaws.com",
            "GetObject",
            Some("s3:GetObject"),
            format!(r#"{{"bucketName":"{bucket}","key":"2026/q3.csv"}}"#),
        ),
        call(
            "monitoring.amazonaws.com",
            "GetMetricData",
            Some("cloudwatch:GetMetricData"),
            r#"{"startTime":"Oct 3, 2026 1:00:00 PM","endTime":"Oct 3, 2026 2:00:00 PM"}"#.into(),
        ),
        call("sts.amazonaws.com", "GetCallerIdentity", None, "{}".into()),
        denied(
            "iam.amazonaws.com",
            "CreateUser",
            "iam:CreateUser",
            "AccessDenied",
        ),
    ];
    let mut ids = b.calls(
        a1,
        t + 60,
        &analyst.identity,
        &ip,
        agents::CHROME,
        calls,
        &mut analyst_used,
    );
    let deployer = b.assume_role(
        a1,
        &analyst.identity,
        a2,
        "LpDeployer",
        "lp-dana-deploy",
        t + 1200,
        &ip,
        agents::CHROME,
        None,
    );
    analyst_used.allowed.push("sts:AssumeRole".into());
    ids.extend(deployer.hop.issuing_event_id.clone());
    let person = actor("SAMLUser", subject, Some(&okta));
    b.record_session(
        "least_privilege",
        &analyst.identity,
        person.clone(),
        "saml",
        vec![analyst.hop.clone()],
        ids,
    );

    let function = r#"{"functionName":"lp-ingest"}"#.to_string();
    let mut deployer_used = Used::default();
    let calls = vec![
        call(
            "lambda.amazonaws.com",
            "GetFunction20150331v2",
            Some("lambda:GetFunction"),
            function.clone(),
        ),
        call(
            "lambda.amazonaws.com",
            "UpdateFunctionCode20150331v2",
            Some("lambda:UpdateFunctionCode"),
            r#"{"functionName":"lp-ingest","s3Bucket":"lp-artifacts","s3Key":"lp-ingest.zip"}"#
                .to_string(),
        ),
        call(
            "cloudformation.amazonaws.com",
            "DescribeStacks",
            Some("cloudformation:DescribeStacks"),
            r#"{"stackName":"lp-ingest"}"#.into(),
        ),
        denied(
            "ec2.amazonaws.com",
            "RunInstances",
            "ec2:RunInstances",
            "Client.UnauthorizedOperation",
        ),
    ];
    let ids = b.calls(
        a2,
        t + 1260,
        &deployer.identity,
        &ip,
        agents::CHROME,
        calls,
        &mut deployer_used,
    );
    b.record_session(
        "least_privilege",
        &deployer.identity,
        person,
        // The chain's origin decides the method: SAML, through one more AssumeRole.
        "saml",
        vec![analyst.hop, deployer.hop],
        ids,
    );

    let role = |account: &str, name: &str| format!("arn:aws:iam::{account}:role/{name}");
    let (acct1, acct2) = (b.account_id(a1), b.account_id(a2));
    let mut dana = Used::default();
    dana.allowed.extend(
        analyst_used
            .allowed
            .iter()
            .chain(&deployer_used.allowed)
            .cloned(),
    );
    dana.denied.extend(
        analyst_used
            .denied
            .iter()
            .chain(&deployer_used.denied)
            .cloned(),
    );
    b.truth.permissions.extend([
        analyst_used.truth("least_privilege", "principal", &role(&acct1, "LpAnalyst")),
        deployer_used.truth("least_privilege", "principal", &role(&acct2, "LpDeployer")),
        dana.truth("least_privilege", "actor", subject),
    ]);
}

/// A Lambda function's role: queue in, table and bucket out, with multipart uploads, and
/// one denied read of a secret.
fn ingest_function(b: &mut Builder<'_>, a1: usize, day: i64) {
    let account = b.account_id(a1);
    let t = b.at(day, 16, 0);
    let lambda = Identity::AwsService {
        invoked_by: "lambda.amazonaws.com".into(),
    };
    let role = b.assume_role(
        a1,
        &lambda,
        a1,
        "lp-ingest-role",
        "lp-ingest",
        t,
        "lambda.amazonaws.com",
        "lambda.amazonaws.com",
        None,
    );
    let bucket = format!("lp-landing-{account}");
    let object = |key: &str| format!(r#"{{"bucketName":"{bucket}","key":"{key}"}}"#);
    let calls = vec![
        call(
            "sqs.amazonaws.com",
            "ReceiveMessage",
            Some("sqs:ReceiveMessage"),
            format!(r#"{{"queueUrl":"https://sqs.us-east-1.amazonaws.com/{account}/lp-orders"}}"#),
        ),
        call(
            "dynamodb.amazonaws.com",
            "PutItem",
            Some("dynamodb:PutItem"),
            r#"{"tableName":"lp-orders"}"#.into(),
        ),
        call(
            "kms.amazonaws.com",
            "Decrypt",
            Some("kms:Decrypt"),
            r#"{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}"#.into(),
        ),
        call(
            "logs.amazonaws.com",
            "CreateLogStream",
            Some("logs:CreateLogStream"),
            r#"{"logGroupName":"/aws/lambda/lp-ingest","logStreamName":"2026/10/03/[$LATEST]0f3c"}"#.into(),
        ),
        call("s3.amazonaws.com", "CreateMultipartUpload", Some("s3:PutObject"), object("in/big.parquet")),
        call("s3.amazonaws.com", "UploadPart", Some("s3:PutObject"), object("in/big.parquet")),
        call("s3.amazonaws.com", "CompleteMultipartUpload", Some("s3:PutObject"), object("in/big.parquet")),
        call(
            "s3.amazonaws.com",
            "ListObjects",
            Some("s3:ListBucket"),
            format!(r#"{{"bucketName":"{bucket}","prefix":"in/"}}"#),
        ),
        denied(
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            "secretsmanager:GetSecretValue",
            "AccessDeniedException",
        ),
    ];
    let mut used = Used::default();
    let ids = b.calls(
        a1,
        t + 30,
        &role.identity,
        "lambda.amazonaws.com",
        agents::BOTO3,
        calls,
        &mut used,
    );
    b.record_session(
        "least_privilege",
        &role.identity,
        actor("AWSService", "lambda.amazonaws.com", None),
        "sts_chain",
        vec![role.hop],
        ids,
    );
    b.truth.permissions.push(used.truth(
        "least_privilege",
        "principal",
        &format!("arn:aws:iam::{account}:role/lp-ingest-role"),
    ));
}
