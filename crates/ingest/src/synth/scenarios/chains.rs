//! STS credential chains with known origins: from people and workloads through
//! AssumeRole, role chaining across accounts, SAML, web identity, Identity Center,
//! GetSessionToken and GetFederationToken, and sessions whose issuing call is missing.

use super::{Builder, actor, credentials_response, role_session};
use crate::synth::event::{Identity, Resource, Session};
use crate::synth::truth::{ActorTruth, Hop, SessionTruth};
use crate::synth::world::agents;

/// What an issuing call produced: the session identity and the hop that records it.
pub(super) struct Issued {
    pub identity: Identity,
    pub hop: Hop,
}

impl Builder<'_> {
    /// An sts:AssumeRole by `caller` into `role` of `role_account`. Cross-account calls are
    /// logged in both accounts with one sharedEventID; the role's account sees the caller
    /// as `AWSAccount` (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>,
    /// `sharedEventID`).
    pub(super) fn assume_role(
        &mut self,
        caller_account: usize,
        caller: &Identity,
        role_account: usize,
        role: &str,
        session_name: &str,
        time: i64,
        ip: &str,
        agent: &str,
        source_identity: Option<&str>,
    ) -> Issued {
        let role_account_id = self.account_id(role_account);
        let role_id = self.fresh_key("AROA");
        let key = self.fresh_key("ASIA");
        let role_arn = format!("arn:aws:iam::{role_account_id}:role/{role}");
        let identity = role_session(
            &role_account_id,
            role,
            &role_id,
            session_name,
            &key,
            time,
            source_identity,
        );
        let session_arn = identity.arn().unwrap_or_default();
        let source = source_identity
            .map(|s| format!(r#","sourceIdentity":"{s}""#))
            .unwrap_or_default();
        let params = format!(
            r#"{{"roleArn":"{role_arn}","roleSessionName":"{session_name}","durationSeconds":3600{source}}}"#
        );
        let response = credentials_response(
            &key,
            time,
            3600,
            Some((&format!("{role_id}:{session_name}"), &session_arn)),
            &source,
        );
        let shared = crate::synth::ids::uuid(&mut self.rng);
        let mut ev = self.call(
            caller_account,
            time,
            caller.clone(),
            "sts.amazonaws.com",
            "AssumeRole",
        );
        ev.source_ip = ip.into();
        ev.user_agent = agent.into();
        ev.read_only = Some(true);
        ev.request_parameters = Some(params.clone());
        ev.response_elements = Some(response.clone());
        ev.shared_event_id = Some(shared.clone());
        ev.resources = vec![Resource {
            arn: role_arn.clone(),
            account: Some(role_account_id.clone()),
            kind: "AWS::IAM::Role",
        }];
        let issuing = self.emit(caller_account, ev);
        let mut copy = None;
        if role_account != caller_account {
            let principal_id = match caller {
                Identity::AssumedRole {
                    role_id,
                    session_name,
                    ..
                } => format!("{role_id}:{session_name}"),
                Identity::IamUser { principal_id, .. } => principal_id.clone(),
                _ => String::new(),
            };
            let caller_account_id = self.account_id(caller_account);
            let mut ev = self.call(
                role_account,
                time,
                Identity::AwsAccount {
                    account: caller_account_id,
                    principal_id,
                },
                "sts.amazonaws.com",
                "AssumeRole",
            );
            ev.source_ip = ip.into();
            ev.user_agent = agent.into();
            ev.read_only = Some(true);
            ev.request_parameters = Some(params);
            ev.response_elements = Some(response);
            ev.shared_event_id = Some(shared);
            ev.resources = vec![Resource {
                arn: role_arn,
                account: Some(role_account_id),
                kind: "AWS::IAM::Role",
            }];
            copy = Some(self.emit(role_account, ev));
        }
        Issued {
            identity,
            hop: Hop {
                arn: session_arn,
                access_key_id: key,
                issuing_event_id: Some(issuing),
                issuing_event_copy_id: copy,
                issuing_api: Some("AssumeRole".into()),
            },
        }
    }

    /// Records a session's truth.
    pub(super) fn record_session(
        &mut self,
        scenario: &str,
        identity: &Identity,
        actor: ActorTruth,
        method: &str,
        hops: Vec<Hop>,
        event_ids: Vec<String>,
    ) {
        let account_id = match identity {
            Identity::AssumedRole { account, .. }
            | Identity::IamUser { account, .. }
            | Identity::FederatedUser { account, .. }
            | Identity::Root { account, .. } => account.clone(),
            _ => String::new(),
        };
        self.truth.sessions.push(SessionTruth {
            scenario: scenario.into(),
            access_key_id: identity.access_key().unwrap_or_default().into(),
            account_id,
            principal_arn: identity.arn().unwrap_or_default(),
            actor,
            method: method.into(),
            hops,
            event_ids,
        });
    }

    /// An AssumeRoleWith{SAML,WebIdentity} call by a federated subject; returns the session.
    pub(super) fn federated_assume(
        &mut self,
        account: usize,
        web: bool,
        provider: &str,
        subject: &str,
        role: &str,
        session_name: &str,
        time: i64,
        ip: &str,
        agent: &str,
    ) -> Issued {
        let acct = self.account_id(account);
        let role_id = self.fresh_key("AROA");
        let key = self.fresh_key("ASIA");
        let mut identity = role_session(&acct, role, &role_id, session_name, &key, time, None);
        if let (true, Identity::AssumedRole { session, .. }) = (web, &mut identity) {
            session.web_identity_provider = Some(provider.to_string());
        }
        let session_arn = identity.arn().unwrap_or_default();
        let (caller, name, params, extra) = if web {
            (
                Identity::WebIdentityUser {
                    principal_id: format!("{provider}:sts.amazonaws.com:{subject}"),
                    user_name: subject.into(),
                    provider: provider.into(),
                },
                "AssumeRoleWithWebIdentity",
                format!(
                    r#"{{"roleArn":"arn:aws:iam::{acct}:role/{role}","roleSessionName":"{session_name}","durationSeconds":3600}}"#
                ),
                format!(
                    r#","subjectFromWebIdentityToken":"{subject}","provider":"arn:aws:iam::{acct}:oidc-provider/{provider}","audience":"sts.amazonaws.com""#
                ),
            )
        } else {
            let issuer = if provider.contains("AWSSSO_") {
                "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/EXAMPLE"
            } else {
                "http://www.okta.com/exk1example"
            };
            (
                Identity::SamlUser {
                    principal_id: format!("EXAMPLEhash=:{subject}"),
                    user_name: subject.into(),
                    provider: provider.into(),
                },
                "AssumeRoleWithSAML",
                format!(
                    r#"{{"sAMLAssertionID":"_{}","roleSessionName":"{session_name}","roleArn":"arn:aws:iam::{acct}:role/{role}","principalArn":"{provider}","durationSeconds":3600}}"#,
                    crate::synth::ids::hex(&mut self.rng, 32)
                ),
                format!(
                    r#","subject":"{subject}","subjectType":"persistent","issuer":"{issuer}","audience":"https://signin.aws.amazon.com/saml","nameQualifier":"EXAMPLEhash=""#
                ),
            )
        };
        let mut ev = self.call(account, time, caller, "sts.amazonaws.com", name);
        ev.source_ip = ip.into();
        ev.user_agent = agent.into();
        ev.read_only = Some(true);
        ev.request_parameters = Some(params);
        ev.response_elements = Some(credentials_response(
            &key,
            time,
            3600,
            Some((&format!("{role_id}:{session_name}"), &session_arn)),
            &extra,
        ));
        let issuing = self.emit(account, ev);
        Issued {
            identity,
            hop: Hop {
                arn: session_arn,
                access_key_id: key,
                issuing_event_id: Some(issuing),
                issuing_event_copy_id: None,
                issuing_api: Some(name.into()),
            },
        }
    }
}

pub(super) fn inject(b: &mut Builder<'_>) {
    let scene = Scene {
        a1: b.member(1),
        a2: b.member(2),
        day: 1.min(b.world.days - 1),
    };
    role_chain_across_accounts(b, scene);
    saml_federation(b, scene);
    web_identity_ci_job(b, scene);
    identity_center(b, scene);
    sessions_without_issuing_call(b, scene);
    session_token_with_mfa(b, scene);
    federation_token_for_contractor(b, scene);
}

/// The member accounts and the day the chains happen in.
#[derive(Clone, Copy)]
struct Scene {
    a1: usize,
    a2: usize,
    day: i64,
}

/// A person's IAM user assumes Admin, then chains into a Deployer role in another account.
fn role_chain_across_accounts(b: &mut Builder<'_>, scene: Scene) {
    let world = b.world;
    let Scene { a1, a2, day } = scene;
    let user = world.iam_user(a1, 0);
    let user_arn = user.arn().unwrap_or_default();
    let human = &world.humans[world.accounts[a1].users[0].human.unwrap_or(0)];
    let ip = human.ip_on(world.seed, day).to_string();
    let name = human.name.clone();
    let t = b.at(day, 10, 0);
    let admin = b.assume_role(
        a1,
        &user,
        a1,
        "Admin",
        &format!("{name}-admin"),
        t,
        &ip,
        human.cli_agent,
        None,
    );
    let mut ids = b.activity(
        a1,
        t + 60,
        10,
        5,
        &admin.identity,
        &ip,
        human.cli_agent,
        false,
    );
    let user_hop = Hop {
        arn: user_arn.clone(),
        access_key_id: world.accounts[a1].users[0].access_key.clone(),
        issuing_event_id: None,
        issuing_event_copy_id: None,
        issuing_api: None,
    };
    let deploy = b.assume_role(
        a1,
        &admin.identity,
        a2,
        "Deployer",
        &format!("{name}-deploy"),
        t + 1200,
        &ip,
        human.cli_agent,
        None,
    );
    // The chained AssumeRole is itself signed with the Admin session's key.
    ids.extend(deploy.hop.issuing_event_id.clone());
    b.record_session(
        "assume_role",
        &admin.identity,
        actor("IAMUser", &user_arn, None),
        "sts_chain",
        vec![user_hop.clone(), admin.hop.clone()],
        ids,
    );
    let ids = b.activity(
        a2,
        t + 1260,
        10,
        5,
        &deploy.identity,
        &ip,
        agents::TERRAFORM,
        false,
    );
    b.record_session(
        "role_chain_cross_account",
        &deploy.identity,
        actor("IAMUser", &user_arn, None),
        "sts_chain",
        vec![user_hop, admin.hop, deploy.hop],
        ids,
    );
}

/// SAML federation from an external IdP.
fn saml_federation(b: &mut Builder<'_>, scene: Scene) {
    let Scene { a1, day, .. } = scene;
    let okta = format!("arn:aws:iam::{}:saml-provider/Okta", b.account_id(a1));
    let ip = b.fresh_ip();
    let t = b.at(day, 11, 0);
    let saml = b.federated_assume(
        a1,
        false,
        &okta,
        "priya@example.com",
        "Okta-Engineer",
        "priya@example.com",
        t,
        &ip,
        agents::CHROME,
    );
    let ids = b.activity(a1, t + 60, 20, 5, &saml.identity, &ip, agents::CHROME, true);
    b.record_session(
        "saml",
        &saml.identity,
        actor("SAMLUser", "priya@example.com", Some(&okta)),
        "saml",
        vec![saml.hop],
        ids,
    );
}

/// A CI job federated through GitHub's OIDC provider.
fn web_identity_ci_job(b: &mut Builder<'_>, scene: Scene) {
    let Scene { a2, day, .. } = scene;
    let provider = "token.actions.githubusercontent.com";
    let subject = "repo:example-org/payments:ref:refs/heads/main";
    let ip = b.fresh_ip();
    let t = b.at(day, 12, 0);
    let web = b.federated_assume(
        a2,
        true,
        provider,
        subject,
        "github-deploy",
        "GitHubActions",
        t,
        &ip,
        agents::BOTO3,
    );
    let ids = b.activity(
        a2,
        t + 30,
        5,
        6,
        &web.identity,
        &ip,
        agents::TERRAFORM,
        false,
    );
    b.record_session(
        "web_identity",
        &web.identity,
        actor("WebIdentityUser", subject, Some(provider)),
        "web_identity",
        vec![web.hop],
        ids,
    );
}

/// Identity Center: the portal call in the management account (its roleName is the
/// permission set), then the SAML federation into the member account that issues the
/// AWSReservedSSO_<permission set>_<hash> session.
fn identity_center(b: &mut Builder<'_>, scene: Scene) {
    let world = b.world;
    let Scene { a1, day, .. } = scene;
    let h = 0;
    let human = &world.humans[h];
    let ip = human.ip_on(world.seed, day).to_string();
    let t = b.at(day, 13, 0);
    let credential_id = crate::synth::ids::alnum(&mut b.rng, 60);
    let mut ev = b.call(
        0,
        t,
        Identity::IdentityCenterUser {
            account: b.account_id(0),
            user_id: human.idc_user_id.clone(),
            identity_store_arn: world.identity_store_arn.clone(),
            credential_id,
        },
        "sso.amazonaws.com",
        "GetRoleCredentials",
    );
    ev.source_ip = ip.clone();
    ev.user_agent = human.browser.into();
    ev.read_only = Some(true);
    ev.request_parameters = Some(format!(
        r#"{{"accountId":"{}","roleName":"PowerUser"}}"#,
        b.account_id(a1)
    ));
    let portal_event = b.emit(0, ev);
    let provider = world.sso_provider(a1);
    let role = format!(
        "AWSReservedSSO_PowerUser_{}",
        crate::synth::ids::hex(&mut b.rng, 16)
    );
    let idc = b.federated_assume(
        a1,
        false,
        &provider,
        &human.email,
        &role,
        &human.email,
        t + 2,
        &ip,
        human.browser,
    );
    let ids = b.activity(a1, t + 60, 15, 5, &idc.identity, &ip, human.browser, true);
    let portal_hop = Hop {
        arn: format!("{}/{}", world.identity_store_arn, human.idc_user_id),
        access_key_id: String::new(),
        issuing_event_id: Some(portal_event),
        issuing_event_copy_id: None,
        issuing_api: Some("GetRoleCredentials".into()),
    };
    b.record_session(
        "identity_center",
        &idc.identity,
        actor(
            "IdentityCenterUser",
            &human.idc_user_id,
            Some(&world.identity_store_arn),
        ),
        "identity_center",
        vec![portal_hop, idc.hop],
        ids,
    );
}

/// Sessions whose issuing call is not in the trail.
fn sessions_without_issuing_call(b: &mut Builder<'_>, scene: Scene) {
    let world = b.world;
    let Scene { a2, day, .. } = scene;
    let acct = b.account_id(a2);
    let ip = b.fresh_ip();
    let t = b.at(day, 14, 0);
    let sso_role = world.accounts[a2].sso_role.clone();
    let key = b.fresh_key("ASIA");
    let identity = role_session(
        &acct,
        &sso_role.name,
        &sso_role.id,
        "quinn@example.com",
        &key,
        t - 600,
        None,
    );
    let ids = b.activity(a2, t, 10, 4, &identity, &ip, agents::SAFARI, true);
    b.record_session(
        "session_name",
        &identity,
        actor("SessionName", "quinn@example.com", None),
        "session_name",
        vec![],
        ids,
    );

    let key = b.fresh_key("ASIA");
    let role_id = b.fresh_key("AROA");
    let identity = role_session(
        &acct,
        "DataScience",
        &role_id,
        "notebook",
        &key,
        t - 600,
        Some("rosa"),
    );
    let ip = b.fresh_ip();
    let ids = b.activity(a2, t + 600, 10, 4, &identity, &ip, agents::BOTO3, false);
    b.record_session(
        "source_identity",
        &identity,
        actor("SourceIdentity", "rosa", None),
        "source_identity",
        vec![],
        ids,
    );

    let key = b.fresh_key("ASIA");
    let role_id = b.fresh_key("AROA");
    let identity = role_session(
        &acct,
        "legacy-batch",
        &role_id,
        "batch-7f3a",
        &key,
        t - 600,
        None,
    );
    let session_arn = identity.arn().unwrap_or_default();
    let ip = b.fresh_ip();
    let ids = b.activity(a2, t + 1200, 10, 4, &identity, &ip, agents::JAVA, false);
    b.record_session(
        "unresolved",
        &identity,
        actor("AssumedRole", &session_arn, None),
        "unresolved",
        vec![],
        ids,
    );
}

/// GetSessionToken with MFA: the IAM user signs with a temporary key.
fn session_token_with_mfa(b: &mut Builder<'_>, scene: Scene) {
    let world = b.world;
    let Scene { a1, day, .. } = scene;
    let u = 1;
    let user = world.iam_user(a1, u);
    let user_arn = user.arn().unwrap_or_default();
    let human = &world.humans[world.accounts[a1].users[u].human.unwrap_or(0)];
    let ip = human.ip_on(world.seed, day).to_string();
    let t = b.at(day, 15, 0);
    let key = b.fresh_key("ASIA");
    let mut ev = b.call(a1, t, user.clone(), "sts.amazonaws.com", "GetSessionToken");
    ev.source_ip = ip.clone();
    ev.user_agent = human.cli_agent.into();
    ev.read_only = Some(true);
    ev.request_parameters = Some(format!(
        r#"{{"durationSeconds":43200,"serialNumber":"arn:aws:iam::{}:mfa/{}","tokenCode":"***"}}"#,
        b.account_id(a1),
        human.name
    ));
    ev.response_elements = Some(credentials_response(&key, t, 43200, None, ""));
    let issuing = b.emit(a1, ev);
    let Identity::IamUser {
        account,
        user_name,
        principal_id,
        ..
    } = user
    else {
        unreachable!()
    };
    let temp = Identity::IamUser {
        account,
        user_name,
        principal_id,
        access_key: Some(key.clone()),
        session: Some(Session::new(t).with_mfa(true)),
        invoked_by: None,
    };
    let ids = b.activity(a1, t + 60, 20, 5, &temp, &ip, human.cli_agent, false);
    let hop = Hop {
        arn: user_arn.clone(),
        access_key_id: key,
        issuing_event_id: Some(issuing),
        issuing_event_copy_id: None,
        issuing_api: Some("GetSessionToken".into()),
    };
    b.record_session(
        "get_session_token",
        &temp,
        actor("IAMUser", &user_arn, None),
        "sts_chain",
        vec![hop],
        ids,
    );
}

/// GetFederationToken by an automation user for a contractor.
fn federation_token_for_contractor(b: &mut Builder<'_>, scene: Scene) {
    let world = b.world;
    let Scene { a1, day, .. } = scene;
    let u = 4;
    let user = world.iam_user(a1, u);
    let user_arn = user.arn().unwrap_or_default();
    let broker = &world.accounts[a1].users[u];
    let t = b.at(day, 16, 0);
    let key = b.fresh_key("ASIA");
    let fed = Identity::FederatedUser {
        account: b.account_id(a1),
        name: "contractor-tom".into(),
        issuer_user: broker.name.clone(),
        issuer_id: broker.user_id.clone(),
        access_key: key.clone(),
        session: Session::new(t),
    };
    let mut ev = b.call(a1, t, user, "sts.amazonaws.com", "GetFederationToken");
    ev.source_ip = broker.ip.clone();
    ev.user_agent = broker.agent.into();
    ev.read_only = Some(true);
    ev.request_parameters = Some(r#"{"name":"contractor-tom","durationSeconds":3600}"#.into());
    let fed_arn = fed.arn().unwrap_or_default();
    ev.response_elements = Some(credentials_response(
        &key,
        t,
        3600,
        None,
        &format!(
            r#","federatedUser":{{"federatedUserId":"{}:contractor-tom","arn":"{fed_arn}"}}"#,
            b.account_id(a1)
        ),
    ));
    let issuing = b.emit(a1, ev);
    let ip = b.fresh_ip();
    let ids = b.activity(a1, t + 120, 15, 4, &fed, &ip, agents::BOTO3, false);
    let hop = Hop {
        arn: fed_arn,
        access_key_id: key,
        issuing_event_id: Some(issuing),
        issuing_event_copy_id: None,
        issuing_api: Some("GetFederationToken".into()),
    };
    b.record_session(
        "get_federation_token",
        &fed,
        actor("IAMUser", &user_arn, None),
        "sts_chain",
        vec![hop],
        ids,
    );
}
