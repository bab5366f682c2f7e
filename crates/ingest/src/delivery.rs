//! Skipping the delivery days of an export before `--since` (`ingest --since`), for local
//! folders and S3 prefixes alike.
//!
//! CloudTrail files each log file under the `YYYY/MM/DD` of its delivery, and "a log file
//! delivered at a specific time can contain records written at any point before that
//! time" (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html>).
//! So a folder delivered before the day of `--since` holds only older records and is
//! skipped whole, unlisted. No folder can be skipped for an upper bound: a later delivery
//! may carry records of any earlier time.

use crate::time::days_from_civil;

/// Whether the export folder whose path (or S3 prefix) has these components was delivered
/// entirely before day `since_day` (days since 1970-01-01). Only folders under
/// `CloudTrail/<region>/` named `YYYY`, `YYYY/MM` or `YYYY/MM/DD` can be; any other path
/// never is.
pub fn delivered_before<'a>(components: impl IntoIterator<Item = &'a str>, since_day: i64) -> bool {
    let components: Vec<&str> = components.into_iter().filter(|c| !c.is_empty()).collect();
    let Some(at) = components.iter().rposition(|c| *c == "CloudTrail") else {
        return false;
    };
    let date: Vec<&str> = components.iter().skip(at + 2).copied().collect();
    let number = |text: &str, len: usize| {
        (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<i64>().ok())
            .flatten()
    };
    let last_day = match date.as_slice() {
        [year] => number(year, 4).map(|y| days_from_civil(y, 12, 31)),
        [year, month] => match (number(year, 4), number(month, 2)) {
            (Some(y), Some(m)) if (1..=12).contains(&m) => {
                let (next_y, next_m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                Some(days_from_civil(next_y, next_m, 1) - 1)
            }
            _ => None,
        },
        [year, month, day] => match (number(year, 4), number(month, 2), number(day, 2)) {
            (Some(y), Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d) => {
                Some(days_from_civil(y, m, d))
            }
            _ => None,
        },
        _ => None,
    };
    last_day.is_some_and(|last| last < since_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn before(path: &str, since: (i64, i64, i64)) -> bool {
        delivered_before(path.split('/'), days_from_civil(since.0, since.1, since.2))
    }

    #[test]
    fn whole_years_months_and_days_before_since_are_skipped() {
        let region = "AWSLogs/111/CloudTrail/eu-west-1";
        assert!(before(&format!("{region}/2025"), (2026, 3, 2)));
        assert!(!before(&format!("{region}/2026"), (2026, 3, 2)));
        assert!(before(&format!("{region}/2026/02"), (2026, 3, 1)));
        assert!(!before(&format!("{region}/2026/03"), (2026, 3, 31)));
        assert!(before(&format!("{region}/2026/03/01"), (2026, 3, 2)));
        // The day of --since itself holds records of that day: read.
        assert!(!before(&format!("{region}/2026/03/02"), (2026, 3, 2)));
        assert!(!before(&format!("{region}/2026/03/02/"), (2026, 3, 2)));
    }

    #[test]
    fn other_paths_are_never_skipped() {
        assert!(!before("AWSLogs/111/CloudTrail", (2026, 3, 2)));
        assert!(!before("AWSLogs/111/CloudTrail/eu-west-1", (2026, 3, 2)));
        assert!(!before("backup/2020/01/01", (2026, 3, 2)));
        assert!(!before(
            "AWSLogs/111/CloudTrail/eu-west-1/20/01",
            (2026, 3, 2)
        ));
        assert!(!before(
            "AWSLogs/111/CloudTrail/eu-west-1/2020/13",
            (2026, 3, 2)
        ));
        assert!(!before(
            "AWSLogs/111/CloudTrail/eu-west-1/2020/01/01/x.json.gz",
            (2026, 3, 2)
        ));
    }
}
