//! Following temporary credentials back to whoever started them.
//!
//! Every temporary key (`ASIA...`) was issued by one call: an STS call (GetSessionToken,
//! GetFederationToken, AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity,
//! AssumeRoot) whose `responseElements.credentials.accessKeyId` is the key. The call was
//! itself signed by someone; when that someone signed with a temporary key too (role
//! chaining), the same question repeats, until a long-term identity, a federated subject,
//! or the edge of the dataset is reached. Nothing here guesses: an origin that is not in
//! the data is reported as `unresolved` (or by the session's own `sourceIdentity` or, for
//! Identity Center roles, its session name, which AWS sets to the user's name).

use std::collections::{HashMap, HashSet};

/// Identity types that are their own origin: nobody else's credentials lead to them
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>).
pub const LONG_TERM_TYPES: &[&str] = &[
    "Root",
    "IAMUser",
    "IdentityCenterUser",
    "SAMLUser",
    "WebIdentityUser",
];

/// Whether an access key id is a temporary (STS) one.
pub fn is_temporary_key(key: &str) -> bool {
    key.starts_with("ASIA")
}

/// The identity that signed a request, normalized (see `principal.sql`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signer {
    /// `userIdentity.type`, or the type trailscope gives it (`IdentityCenterUser` for the
    /// pre-2025 `Unknown` form).
    pub kind: String,
    /// The normalized principal.
    pub principal: String,
    /// The ARN the hop shows (the principal where there is no ARN).
    pub arn: String,
    pub access_key_id: Option<String>,
    pub source_identity: Option<String>,
    /// For role sessions: the role's name, its ARN and the session name.
    pub role_name: Option<String>,
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
    /// `sessionCredentialFromConsole`.
    pub from_console: bool,
}

/// A call that issued temporary credentials.
#[derive(Debug, Clone, Default)]
pub struct Issuing {
    pub event_id: String,
    pub event_time_us: i64,
    /// The API: `AssumeRole`, `GetSessionToken`, ...
    pub api: String,
    /// The account whose trail logged it (`recipientAccountId`).
    pub account_id: String,
    pub source_ip: Option<String>,
    pub signer: Signer,
    /// `responseElements.credentials.accessKeyId`.
    pub issued_key: String,
    /// The ARN of the session or user the credentials are for.
    pub issued_arn: Option<String>,
    pub session_name: Option<String>,
    /// `sourceIdentity` set on the call (request parameters).
    pub source_identity: Option<String>,
    /// The federated subject (SAML `subject`, web identity `subjectFromWebIdentityToken`)
    /// and its provider or issuer.
    pub subject: Option<String>,
    pub subject_provider: Option<String>,
}

/// An Identity Center portal call (`sso:GetRoleCredentials`): who asked for a role in an
/// account, in the Identity Center account's trail.
#[derive(Debug, Clone, Default)]
pub struct PortalCall {
    pub event_id: String,
    pub event_time_us: i64,
    pub user_id: String,
    pub identity_store_arn: Option<String>,
    /// Requested account and role (the permission set's name).
    pub account_id: String,
    pub role_name: String,
    pub source_ip: Option<String>,
}

/// Who is behind an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `IAMUser`, `Root`, `SAMLUser`, `WebIdentityUser`, `IdentityCenterUser`, `AWSService`,
    /// `SourceIdentity`, `SessionName`, or the signer's own type when unresolved.
    pub kind: String,
    /// The ARN, subject, user id or name that identifies it.
    pub id: String,
    /// The identity provider or store, where there is one.
    pub provider: Option<String>,
}

/// One link of a chain: credentials and the call that issued them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub arn: String,
    pub access_key_id: Option<String>,
    pub issuing_event_id: Option<String>,
    pub issuing_api: Option<String>,
}

/// How the actor was found (the `method` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Direct,
    StsChain,
    Saml,
    WebIdentity,
    IdentityCenter,
    SourceIdentity,
    SessionName,
    /// A service-linked role's session: the AWS service it belongs to.
    ServiceLinkedRole,
    Unresolved,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Direct => "direct",
            Method::StsChain => "sts_chain",
            Method::Saml => "saml",
            Method::WebIdentity => "web_identity",
            Method::IdentityCenter => "identity_center",
            Method::SourceIdentity => "source_identity",
            Method::SessionName => "session_name",
            Method::ServiceLinkedRole => "service_linked_role",
            Method::Unresolved => "unresolved",
        }
    }
}

/// What is known of one temporary key.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub actor: Actor,
    pub method: Method,
    /// From the actor to the key's own session, in order.
    pub chain: Vec<Hop>,
    /// The issuing call (the copy with the richest caller identity) and the other
    /// account's copy of it, for cross-account calls.
    pub issuing: Option<Issuing>,
    pub copy_event_id: Option<String>,
    /// The `sourceIdentity` in force for the key (its own, or carried from the chain).
    pub source_identity: Option<String>,
}

/// Identity Center session roles are named `AWSReservedSSO_<permission set>_<hash>`
/// (<https://docs.aws.amazon.com/singlesignon/latest/userguide/using-service-linked-roles.html>).
pub fn identity_center_permission_set(role_name: &str) -> Option<&str> {
    let rest = role_name.strip_prefix("AWSReservedSSO_")?;
    Some(rest.rsplit_once('_').map_or(rest, |(set, _)| set))
}

/// The portal call is logged a moment before the federation it starts.
const PORTAL_WINDOW_US: i64 = 300 * 1_000_000;

/// Resolves temporary keys against the issuing calls and portal calls of a dataset.
#[derive(Debug)]
pub struct Resolver {
    issuing: HashMap<String, (Issuing, Option<String>)>,
    portal: Vec<PortalCall>,
    /// Sessions an AWS service assumed whose issuing call names no key, by session ARN.
    service_sessions: HashMap<String, ServiceSession>,
    memo: HashMap<String, Resolved>,
}

/// An `AssumeRole` by an AWS service (an instance profile, a Lambda function, an ECS task,
/// EMR, ...) whose `responseElements` is null, as CloudTrail often logs them: the session
/// is known by its role and session name only.
#[derive(Debug, Clone)]
pub struct ServiceSession {
    /// `arn:<partition>:sts::<account>:assumed-role/<role>/<session name>`.
    pub session_arn: String,
    /// The service (`userIdentity.invokedBy`).
    pub service: String,
    pub event_id: String,
}

impl Resolver {
    /// Indexes issuing calls by the key they issued. A cross-account call appears once in
    /// each account's trail with one `sharedEventID`; the copy whose caller is more than
    /// `AWSAccount` is kept and the other is remembered as its copy.
    pub fn new(calls: Vec<Issuing>, mut portal: Vec<PortalCall>) -> Resolver {
        let mut issuing: HashMap<String, (Issuing, Option<String>)> = HashMap::new();
        for call in calls {
            match issuing.remove(&call.issued_key) {
                None => {
                    issuing.insert(call.issued_key.clone(), (call, None));
                }
                Some((kept, _)) => {
                    let (kept, copy) = if richness(&call) > richness(&kept)
                        || (richness(&call) == richness(&kept) && call.event_id < kept.event_id)
                    {
                        (call, kept.event_id)
                    } else {
                        let copy = call.event_id;
                        (kept, copy)
                    };
                    issuing.insert(kept.issued_key.clone(), (kept, Some(copy)));
                }
            }
        }
        portal.sort_by_key(|p| p.event_time_us);
        Resolver {
            issuing,
            portal,
            service_sessions: HashMap::new(),
            memo: HashMap::new(),
        }
    }

    /// Adds the sessions AWS services assumed without naming their key.
    pub fn with_service_sessions(mut self, sessions: Vec<ServiceSession>) -> Resolver {
        for session in sessions {
            self.service_sessions
                .entry(session.session_arn.clone())
                .or_insert(session);
        }
        self
    }

    /// Every key that some call in the dataset issued.
    pub fn issued_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.issuing.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// Resolves `key`, used by `signer` (the identity events signed with it show).
    pub fn resolve(&mut self, key: &str, signer: &Signer) -> Resolved {
        let mut visiting = HashSet::new();
        self.resolve_inner(key, signer, &mut visiting)
    }

    fn resolve_inner(
        &mut self,
        key: &str,
        signer: &Signer,
        visiting: &mut HashSet<String>,
    ) -> Resolved {
        if let Some(done) = self.memo.get(key) {
            return done.clone();
        }
        let Some((call, copy)) = self.issuing.get(key).cloned() else {
            if let Some(session) = self.service_sessions.get(&signer.arn) {
                return Resolved {
                    actor: Actor {
                        kind: "AWSService".into(),
                        id: session.service.clone(),
                        provider: None,
                    },
                    method: Method::StsChain,
                    chain: vec![Hop {
                        arn: signer.arn.clone(),
                        access_key_id: Some(key.to_string()),
                        issuing_event_id: Some(session.event_id.clone()),
                        issuing_api: Some("AssumeRole".into()),
                    }],
                    issuing: None,
                    copy_event_id: None,
                    source_identity: signer.source_identity.clone(),
                };
            }
            return fallback(key, signer);
        };
        if !visiting.insert(key.to_string()) {
            // A cycle (credentials issued, ultimately, by themselves): stop here.
            let mut out = fallback(key, signer);
            out.method = Method::Unresolved;
            return out;
        }
        let hop = Hop {
            arn: call
                .issued_arn
                .clone()
                .unwrap_or_else(|| signer.arn.clone()),
            access_key_id: Some(key.to_string()),
            issuing_event_id: Some(call.event_id.clone()),
            issuing_api: Some(call.api.clone()),
        };
        let own_source = call
            .source_identity
            .clone()
            .or_else(|| signer.source_identity.clone());
        let caller = &call.signer;
        let (actor, method, mut chain, carried) = match call.api.as_str() {
            "AssumeRoleWithSAML" => {
                let role = signer
                    .role_name
                    .clone()
                    .or_else(|| role_of(call.issued_arn.as_deref()));
                match role
                    .as_deref()
                    .and_then(identity_center_permission_set)
                    .and_then(|set| self.portal_call(&call, set))
                {
                    Some(portal) => {
                        let store = portal.identity_store_arn.clone();
                        let arn = match &store {
                            Some(store) => format!("{store}/{}", portal.user_id),
                            None => portal.user_id.clone(),
                        };
                        let portal_hop = Hop {
                            arn,
                            access_key_id: None,
                            issuing_event_id: Some(portal.event_id.clone()),
                            issuing_api: Some("GetRoleCredentials".into()),
                        };
                        (
                            Actor {
                                kind: "IdentityCenterUser".into(),
                                id: portal.user_id.clone(),
                                provider: store,
                            },
                            Method::IdentityCenter,
                            vec![portal_hop],
                            None,
                        )
                    }
                    None => (
                        subject_actor(&call, "SAMLUser"),
                        Method::Saml,
                        Vec::new(),
                        None,
                    ),
                }
            }
            "AssumeRoleWithWebIdentity" => (
                subject_actor(&call, "WebIdentityUser"),
                Method::WebIdentity,
                Vec::new(),
                None,
            ),
            _ => match caller.access_key_id.as_deref() {
                Some(caller_key) if is_temporary_key(caller_key) => {
                    let up = self.resolve_inner(caller_key, caller, visiting);
                    (up.actor, up.method, up.chain, up.source_identity)
                }
                _ => {
                    let (actor, method) = if caller.kind == "AWSAccount" {
                        // Only the role's account logged the call: the caller's account
                        // is known, not who in it.
                        (signer_actor(caller), Method::Unresolved)
                    } else {
                        (signer_actor(caller), Method::StsChain)
                    };
                    let first = Hop {
                        arn: caller.arn.clone(),
                        access_key_id: caller.access_key_id.clone(),
                        issuing_event_id: None,
                        issuing_api: None,
                    };
                    (actor, method, vec![first], None)
                }
            },
        };
        chain.push(hop);
        let source_identity = own_source.or(carried);
        let (actor, method) = match (method, &source_identity) {
            (Method::Unresolved, Some(source)) => (
                Actor {
                    kind: "SourceIdentity".into(),
                    id: source.clone(),
                    provider: None,
                },
                Method::SourceIdentity,
            ),
            _ => (actor, method),
        };
        visiting.remove(key);
        let out = Resolved {
            actor,
            method,
            chain,
            issuing: Some(call),
            copy_event_id: copy,
            source_identity,
        };
        self.memo.insert(key.to_string(), out.clone());
        out
    }

    /// The Identity Center portal call behind an `AssumeRoleWithSAML` into a
    /// `AWSReservedSSO_<set>_*` role: same account and permission set, at most a few
    /// minutes before, from the same address where both have one; the latest such call.
    fn portal_call(&self, call: &Issuing, permission_set: &str) -> Option<&PortalCall> {
        let role_account = call
            .issued_arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(4))
            .unwrap_or(&call.account_id);
        self.portal
            .iter()
            .filter(|p| {
                p.account_id == role_account
                    && p.role_name == permission_set
                    && p.event_time_us <= call.event_time_us
                    && call.event_time_us - p.event_time_us <= PORTAL_WINDOW_US
                    && match (&p.source_ip, &call.source_ip) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    }
            })
            .max_by_key(|p| p.event_time_us)
    }
}

/// How much a copy of an issuing call says about its caller.
fn richness(call: &Issuing) -> u8 {
    match call.signer.kind.as_str() {
        "AWSAccount" => 0,
        "" => 1,
        _ => 2,
    }
}

/// The role name of an assumed-role ARN (`arn:...:assumed-role/ROLE/SESSION`).
fn role_of(arn: Option<&str>) -> Option<String> {
    let resource = arn?.split(':').nth(5)?;
    let rest = resource.strip_prefix("assumed-role/")?;
    Some(rest.split('/').next()?.to_string())
}

fn subject_actor(call: &Issuing, kind: &str) -> Actor {
    Actor {
        kind: kind.into(),
        id: call
            .subject
            .clone()
            .unwrap_or_else(|| call.signer.principal.clone()),
        provider: call.subject_provider.clone(),
    }
}

/// The signer of a call as an actor of its own.
fn signer_actor(signer: &Signer) -> Actor {
    Actor {
        kind: signer.kind.clone(),
        id: signer.principal.clone(),
        provider: None,
    }
}

/// The service a service-linked role belongs to: its ARN's path is
/// `/aws-service-role/<service principal>/`
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html>).
fn linked_service(role_arn: &str) -> Option<&str> {
    let path = role_arn.split_once(":role/aws-service-role/")?.1;
    let service = path.split('/').next()?;
    service.ends_with(".amazonaws.com").then_some(service)
}

/// A key whose issuing call is not in the dataset: the best identity available, never
/// presented as more than it is. An IAM user's session, or root's console session, is
/// the user itself (`direct`); a `sourceIdentity` names the person that the role's trust policy
/// required; an Identity Center role's session name is the user's name.
fn fallback(key: &str, signer: &Signer) -> Resolved {
    let hop = Hop {
        arn: signer.arn.clone(),
        access_key_id: Some(key.to_string()),
        issuing_event_id: None,
        issuing_api: None,
    };
    // An IAM user's temporary key (a console session, or GetSessionToken, which only the
    // user can call for itself) is the user's own: the signer is the actor. Root's may be
    // an AssumeRoot session made by someone else, so only its console session is.
    let own_session = signer.kind == "IAMUser"
        || (LONG_TERM_TYPES.contains(&signer.kind.as_str()) && signer.from_console);
    let (actor, method) = if own_session {
        (signer_actor(signer), Method::Direct)
    } else if let Some(service) = signer.role_arn.as_deref().and_then(linked_service) {
        (
            Actor {
                kind: "AWSService".into(),
                id: service.to_string(),
                provider: None,
            },
            Method::ServiceLinkedRole,
        )
    } else if let Some(source) = &signer.source_identity {
        (
            Actor {
                kind: "SourceIdentity".into(),
                id: source.clone(),
                provider: None,
            },
            Method::SourceIdentity,
        )
    } else if let (Some(role), Some(session)) = (&signer.role_name, &signer.session_name)
        && identity_center_permission_set(role).is_some()
    {
        (
            Actor {
                kind: "SessionName".into(),
                id: session.clone(),
                provider: None,
            },
            Method::SessionName,
        )
    } else {
        (signer_actor(signer), Method::Unresolved)
    };
    Resolved {
        actor,
        method,
        chain: vec![hop],
        issuing: None,
        copy_event_id: None,
        source_identity: signer.source_identity.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, key: &str) -> Signer {
        Signer {
            kind: "IAMUser".into(),
            principal: format!("arn:aws:iam::111111111111:user/{name}"),
            arn: format!("arn:aws:iam::111111111111:user/{name}"),
            access_key_id: Some(key.into()),
            ..Signer::default()
        }
    }

    fn session(account: &str, role: &str, name: &str, key: &str) -> Signer {
        let arn = format!("arn:aws:sts::{account}:assumed-role/{role}/{name}");
        Signer {
            kind: "AssumedRole".into(),
            principal: arn.clone(),
            arn,
            access_key_id: Some(key.into()),
            role_name: Some(role.into()),
            session_name: Some(name.into()),
            ..Signer::default()
        }
    }

    fn assume(id: &str, by: Signer, into: &Signer) -> Issuing {
        Issuing {
            event_id: id.into(),
            api: "AssumeRole".into(),
            account_id: "111111111111".into(),
            signer: by,
            issued_key: into.access_key_id.clone().unwrap(),
            issued_arn: Some(into.arn.clone()),
            session_name: into.session_name.clone(),
            ..Issuing::default()
        }
    }

    fn hop_ids(resolved: &Resolved) -> Vec<Option<String>> {
        resolved
            .chain
            .iter()
            .map(|h| h.issuing_event_id.clone())
            .collect()
    }

    #[test]
    fn a_three_hop_role_chain_leads_back_to_the_user() {
        let alice = user("alice", "AKIAALICE");
        let a = session("111111111111", "Admin", "alice", "ASIA1");
        let b = session("222222222222", "Deployer", "alice", "ASIA2");
        let c = session("333333333333", "Auditor", "alice", "ASIA3");
        let mut resolver = Resolver::new(
            vec![
                assume("e1", alice.clone(), &a),
                assume("e2", a, &b),
                assume("e3", b, &c.clone()),
            ],
            vec![],
        );
        let got = resolver.resolve("ASIA3", &c);
        assert_eq!(got.actor.id, alice.principal);
        assert_eq!(got.actor.kind, "IAMUser");
        assert_eq!(got.method, Method::StsChain);
        assert_eq!(
            hop_ids(&got),
            [
                None,
                Some("e1".into()),
                Some("e2".into()),
                Some("e3".into())
            ]
        );
        assert_eq!(got.chain[0].access_key_id.as_deref(), Some("AKIAALICE"));
        assert_eq!(got.chain[3].arn, c.arn);
    }

    #[test]
    fn a_cycle_ends_unresolved_instead_of_looping() {
        let a = session("111111111111", "A", "x", "ASIAA");
        let b = session("111111111111", "B", "y", "ASIAB");
        let mut resolver = Resolver::new(
            vec![assume("e1", b.clone(), &a), assume("e2", a.clone(), &b)],
            vec![],
        );
        let got = resolver.resolve("ASIAA", &a);
        assert_eq!(got.method, Method::Unresolved);
        assert!(got.chain.len() <= 3, "{:?}", got.chain);
    }

    #[test]
    fn a_missing_issuing_call_is_unresolved_unless_the_session_names_someone() {
        let mut resolver = Resolver::new(vec![], vec![]);
        let batch = session("111111111111", "legacy-batch", "batch-7f3a", "ASIAX");
        let got = resolver.resolve("ASIAX", &batch);
        assert_eq!(got.method, Method::Unresolved);
        assert_eq!(got.actor.id, batch.principal);

        let mut with_source = session("111111111111", "DataScience", "notebook", "ASIAY");
        with_source.source_identity = Some("rosa".into());
        let got = resolver.resolve("ASIAY", &with_source);
        assert_eq!(
            (got.method, got.actor.id.as_str()),
            (Method::SourceIdentity, "rosa")
        );

        let sso = session(
            "111111111111",
            "AWSReservedSSO_ReadOnly_0123abcd",
            "quinn@example.com",
            "ASIAZ",
        );
        let got = resolver.resolve("ASIAZ", &sso);
        assert_eq!(
            (got.method, got.actor.id.as_str()),
            (Method::SessionName, "quinn@example.com")
        );
    }

    #[test]
    fn a_source_identity_is_carried_along_an_unresolved_chain() {
        let mut first = session("111111111111", "Entry", "rosa-entry", "ASIA1");
        first.source_identity = Some("rosa".into());
        let second = session("111111111111", "Work", "rosa-work", "ASIA2");
        let mut resolver = Resolver::new(vec![assume("e2", first, &second)], vec![]);
        let got = resolver.resolve("ASIA2", &second);
        assert_eq!(
            (got.method, got.actor.id.as_str()),
            (Method::SourceIdentity, "rosa")
        );
        assert_eq!(hop_ids(&got), [None, Some("e2".into())]);
    }

    #[test]
    fn the_richer_copy_of_a_cross_account_call_wins() {
        let alice = user("alice", "AKIAALICE");
        let target = session("222222222222", "Deployer", "alice", "ASIA2");
        let mut copy = assume("copy", alice.clone(), &target);
        copy.signer = Signer {
            kind: "AWSAccount".into(),
            principal: "account:111111111111".into(),
            arn: "account:111111111111".into(),
            ..Signer::default()
        };
        for calls in [
            vec![copy.clone(), assume("orig", alice.clone(), &target)],
            vec![assume("orig", alice.clone(), &target), copy.clone()],
        ] {
            let mut resolver = Resolver::new(calls, vec![]);
            let got = resolver.resolve("ASIA2", &target);
            assert_eq!(got.actor.id, alice.principal);
            assert_eq!(got.issuing.unwrap().event_id, "orig");
            assert_eq!(got.copy_event_id.as_deref(), Some("copy"));
        }
        // With only the role account's copy, the caller's account is all there is.
        let mut resolver = Resolver::new(vec![copy], vec![]);
        let got = resolver.resolve("ASIA2", &target);
        assert_eq!(
            (got.method, got.actor.kind.as_str()),
            (Method::Unresolved, "AWSAccount")
        );
    }

    #[test]
    fn federation_names_the_subject() {
        let role = session("111111111111", "Okta-Engineer", "priya", "ASIAS");
        let mut call = assume(
            "saml",
            Signer {
                kind: "SAMLUser".into(),
                ..Signer::default()
            },
            &role,
        );
        call.api = "AssumeRoleWithSAML".into();
        call.subject = Some("priya@example.com".into());
        call.subject_provider = Some("arn:aws:iam::111111111111:saml-provider/Okta".into());
        let mut resolver = Resolver::new(vec![call], vec![]);
        let got = resolver.resolve("ASIAS", &role);
        assert_eq!(got.method, Method::Saml);
        assert_eq!(got.actor.id, "priya@example.com");
        assert_eq!(got.actor.kind, "SAMLUser");
    }

    #[test]
    fn identity_center_links_the_portal_call() {
        let role = session(
            "222222222222",
            "AWSReservedSSO_PowerUser_0123abcd",
            "jo@example.com",
            "ASIAI",
        );
        let mut call = assume(
            "saml",
            Signer {
                kind: "SAMLUser".into(),
                ..Signer::default()
            },
            &role,
        );
        call.api = "AssumeRoleWithSAML".into();
        call.account_id = "222222222222".into();
        call.event_time_us = 100_000_000;
        call.source_ip = Some("198.51.100.7".into());
        let portal = |id: &str, set: &str, t: i64| PortalCall {
            event_id: id.into(),
            event_time_us: t,
            user_id: format!("user-{id}"),
            identity_store_arn: Some(
                "arn:aws:identitystore::111111111111:identitystore/d-1".into(),
            ),
            account_id: "222222222222".into(),
            role_name: set.into(),
            source_ip: Some("198.51.100.7".into()),
        };
        let calls = vec![
            portal("right", "PowerUser", 98_000_000),
            portal("other_set", "ReadOnly", 99_000_000),
            portal("too_early", "PowerUser", 100_000_000 - PORTAL_WINDOW_US - 1),
            portal("after", "PowerUser", 101_000_000),
        ];
        let mut resolver = Resolver::new(vec![call], calls);
        let got = resolver.resolve("ASIAI", &role);
        assert_eq!(got.method, Method::IdentityCenter);
        assert_eq!(got.actor.id, "user-right");
        assert_eq!(hop_ids(&got), [Some("right".into()), Some("saml".into())]);
    }

    #[test]
    fn permission_sets_come_from_reserved_role_names() {
        assert_eq!(
            identity_center_permission_set("AWSReservedSSO_PowerUser_0123abcd"),
            Some("PowerUser")
        );
        assert_eq!(
            identity_center_permission_set("AWSReservedSSO_Read_Only_0123"),
            Some("Read_Only")
        );
        assert_eq!(identity_center_permission_set("Admin"), None);
    }

    #[test]
    fn a_service_linked_role_session_is_its_service() {
        let signer = Signer {
            kind: "AssumedRole".into(),
            arn: "arn:aws:sts::111111111111:assumed-role/AWSServiceRoleForConfig/config".into(),
            role_name: Some("AWSServiceRoleForConfig".into()),
            role_arn: Some(
                "arn:aws:iam::111111111111:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
                    .into(),
            ),
            ..Signer::default()
        };
        let resolved = fallback("ASIAEXAMPLE", &signer);
        assert_eq!(resolved.method, Method::ServiceLinkedRole);
        assert_eq!(resolved.actor.id, "config.amazonaws.com");
        assert_eq!(resolved.actor.kind, "AWSService");
        assert_eq!(linked_service("arn:aws:iam::1:role/service-role/x"), None);
    }

    #[test]
    fn an_iam_users_own_session_is_the_user_and_roots_only_from_the_console() {
        let user = Signer {
            kind: "IAMUser".into(),
            arn: "arn:aws:iam::111111111111:user/benjamin".into(),
            principal: "arn:aws:iam::111111111111:user/benjamin".into(),
            ..Signer::default()
        };
        let resolved = fallback("ASIAEXAMPLE", &user);
        assert_eq!(resolved.method, Method::Direct);
        assert_eq!(resolved.actor.id, "arn:aws:iam::111111111111:user/benjamin");
        // Root with a temporary key outside the console may be an AssumeRoot session.
        let root = Signer {
            kind: "Root".into(),
            arn: "arn:aws:iam::111111111111:root".into(),
            ..Signer::default()
        };
        assert_eq!(fallback("ASIAEXAMPLE", &root).method, Method::Unresolved);
    }

    #[test]
    fn a_session_a_service_assumed_without_a_key_is_that_service() {
        let signer = Signer {
            kind: "AssumedRole".into(),
            arn: "arn:aws:sts::111111111111:assumed-role/EMR_DefaultRole/CCSSession".into(),
            ..Signer::default()
        };
        let mut resolver =
            Resolver::new(vec![], vec![]).with_service_sessions(vec![ServiceSession {
                session_arn: signer.arn.clone(),
                service: "elasticmapreduce.amazonaws.com".into(),
                event_id: "e1".into(),
            }]);
        let got = resolver.resolve("ASIAEMR", &signer);
        assert_eq!(got.method, Method::StsChain);
        assert_eq!(got.actor.id, "elasticmapreduce.amazonaws.com");
        assert_eq!(hop_ids(&got), [Some("e1".into())]);
    }
}
