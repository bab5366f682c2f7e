//! The ground truth must describe exactly what is in the trail: every event it names is
//! there with the properties it claims, and the root usage and sessions it lists are all
//! there are.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use trailscope_ingest::synth::{GroundTruth, Layout};

use super::{generated, small, trail_records};

struct Trail {
    truth: GroundTruth,
    records: Vec<(String, Value)>,
    by_id: HashMap<String, Value>,
}

fn trail(layout: Layout) -> Trail {
    let dir = tempfile::tempdir().unwrap();
    let mut options = small(dir.path().join("t"), 11);
    options.layout = layout;
    generated(&options);
    let text = std::fs::read(options.out.join("ground-truth.json")).unwrap();
    let truth: GroundTruth = serde_json::from_slice(&text).unwrap();
    let records = trail_records(&options.out);
    let by_id = records
        .iter()
        .map(|(_, r)| (r["eventID"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    Trail {
        truth,
        records,
        by_id,
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The CIS 1.7 / CloudWatch.1 filter for root activity.
fn is_root_usage(r: &Value) -> bool {
    s(&r["userIdentity"]["type"]) == "Root"
        && r["userIdentity"].get("invokedBy").is_none()
        && s(&r["eventType"]) != "AwsServiceEvent"
}

#[test]
fn totals_match_the_files() {
    let t = trail(Layout::Mixed);
    let n = &t.truth.totals;
    assert_eq!(t.records.len() as u64, n.records);
    let distinct: BTreeSet<(&str, &str)> = t
        .records
        .iter()
        .map(|(_, r)| (s(&r["eventID"]), s(&r["recipientAccountId"])))
        .collect();
    assert_eq!(distinct.len() as u64, n.unique_events);
    assert_eq!(n.records, n.unique_events + n.duplicate_records);
}

#[test]
fn root_usage_is_exactly_what_the_truth_lists() {
    let t = trail(Layout::Org);
    let in_trail: BTreeSet<&str> = t
        .records
        .iter()
        .filter(|(_, r)| is_root_usage(r))
        .map(|(_, r)| s(&r["eventID"]))
        .collect();
    let listed: BTreeSet<&str> = t
        .truth
        .root_usage
        .iter()
        .map(|u| u.event_id.as_str())
        .collect();
    assert_eq!(in_trail, listed);
    let kinds: BTreeSet<&str> = t.truth.root_usage.iter().map(|u| u.kind.as_str()).collect();
    for kind in [
        "console_signin",
        "console_activity",
        "failed_signin",
        "access_key_api",
        "create_access_key",
        "password_recovery",
        "mfa_change",
        "assume_root",
    ] {
        assert!(kinds.contains(kind), "no {kind} scenario");
    }
    for u in &t.truth.root_usage {
        let r = &t.by_id[&u.event_id];
        assert_eq!(s(&r["eventName"]), u.event_name);
        assert_eq!(s(&r["recipientAccountId"]), u.account_id);
        assert_eq!(s(&r["sourceIPAddress"]), u.source_ip);
        assert_eq!(s(&r["eventTime"]), u.time);
        let failed = r.get("errorMessage").is_some() || r.get("errorCode").is_some();
        assert_eq!(u.success, !failed, "{}", u.event_id);
        match u.kind.as_str() {
            "failed_signin" => assert_eq!(s(&r["responseElements"]["ConsoleLogin"]), "Failure"),
            "access_key_api" => assert!(s(&r["userIdentity"]["accessKeyId"]).starts_with("AKIA")),
            "create_access_key" => {
                assert!(r["requestParameters"].get("userName").is_none());
                assert!(s(&r["responseElements"]["accessKey"]["accessKeyId"]).starts_with("AKIA"));
            }
            "console_signin" => {
                let mfa = s(&r["additionalEventData"]["MFAUsed"]) == "Yes";
                assert_eq!(u.mfa, Some(mfa));
            }
            "assume_root" => {
                let actor = u.actor.as_ref().unwrap();
                let key = s(&r["userIdentity"]["accessKeyId"]);
                let issuing = t.records.iter().find(|(_, e)| {
                    s(&e["eventName"]) == "AssumeRoot"
                        && s(&e["responseElements"]["credentials"]["accessKeyId"]) == key
                });
                let (_, issuing) = issuing.expect("the AssumeRoot call is in the trail");
                assert_eq!(s(&issuing["userIdentity"]["arn"]), actor.id);
            }
            _ => {}
        }
    }
}

#[test]
fn root_look_alikes_are_not_root_usage() {
    let t = trail(Layout::Org);
    assert!(t.truth.not_root_usage.len() >= 3);
    for n in &t.truth.not_root_usage {
        let r = &t.by_id[&n.event_id];
        assert!(!is_root_usage(r), "{} is root usage", n.event_id);
        let rootish =
            s(&r["userIdentity"]["type"]) == "Root" || s(&r["userIdentity"]["userName"]) == "root";
        assert!(rootish, "{} does not even look like root", n.event_id);
    }
}

#[test]
fn sessions_list_every_event_of_their_key_and_their_issuing_calls() {
    let t = trail(Layout::Org);
    let methods: BTreeSet<&str> = t.truth.sessions.iter().map(|x| x.method.as_str()).collect();
    for method in [
        "sts_chain",
        "saml",
        "web_identity",
        "identity_center",
        "source_identity",
        "session_name",
        "unresolved",
    ] {
        assert!(methods.contains(method), "no {method} session");
    }
    for session in &t.truth.sessions {
        let signed: BTreeSet<&str> = t
            .records
            .iter()
            .filter(|(_, r)| s(&r["userIdentity"]["accessKeyId"]) == session.access_key_id)
            .map(|(_, r)| s(&r["eventID"]))
            .collect();
        let listed: BTreeSet<&str> = session.event_ids.iter().map(String::as_str).collect();
        assert_eq!(signed, listed, "{}", session.scenario);
        for id in &session.event_ids {
            assert_eq!(
                s(&t.by_id[id]["userIdentity"]["arn"]),
                session.principal_arn
            );
        }
        for hop in &session.hops {
            if let Some(id) = &hop.issuing_event_id {
                let issuing = &t.by_id[id];
                assert_eq!(Some(s(&issuing["eventName"])), hop.issuing_api.as_deref());
                if !hop.access_key_id.is_empty() {
                    assert_eq!(
                        s(&issuing["responseElements"]["credentials"]["accessKeyId"]),
                        hop.access_key_id
                    );
                }
            }
            if let Some(copy) = &hop.issuing_event_copy_id {
                let a = &t.by_id[hop.issuing_event_id.as_ref().unwrap()];
                let b = &t.by_id[copy];
                assert_eq!(a["sharedEventID"], b["sharedEventID"]);
                assert_ne!(a["recipientAccountId"], b["recipientAccountId"]);
                assert_eq!(s(&b["userIdentity"]["type"]), "AWSAccount");
            }
        }
        // The first hop of a chain is the actor's own credentials (or the portal call).
        if session.method == "sts_chain" && session.hops.len() > 1 {
            assert_eq!(session.hops[0].arn, session.actor.id);
        }
    }
}

/// Per identity, the (address, agent) pairs in use: overlapping windows of different
/// pairs mean several actors.
fn windows(t: &Trail, ids: &[String]) -> Vec<(String, i64, i64)> {
    let mut by_actor: HashMap<String, (i64, i64)> = HashMap::new();
    for id in ids {
        let r = &t.by_id[id];
        let time = s(&r["eventTime"]).to_string();
        let secs: i64 =
            time[11..13].parse::<i64>().unwrap() * 3600 + time[14..16].parse::<i64>().unwrap() * 60;
        let day: i64 = time[8..10].parse().unwrap();
        let at = day * 86_400 + secs;
        let w = by_actor
            .entry(s(&r["sourceIPAddress"]).to_string())
            .or_insert((at, at));
        w.0 = w.0.min(at);
        w.1 = w.1.max(at);
    }
    by_actor
        .into_iter()
        .map(|(ip, (a, b))| (ip, a, b))
        .collect()
}

#[test]
fn shared_identities_overlap_and_look_alikes_do_not() {
    let t = trail(Layout::Org);
    assert_eq!(t.truth.shared_identities.len(), 6);
    for shared in &t.truth.shared_identities {
        let w = windows(&t, &shared.event_ids);
        assert_eq!(w.len() as u32, shared.actors, "{}", shared.scenario);
        let mut ips: Vec<&str> = w.iter().map(|x| x.0.as_str()).collect();
        ips.sort();
        let mut listed: Vec<&str> = shared.source_ips.iter().map(String::as_str).collect();
        listed.sort();
        assert_eq!(ips, listed);
        if shared.kind == "workload_session" {
            // A workload's credentials used from one outside address with a laptop's
            // agent, after the workload itself used them from its own address.
            let outside = &t.by_id[&shared.event_ids[0]];
            let session = s(&outside["userIdentity"]["arn"]);
            assert!(
                session.rsplit('/').next().unwrap().starts_with("i-"),
                "{session}"
            );
            assert!(s(&outside["userAgent"]).contains("os/macos"));
            let own = t
                .by_id
                .values()
                .filter(|r| r["userIdentity"]["arn"].as_str() == Some(session))
                .filter(|r| {
                    !shared
                        .source_ips
                        .iter()
                        .any(|ip| r["sourceIPAddress"] == ip.as_str())
                })
                .count();
            assert!(own >= 10, "{own}");
        } else if shared.kind != "root" {
            // Concurrency: the two actors' windows overlap.
            assert!(
                w[0].1 <= w[1].2 && w[1].1 <= w[0].2,
                "{}: {w:?}",
                shared.scenario
            );
        }
    }
    for look in &t.truth.not_shared {
        let w = windows(&t, &look.event_ids);
        match look.scenario.as_str() {
            "person_moves_networks" => {
                assert_eq!(w.len(), 2);
                let (first, second) = if w[0].1 < w[1].1 {
                    (&w[0], &w[1])
                } else {
                    (&w[1], &w[0])
                };
                assert!(first.2 < second.1, "windows overlap: {w:?}");
            }
            "service_addresses" => {
                for (ip, ..) in &w {
                    assert!(
                        ip.ends_with(".amazonaws.com") || ip == "AWS Internal",
                        "{ip}"
                    );
                }
            }
            "role_many_sessions" => {
                let sessions: BTreeSet<&str> = look
                    .event_ids
                    .iter()
                    .map(|id| s(&t.by_id[id]["userIdentity"]["arn"]))
                    .collect();
                assert_eq!(sessions.len(), 5);
            }
            "instance_behind_vpc_endpoint" | "ecs_task" => {
                // A private address through a VPC endpoint, in turn with another one.
                assert_eq!(w.len(), 2, "{w:?}");
                let through_endpoint = look
                    .event_ids
                    .iter()
                    .filter(|id| t.by_id[*id]["vpcEndpointId"].is_string())
                    .count();
                assert!(
                    through_endpoint * 3 >= look.event_ids.len(),
                    "{through_endpoint}"
                );
                assert!(w[0].1 <= w[1].2 && w[1].1 <= w[0].2, "{w:?}");
            }
            "lambda_concurrency" => {
                assert_eq!(w.len(), 3);
                assert!(
                    look.event_ids.iter().all(|id| {
                        s(&t.by_id[id]["userAgent"]).contains("exec-env/AWS_Lambda_")
                    })
                );
            }
            "one_person_address_pool" => {
                assert!(w.len() >= 5, "{w:?}");
                let networks: BTreeSet<&str> = w
                    .iter()
                    .map(|(ip, ..)| ip.rsplit_once('.').unwrap().0)
                    .collect();
                assert_eq!(networks.len(), 1, "{w:?}");
            }
            other => panic!("unknown look-alike {other}"),
        }
    }
}
