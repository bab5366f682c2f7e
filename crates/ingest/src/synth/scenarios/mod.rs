//! Events placed at chosen times on top of the background: the issuing calls of the
//! background's sessions, and the injected scenarios with their ground truth.

// Scenario builders take an event's account, time, identity, address and agent as they
// read in CloudTrail; bundling them into structs would only rename the same arguments.
#![allow(clippy::too_many_arguments)]

mod chains;
mod privilege;
mod root;
mod shared;
mod workloads;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::synth::catalog::Api;
use crate::synth::clock::{self, DAY};
use crate::synth::event::{Event, Identity, Session};
use crate::synth::ids;
use crate::synth::truth::{ActorTruth, GroundTruth};
use crate::synth::world::World;

/// An event at a chosen time, with the account whose trail delivers it.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub account: usize,
    pub event: Event,
}

/// Builds scheduled events and the ground truth that describes them.
pub(crate) struct Builder<'w> {
    pub world: &'w World,
    pub rng: ChaCha8Rng,
    pub events: Vec<Scheduled>,
    pub truth: GroundTruth,
}

impl<'w> Builder<'w> {
    /// Seconds at `h:m` on day `day` of the trail (clamped into the trail).
    pub fn at(&self, day: i64, h: i64, m: i64) -> i64 {
        let day = day.clamp(0, self.world.days - 1);
        self.world.start + day * DAY + h * 3600 + m * 60
    }

    /// The last day of the trail, and the middle one.
    pub fn last_day(&self) -> i64 {
        self.world.days - 1
    }

    pub fn mid_day(&self) -> i64 {
        self.world.days / 2
    }

    /// An account index other than the management account, where there is one.
    pub fn member(&self, n: usize) -> usize {
        let count = self.world.accounts.len();
        if count == 1 {
            0
        } else {
            1 + (n - 1) % (count - 1)
        }
    }

    pub fn account_id(&self, account: usize) -> String {
        self.world.accounts[account].id.clone()
    }

    /// A new event with a fresh id; the caller fills it in and passes it to `emit`.
    pub fn call(
        &mut self,
        account: usize,
        time: i64,
        identity: Identity,
        source: &'static str,
        name: &'static str,
    ) -> Event {
        let id = ids::uuid(&mut self.rng);
        let region = self.world.regions[0].clone();
        let mut ev = Event::api_call(
            time,
            &self.world.accounts[account].id,
            &region,
            identity,
            source,
            name,
            id,
        );
        ev.request_id = Some(ids::uuid(&mut self.rng));
        ev
    }

    /// Schedules an event; returns its id.
    pub fn emit(&mut self, account: usize, event: Event) -> String {
        let id = event.event_id.clone();
        self.events.push(Scheduled { account, event });
        id
    }

    /// A console sign-in (`signin.amazonaws.com` ConsoleLogin), not yet emitted.
    /// `mfa_device` is the MFA device's ARN when MFA was used; a failed sign-in carries
    /// only an errorMessage.
    pub fn console_login(
        &mut self,
        account: usize,
        time: i64,
        identity: Identity,
        ip: &str,
        agent: &str,
        mfa_device: Option<&str>,
        success: bool,
    ) -> Event {
        let mut ev = self.call(
            account,
            time,
            identity,
            "signin.amazonaws.com",
            "ConsoleLogin",
        );
        ev.event_type = "AwsConsoleSignIn";
        ev.region = "us-east-1".into();
        ev.source_ip = ip.into();
        ev.user_agent = agent.into();
        ev.request_id = None;
        ev.tls = false;
        ev.response_elements = Some(format!(
            r#"{{"ConsoleLogin":"{}"}}"#,
            if success { "Success" } else { "Failure" }
        ));
        let mfa = match (success, mfa_device) {
            (true, Some(device)) => format!(r#""MFAIdentifier":"{device}","MFAUsed":"Yes""#),
            _ => r#""MFAUsed":"No""#.to_string(),
        };
        ev.additional_event_data = Some(format!(
            r#"{{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No",{mfa}}}"#
        ));
        if !success {
            ev.error = Some((String::new(), "Failed authentication".into()));
        }
        ev
    }

    /// The events just emitted with these ids (the last `ids.len()` scheduled), cloned.
    pub fn emitted(&self, ids: &[String]) -> Vec<Event> {
        let recent = &self.events[self.events.len() - ids.len()..];
        debug_assert!(
            recent
                .iter()
                .zip(ids)
                .all(|(s, id)| &s.event.event_id == id)
        );
        recent.iter().map(|s| s.event.clone()).collect()
    }

    /// `count` read-only calls spread over `minutes` from `start`.
    pub fn activity(
        &mut self,
        account: usize,
        start: i64,
        minutes: i64,
        count: usize,
        identity: &Identity,
        ip: &str,
        agent: &str,
        console: bool,
    ) -> Vec<String> {
        const APIS: &[Api] = &[
            Api::DescribeInstances,
            Api::ListBuckets,
            Api::ListRoles,
            Api::GetObject,
            Api::DescribeSecurityGroups,
            Api::GetCallerIdentity,
            Api::DescribeTrails,
        ];
        (0..count)
            .map(|i| {
                let t = start + (minutes * 60 * i as i64) / count.max(1) as i64;
                let api = APIS[self.rng.random_range(0..APIS.len())];
                let mut ev = self.call(account, t, identity.clone(), "", "");
                ev.source_ip = ip.to_string();
                ev.user_agent = agent.to_string();
                ev.console_session = console;
                let world = self.world;
                api.apply(&mut ev, &world.accounts[account], &mut self.rng);
                self.emit(account, ev)
            })
            .collect()
    }

    pub fn fresh_key(&mut self, prefix: &str) -> String {
        ids::iam_id(&mut self.rng, prefix)
    }

    pub fn fresh_ip(&mut self) -> String {
        crate::synth::world::random_public_ip(&mut self.rng)
    }
}

/// `responseElements` of an STS call that issued credentials.
pub fn credentials_response(
    key: &str,
    issued: i64,
    lifetime: i64,
    assumed: Option<(&str, &str)>,
    extra: &str,
) -> String {
    let assumed = assumed
        .map(|(id, arn)| format!(r#","assumedRoleUser":{{"assumedRoleId":"{id}","arn":"{arn}"}}"#))
        .unwrap_or_default();
    format!(
        r#"{{"credentials":{{"accessKeyId":"{key}","sessionToken":"IQoJb3JpZ2luX2VjEXAMPLE{key}","expiration":"{}"}}{assumed}{extra}}}"#,
        clock::event_time(issued + lifetime)
    )
}

/// A plain role session identity.
pub fn role_session(
    account: &str,
    role: &str,
    role_id: &str,
    session_name: &str,
    key: &str,
    created: i64,
    source_identity: Option<&str>,
) -> Identity {
    Identity::AssumedRole {
        account: account.to_string(),
        role_name: role.to_string(),
        role_id: role_id.to_string(),
        session_name: session_name.to_string(),
        access_key: key.to_string(),
        session: Session {
            source_identity: source_identity.map(str::to_string),
            ..Session::new(created)
        },
        invoked_by: None,
    }
}

pub fn actor(kind: &str, id: &str, provider: Option<&str>) -> ActorTruth {
    ActorTruth {
        kind: kind.to_string(),
        id: id.to_string(),
        provider: provider.map(str::to_string),
    }
}

/// The AssumeRole calls by EC2 and Lambda that issue the background workloads' sessions.
fn workload_issuance(b: &mut Builder<'_>) {
    let world = b.world;
    for (a, account) in world.accounts.iter().enumerate() {
        for (w, workload) in account.workloads.iter().enumerate() {
            let first = world.start.div_euclid(workload.session_secs);
            let last = (world.end() - 1).div_euclid(workload.session_secs);
            for slot in first..=last {
                let issued = slot * workload.session_secs;
                let session = world.workload_session(a, w, issued.max(world.start));
                let key = session.access_key().unwrap_or_default().to_string();
                let time = issued.max(world.start);
                let identity = Identity::AwsService {
                    invoked_by: workload.service.to_string(),
                };
                let mut ev = b.call(a, time, identity, "sts.amazonaws.com", "AssumeRole");
                ev.source_ip = workload.service.to_string();
                ev.user_agent = workload.service.to_string();
                ev.read_only = Some(true);
                let role_arn = format!("arn:aws:iam::{}:role/{}", account.id, workload.role.name);
                ev.request_parameters = Some(format!(
                    r#"{{"roleArn":"{role_arn}","roleSessionName":"{}"}}"#,
                    workload.session_name
                ));
                ev.response_elements = Some(credentials_response(
                    &key,
                    issued,
                    workload.session_secs + 3600,
                    Some((
                        &format!("{}:{}", workload.role.id, workload.session_name),
                        &session.arn().unwrap_or_default(),
                    )),
                    "",
                ));
                ev.resources = vec![crate::synth::event::Resource {
                    arn: role_arn,
                    account: Some(account.id.clone()),
                    kind: "AWS::IAM::Role",
                }];
                ev.shared_event_id = Some(ids::uuid(&mut b.rng));
                ev.tls = false;
                b.emit(a, ev);
            }
        }
    }
}

/// All scheduled events, sorted by time, and the ground truth of the scenarios.
pub fn build(world: &World) -> (Vec<Scheduled>, GroundTruth) {
    let mut b = Builder {
        world,
        rng: ids::rng_for(world.seed, "scenarios", 0),
        events: Vec::new(),
        truth: GroundTruth::default(),
    };
    workload_issuance(&mut b);
    root::inject(&mut b);
    chains::inject(&mut b);
    shared::inject(&mut b);
    workloads::inject(&mut b);
    privilege::inject(&mut b);
    let mut events = b.events;
    events.sort_by_key(|s| s.event.time);
    (events, b.truth)
}
