//! The report's data: what it says of a generated trail agrees with the generator's
//! ground truth (and is snapshotted, so that a change in what it says shows), and on the
//! shared real trails its numbers add up with each other and with the dataset.

use std::collections::BTreeSet;
use std::path::Path;

use trailscope_ingest::synth::SynthOptions;
use trailscope_ingest::{IngestOptions, Silent, ingest};
use trailscope_query::QueryOptions;
use trailscope_query::report::{Report, ReportRequest, gather};

use crate::{real_dataset, samples_dataset, scalar};

async fn report_of(dataset: &Path) -> (Report, datafusion::prelude::SessionContext) {
    let ctx = trailscope_query::open_session(dataset, &QueryOptions::default())
        .await
        .unwrap();
    let request = ReportRequest {
        title: "test".into(),
        dataset_label: "LAKE".into(),
        ..Default::default()
    };
    let manifest = trailscope_ingest::Manifest::load(dataset).unwrap();
    (gather(&ctx, &manifest, &request).await.unwrap(), ctx)
}

/// What must hold of any report: its numbers add up, and each table names a query the
/// report lists.
async fn assert_consistent(report: &Report, ctx: &datafusion::prelude::SessionContext) {
    let ids: BTreeSet<&str> = report.queries.iter().map(|q| q.id.as_str()).collect();
    let mut tables = vec![
        &report.root_events,
        &report.actors,
        &report.activity,
        &report.top_events,
        &report.top_errors,
        &report.scope.regions_table,
    ];
    tables.extend(report.privilege.as_ref());
    for table in tables {
        assert!(
            ids.contains(table.query.as_str()),
            "{} not listed",
            table.query
        );
    }
    let events = scalar(ctx, "SELECT count(*) FROM events").await;
    assert_eq!(report.scope.events, events);
    assert_eq!(
        report
            .scope
            .per_account
            .iter()
            .map(|a| a.events)
            .sum::<i64>(),
        events
    );
    let activity: i64 = report
        .activity
        .rows
        .iter()
        .map(|r| trailscope_query::report::integer(&r[2]))
        .sum();
    assert_eq!(activity, events, "activity per day adds up to the events");
    let root_uses = scalar(ctx, "SELECT count(*) FROM signed_events WHERE root_use").await;
    assert_eq!(report.root_events_total as i64, root_uses);
    assert_eq!(
        report.root.iter().map(|r| r.events).sum::<i64>(),
        root_uses,
        "per-account root uses add up"
    );
    for r in &report.root {
        assert_eq!(
            r.events,
            r.signins + r.failed_signins + r.calls + r.failed_calls,
            "{}",
            r.account
        );
        assert_eq!(r.locked_away, r.signins == 0 && r.calls == 0);
    }
    assert_eq!(
        report.findings.len() as i64,
        scalar(ctx, "SELECT count(*) FROM findings").await
    );
    for shared in &report.shared {
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.finding_id == shared.finding_id),
            "{}",
            shared.finding_id
        );
        assert_eq!(shared.events.len().min(500), shared.events.len());
    }
    for actor in &report.chains {
        for path in &actor.paths {
            // The actor, then each role of the chain (none for a user's own calls).
            assert!(!path.hops.is_empty(), "{}", actor.actor);
            assert!(!path.actions.is_empty(), "{:?}", path.hops);
            assert!(path.sessions >= 1 && path.events >= 1);
        }
    }
}

#[tokio::test]
async fn the_report_of_a_generated_trail_agrees_with_its_ground_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let mut options = SynthOptions::new(tmp.path().join("trail"));
    options.size_bytes = 2 << 20;
    options.seed = 1;
    let truth = trailscope_ingest::synth::generate(&options).unwrap().truth;
    let dataset = tmp.path().join("lake");
    ingest(
        &IngestOptions::new(vec![options.out.join("AWSLogs")], dataset.clone()),
        &Silent,
    )
    .unwrap();
    let (report, ctx) = report_of(&dataset).await;
    assert_consistent(&report, &ctx).await;

    // Every account is listed; root is in use exactly where the generator used it
    // successfully, and every injected root use is in the list.
    let accounts: BTreeSet<String> = truth.accounts.iter().map(|a| a.id.clone()).collect();
    let listed: BTreeSet<String> = report.root.iter().map(|r| r.account.clone()).collect();
    assert_eq!(listed, accounts);
    let in_use: BTreeSet<String> = truth
        .root_usage
        .iter()
        .filter(|r| r.success)
        .map(|r| r.account_id.clone())
        .collect();
    let reported: BTreeSet<String> = report
        .root
        .iter()
        .filter(|r| !r.locked_away)
        .map(|r| r.account.clone())
        .collect();
    assert_eq!(reported, in_use);
    assert_eq!(report.root_events_total, truth.root_usage.len());
    let listed_ids: BTreeSet<String> = report.root_events.texts("event_id").into_iter().collect();
    for root_use in &truth.root_usage {
        assert!(
            listed_ids.contains(&root_use.event_id),
            "{}",
            root_use.event_id
        );
    }

    // Each injected shared identity has a timeline of its evidence: every address on it
    // is one the generator's actors used, and the interleaving ones show two or more (a
    // workload's credentials used outside show the outside uses: one address can do).
    assert_eq!(report.shared.len(), truth.shared_identities.len());
    for identity in &truth.shared_identities {
        let shown = report
            .shared
            .iter()
            .find(|s| {
                s.account_id == identity.account_id
                    && s.events
                        .iter()
                        .any(|e| identity.source_ips.contains(&e.address))
            })
            .unwrap_or_else(|| panic!("{} has no timeline", identity.identity));
        for address in &shown.addresses {
            assert!(
                identity.source_ips.contains(address),
                "{address} in {shown:?}"
            );
        }
        let least = if identity.kind == "workload_session" {
            1
        } else {
            2
        };
        assert!(shown.addresses.len() >= least, "{shown:?}");
    }

    insta::assert_snapshot!(
        "report_data_of_the_generated_trail",
        serde_json::to_string_pretty(&report).unwrap()
    );
}

#[tokio::test]
async fn the_report_of_real_trails_adds_up() {
    for (name, open) in [
        ("real", real_dataset as fn(&Path) -> _),
        ("samples", samples_dataset),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let Some((dataset, _)) = open(tmp.path()) else {
            return;
        };
        let (report, ctx) = report_of(&dataset).await;
        assert_consistent(&report, &ctx).await;
        assert!(report.scope.input_files > 0, "{name}");
        assert!(!report.actors.rows.is_empty(), "{name}");
    }
}
