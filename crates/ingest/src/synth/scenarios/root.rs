//! Root user scenarios: every kind of root usage, and events that only look like it.
//!
//! Root usage follows the CIS AWS Foundations Benchmark / Security Hub CloudWatch.1 metric
//! filter: `userIdentity.type = "Root"`, no `userIdentity.invokedBy`, and
//! `eventType != "AwsServiceEvent"`
//! (<https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1>).

use super::{Builder, actor, credentials_response};
use crate::synth::clock;
use crate::synth::event::{Event, Identity, Session};
use crate::synth::truth::{NotRootUse, RootUse};
use crate::synth::world::agents;

fn root(account: &str, key: Option<&str>, session: Option<Session>) -> Identity {
    Identity::Root {
        account: account.to_string(),
        access_key: key.map(str::to_string),
        invoked_by: None,
        session,
        assumed_root: false,
    }
}

impl Builder<'_> {
    fn record_root(&mut self, ev: &Event, kind: &str, mfa: Option<bool>, note: Option<&str>) {
        self.truth.root_usage.push(RootUse {
            event_id: ev.event_id.clone(),
            account_id: ev.account.clone(),
            event_name: ev.name.to_string(),
            kind: kind.to_string(),
            success: ev.error.is_none(),
            mfa,
            source_ip: ev.source_ip.clone(),
            time: clock::event_time(ev.time),
            actor: None,
            note: note.map(str::to_string),
        });
    }

    /// A root console sign-in (success or failure) and the record of it.
    pub(super) fn root_console_login(
        &mut self,
        account: usize,
        time: i64,
        ip: &str,
        agent: &str,
        mfa: bool,
        success: bool,
        note: Option<&str>,
    ) -> String {
        let acct = self.account_id(account);
        let device = format!("arn:aws:iam::{acct}:mfa/root-account-mfa-device");
        let ev = self.console_login(
            account,
            time,
            root(&acct, None, None),
            ip,
            agent,
            mfa.then_some(device.as_str()),
            success,
        );
        let kind = if success {
            "console_signin"
        } else {
            "failed_signin"
        };
        self.record_root(&ev, kind, Some(mfa && success), note);
        self.emit(account, ev)
    }

    /// Console calls by a signed-in root user.
    pub(super) fn root_console_activity(
        &mut self,
        account: usize,
        start: i64,
        count: usize,
        ip: &str,
        mfa: bool,
    ) -> Vec<String> {
        let acct = self.account_id(account);
        let key = self.fresh_key("ASIA");
        let identity = root(&acct, Some(&key), Some(Session::new(start).with_mfa(mfa)));
        let ids = self.activity(
            account,
            start + 60,
            15,
            count,
            &identity,
            ip,
            agents::CHROME,
            true,
        );
        for ev in self.emitted(&ids) {
            self.record_root(&ev, "console_activity", None, None);
        }
        ids
    }
}

pub(super) fn inject(b: &mut Builder<'_>) {
    let a = b.member(1);
    let acct = b.account_id(a);
    let office = b.fresh_ip();
    let elsewhere = b.fresh_ip();
    let attacker = b.fresh_ip();

    // Console sign-in with MFA and some console work.
    let t = b.at(0, 9, 12);
    b.root_console_login(a, t, &office, agents::CHROME, true, true, None);
    b.root_console_activity(a, t, 3, &office, true);

    // A brute-force attempt: six failures within ten minutes from one address.
    for i in 0..6 {
        let t = b.at(0, 3, 0) + i * 90;
        b.root_console_login(
            a,
            t,
            &attacker,
            agents::FIREFOX,
            false,
            false,
            Some("burst of failures"),
        );
    }

    // Root creates an access key for itself (no userName), then uses it from the CLI.
    let t = b.at(1, 13, 50);
    b.root_console_login(
        a,
        t,
        &office,
        agents::CHROME,
        false,
        true,
        Some("sign-in without MFA"),
    );
    let key = b.fresh_key("AKIA");
    let console_key = b.fresh_key("ASIA");
    let identity = root(
        &acct,
        Some(&console_key),
        Some(Session::new(t).with_mfa(false)),
    );
    let mut ev = b.call(
        a,
        t + 300,
        identity.clone(),
        "iam.amazonaws.com",
        "CreateAccessKey",
    );
    ev.source_ip = office.clone();
    ev.user_agent = agents::CHROME.into();
    ev.console_session = true;
    ev.region = "us-east-1".into();
    ev.response_elements = Some(format!(
        r#"{{"accessKey":{{"accessKeyId":"{key}","status":"Active","createDate":"{}"}}}}"#,
        clock::event_time(t + 300)
    ));
    b.record_root(&ev, "create_access_key", None, None);
    b.emit(a, ev);

    // Root MFA device changes.
    for (offset, name) in [(400, "CreateVirtualMFADevice"), (420, "EnableMFADevice")] {
        let mut ev = b.call(a, t + offset, identity.clone(), "iam.amazonaws.com", name);
        ev.source_ip = office.clone();
        ev.user_agent = agents::CHROME.into();
        ev.console_session = true;
        ev.region = "us-east-1".into();
        ev.request_parameters = Some(if name == "EnableMFADevice" {
            format!(
                r#"{{"userName":"","serialNumber":"arn:aws:iam::{acct}:mfa/root-account-mfa-device"}}"#
            )
        } else {
            r#"{"virtualMFADeviceName":"root-account-mfa-device","path":"/"}"#.into()
        });
        b.record_root(&ev, "mfa_change", None, None);
        b.emit(a, ev);
    }

    // The root access key used from a laptop.
    let key_identity = root(&acct, Some(&key), None);
    let ids = b.activity(
        a,
        t + 3600,
        20,
        4,
        &key_identity,
        &elsewhere,
        agents::CLI_MAC,
        false,
    );
    for ev in b.emitted(&ids) {
        b.record_root(&ev, "access_key_api", None, None);
    }

    // Password recovery.
    for (offset, name) in [
        (0, "PasswordRecoveryRequested"),
        (240, "PasswordRecoveryCompleted"),
    ] {
        let t = b.at(b.mid_day(), 7, 30) + offset;
        let mut ev = b.call(a, t, root(&acct, None, None), "signin.amazonaws.com", name);
        ev.event_type = "AwsConsoleSignIn";
        ev.region = "us-east-1".into();
        ev.source_ip = elsewhere.clone();
        ev.user_agent = agents::SAFARI.into();
        ev.request_id = None;
        ev.tls = false;
        ev.response_elements = Some(format!(r#"{{"{name}":"Success"}}"#));
        b.record_root(&ev, "password_recovery", None, None);
        b.emit(a, ev);
    }

    // A sign-in after a long silence, on the last day.
    let t = b.at(b.last_day(), 10, 0);
    let note = format!(
        "first root sign-in since {}",
        clock::event_time(b.at(1, 13, 50))
    );
    b.root_console_login(a, t, &office, agents::CHROME, true, true, Some(&note));

    assume_root(b);
    look_alikes(b);
}

/// Centralized root access: a management-account user calls sts:AssumeRoot for a member
/// account and unlocks a bucket policy there
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html>).
fn assume_root(b: &mut Builder<'_>) {
    let world = b.world;
    if world.accounts.len() < 2 {
        return;
    }
    let mgmt = 0;
    let target = b.member(2);
    let target_id = b.account_id(target);
    let caller = world.iam_user(mgmt, 0);
    let caller_arn = caller.arn().unwrap_or_default();
    let human = &world.humans[world.accounts[mgmt].users[0].human.unwrap_or(0)];
    let ip = human.ips[0].clone();
    let t = b.at(b.mid_day(), 15, 5);
    let key = b.fresh_key("ASIA");
    let mut ev = b.call(mgmt, t, caller.clone(), "sts.amazonaws.com", "AssumeRoot");
    ev.source_ip = ip.clone();
    ev.user_agent = agents::CLI.into();
    ev.read_only = Some(true);
    ev.request_parameters = Some(format!(
        r#"{{"targetPrincipal":"{target_id}","taskPolicyArn":{{"arn":"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"}},"durationSeconds":900}}"#
    ));
    ev.response_elements = Some(credentials_response(&key, t, 900, None, ""));
    let issuing = b.emit(mgmt, ev);
    let bucket = world.accounts[target].buckets[0].clone();
    let mut identity = root(
        &target_id,
        Some(&key),
        Some(Session::new(t).with_mfa(false)),
    );
    if let Identity::Root { assumed_root, .. } = &mut identity {
        *assumed_root = true;
    }
    let mut ev = b.call(
        target,
        t + 120,
        identity,
        "s3.amazonaws.com",
        "DeleteBucketPolicy",
    );
    ev.source_ip = ip;
    ev.user_agent = agents::CLI.into();
    ev.request_parameters = Some(format!(
        r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.amazonaws.com","policy":""}}"#
    ));
    b.truth.root_usage.push(RootUse {
        event_id: ev.event_id.clone(),
        account_id: target_id.clone(),
        event_name: ev.name.into(),
        kind: "assume_root".into(),
        success: true,
        mfa: None,
        source_ip: ev.source_ip.clone(),
        time: clock::event_time(ev.time),
        actor: Some(actor("IAMUser", &caller_arn, None)),
        note: Some(format!("credentials from sts:AssumeRoot event {issuing}")),
    });
    b.emit(target, ev);
}

/// Events with root's name on them that are not root usage.
fn look_alikes(b: &mut Builder<'_>) {
    let a = b.member(2);
    let acct = b.account_id(a);
    let day = b.mid_day();

    // An AWS service event attributed to the account root.
    let mut ev = b.call(
        a,
        b.at(day, 4, 0),
        root(&acct, None, None),
        "trustedadvisor.amazonaws.com",
        "RefreshCheck",
    );
    ev.event_type = "AwsServiceEvent";
    ev.source_ip = "trustedadvisor.amazonaws.com".into();
    ev.user_agent = "trustedadvisor.amazonaws.com".into();
    ev.request_id = None;
    push_not_root(b, &ev, "eventType is AwsServiceEvent");
    b.emit(a, ev);

    // A call a service made for root (invokedBy set).
    let identity = Identity::Root {
        account: acct.clone(),
        access_key: None,
        invoked_by: Some("support.amazonaws.com".into()),
        session: None,
        assumed_root: false,
    };
    let mut ev = b.call(
        a,
        b.at(day, 4, 30),
        identity,
        "support.amazonaws.com",
        "DescribeTrustedAdvisorChecks",
    );
    ev.source_ip = "support.amazonaws.com".into();
    ev.user_agent = "support.amazonaws.com".into();
    ev.read_only = Some(true);
    push_not_root(b, &ev, "invokedBy is set: a service acted");
    b.emit(a, ev);

    // An IAM user that happens to be called "root".
    let identity = Identity::IamUser {
        account: acct.clone(),
        user_name: "root".into(),
        principal_id: b.fresh_key("AIDA"),
        access_key: Some(b.fresh_key("AKIA")),
        session: None,
        invoked_by: None,
    };
    let ip = b.fresh_ip();
    let ids = b.activity(
        a,
        b.at(day, 11, 0),
        10,
        3,
        &identity,
        &ip,
        agents::BOTO3,
        false,
    );
    for ev in b.emitted(&ids) {
        push_not_root(b, &ev, "an IAM user named root, not the root user");
    }
}

fn push_not_root(b: &mut Builder<'_>, ev: &Event, why: &str) {
    b.truth.not_root_usage.push(NotRootUse {
        event_id: ev.event_id.clone(),
        account_id: ev.account.clone(),
        event_name: ev.name.into(),
        why: why.into(),
    });
}
