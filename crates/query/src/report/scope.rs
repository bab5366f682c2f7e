//! Section 1 of the report: what the data covers (period, accounts, regions, identities,
//! input files) and how complete it is (days with no events, rejected records).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use serde::Serialize;

use super::table::{Table, integer, text};
use super::{Queries, queries};
use crate::Result;

/// At most this many unreadable input files are named.
const FAILED_INPUT_CAP: usize = 50;

/// What the data covers.
#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    /// Events in the report's period.
    pub events: i64,
    /// The first and last event.
    pub first_event: String,
    /// See `first_event`.
    pub last_event: String,
    /// Distinct accounts, regions and identities.
    pub accounts: i64,
    /// See `accounts`.
    pub regions: i64,
    /// See `accounts`.
    pub identities: i64,
    /// Per account: events, days with and without events.
    pub per_account: Vec<AccountScope>,
    /// Events per region.
    pub regions_table: Table,
    /// Input files the dataset holds records of (all runs), and those that could not be
    /// read, with why.
    pub input_files: usize,
    /// See `input_files`.
    pub failed_inputs: Vec<(String, String)>,
    /// How many input files could not be read in all.
    pub failed_inputs_total: usize,
    /// Records rejected (unparseable, wrong shape) and duplicates dropped, over all runs.
    pub records_rejected: u64,
    /// See `records_rejected`.
    pub records_duplicate: u64,
    /// Ingest runs committed.
    pub runs: usize,
}

/// One account's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct AccountScope {
    /// The account (`(none)` for records without one).
    pub account: String,
    /// Its events.
    pub events: i64,
    /// Days of the period with events of the account.
    pub days_with_events: usize,
    /// Days without events between the account's first and last day with events, as
    /// ranges (`2026-10-03` or `2026-10-03 to 2026-10-05`).
    pub days_without: Vec<String>,
    /// How many days without.
    pub days_without_count: usize,
}

pub(super) async fn gather(
    ctx: &SessionContext,
    manifest: &trailscope_ingest::Manifest,
    queries: &mut Queries,
) -> Result<Scope> {
    let totals = queries
        .table(
            ctx,
            "scope",
            "Events, period, accounts, regions and identities",
            queries::SCOPE_TOTALS,
        )
        .await?;
    let row = totals.rows.first().cloned().unwrap_or_default();
    let cell = |name: &str| {
        totals
            .column(name)
            .and_then(|i| row.get(i).cloned())
            .unwrap_or_default()
    };
    let days = queries
        .table(
            ctx,
            "account-days",
            "Events per account and day",
            queries::ACCOUNT_DAYS,
        )
        .await?;
    let regions_table = queries
        .table(ctx, "regions", "Events per region", queries::REGIONS)
        .await?;
    let failed_inputs = manifest
        .failed_inputs
        .iter()
        .take(FAILED_INPUT_CAP)
        .map(|(path, failed)| (path.clone(), failed.message.clone()))
        .collect();
    Ok(Scope {
        events: integer(&cell("events")),
        first_event: text(&cell("first_event")),
        last_event: text(&cell("last_event")),
        accounts: integer(&cell("accounts")),
        regions: integer(&cell("regions")),
        identities: integer(&cell("identities")),
        per_account: per_account(&days),
        regions_table,
        input_files: manifest.inputs.len(),
        failed_inputs,
        failed_inputs_total: manifest.failed_inputs.len(),
        records_rejected: manifest.runs.iter().map(|r| r.records_rejected).sum(),
        records_duplicate: manifest.runs.iter().map(|r| r.records_duplicate).sum(),
        runs: manifest.runs.len(),
    })
}

/// Each account's days with events, and the days without between its own first and last
/// day: an account that joined the trail later, or left it, is not counted as missing the
/// days it was not there.
fn per_account(days: &Table) -> Vec<AccountScope> {
    let Some([a, d, e]) = days.columns_of(["account", "day", "events"]) else {
        return Vec::new();
    };
    let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let mut out: Vec<AccountScope> = Vec::new();
    let mut seen: Vec<(String, BTreeSet<NaiveDate>, i64)> = Vec::new();
    for row in &days.rows {
        let account = text(&row[a]);
        if seen.last().is_none_or(|(name, ..)| *name != account) {
            seen.push((account, BTreeSet::new(), 0));
        }
        let entry = seen.last_mut().expect("pushed above");
        if let Some(day) = parse(&text(&row[d])) {
            entry.1.insert(day);
        }
        entry.2 += integer(&row[e]);
    }
    for (account, with, events) in seen {
        let missing: Vec<NaiveDate> = match (with.first(), with.last()) {
            (Some(first), Some(last)) => first
                .iter_days()
                .take_while(|day| day <= last)
                .filter(|day| !with.contains(day))
                .collect(),
            _ => Vec::new(),
        };
        out.push(AccountScope {
            account,
            events,
            days_with_events: with.len(),
            days_without_count: missing.len(),
            days_without: ranges(&missing),
        });
    }
    out
}

/// Consecutive days folded into ranges.
fn ranges(days: &[NaiveDate]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let start = days[i];
        let mut end = start;
        while i + 1 < days.len() && days[i + 1] == end.succ_opt().unwrap_or(end) {
            i += 1;
            end = days[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start} to {end}")
        });
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_days_fold_into_ranges() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let days = [
            d("2026-10-01"),
            d("2026-10-02"),
            d("2026-10-03"),
            d("2026-10-05"),
        ];
        assert_eq!(
            ranges(&days),
            vec![
                "2026-10-01 to 2026-10-03".to_string(),
                "2026-10-05".to_string()
            ]
        );
        assert!(ranges(&[]).is_empty());
    }

    #[test]
    fn days_without_events_are_counted_per_account() {
        let row = |a: &str, day: &str, n: i64| {
            vec![
                serde_json::Value::from(a),
                serde_json::Value::from(day),
                serde_json::Value::from(n),
            ]
        };
        let table = Table {
            query: "account-days".into(),
            columns: vec!["account".into(), "day".into(), "events".into()],
            rows: vec![
                row("111", "2026-10-01", 3),
                row("111", "2026-10-04", 1),
                row("222", "2026-10-02", 5),
            ],
        };
        let scope = per_account(&table);
        assert_eq!(scope.len(), 2);
        assert_eq!(scope[0].events, 4);
        assert_eq!(scope[0].days_without, vec!["2026-10-02 to 2026-10-03"]);
        assert_eq!(scope[0].days_without_count, 2);
        // One day of events: no gap inside its own span, whatever the others did.
        assert_eq!(scope[1].days_with_events, 1);
        assert_eq!(scope[1].days_without_count, 0);
    }
}
