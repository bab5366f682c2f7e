//! Section 2 of the report: the root user, per account, with a verdict: locked away (no
//! root sign-in or call in the period) or not. Root use is the CIS definition, as the
//! `root-activity` detection reads it: type Root, no `invokedBy`, not an AwsServiceEvent
//! (CIS AWS Foundations Benchmark, "Ensure use of the root user is monitored").

use datafusion::prelude::SessionContext;
use serde::Serialize;

use super::scope::Scope;
use super::table::{Table, integer, text};
use super::{Finding, Queries, ROOT_EVENT_CAP, queries};
use crate::Result;

/// One account's root use.
#[derive(Debug, Clone, Serialize)]
pub struct RootAccount {
    /// The account.
    pub account: String,
    /// No successful root sign-in or call in the period.
    pub locked_away: bool,
    /// The verdict in words.
    pub verdict: String,
    /// Root uses in all (sign-ins, calls, failures).
    pub events: i64,
    /// Successful console sign-ins, and how many of them with MFA.
    pub signins: i64,
    /// See `signins`.
    pub signins_with_mfa: i64,
    /// Failed sign-ins.
    pub failed_signins: i64,
    /// Successful and failed calls (other than sign-ins).
    pub calls: i64,
    /// See `calls`.
    pub failed_calls: i64,
    /// Long-term root access keys (AKIA...) that signed calls.
    pub access_keys: Vec<String>,
    /// Root access keys created.
    pub access_keys_created: i64,
    /// The last successful root use, and the last attempt.
    pub last_use: String,
    /// See `last_use`.
    pub last_attempt: String,
    /// Findings of root detections (`root-*`) in the account.
    pub findings: usize,
}

pub(super) async fn gather(
    ctx: &SessionContext,
    scope: &Scope,
    findings: &[Finding],
    queries: &mut Queries,
) -> Result<(Vec<RootAccount>, Table, usize)> {
    let by_account = queries
        .table(
            ctx,
            "root-by-account",
            "Root use per account (CIS: type Root, no invokedBy, not an AwsServiceEvent)",
            queries::ROOT_BY_ACCOUNT,
        )
        .await?;
    let events = queries
        .table(
            ctx,
            "root-events",
            "Every root use, in time order",
            &queries::fill(queries::ROOT_EVENTS, &[("cap", ROOT_EVENT_CAP.to_string())]),
        )
        .await?;
    let total = usize::try_from(by_account.column("events").map_or(0, |i| {
        by_account.rows.iter().map(|r| integer(&r[i])).sum::<i64>()
    }))
    .unwrap_or(0);
    debug_assert!(events.rows.len() <= ROOT_EVENT_CAP);

    let mut accounts: Vec<String> = scope
        .per_account
        .iter()
        .map(|a| a.account.clone())
        .collect();
    for account in by_account.texts("account") {
        if !accounts.contains(&account) {
            accounts.push(account);
        }
    }
    let rows = accounts
        .into_iter()
        .map(|account| {
            let row = by_account
                .column("account")
                .and_then(|i| by_account.rows.iter().find(|r| text(&r[i]) == account));
            let get = |name: &str| {
                row.and_then(|r| by_account.column(name).map(|i| r[i].clone()))
                    .unwrap_or_default()
            };
            let root_findings = findings
                .iter()
                .filter(|f| f.detection_id.starts_with("root-") && f.account_id == account)
                .count();
            account_row(account, &get, root_findings)
        })
        .collect();
    Ok((rows, events, total))
}

fn account_row(
    account: String,
    get: &dyn Fn(&str) -> serde_json::Value,
    findings: usize,
) -> RootAccount {
    let access_keys: Vec<String> = text(&get("access_keys"))
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut row = RootAccount {
        account,
        locked_away: false,
        verdict: String::new(),
        events: integer(&get("events")),
        signins: integer(&get("signins")),
        signins_with_mfa: integer(&get("signins_with_mfa")),
        failed_signins: integer(&get("failed_signins")),
        calls: integer(&get("calls")),
        failed_calls: integer(&get("failed_calls")),
        access_keys,
        access_keys_created: integer(&get("access_keys_created")),
        last_use: text(&get("last_use")),
        last_attempt: text(&get("last_attempt")),
        findings,
    };
    row.locked_away = row.signins == 0 && row.calls == 0;
    row.verdict = verdict(&row);
    row
}

/// The verdict in one sentence.
fn verdict(r: &RootAccount) -> String {
    let mut out = if r.locked_away {
        "Root locked away: no root sign-in or call in the period".to_string()
    } else if !r.access_keys.is_empty() {
        format!(
            "Root in use, with access keys ({}): {}, {}, last on {}",
            r.access_keys.join(", "),
            counted(r.signins, "sign-in"),
            counted(r.calls, "call"),
            r.last_use
        )
    } else {
        format!(
            "Root in use: {} ({} without MFA), {}, last on {}",
            counted(r.signins, "sign-in"),
            r.signins - r.signins_with_mfa,
            counted(r.calls, "call"),
            r.last_use
        )
    };
    let attempts = r.failed_signins + r.failed_calls;
    if attempts > 0 {
        out.push_str(&format!("; {}", counted(attempts, "failed attempt")));
    }
    if r.access_keys_created > 0 {
        out.push_str(&format!(
            "; {} created",
            counted(r.access_keys_created, "root access key")
        ));
    }
    out
}

/// `n` and the noun, plural unless one.
fn counted(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[(&str, serde_json::Value)]) -> RootAccount {
        let values = values.to_vec();
        account_row(
            "111122223333".into(),
            &move |name| {
                values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            },
            0,
        )
    }

    #[test]
    fn an_account_without_root_use_is_locked_away_even_with_failed_attempts() {
        let r = row(&[("failed_signins", 3.into())]);
        assert!(r.locked_away);
        assert!(r.verdict.starts_with("Root locked away"), "{}", r.verdict);
        assert!(r.verdict.ends_with("3 failed attempts"), "{}", r.verdict);
    }

    #[test]
    fn root_access_keys_are_named_in_the_verdict() {
        let r = row(&[
            ("calls", 4.into()),
            ("access_keys", "AKIAEXAMPLE1 AKIAEXAMPLE2".into()),
            ("last_use", "2026-10-02 10:00:00".into()),
        ]);
        assert!(!r.locked_away);
        assert_eq!(r.access_keys.len(), 2);
        assert!(
            r.verdict.contains("AKIAEXAMPLE1, AKIAEXAMPLE2"),
            "{}",
            r.verdict
        );
    }

    #[test]
    fn sign_ins_without_mfa_are_counted() {
        let r = row(&[("signins", 3.into()), ("signins_with_mfa", 1.into())]);
        assert!(
            r.verdict.contains("3 sign-ins (2 without MFA)"),
            "{}",
            r.verdict
        );
    }
}
