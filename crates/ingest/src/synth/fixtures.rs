//! Small input fixtures written by the project itself: a handful of hand-made CloudTrail
//! records, every input shape ingest accepts, and the bad-input corpus. Tests and fuzzing
//! build them in a temporary directory, so no third-party record is copied anywhere.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use crate::synth::{Error, Result};

const ACCOUNT: &str = "210987654321";
const OTHER_ACCOUNT: &str = "123450987654";

/// Hand-made records covering the common identity types: an IAM user, an assumed role,
/// root's console sign-in, an AWS service, a federated user and an IAM user's write call.
/// Each has its own `eventID`.
pub fn records() -> Vec<Value> {
    let iam_user = json!({
        "type": "IAMUser",
        "principalId": "AIDAFIXTUREUSER00001",
        "arn": format!("arn:aws:iam::{ACCOUNT}:user/dana"),
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAFIXTUREKEY000001",
        "userName": "dana"
    });
    vec![
        json!({
            "eventVersion": "1.09", "userIdentity": iam_user,
            "eventTime": "2026-03-02T09:15:02Z", "eventSource": "ec2.amazonaws.com",
            "eventName": "DescribeInstances", "awsRegion": "eu-west-1",
            "sourceIPAddress": "198.51.100.23", "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.5",
            "requestParameters": {"instancesSet": {"items": [{"instanceId": "i-0fixture0000001"}]}, "filterSet": {}},
            "responseElements": null, "requestID": "0b6c3a54-0001-4f00-9a00-fixture00001",
            "eventID": "6f1d2c3b-0001-4a5e-8f00-fixture00001", "readOnly": true,
            "eventType": "AwsApiCall", "managementEvent": true,
            "recipientAccountId": ACCOUNT, "eventCategory": "Management",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                           "clientProvidedHostHeader": "ec2.eu-west-1.amazonaws.com"}
        }),
        json!({
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "AssumedRole", "principalId": "AROAFIXTUREROLE00001:build-42",
                "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/build-42"),
                "accountId": ACCOUNT, "accessKeyId": "ASIAFIXTURESESSION01",
                "sessionContext": {
                    "sessionIssuer": {"type": "Role", "principalId": "AROAFIXTUREROLE00001",
                        "arn": format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
                        "accountId": ACCOUNT, "userName": "deployer"},
                    "attributes": {"creationDate": "2026-03-02T09:00:00Z", "mfaAuthenticated": "false"}
                }
            },
            "eventTime": "2026-03-02T09:16:40Z", "eventSource": "s3.amazonaws.com",
            "eventName": "GetBucketPolicy", "awsRegion": "eu-west-1",
            "sourceIPAddress": "203.0.113.7", "userAgent": "[aws-sdk-go-v2/1.25.0]",
            "requestParameters": {"bucketName": "fixture-artifacts", "Host": "fixture-artifacts.s3.eu-west-1.amazonaws.com", "policy": ""},
            "responseElements": null,
            "additionalEventData": {"SignatureVersion": "SigV4", "bytesTransferredIn": 0, "bytesTransferredOut": 512},
            "requestID": "0b6c3a54-0002-4f00-9a00-fixture00002",
            "eventID": "6f1d2c3b-0002-4a5e-8f00-fixture00002", "readOnly": true,
            "resources": [{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::fixture-artifacts"}],
            "eventType": "AwsApiCall", "managementEvent": true,
            "recipientAccountId": ACCOUNT, "eventCategory": "Management"
        }),
        json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "Root", "principalId": ACCOUNT,
                "arn": format!("arn:aws:iam::{ACCOUNT}:root"), "accountId": ACCOUNT},
            "eventTime": "2026-03-02T10:01:13Z", "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
            "sourceIPAddress": "192.0.2.200",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
            "requestParameters": null, "responseElements": {"ConsoleLogin": "Success"},
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home",
                "MobileVersion": "No", "MFAUsed": "Yes"},
            "eventID": "6f1d2c3b-0003-4a5e-8f00-fixture00003", "readOnly": false,
            "eventType": "AwsConsoleSignIn", "managementEvent": true,
            "recipientAccountId": ACCOUNT, "eventCategory": "Management"
        }),
        json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
            "eventTime": "2026-03-02T10:05:00Z", "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole", "awsRegion": "eu-west-1",
            "sourceIPAddress": "lambda.amazonaws.com", "userAgent": "lambda.amazonaws.com",
            "requestParameters": {"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/thumbnailer"),
                "roleSessionName": "thumbnailer"},
            "responseElements": {"credentials": {"accessKeyId": "ASIAFIXTURESESSION02",
                "sessionToken": "IQoFixtureToken", "expiration": "Mar 2, 2026, 10:05:00 PM"}},
            "requestID": "0b6c3a54-0004-4f00-9a00-fixture00004",
            "eventID": "6f1d2c3b-0004-4a5e-8f00-fixture00004", "readOnly": true,
            "resources": [{"accountId": ACCOUNT, "type": "AWS::IAM::Role",
                "ARN": format!("arn:aws:iam::{ACCOUNT}:role/thumbnailer")}],
            "eventType": "AwsApiCall", "managementEvent": true,
            "recipientAccountId": ACCOUNT, "sharedEventID": "5a1e0000-0004-4f00-9a00-fixture00004",
            "eventCategory": "Management"
        }),
        json!({
            "eventVersion": "1.05",
            "userIdentity": {"type": "FederatedUser",
                "principalId": format!("{OTHER_ACCOUNT}:ci-bot"),
                "arn": format!("arn:aws:sts::{OTHER_ACCOUNT}:federated-user/ci-bot"),
                "accountId": OTHER_ACCOUNT, "accessKeyId": "ASIAFIXTURESESSION03",
                "sessionContext": {"attributes": {"creationDate": "2026-03-03T08:00:00Z", "mfaAuthenticated": "false"},
                    "sessionIssuer": {"type": "IAMUser", "principalId": "AIDAFIXTUREUSER00002",
                        "arn": format!("arn:aws:iam::{OTHER_ACCOUNT}:user/ci"),
                        "accountId": OTHER_ACCOUNT, "userName": "ci"}}},
            "eventTime": "2026-03-03T08:00:30Z", "eventSource": "sqs.amazonaws.com",
            "eventName": "ListQueues", "awsRegion": "us-west-2",
            "sourceIPAddress": "198.51.100.99", "userAgent": "Boto3/1.34.0 Python/3.12.1 Linux/6.1 Botocore/1.34.0",
            "requestParameters": {"queueNamePrefix": "jobs-"}, "responseElements": null,
            "requestID": "0b6c3a54-0005-4f00-9a00-fixture00005",
            "eventID": "6f1d2c3b-0005-4a5e-8f00-fixture00005", "readOnly": true,
            "eventType": "AwsApiCall", "managementEvent": true,
            "recipientAccountId": OTHER_ACCOUNT, "eventCategory": "Management"
        }),
        json!({
            "eventVersion": "1.09", "userIdentity": iam_user,
            "eventTime": "2026-03-03T14:22:51Z", "eventSource": "iam.amazonaws.com",
            "eventName": "CreateAccessKey", "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.23", "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.5",
            "requestParameters": {"userName": "dana"},
            "responseElements": {"accessKey": {"userName": "dana", "accessKeyId": "AKIAFIXTUREKEY000002",
                "status": "Active", "createDate": "Mar 3, 2026, 2:22:51 PM"}},
            "requestID": "0b6c3a54-0006-4f00-9a00-fixture00006",
            "eventID": "6f1d2c3b-0006-4a5e-8f00-fixture00006", "readOnly": false,
            "eventType": "AwsApiCall", "managementEvent": true,
            "recipientAccountId": ACCOUNT, "eventCategory": "Management"
        }),
    ]
}

/// A small generated trail for tests: about `bytes` of JSON over `days` days from
/// 2026-10-01, two regions, one thread (the same bytes every time), written to `out`.
pub fn small_trail(out: &Path, bytes: u64, days: i64) -> Result<crate::synth::SynthSummary> {
    let mut options = crate::synth::SynthOptions::new(out.to_path_buf());
    options.size_bytes = bytes;
    options.days = days;
    options.regions = 2;
    options.threads = 1;
    crate::synth::generate(&options)
}

/// The records as compact JSON texts.
pub fn record_texts() -> Vec<String> {
    records().iter().map(Value::to_string).collect()
}

/// Writes one file of each shape ingest accepts besides the S3 delivery file, each
/// holding [`records`], and returns their paths:
/// `lookup-events.json` (Event history, `{"Events":[...]}` with the record as a string),
/// `multi-member.json.gz` (`{"Records":[...]}` as two gzip members),
/// `single-record.json` (one pretty-printed record), `records.jsonl` (JSON Lines) and
/// `bare-array.json` (a bare array).
pub fn write_shapes(dir: &Path) -> Result<Vec<PathBuf>> {
    create_dir(dir)?;
    let records = records();
    let texts = record_texts();
    let mut written = Vec::new();

    let events: Vec<Value> = records
        .iter()
        .zip(&texts)
        .map(|(record, text)| {
            json!({
                "EventId": record["eventID"], "EventName": record["eventName"],
                "ReadOnly": record["readOnly"].to_string(),
                "AccessKeyId": record["userIdentity"].get("accessKeyId"),
                "EventTime": 1_772_442_902, "EventSource": record["eventSource"],
                "Username": record["userIdentity"].get("userName"),
                "Resources": [], "CloudTrailEvent": text
            })
        })
        .collect();
    written.push(write(
        dir,
        "lookup-events.json",
        json!({"Events": events}).to_string(),
    )?);

    let document = format!("{{\"Records\":[{}]}}", texts.join(","));
    let (first, second) = document.split_at(document.len() / 2);
    let mut members = gzip(first.as_bytes())?;
    members.extend(gzip(second.as_bytes())?);
    written.push(write(dir, "multi-member.json.gz", members)?);

    let pretty = serde_json::to_string_pretty(&records[2]).map_err(Error::from)?;
    written.push(write(dir, "single-record.json", pretty)?);
    written.push(write(dir, "records.jsonl", texts.join("\n") + "\n")?);
    written.push(write(
        dir,
        "bare-array.json",
        format!("[{}]", texts.join(", ")),
    )?);
    Ok(written)
}

/// One case of the bad-input corpus: its file name and what it holds.
#[derive(Debug, Clone, Copy)]
pub struct BadCase {
    /// The file's name in the corpus.
    pub file: &'static str,
    /// What is wrong with it, and what ingest must do.
    pub case: &'static str,
}

/// The bad-input corpus, one case a file, in the order [`write_bad_corpus`] writes it.
pub const BAD_CASES: &[BadCase] = &[
    BadCase {
        file: "truncated.json.gz",
        case: "gzip cut at 90%: the complete records before the cut are kept, the file is reported",
    },
    BadCase {
        file: "corrupt-record.json",
        case: "`{\"Records\":[...]}` whose record 1 is invalid JSON: records 0 and 2 kept",
    },
    BadCase {
        file: "not-cloudtrail.json",
        case: "a JSON object that is not a CloudTrail record",
    },
    BadCase {
        file: "empty.json.gz",
        case: "zero bytes",
    },
    BadCase {
        file: "non-utf8.json",
        case: "record 1 has bytes that are not UTF-8",
    },
    BadCase {
        file: "gzip-bomb.json.gz",
        case: "about 65 KB that expands to 64 MiB of whitespace (over the 200x expansion cap)",
    },
    BadCase {
        file: "deep-nesting.json",
        case: "record 1 nests arrays 100,000 deep",
    },
    BadCase {
        file: "corrupt-lines.jsonl",
        case: "JSON Lines with a cut-off line and a line of text",
    },
    BadCase {
        file: "wrong-shape.json",
        case: "a bare array of a number, a string, a null and one record",
    },
    BadCase {
        file: "binary.json",
        case: "bytes that are not JSON at all",
    },
];

/// Writes every case of [`BAD_CASES`] into `dir` from [`records`].
pub fn write_bad_corpus(dir: &Path) -> Result<()> {
    create_dir(dir)?;
    let texts = record_texts();
    let [r0, r1, r2, ..] = &texts[..] else {
        unreachable!("records() holds six records")
    };

    // `{"Records": [a, b, ...]}` with ", " between records, cut at 90% of the gzip.
    let full = format!("{{\"Records\": [{}]}}", texts.join(", "));
    let compressed = gzip(full.as_bytes())?;
    let cut = compressed.len() * 9 / 10;
    write(dir, "truncated.json.gz", &compressed[..cut])?;

    // Record 1 loses the quotes around one key.
    let unquoted = r1.replacen("\"eventName\"", "eventName", 1);
    write(
        dir,
        "corrupt-record.json",
        format!("{{\"Records\":[{r0},{unquoted},{r2}]}}"),
    )?;

    write(
        dir,
        "not-cloudtrail.json",
        r#"{"name": "terraform.tfstate", "version": 4, "resources": []}"#,
    )?;
    write(dir, "empty.json.gz", b"")?;

    let mut non_utf8 = format!("{{\"Records\": [{r0}, ").into_bytes();
    let user_agent = "\"userAgent\":\"";
    let at = r1.find(user_agent).expect("record 1 has a user agent") + user_agent.len();
    non_utf8.extend_from_slice(&r1.as_bytes()[..at]);
    non_utf8.extend_from_slice(b"bad\xff\xfebytes\",\"userAgentWas\":\"");
    non_utf8.extend_from_slice(&r1.as_bytes()[at..]);
    non_utf8.extend_from_slice(b"]}");
    write(dir, "non-utf8.json", non_utf8)?;

    let bomb = gzip_best(&vec![b' '; 64 << 20])?;
    write(dir, "gzip-bomb.json.gz", bomb)?;

    let depth = 100_000;
    let deep = format!(
        "{{\"Records\":[{r0},{{\"eventVersion\":\"1.08\",\"requestParameters\":{}{}}},{r2}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    write(dir, "deep-nesting.json", deep)?;

    let cut_line = &r1[..50];
    write(
        dir,
        "corrupt-lines.jsonl",
        format!("{r0}\n{cut_line}\n{r2}\nnot json at all\n"),
    )?;
    write(dir, "wrong-shape.json", format!("[1, \"two\", null, {r0}]"))?;
    let binary: Vec<u8> = (0..1024).map(|i| (i % 256) as u8).collect();
    write(dir, "binary.json", binary)?;
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    gzip_at(bytes, Compression::default())
}

fn gzip_best(bytes: &[u8]) -> Result<Vec<u8>> {
    gzip_at(bytes, Compression::best())
}

fn gzip_at(bytes: &[u8], level: Compression) -> Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), level);
    let finish = encoder.write_all(bytes).and_then(|()| encoder.finish());
    finish.map_err(|e| Error::io("<gzip in memory>", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_has_its_own_event_id() {
        let records = records();
        let mut ids: Vec<&str> = records
            .iter()
            .map(|r| r["eventID"].as_str().unwrap())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), records.len());
    }

    #[test]
    fn the_corpus_writes_every_listed_case() {
        let tmp = tempfile::tempdir().unwrap();
        write_bad_corpus(tmp.path()).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut listed: Vec<&str> = BAD_CASES.iter().map(|c| c.file).collect();
        listed.sort_unstable();
        assert_eq!(names, listed);
    }
}
