//! Shared identities (one identity, several actors at once) and innocent look-alikes.

use super::{Builder, role_session};
use crate::synth::catalog::Api;
use crate::synth::clock;
use crate::synth::event::{Identity, Session};
use crate::synth::truth::{NotShared, SharedIdentity};
use crate::synth::world::agents;

impl Builder<'_> {
    /// Alternates calls between `actors` (address, agent) every `step` seconds: A, B, A, B.
    fn interleave(
        &mut self,
        account: usize,
        start: i64,
        rounds: usize,
        step: i64,
        identities: &[Identity],
        actors: &[(String, &str)],
        console: bool,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        for round in 0..rounds {
            for (i, (ip, agent)) in actors.iter().enumerate() {
                let t = start + (round * actors.len() + i) as i64 * step;
                let identity = &identities[i % identities.len()];
                let api = [
                    Api::DescribeInstances,
                    Api::ListBuckets,
                    Api::GetObject,
                    Api::ListRoles,
                ][round % 4];
                let mut ev = self.call(account, t, identity.clone(), "", "");
                ev.source_ip = ip.clone();
                ev.user_agent = agent.to_string();
                ev.console_session = console;
                let world = self.world;
                api.apply(&mut ev, &world.accounts[account], &mut self.rng);
                ids.push(self.emit(account, ev));
            }
        }
        ids
    }

    pub(super) fn push_shared(
        &mut self,
        scenario: &str,
        kind: &str,
        identity: &str,
        account: usize,
        ips: &[String],
        window: (i64, i64),
        ids: Vec<String>,
    ) {
        self.truth.shared_identities.push(SharedIdentity {
            scenario: scenario.into(),
            kind: kind.into(),
            identity: identity.into(),
            account_id: self.account_id(account),
            actors: ips.len() as u32,
            source_ips: ips.to_vec(),
            window: [clock::event_time(window.0), clock::event_time(window.1)],
            event_ids: ids,
        });
    }

    pub(super) fn push_not_shared(
        &mut self,
        scenario: &str,
        kind: &str,
        identity: &str,
        account: usize,
        why: &str,
        ids: Vec<String>,
    ) {
        self.truth.not_shared.push(NotShared {
            scenario: scenario.into(),
            kind: kind.into(),
            identity: identity.into(),
            account_id: self.account_id(account),
            why: why.into(),
            event_ids: ids,
        });
    }
}

pub(super) fn iam_user(
    b: &mut Builder<'_>,
    account: usize,
    name: &str,
    key: Option<String>,
    session: Option<Session>,
) -> Identity {
    Identity::IamUser {
        account: b.account_id(account),
        user_name: name.into(),
        principal_id: b.fresh_key("AIDA"),
        access_key: key,
        session,
        invoked_by: None,
    }
}

pub(super) fn inject(b: &mut Builder<'_>) {
    let world = b.world;
    let a = b.member(3);
    let acct = b.account_id(a);
    let day = b.mid_day();

    // An access key two machines use at once.
    let key = b.fresh_key("AKIA");
    let identity = iam_user(b, a, "shared-ops", Some(key.clone()), None);
    let ips = [b.fresh_ip(), b.fresh_ip()];
    let t = b.at(day, 14, 0);
    let ids = b.interleave(
        a,
        t,
        10,
        150,
        &[identity],
        &[
            (ips[0].clone(), agents::BOTO3),
            (ips[1].clone(), agents::TERRAFORM),
        ],
        false,
    );
    b.push_shared(
        "access_key_two_machines",
        "access_key",
        &key,
        a,
        &ips,
        (t, t + 19 * 150),
        ids,
    );

    // Root console sessions from two addresses on one day (flagged whatever the overlap).
    let ips = [b.fresh_ip(), b.fresh_ip()];
    let t1 = b.at(day, 8, 30);
    let t2 = b.at(day, 16, 0);
    let mut ids = vec![b.root_console_login(
        a,
        t1,
        &ips[0],
        agents::CHROME,
        true,
        true,
        Some("one of two addresses that day"),
    )];
    ids.extend(b.root_console_activity(a, t1, 3, &ips[0], true));
    ids.push(b.root_console_login(
        a,
        t2,
        &ips[1],
        agents::SAFARI,
        true,
        true,
        Some("one of two addresses that day"),
    ));
    ids.extend(b.root_console_activity(a, t2, 3, &ips[1], true));
    b.push_shared(
        "root_two_addresses",
        "root",
        &format!("arn:aws:iam::{acct}:root"),
        a,
        &ips,
        (t1, t2 + 16 * 60),
        ids,
    );

    // A role session whose credentials are used by its owner and by someone else at once.
    let u = 2;
    let user = world.iam_user(a, u);
    let human = &world.humans[world.accounts[a].users[u].human.unwrap_or(0)];
    let owner_ip = human.ip_on(world.seed, day).to_string();
    let other_ip = b.fresh_ip();
    let t = b.at(day, 11, 0);
    let issued = b.assume_role(
        a,
        &user,
        a,
        "Admin",
        &format!("{}-admin", human.name),
        t,
        &owner_ip,
        human.cli_agent,
        None,
    );
    let ids = b.interleave(
        a,
        t + 60,
        8,
        120,
        std::slice::from_ref(&issued.identity),
        &[
            (owner_ip.clone(), human.cli_agent),
            (other_ip.clone(), agents::GO),
        ],
        false,
    );
    let session_arn = issued.identity.arn().unwrap_or_default();
    let user_arn = user.arn().unwrap_or_default();
    let user_hop = crate::synth::truth::Hop {
        arn: user_arn.clone(),
        access_key_id: world.accounts[a].users[u].access_key.clone(),
        issuing_event_id: None,
        issuing_event_copy_id: None,
        issuing_api: None,
    };
    b.record_session(
        "stolen_session",
        &issued.identity,
        super::actor("IAMUser", &user_arn, None),
        "sts_chain",
        vec![user_hop, issued.hop],
        ids.clone(),
    );
    b.push_shared(
        "role_session_two_actors",
        "role_session",
        &session_arn,
        a,
        &[owner_ip, other_ip],
        (t + 60, t + 60 + 15 * 120),
        ids,
    );

    // One IAM user's console login shared by two people signed in at the same time.
    let t = b.at(day, 9, 0);
    let ips = [b.fresh_ip(), b.fresh_ip()];
    let principal = b.fresh_key("AIDA");
    let sessions: Vec<Identity> = (0..2)
        .map(|i| Identity::IamUser {
            account: acct.clone(),
            user_name: "ops-team".into(),
            principal_id: principal.clone(),
            access_key: Some(b.fresh_key("ASIA")),
            session: Some(Session::new(t + i * 300)),
            invoked_by: None,
        })
        .collect();
    let mut ids = Vec::new();
    for (i, ip) in ips.iter().enumerate() {
        let mut login = sessions[i].clone();
        if let Identity::IamUser {
            access_key,
            session,
            ..
        } = &mut login
        {
            *access_key = None;
            *session = None;
        }
        let agent = [agents::CHROME, agents::FIREFOX][i];
        let ev = b.console_login(a, t + i as i64 * 300, login, ip, agent, None, true);
        ids.push(b.emit(a, ev));
    }
    ids.extend(b.interleave(
        a,
        t + 600,
        10,
        180,
        &sessions,
        &[
            (ips[0].clone(), agents::CHROME),
            (ips[1].clone(), agents::FIREFOX),
        ],
        true,
    ));
    b.push_shared(
        "iam_user_console_two_people",
        "iam_user",
        &format!("arn:aws:iam::{acct}:user/ops-team"),
        a,
        &ips,
        (t, t + 600 + 19 * 180),
        ids,
    );

    look_alikes(b, a);
}

fn look_alikes(b: &mut Builder<'_>, a: usize) {
    let acct = b.account_id(a);
    let day = b.mid_day();

    // One person moving from home to the office: the same key, one address after the other.
    let key = b.fresh_key("AKIA");
    let identity = iam_user(b, a, "mobile-dev", Some(key.clone()), None);
    let (home, office) = (b.fresh_ip(), b.fresh_ip());
    let mut ids = b.activity(
        a,
        b.at(day, 7, 0),
        50,
        8,
        &identity,
        &home,
        agents::CLI_MAC,
        false,
    );
    ids.extend(b.activity(
        a,
        b.at(day, 8, 30),
        75,
        10,
        &identity,
        &office,
        agents::CLI_MAC,
        false,
    ));
    b.push_not_shared(
        "person_moves_networks",
        "access_key",
        &key,
        a,
        "one person: the home window ends before the office window starts",
        ids,
    );

    // A pipeline role used by CloudFormation on the pipeline's behalf: service addresses only.
    let role_id = b.fresh_key("AROA");
    let key = b.fresh_key("ASIA");
    let t = b.at(day, 13, 0);
    let mut identity = role_session(
        &acct,
        "cfn-deploy",
        &role_id,
        "AWSCloudFormation",
        &key,
        t,
        None,
    );
    if let Identity::AssumedRole { invoked_by, .. } = &mut identity {
        *invoked_by = Some("cloudformation.amazonaws.com".into());
    }
    let session_arn = identity.arn().unwrap_or_default();
    let mut ids = b.activity(
        a,
        t,
        20,
        12,
        &identity,
        "cloudformation.amazonaws.com",
        "cloudformation.amazonaws.com",
        false,
    );
    ids.extend(b.activity(
        a,
        t + 60,
        20,
        6,
        &identity,
        "AWS Internal",
        "AWS Internal",
        false,
    ));
    b.push_not_shared(
        "service_addresses",
        "role_session",
        &session_arn,
        a,
        "calls made by CloudFormation (invokedBy, service host names, AWS Internal)",
        ids,
    );

    // A role assumed by many people at once: each session is its own identity.
    let okta = format!("arn:aws:iam::{acct}:saml-provider/Okta");
    let t = b.at(day, 10, 0);
    let mut ids = Vec::new();
    for person in ["sam", "tariq", "uma", "vera", "wen"] {
        let ip = b.fresh_ip();
        let email = format!("{person}@example.com");
        let issued = b.federated_assume(
            a,
            false,
            &okta,
            &email,
            "ReadOnly",
            &email,
            t,
            &ip,
            agents::CHROME,
        );
        ids.extend(b.activity(
            a,
            t + 60,
            30,
            4,
            &issued.identity,
            &ip,
            agents::CHROME,
            true,
        ));
    }
    b.push_not_shared(
        "role_many_sessions",
        "role",
        &format!("arn:aws:iam::{acct}:role/ReadOnly"),
        a,
        "five sessions of one role, each with its own session name, key and address",
        ids,
    );
}
