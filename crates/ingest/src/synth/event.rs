//! One CloudTrail record: the identity that signed it and what it did, written in the
//! field order CloudTrail uses
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>).

use crate::synth::clock;
use crate::synth::json::JsonOut;

/// Session attributes of temporary credentials.
#[derive(Debug, Clone)]
pub struct Session {
    pub created: i64,
    pub mfa: bool,
    pub source_identity: Option<String>,
    /// `webIdFederationData` for sessions from AssumeRoleWithWebIdentity.
    pub web_identity_provider: Option<String>,
}

impl Session {
    /// A session created at `created`, without MFA, source identity or web identity.
    pub fn new(created: i64) -> Self {
        Session {
            created,
            mfa: false,
            source_identity: None,
            web_identity_provider: None,
        }
    }

    pub fn with_mfa(mut self, mfa: bool) -> Self {
        self.mfa = mfa;
        self
    }
}

/// The `userIdentity` element
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>).
#[derive(Debug, Clone)]
// The variants are CloudTrail's userIdentity types, by their own names.
#[allow(clippy::enum_variant_names)]
pub enum Identity {
    Root {
        account: String,
        access_key: Option<String>,
        invoked_by: Option<String>,
        /// Set for console sessions and centralized root access sessions.
        session: Option<Session>,
        /// A session from sts:AssumeRoot: `sessionContext.assumedRoot` is `"true"`.
        assumed_root: bool,
    },
    IamUser {
        account: String,
        user_name: String,
        principal_id: String,
        access_key: Option<String>,
        /// Set when the key is temporary (GetSessionToken, console sessions).
        session: Option<Session>,
        invoked_by: Option<String>,
    },
    AssumedRole {
        account: String,
        role_name: String,
        role_id: String,
        session_name: String,
        access_key: String,
        session: Session,
        invoked_by: Option<String>,
    },
    FederatedUser {
        account: String,
        name: String,
        issuer_user: String,
        issuer_id: String,
        access_key: String,
        session: Session,
    },
    AwsService {
        invoked_by: String,
    },
    AwsAccount {
        account: String,
        principal_id: String,
    },
    /// What AWS service events carry: no type, only the account and the service.
    ServiceEvent {
        account: String,
        invoked_by: String,
    },
    SamlUser {
        principal_id: String,
        user_name: String,
        provider: String,
    },
    WebIdentityUser {
        principal_id: String,
        user_name: String,
        provider: String,
    },
    IdentityCenterUser {
        account: String,
        user_id: String,
        identity_store_arn: String,
        credential_id: String,
    },
}

impl Identity {
    /// The access key the request was signed with, if any.
    pub fn access_key(&self) -> Option<&str> {
        match self {
            Identity::Root { access_key, .. } | Identity::IamUser { access_key, .. } => {
                access_key.as_deref()
            }
            Identity::AssumedRole { access_key, .. }
            | Identity::FederatedUser { access_key, .. } => Some(access_key),
            _ => None,
        }
    }

    /// The ARN CloudTrail shows for this identity, where it shows one.
    pub fn arn(&self) -> Option<String> {
        match self {
            Identity::Root { account, .. } => Some(format!("arn:aws:iam::{account}:root")),
            Identity::IamUser {
                account, user_name, ..
            } => Some(format!("arn:aws:iam::{account}:user/{user_name}")),
            Identity::AssumedRole {
                account,
                role_name,
                session_name,
                ..
            } => Some(format!(
                "arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
            )),
            Identity::FederatedUser { account, name, .. } => {
                Some(format!("arn:aws:sts::{account}:federated-user/{name}"))
            }
            _ => None,
        }
    }

    pub fn write(&self, out: &mut JsonOut) {
        out.begin_obj("userIdentity");
        match self {
            Identity::Root {
                account,
                access_key,
                invoked_by,
                session,
                assumed_root,
            } => {
                out.str("type", "Root");
                out.str("principalId", account);
                out.str("arn", &format!("arn:aws:iam::{account}:root"));
                out.str("accountId", account);
                out.opt_str("accessKeyId", access_key.as_deref());
                if let Some(session) = session {
                    write_session(out, None, session, *assumed_root);
                }
                out.opt_str("invokedBy", invoked_by.as_deref());
            }
            Identity::IamUser {
                account,
                user_name,
                principal_id,
                access_key,
                session,
                invoked_by,
            } => {
                out.str("type", "IAMUser");
                out.str("principalId", principal_id);
                out.str("arn", &format!("arn:aws:iam::{account}:user/{user_name}"));
                out.str("accountId", account);
                out.opt_str("accessKeyId", access_key.as_deref());
                out.str("userName", user_name);
                if let Some(session) = session {
                    write_session(out, None, session, false);
                }
                out.opt_str("invokedBy", invoked_by.as_deref());
            }
            Identity::AssumedRole {
                account,
                role_name,
                role_id,
                session_name,
                access_key,
                session,
                invoked_by,
            } => {
                out.str("type", "AssumedRole");
                out.str("principalId", &format!("{role_id}:{session_name}"));
                out.str("arn", &self.arn().unwrap_or_default());
                out.str("accountId", account);
                out.str("accessKeyId", access_key);
                // A service-linked role lives under /aws-service-role/<service>/, and its
                // issuer ARN shows the path (the session ARN never does).
                let path = match invoked_by {
                    Some(service) if role_name.starts_with("AWSServiceRoleFor") => {
                        format!("aws-service-role/{service}/")
                    }
                    _ => String::new(),
                };
                let issuer = Issuer {
                    kind: "Role",
                    principal_id: role_id,
                    arn: &format!("arn:aws:iam::{account}:role/{path}{role_name}"),
                    account,
                    user_name: role_name,
                };
                write_session(out, Some(&issuer), session, false);
                out.opt_str("invokedBy", invoked_by.as_deref());
            }
            Identity::FederatedUser {
                account,
                name,
                issuer_user,
                issuer_id,
                access_key,
                session,
            } => {
                out.str("type", "FederatedUser");
                out.str("principalId", &format!("{account}:{name}"));
                out.str("arn", &self.arn().unwrap_or_default());
                out.str("accountId", account);
                out.str("accessKeyId", access_key);
                let issuer = Issuer {
                    kind: "IAMUser",
                    principal_id: issuer_id,
                    arn: &format!("arn:aws:iam::{account}:user/{issuer_user}"),
                    account,
                    user_name: issuer_user,
                };
                write_session(out, Some(&issuer), session, false);
            }
            Identity::AwsService { invoked_by } => {
                out.str("type", "AWSService");
                out.str("invokedBy", invoked_by);
            }
            Identity::AwsAccount {
                account,
                principal_id,
            } => {
                out.str("type", "AWSAccount");
                out.str("principalId", principal_id);
                out.str("accountId", account);
            }
            Identity::ServiceEvent {
                account,
                invoked_by,
            } => {
                out.str("accountId", account);
                out.str("invokedBy", invoked_by);
            }
            Identity::SamlUser {
                principal_id,
                user_name,
                provider,
            } => {
                out.str("type", "SAMLUser");
                out.str("principalId", principal_id);
                out.str("userName", user_name);
                out.str("identityProvider", provider);
            }
            Identity::WebIdentityUser {
                principal_id,
                user_name,
                provider,
            } => {
                out.str("type", "WebIdentityUser");
                out.str("principalId", principal_id);
                out.str("userName", user_name);
                out.str("identityProvider", provider);
            }
            Identity::IdentityCenterUser {
                account,
                user_id,
                identity_store_arn,
                credential_id,
            } => {
                // The January 2025 format: no userName or principalId, the user in onBehalfOf.
                out.str("type", "IdentityCenterUser");
                out.str("accountId", account);
                out.begin_obj("onBehalfOf");
                out.str("userId", user_id);
                out.str("identityStoreArn", identity_store_arn);
                out.end_obj();
                out.str("credentialId", credential_id);
            }
        }
        out.end_obj();
    }
}

struct Issuer<'a> {
    kind: &'a str,
    principal_id: &'a str,
    arn: &'a str,
    account: &'a str,
    user_name: &'a str,
}

fn write_session(
    out: &mut JsonOut,
    issuer: Option<&Issuer<'_>>,
    session: &Session,
    assumed_root: bool,
) {
    out.begin_obj("sessionContext");
    if let Some(issuer) = issuer {
        out.begin_obj("sessionIssuer");
        out.str("type", issuer.kind);
        out.str("principalId", issuer.principal_id);
        out.str("arn", issuer.arn);
        out.str("accountId", issuer.account);
        out.str("userName", issuer.user_name);
        out.end_obj();
    }
    if let Some(provider) = &session.web_identity_provider {
        out.begin_obj("webIdFederationData");
        out.str("federatedProvider", provider);
        out.begin_obj("attributes");
        out.end_obj();
        out.end_obj();
    }
    out.begin_obj("attributes");
    out.str("creationDate", &clock::event_time(session.created));
    out.str(
        "mfaAuthenticated",
        if session.mfa { "true" } else { "false" },
    );
    out.end_obj();
    out.opt_str("sourceIdentity", session.source_identity.as_deref());
    if assumed_root {
        out.str("assumedRoot", "true");
    }
    out.end_obj();
}

/// A resource in the `resources` list.
#[derive(Debug, Clone)]
pub struct Resource {
    pub arn: String,
    pub account: Option<String>,
    pub kind: &'static str,
}

/// A whole record.
#[derive(Debug, Clone)]
pub struct Event {
    pub time: i64,
    pub account: String,
    pub region: String,
    pub identity: Identity,
    pub source: &'static str,
    pub name: &'static str,
    pub source_ip: String,
    pub user_agent: String,
    pub request_parameters: Option<String>,
    pub response_elements: Option<String>,
    pub additional_event_data: Option<String>,
    /// `(errorCode, errorMessage)`; an empty code is left out (failed sign-ins).
    pub error: Option<(String, String)>,
    pub read_only: Option<bool>,
    pub event_type: &'static str,
    pub data_event: bool,
    pub resources: Vec<Resource>,
    pub event_id: String,
    pub request_id: Option<String>,
    pub shared_event_id: Option<String>,
    pub vpc_endpoint_id: Option<String>,
    pub tls: bool,
    pub console_session: bool,
    pub service_event_details: Option<String>,
}

impl Event {
    /// A management API call with the usual defaults; callers fill in the rest.
    pub fn api_call(
        time: i64,
        account: &str,
        region: &str,
        identity: Identity,
        source: &'static str,
        name: &'static str,
        event_id: String,
    ) -> Self {
        Event {
            time,
            account: account.to_string(),
            region: region.to_string(),
            identity,
            source,
            name,
            source_ip: String::new(),
            user_agent: String::new(),
            request_parameters: None,
            response_elements: None,
            additional_event_data: None,
            error: None,
            read_only: None,
            event_type: "AwsApiCall",
            data_event: false,
            resources: Vec::new(),
            event_id,
            request_id: None,
            shared_event_id: None,
            vpc_endpoint_id: None,
            tls: true,
            console_session: false,
            service_event_details: None,
        }
    }

    pub fn write(&self, out: &mut JsonOut) {
        out.begin();
        out.str("eventVersion", "1.11");
        self.identity.write(out);
        out.str("eventTime", &clock::event_time(self.time));
        out.str("eventSource", self.source);
        out.str("eventName", self.name);
        out.str("awsRegion", &self.region);
        out.str("sourceIPAddress", &self.source_ip);
        out.str("userAgent", &self.user_agent);
        if let Some((code, message)) = &self.error {
            if !code.is_empty() {
                out.str("errorCode", code);
            }
            out.str("errorMessage", message);
        }
        match &self.request_parameters {
            Some(json) => out.raw("requestParameters", json),
            None => out.null("requestParameters"),
        }
        match &self.response_elements {
            Some(json) => out.raw("responseElements", json),
            None => out.null("responseElements"),
        }
        if let Some(json) = &self.additional_event_data {
            out.raw("additionalEventData", json);
        }
        out.opt_str("requestID", self.request_id.as_deref());
        out.str("eventID", &self.event_id);
        if let Some(read_only) = self.read_only {
            out.bool("readOnly", read_only);
        }
        if !self.resources.is_empty() {
            out.begin_arr("resources");
            for r in &self.resources {
                out.begin();
                out.opt_str("accountId", r.account.as_deref());
                out.str("type", r.kind);
                out.str("ARN", &r.arn);
                out.end_obj();
            }
            out.end_arr();
        }
        out.str("eventType", self.event_type);
        if self.event_type == "AwsApiCall" || self.event_type == "AwsConsoleSignIn" {
            out.bool("managementEvent", !self.data_event);
        }
        out.str("recipientAccountId", &self.account);
        out.opt_str("sharedEventID", self.shared_event_id.as_deref());
        out.opt_str("vpcEndpointId", self.vpc_endpoint_id.as_deref());
        if let Some(json) = &self.service_event_details {
            out.raw("serviceEventDetails", json);
        }
        out.str(
            "eventCategory",
            if self.data_event {
                "Data"
            } else {
                "Management"
            },
        );
        if self.tls && self.event_type == "AwsApiCall" {
            out.begin_obj("tlsDetails");
            out.str("tlsVersion", "TLSv1.3");
            out.str("cipherSuite", "TLS_AES_128_GCM_SHA256");
            let service = self.source.trim_end_matches(".amazonaws.com");
            out.str(
                "clientProvidedHostHeader",
                &format!("{service}.{}.amazonaws.com", self.region),
            );
            out.end_obj();
        }
        if self.console_session {
            out.str("sessionCredentialFromConsole", "true");
        }
        out.end_obj();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_role_record_is_valid_json_with_the_documented_fields() {
        let identity = Identity::AssumedRole {
            account: "111122223333".into(),
            role_name: "Admin".into(),
            role_id: "AROAEXAMPLE".into(),
            session_name: "alice".into(),
            access_key: "ASIAEXAMPLE".into(),
            session: Session {
                created: 0,
                mfa: true,
                source_identity: Some("alice".into()),
                web_identity_provider: None,
            },
            invoked_by: None,
        };
        let mut event = Event::api_call(
            60,
            "111122223333",
            "us-east-1",
            identity,
            "ec2.amazonaws.com",
            "DescribeInstances",
            "e1".into(),
        );
        event.read_only = Some(true);
        let mut out = JsonOut::new();
        event.write(&mut out);
        let v: serde_json::Value = serde_json::from_slice(&out.buf).unwrap();
        assert_eq!(
            v["userIdentity"]["arn"],
            "arn:aws:sts::111122223333:assumed-role/Admin/alice"
        );
        assert_eq!(
            v["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
            "arn:aws:iam::111122223333:role/Admin"
        );
        assert_eq!(
            v["userIdentity"]["sessionContext"]["sourceIdentity"],
            "alice"
        );
        assert_eq!(v["eventTime"], "1970-01-01T00:01:00Z");
        assert_eq!(
            v["tlsDetails"]["clientProvidedHostHeader"],
            "ec2.us-east-1.amazonaws.com"
        );
        assert_eq!(v["requestParameters"], serde_json::Value::Null);
    }
}
