//! `--shard K/N`: which input files one of N machines reads, chosen so that every copy of
//! one event falls in one shard.
//!
//! A trail file's place in the S3 export layout names the account, the region and the
//! UTC day of delivery (`AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/...`), and
//! an organization trail and an account trail that deliver the same event name the same
//! three (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html):
//! files are assigned by a hash of those three, so both copies of an event land in the
//! same shard and deduplication within it drops one. A file outside the layout is
//! assigned by its name.

use crate::error::{Error, Result};

/// Shard `index` (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: u32,
    /// How many shards in all.
    pub count: u32,
}

impl Shard {
    /// `K/N`, with K from 1 to N.
    pub fn parse(text: &str) -> Result<Shard> {
        let invalid = || Error::Config(format!("shard {text:?}: expected K/N with 1 <= K <= N"));
        let (k, n) = text.split_once('/').ok_or_else(invalid)?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| invalid())?,
            n.trim().parse().map_err(|_| invalid())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(invalid());
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// Whether the file named `source` (its name from `AWSLogs/` on) is this shard's.
    pub fn owns(&self, source: &str) -> bool {
        let key = delivery_key(source).unwrap_or(source);
        xxhash_rust::xxh3::xxh3_64(key.as_bytes()) % u64::from(self.count) == u64::from(self.index)
    }
}

/// `ACCOUNT/CloudTrail/REGION/YYYY/MM/DD` of a file in the S3 export layout, the same for
/// an organization trail's copy (`AWSLogs/o-ORG/ACCOUNT/...`) and an account trail's.
fn delivery_key(source: &str) -> Option<&str> {
    let after = &source[source.find("AWSLogs/")? + "AWSLogs/".len()..];
    let after = match after.strip_prefix("o-") {
        Some(rest) => &rest[rest.find('/')? + 1..],
        None => after,
    };
    // ACCOUNT / CloudTrail / REGION / YYYY / MM / DD: the first six components.
    let mut end = 0;
    for _ in 0..6 {
        end += after[end..].find('/')? + 1;
    }
    let key = &after[..end - 1];
    key.split('/').nth(1).filter(|s| *s == "CloudTrail")?;
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_from_one_based_k_of_n() {
        assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 0, count: 4 });
        assert_eq!(Shard::parse("4/4").unwrap(), Shard { index: 3, count: 4 });
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn organization_and_account_trail_copies_share_a_key() {
        let account = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/10/01/111122223333_CloudTrail_eu-west-1_20261001T0000Z_a.json.gz";
        let org = "AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/10/01/111122223333_CloudTrail_eu-west-1_20261001T0005Z_b.json.gz";
        assert_eq!(
            delivery_key(account),
            Some("111122223333/CloudTrail/eu-west-1/2026/10/01")
        );
        assert_eq!(delivery_key(account), delivery_key(org));
        assert_eq!(delivery_key("samples/one.json"), None);
        assert_eq!(delivery_key("AWSLogs/111122223333/other/x.json"), None);
        let shards: Vec<Shard> = (1..=4)
            .map(|k| Shard::parse(&format!("{k}/4")).unwrap())
            .collect();
        for source in [account, org, "samples/one.json"] {
            assert_eq!(
                shards.iter().filter(|s| s.owns(source)).count(),
                1,
                "{source}"
            );
        }
        let owner = |s: &str| shards.iter().position(|x| x.owns(s));
        assert_eq!(owner(account), owner(org));
    }
}
