//! Section 5 of the report: each identity a shared-identity detection flagged, with the
//! evidence events in time order, so that the interleaving of addresses shows.

use std::collections::BTreeMap;

use datafusion::prelude::SessionContext;
use serde::Serialize;

use super::table::text;
use super::{Finding, Queries, SHARED_CAP, SHARED_EVENT_CAP, queries};
use crate::Result;

/// The detections whose findings are one identity used by several people or machines.
pub const SHARED_DETECTIONS: &[&str] = &[
    "root-shared-console",
    "shared-access-key",
    "shared-iam-user-console",
    "shared-role-session",
    "access-key-human-and-automation",
    "workload-credentials-outside",
];

/// One flagged identity.
#[derive(Debug, Clone, Serialize)]
pub struct SharedIdentity {
    /// The finding.
    pub finding_id: String,
    /// Its detection and severity.
    pub detection_id: String,
    /// See `detection_id`.
    pub severity: String,
    /// The identity.
    pub principal: String,
    /// The account.
    pub account_id: String,
    /// Distinct addresses among the events listed, in order of first use.
    pub addresses: Vec<String>,
    /// The first evidence events (at most [`SHARED_EVENT_CAP`]), in time order.
    pub events: Vec<SharedEvent>,
    /// Evidence events in all (the finding's event count).
    pub events_total: usize,
    /// How often the address changes from one listed event to the next.
    pub switches: usize,
}

/// One evidence event.
#[derive(Debug, Clone, Serialize)]
pub struct SharedEvent {
    /// When (UTC).
    pub time: String,
    /// From where.
    pub address: String,
    /// With what client.
    pub client: String,
    /// Doing what.
    pub event_name: String,
    /// Its id.
    pub event_id: String,
}

pub(super) async fn gather(
    ctx: &SessionContext,
    findings: &[Finding],
    queries: &mut Queries,
) -> Result<Vec<SharedIdentity>> {
    let flagged: Vec<&Finding> = findings
        .iter()
        .filter(|f| SHARED_DETECTIONS.contains(&f.detection_id.as_str()))
        .take(SHARED_CAP)
        .collect();
    if flagged.is_empty() {
        return Ok(Vec::new());
    }
    let ids = flagged
        .iter()
        .map(|f| crate::literal(&f.finding_id))
        .collect::<Vec<_>>()
        .join(", ");
    let table = queries
        .table(
            ctx,
            "shared-events",
            "The evidence events of the shared-identity findings",
            &queries::fill(
                queries::SHARED_EVENTS,
                &[("findings", ids), ("cap", SHARED_EVENT_CAP.to_string())],
            ),
        )
        .await?;
    let mut by_finding: BTreeMap<String, Vec<SharedEvent>> = BTreeMap::new();
    let col = |name: &str| table.column(name).unwrap_or(usize::MAX);
    let (f, t, ip, c, n, e) = (
        col("finding_id"),
        col("event_time"),
        col("source_ip_address"),
        col("client"),
        col("event_name"),
        col("event_id"),
    );
    let cell = |row: &Vec<serde_json::Value>, i: usize| row.get(i).map(text).unwrap_or_default();
    for row in &table.rows {
        by_finding
            .entry(cell(row, f))
            .or_default()
            .push(SharedEvent {
                time: cell(row, t),
                address: cell(row, ip),
                client: cell(row, c),
                event_name: cell(row, n),
                event_id: cell(row, e),
            });
    }
    Ok(flagged
        .into_iter()
        .map(|finding| {
            let events = by_finding.remove(&finding.finding_id).unwrap_or_default();
            debug_assert!(events.len() <= SHARED_EVENT_CAP);
            let events_total = usize::try_from(finding.event_count).unwrap_or(0);
            let mut addresses: Vec<String> = Vec::new();
            for event in &events {
                if !addresses.contains(&event.address) {
                    addresses.push(event.address.clone());
                }
            }
            let switches = events
                .windows(2)
                .filter(|w| w[0].address != w[1].address)
                .count();
            SharedIdentity {
                finding_id: finding.finding_id.clone(),
                detection_id: finding.detection_id.clone(),
                severity: finding.severity.clone(),
                principal: finding.principal.clone(),
                account_id: finding.account_id.clone(),
                addresses,
                events,
                events_total,
                switches,
            }
        })
        .collect())
}
