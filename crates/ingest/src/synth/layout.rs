//! Where CloudTrail puts files in its S3 bucket
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html>):
//! `AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<unique>.json.gz`,
//! with digest files under `CloudTrail-Digest/` and Insight events under `CloudTrail-Insight/`.

use std::fmt;
use std::str::FromStr;

use crate::synth::clock;

/// How the trail's files are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// One trail per account: `AWSLogs/<account>/...`.
    Account,
    /// An organization trail: `AWSLogs/<org-id>/<account>/...`.
    #[default]
    Org,
    /// The organization trail, plus an account trail of one member account that delivers
    /// that account's events a second time.
    Mixed,
}

impl FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "account" => Ok(Layout::Account),
            "org" => Ok(Layout::Org),
            "mixed" => Ok(Layout::Mixed),
            other => Err(format!("unknown layout {other:?} (account, org or mixed)")),
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Account => "account",
            Layout::Org => "org",
            Layout::Mixed => "mixed",
        })
    }
}

/// The prefix of an account's files: with or without the organization folder.
pub fn prefix(org: Option<&str>, account: &str) -> String {
    match org {
        Some(org) => format!("AWSLogs/{org}/{account}"),
        None => format!("AWSLogs/{account}"),
    }
}

/// A trail file's path under the output directory.
pub fn trail_file(
    prefix: &str,
    account: &str,
    region: &str,
    delivery: i64,
    unique: &str,
) -> String {
    let stamp = clock::compact(delivery);
    format!(
        "{prefix}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}Z_{unique}.json.gz",
        clock::date_path(delivery),
        &stamp[..13]
    )
}

/// A digest file's path.
pub fn digest_file(prefix: &str, account: &str, region: &str, trail: &str, time: i64) -> String {
    format!(
        "{prefix}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{trail}_{region}_{}.json.gz",
        clock::date_path(time),
        clock::compact(time)
    )
}

/// An Insight events file's path.
pub fn insight_file(prefix: &str, account: &str, region: &str, time: i64, unique: &str) -> String {
    let stamp = clock::compact(time);
    format!(
        "{prefix}/CloudTrail-Insight/{region}/{}/{account}_CloudTrail-Insight_{region}_{}Z_{unique}.json.gz",
        clock::date_path(time),
        &stamp[..13]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_s3_layout() {
        let t = clock::parse_date("2026-10-01").unwrap() + 3600 + 5 * 60;
        let p = prefix(Some("o-abc"), "111122223333");
        assert_eq!(
            trail_file(&p, "111122223333", "us-east-1", t, "XyZ"),
            "AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2026/10/01/111122223333_CloudTrail_us-east-1_20261001T0105Z_XyZ.json.gz"
        );
        assert!(
            digest_file(&prefix(None, "1"), "1", "eu-west-1", "org-trail", t)
                .starts_with("AWSLogs/1/CloudTrail-Digest/eu-west-1/2026/10/01/1_CloudTrail-Digest_eu-west-1_org-trail_eu-west-1_20261001T010500Z")
        );
    }
}
