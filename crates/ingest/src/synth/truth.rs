//! The ground truth written next to a generated trail (`ground-truth.json`): what the
//! scenarios injected, so that attribution and detections can be tested against it.

use serde::{Deserialize, Serialize};

/// Everything the generator knows about the trail it wrote.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GroundTruth {
    /// The seed the trail was generated from.
    pub seed: u64,
    /// `account`, `org` or `mixed`.
    pub layout: String,
    /// The organization's id (`o-...`).
    pub organization_id: String,
    /// The first day of the trail, `YYYY-MM-DD`.
    pub start: String,
    /// How many days it spans.
    pub days: i64,
    /// The organization's accounts, the management account first.
    pub accounts: Vec<AccountTruth>,
    /// What was written.
    pub totals: Totals,
    /// Every use of the root user, in the CIS sense
    /// (`userIdentity.type = Root`, no `invokedBy`, not an `AwsServiceEvent`).
    pub root_usage: Vec<RootUse>,
    /// Events that look like root usage and are not.
    pub not_root_usage: Vec<NotRootUse>,
    /// Temporary credentials whose origin is known, with the events signed by them.
    pub sessions: Vec<SessionTruth>,
    /// Identities used by several actors at once.
    pub shared_identities: Vec<SharedIdentity>,
    /// Identities that look shared and are not.
    pub not_shared: Vec<NotShared>,
    /// The IAM actions known principals and people used and were denied.
    #[serde(default)]
    pub permissions: Vec<PermissionTruth>,
}

/// What one principal or person used: the IAM actions of its allowed calls, and of its
/// denied ones, as the Service Authorization Reference names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionTruth {
    /// The scenario that made it.
    pub scenario: String,
    /// `principal` (a role, IAM user or root ARN) or `actor` (as `attribution` names it).
    pub subject_kind: String,
    /// The ARN or actor.
    pub subject: String,
    /// Actions its allowed calls needed, sorted, no duplicates.
    pub allowed: Vec<String>,
    /// Actions of its denied calls, sorted, no duplicates.
    pub denied: Vec<String>,
}

/// One account of the organization.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountTruth {
    /// The 12-digit account id.
    pub id: String,
    /// Its name in the organization.
    pub name: String,
    /// Whether it is the management account.
    pub management: bool,
}

/// What was written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Trail files (`*_CloudTrail_*.json.gz`).
    pub trail_files: u64,
    /// Digest files, which ingest skips.
    pub digest_files: u64,
    /// Insight files, which ingest skips.
    pub insight_files: u64,
    /// Records in trail files, delivered copies included.
    pub records: u64,
    /// Records delivered a second time (the account trail beside the organization trail
    /// in the `mixed` layout), with the same event id and recipient account.
    pub duplicate_records: u64,
    /// Distinct events: `records - duplicate_records`.
    pub unique_events: u64,
    /// Uncompressed JSON bytes of the trail files.
    pub json_bytes: u64,
    /// Bytes on disk of the trail files.
    pub gzip_bytes: u64,
}

/// One use of the root user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootUse {
    /// The event's `eventID`.
    pub event_id: String,
    /// The account whose root was used.
    pub account_id: String,
    /// The event's `eventName`.
    pub event_name: String,
    /// `console_signin`, `console_activity`, `failed_signin`, `access_key_api`,
    /// `create_access_key`, `password_recovery`, `mfa_change`, `assume_root`.
    pub kind: String,
    /// Whether the call (or sign-in) succeeded.
    pub success: bool,
    /// For sign-ins: whether MFA was used.
    pub mfa: Option<bool>,
    /// The caller's address.
    pub source_ip: String,
    /// The event's time, RFC 3339.
    pub time: String,
    /// For centralized root access: who called sts:AssumeRoot.
    pub actor: Option<ActorTruth>,
    /// What the scenario meant to show, where it needs saying.
    pub note: Option<String>,
}

/// A look-alike that is not root usage, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotRootUse {
    /// The event's `eventID`.
    pub event_id: String,
    /// The account it was logged in.
    pub account_id: String,
    /// The event's `eventName`.
    pub event_name: String,
    /// Why it is not root usage.
    pub why: String,
}

/// The origin of a session: who started it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorTruth {
    /// `IAMUser`, `Root`, `SAMLUser`, `WebIdentityUser`, `IdentityCenterUser`, `AWSService`,
    /// `SourceIdentity`, `SessionName`, `AssumedRole`.
    pub kind: String,
    /// The ARN, subject, user id or name that identifies it.
    pub id: String,
    /// The identity provider or store, where there is one.
    pub provider: Option<String>,
}

/// One hop of a credential chain, from the actor towards the signing session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hop {
    /// The ARN of the session or user the credentials belong to.
    pub arn: String,
    /// The credentials' access key id.
    pub access_key_id: String,
    /// The event that issued these credentials, where the trail holds it.
    pub issuing_event_id: Option<String>,
    /// The same call as logged in the other account of a cross-account AssumeRole.
    pub issuing_event_copy_id: Option<String>,
    /// The API that issued them (`AssumeRole`, `GetRoleCredentials`, ...).
    pub issuing_api: Option<String>,
}

/// Temporary credentials and who is behind them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionTruth {
    /// The scenario that made it.
    pub scenario: String,
    /// The temporary key (`ASIA...`).
    pub access_key_id: String,
    /// The account the session belongs to.
    pub account_id: String,
    /// The signing identity's ARN as CloudTrail shows it.
    pub principal_arn: String,
    /// Who is behind it.
    pub actor: ActorTruth,
    /// `sts_chain`, `saml`, `web_identity`, `identity_center`, `source_identity`,
    /// `session_name`, `unresolved`.
    pub method: String,
    /// The chain from the actor to this session.
    pub hops: Vec<Hop>,
    /// Events signed with this key.
    pub event_ids: Vec<String>,
}

/// An identity several actors used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SharedIdentity {
    /// The scenario that made it.
    pub scenario: String,
    /// `root`, `iam_user`, `access_key`, `role_session`, or `workload_session` (a
    /// workload's credentials used from outside it).
    pub kind: String,
    /// The root ARN, user ARN, key id or session ARN.
    pub identity: String,
    /// The account it belongs to.
    pub account_id: String,
    /// How many distinct actors used it.
    pub actors: u32,
    /// The addresses the actors used.
    pub source_ips: Vec<String>,
    /// `[first, last]` of the windows in which the actors overlapped (or, for root
    /// console use from several addresses the same day, that day's span).
    pub window: [String; 2],
    /// The events of that window.
    pub event_ids: Vec<String>,
}

/// An identity that looks shared and is not, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotShared {
    /// The scenario that made it.
    pub scenario: String,
    /// `root`, `iam_user`, `access_key`, `role_session`.
    pub kind: String,
    /// The root ARN, user ARN, key id or session ARN.
    pub identity: String,
    /// The account it belongs to.
    pub account_id: String,
    /// Why it is not shared.
    pub why: String,
    /// Its events.
    pub event_ids: Vec<String>,
}
