//! The dataset's columns and how each CloudTrail JSON field maps onto them.
//!
//! The mapping is one static tree ([`RECORD_FIELDS`]) used both ways: ingest walks a
//! record along it to fill columns, export walks it to rebuild the record. Every value the
//! tree cannot hold exactly goes into the `unmapped` column, which keeps ingest lossless.
//! Field names follow CloudTrail's record contents and userIdentity element references:
//! <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>,
//! <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field as ArrowField, Fields, Schema, SchemaRef, TimeUnit};

/// The dataset schema version. Bump it whenever a column is added, removed or retyped, or
/// the dataset's own files change form. 2: dedupe keys hold the record text's hash. 3: key
/// files are grouped by event date, with an index ([`crate::dedupe`]).
pub const SCHEMA_VERSION: u32 = 3;

/// The Hive partition column: the event's UTC date, `YYYY-MM-DD`.
pub const PARTITION_COLUMN: &str = "event_date";

/// The partition value for events without a usable time (Hive's name for a null partition).
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The Arrow type family of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// UTF-8 text (also JSON text).
    Utf8,
    /// 32-bit signed integer.
    Int32,
    /// Boolean.
    Bool,
    /// Timestamp, microseconds, UTC.
    Timestamp,
    /// `List<Struct<arn, account_id, type>>` for `resources`.
    Resources,
}

macro_rules! columns {
    ($($variant:ident => $name:literal : $ty:ident, $doc:literal;)*) => {
        /// A column of the `events` table, in file order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(usize)]
        pub enum Col { $(#[doc = $doc] $variant),* }

        /// Every column: name, type and a one-line description, in file order.
        pub const COLUMNS: &[(&str, ColType, &str)] = &[$(($name, ColType::$ty, $doc)),*];
    };
}

columns! {
    SourceFile => "source_file": Utf8, "Input file the record came from, relative to the input root (from `AWSLogs/` on when present).";
    RecordIndex => "record_index": Int32, "Zero-based index of the record within its source file.";
    EventTime => "event_time": Timestamp, "`eventTime`, or the substitute named by `event_time_substitute`.";
    EventTimeSubstitute => "event_time_substitute": Utf8, "Null when `event_time` is the record's `eventTime`; else the field it was taken from (e.g. `@timestamp`).";
    EventVersion => "event_version": Utf8, "`eventVersion`.";
    EventSource => "event_source": Utf8, "`eventSource`, the service endpoint (e.g. `iam.amazonaws.com`).";
    EventName => "event_name": Utf8, "`eventName`, the API action.";
    AwsRegion => "aws_region": Utf8, "`awsRegion`.";
    SourceIpAddress => "source_ip_address": Utf8, "`sourceIPAddress` (an IP address or an AWS service name).";
    UserAgent => "user_agent": Utf8, "`userAgent`.";
    ErrorCode => "error_code": Utf8, "`errorCode`, null when the call succeeded.";
    ErrorMessage => "error_message": Utf8, "`errorMessage`.";
    RequestParameters => "request_parameters": Utf8, "`requestParameters` as JSON text.";
    ResponseElements => "response_elements": Utf8, "`responseElements` as JSON text.";
    AdditionalEventData => "additional_event_data": Utf8, "`additionalEventData` as JSON text.";
    RequestId => "request_id": Utf8, "`requestID`.";
    EventId => "event_id": Utf8, "`eventID`, unique per event (with the recipient account).";
    ReadOnly => "read_only": Bool, "`readOnly`.";
    Resources => "resources": Resources, "`resources` as a list of {arn, account_id, type}.";
    EventType => "event_type": Utf8, "`eventType` (AwsApiCall, AwsServiceEvent, AwsConsoleSignIn, ...).";
    ApiVersion => "api_version": Utf8, "`apiVersion`.";
    ManagementEvent => "management_event": Bool, "`managementEvent`.";
    RecipientAccountId => "recipient_account_id": Utf8, "`recipientAccountId`, the account that received the event.";
    ServiceEventDetails => "service_event_details": Utf8, "`serviceEventDetails` as JSON text.";
    SharedEventId => "shared_event_id": Utf8, "`sharedEventID`, shared by the copies of a cross-account event.";
    VpcEndpointId => "vpc_endpoint_id": Utf8, "`vpcEndpointId`.";
    VpcEndpointAccountId => "vpc_endpoint_account_id": Utf8, "`vpcEndpointAccountId`.";
    EventCategory => "event_category": Utf8, "`eventCategory` (Management, Data, Insight, NetworkActivity).";
    SessionCredentialFromConsole => "session_credential_from_console": Bool, "`sessionCredentialFromConsole` (\"true\" in the record).";
    Addendum => "addendum": Utf8, "`addendum` as JSON text.";
    EdgeDeviceDetails => "edge_device_details": Utf8, "`edgeDeviceDetails` as JSON text.";
    InsightDetails => "insight_details": Utf8, "`insightDetails` as JSON text (Insight events).";
    TlsVersion => "tls_version": Utf8, "`tlsDetails.tlsVersion`.";
    TlsCipherSuite => "tls_cipher_suite": Utf8, "`tlsDetails.cipherSuite`.";
    TlsClientProvidedHostHeader => "tls_client_provided_host_header": Utf8, "`tlsDetails.clientProvidedHostHeader`.";
    UserIdentityType => "user_identity_type": Utf8, "`userIdentity.type` (Root, IAMUser, AssumedRole, ...).";
    UserIdentityPrincipalId => "user_identity_principal_id": Utf8, "`userIdentity.principalId`.";
    UserIdentityArn => "user_identity_arn": Utf8, "`userIdentity.arn`.";
    UserIdentityAccountId => "user_identity_account_id": Utf8, "`userIdentity.accountId`.";
    UserIdentityAccessKeyId => "user_identity_access_key_id": Utf8, "`userIdentity.accessKeyId`.";
    UserIdentityUserName => "user_identity_user_name": Utf8, "`userIdentity.userName`.";
    UserIdentityInvokedBy => "user_identity_invoked_by": Utf8, "`userIdentity.invokedBy`, the AWS service that made the request.";
    UserIdentityIdentityProvider => "user_identity_identity_provider": Utf8, "`userIdentity.identityProvider` (SAMLUser, WebIdentityUser).";
    UserIdentityCredentialId => "user_identity_credential_id": Utf8, "`userIdentity.credentialId`.";
    SessionMfaAuthenticated => "session_mfa_authenticated": Bool, "`userIdentity.sessionContext.attributes.mfaAuthenticated`.";
    SessionCreationDate => "session_creation_date": Timestamp, "`userIdentity.sessionContext.attributes.creationDate`.";
    SessionIssuerType => "session_issuer_type": Utf8, "`userIdentity.sessionContext.sessionIssuer.type` (Role, IAMUser, Root, ...).";
    SessionIssuerPrincipalId => "session_issuer_principal_id": Utf8, "`userIdentity.sessionContext.sessionIssuer.principalId`.";
    SessionIssuerArn => "session_issuer_arn": Utf8, "`userIdentity.sessionContext.sessionIssuer.arn`.";
    SessionIssuerAccountId => "session_issuer_account_id": Utf8, "`userIdentity.sessionContext.sessionIssuer.accountId`.";
    SessionIssuerUserName => "session_issuer_user_name": Utf8, "`userIdentity.sessionContext.sessionIssuer.userName`.";
    WebIdFederatedProvider => "web_id_federated_provider": Utf8, "`userIdentity.sessionContext.webIdFederationData.federatedProvider`.";
    WebIdAttributes => "web_id_attributes": Utf8, "`userIdentity.sessionContext.webIdFederationData.attributes` as JSON text.";
    SessionSourceIdentity => "session_source_identity": Utf8, "`userIdentity.sessionContext.sourceIdentity`.";
    SessionEc2RoleDelivery => "session_ec2_role_delivery": Utf8, "`userIdentity.sessionContext.ec2RoleDelivery` (IMDS version).";
    SessionAssumedRoot => "session_assumed_root": Bool, "`userIdentity.sessionContext.assumedRoot` (\"true\" for AssumeRoot sessions).";
    OnBehalfOfUserId => "on_behalf_of_user_id": Utf8, "`userIdentity.onBehalfOf.userId` (IAM Identity Center user).";
    OnBehalfOfIdentityStoreArn => "on_behalf_of_identity_store_arn": Utf8, "`userIdentity.onBehalfOf.identityStoreArn`.";
    InScopeOfIssuerType => "in_scope_of_issuer_type": Utf8, "`userIdentity.inScopeOf.issuerType`.";
    InScopeOfCredentialsIssuedTo => "in_scope_of_credentials_issued_to": Utf8, "`userIdentity.inScopeOf.credentialsIssuedTo`.";
    InScopeOfSourceAccount => "in_scope_of_source_account": Utf8, "`userIdentity.inScopeOf.sourceAccount`.";
    InScopeOfSourceArn => "in_scope_of_source_arn": Utf8, "`userIdentity.inScopeOf.sourceArn`.";
    Unmapped => "unmapped": Utf8, "JSON object with every part of the record no other column holds exactly (unknown fields, nulls, odd types); null when empty.";
}

/// Number of columns in a data file.
pub const NUM_COLUMNS: usize = COLUMNS.len();

/// How a JSON field is held.
#[derive(Debug)]
pub enum Kind {
    /// A JSON string in a Utf8 column.
    Str(Col),
    /// A JSON `true`/`false` in a Bool column.
    Bool(Col),
    /// A JSON string `"true"`/`"false"` in a Bool column (CloudTrail writes some flags so).
    BoolText(Col),
    /// An ISO 8601 UTC time string in a Timestamp column.
    Time(Col),
    /// Any JSON value but null, as JSON text in a Utf8 column.
    Json(Col),
    /// The `resources` array.
    Resources(Col),
    /// A nested object whose members are mapped in turn.
    Object(&'static [FieldSpec]),
}

/// One JSON member and how it is held.
#[derive(Debug)]
pub struct FieldSpec {
    /// The JSON key.
    pub key: &'static str,
    /// Where and how its value is kept.
    pub kind: Kind,
}

const fn f(key: &'static str, kind: Kind) -> FieldSpec {
    FieldSpec { key, kind }
}

/// The JSON keys of one element of `resources`, in column order.
pub const RESOURCE_KEYS: [&str; 3] = ["ARN", "accountId", "type"];

static ATTRIBUTES: &[FieldSpec] = &[
    f(
        "mfaAuthenticated",
        Kind::BoolText(Col::SessionMfaAuthenticated),
    ),
    f("creationDate", Kind::Time(Col::SessionCreationDate)),
];

static SESSION_ISSUER: &[FieldSpec] = &[
    f("type", Kind::Str(Col::SessionIssuerType)),
    f("principalId", Kind::Str(Col::SessionIssuerPrincipalId)),
    f("arn", Kind::Str(Col::SessionIssuerArn)),
    f("accountId", Kind::Str(Col::SessionIssuerAccountId)),
    f("userName", Kind::Str(Col::SessionIssuerUserName)),
];

static WEB_ID_FEDERATION: &[FieldSpec] = &[
    f("federatedProvider", Kind::Str(Col::WebIdFederatedProvider)),
    f("attributes", Kind::Json(Col::WebIdAttributes)),
];

static SESSION_CONTEXT: &[FieldSpec] = &[
    f("attributes", Kind::Object(ATTRIBUTES)),
    f("sessionIssuer", Kind::Object(SESSION_ISSUER)),
    f("webIdFederationData", Kind::Object(WEB_ID_FEDERATION)),
    f("sourceIdentity", Kind::Str(Col::SessionSourceIdentity)),
    f("ec2RoleDelivery", Kind::Str(Col::SessionEc2RoleDelivery)),
    f("assumedRoot", Kind::BoolText(Col::SessionAssumedRoot)),
];

static ON_BEHALF_OF: &[FieldSpec] = &[
    f("userId", Kind::Str(Col::OnBehalfOfUserId)),
    f(
        "identityStoreArn",
        Kind::Str(Col::OnBehalfOfIdentityStoreArn),
    ),
];

static IN_SCOPE_OF: &[FieldSpec] = &[
    f("issuerType", Kind::Str(Col::InScopeOfIssuerType)),
    f(
        "credentialsIssuedTo",
        Kind::Str(Col::InScopeOfCredentialsIssuedTo),
    ),
    f("sourceAccount", Kind::Str(Col::InScopeOfSourceAccount)),
    f("sourceArn", Kind::Str(Col::InScopeOfSourceArn)),
];

static USER_IDENTITY: &[FieldSpec] = &[
    f("type", Kind::Str(Col::UserIdentityType)),
    f("principalId", Kind::Str(Col::UserIdentityPrincipalId)),
    f("arn", Kind::Str(Col::UserIdentityArn)),
    f("accountId", Kind::Str(Col::UserIdentityAccountId)),
    f("accessKeyId", Kind::Str(Col::UserIdentityAccessKeyId)),
    f("userName", Kind::Str(Col::UserIdentityUserName)),
    f("sessionContext", Kind::Object(SESSION_CONTEXT)),
    f("invokedBy", Kind::Str(Col::UserIdentityInvokedBy)),
    f(
        "identityProvider",
        Kind::Str(Col::UserIdentityIdentityProvider),
    ),
    f("credentialId", Kind::Str(Col::UserIdentityCredentialId)),
    f("onBehalfOf", Kind::Object(ON_BEHALF_OF)),
    f("inScopeOf", Kind::Object(IN_SCOPE_OF)),
];

static TLS_DETAILS: &[FieldSpec] = &[
    f("tlsVersion", Kind::Str(Col::TlsVersion)),
    f("cipherSuite", Kind::Str(Col::TlsCipherSuite)),
    f(
        "clientProvidedHostHeader",
        Kind::Str(Col::TlsClientProvidedHostHeader),
    ),
];

/// The top level of a CloudTrail record.
pub static RECORD_FIELDS: &[FieldSpec] = &[
    f("eventVersion", Kind::Str(Col::EventVersion)),
    f("userIdentity", Kind::Object(USER_IDENTITY)),
    f("eventTime", Kind::Time(Col::EventTime)),
    f("eventSource", Kind::Str(Col::EventSource)),
    f("eventName", Kind::Str(Col::EventName)),
    f("awsRegion", Kind::Str(Col::AwsRegion)),
    f("sourceIPAddress", Kind::Str(Col::SourceIpAddress)),
    f("userAgent", Kind::Str(Col::UserAgent)),
    f("errorCode", Kind::Str(Col::ErrorCode)),
    f("errorMessage", Kind::Str(Col::ErrorMessage)),
    f("requestParameters", Kind::Json(Col::RequestParameters)),
    f("responseElements", Kind::Json(Col::ResponseElements)),
    f("additionalEventData", Kind::Json(Col::AdditionalEventData)),
    f("requestID", Kind::Str(Col::RequestId)),
    f("eventID", Kind::Str(Col::EventId)),
    f("readOnly", Kind::Bool(Col::ReadOnly)),
    f("resources", Kind::Resources(Col::Resources)),
    f("eventType", Kind::Str(Col::EventType)),
    f("apiVersion", Kind::Str(Col::ApiVersion)),
    f("managementEvent", Kind::Bool(Col::ManagementEvent)),
    f("recipientAccountId", Kind::Str(Col::RecipientAccountId)),
    f("serviceEventDetails", Kind::Json(Col::ServiceEventDetails)),
    f("sharedEventID", Kind::Str(Col::SharedEventId)),
    f("vpcEndpointId", Kind::Str(Col::VpcEndpointId)),
    f("vpcEndpointAccountId", Kind::Str(Col::VpcEndpointAccountId)),
    f("eventCategory", Kind::Str(Col::EventCategory)),
    f(
        "sessionCredentialFromConsole",
        Kind::BoolText(Col::SessionCredentialFromConsole),
    ),
    f("addendum", Kind::Json(Col::Addendum)),
    f("edgeDeviceDetails", Kind::Json(Col::EdgeDeviceDetails)),
    f("insightDetails", Kind::Json(Col::InsightDetails)),
    f("tlsDetails", Kind::Object(TLS_DETAILS)),
];

/// The columns that hold JSON text (the free-form objects, and `unmapped`): nothing is
/// pruned by their minimum and maximum.
pub fn json_text_columns() -> Vec<Col> {
    fn collect(spec: &'static [FieldSpec], out: &mut Vec<Col>) {
        for field in spec {
            match &field.kind {
                Kind::Object(inner) => collect(inner, out),
                Kind::Json(c) => out.push(*c),
                _ => {}
            }
        }
    }
    let mut out = vec![Col::Unmapped];
    collect(RECORD_FIELDS, &mut out);
    out
}

/// Top-level fields that stand in for a missing `eventTime`, in order of preference.
/// Log shippers (Logstash, Beats) drop or rename `eventTime` and add `@timestamp`.
pub const EVENT_TIME_SUBSTITUTES: &[&str] = &["@timestamp"];

/// The fields of one item of `resources`: `arn`, `account_id`, `type`.
pub fn resource_struct_fields() -> Fields {
    Fields::from(vec![
        ArrowField::new("arn", DataType::Utf8, true),
        ArrowField::new("account_id", DataType::Utf8, true),
        ArrowField::new("type", DataType::Utf8, true),
    ])
}

/// The Arrow type of `resources`' list items.
pub fn resource_item_field() -> Arc<ArrowField> {
    Arc::new(ArrowField::new(
        "item",
        DataType::Struct(resource_struct_fields()),
        true,
    ))
}

fn arrow_type(ty: ColType) -> DataType {
    match ty {
        ColType::Utf8 => DataType::Utf8,
        ColType::Int32 => DataType::Int32,
        ColType::Bool => DataType::Boolean,
        ColType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ColType::Resources => DataType::List(resource_item_field()),
    }
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let fields: Vec<ArrowField> = COLUMNS
        .iter()
        .map(|(name, ty, _)| {
            let nullable = !matches!(*name, "source_file" | "record_index");
            ArrowField::new(*name, arrow_type(*ty), nullable)
        })
        .collect();
    let metadata = [(
        "trailscope.schema_version".to_string(),
        SCHEMA_VERSION.to_string(),
    )]
    .into_iter()
    .collect();
    Arc::new(Schema::new_with_metadata(fields, metadata))
});

/// The Arrow schema of the data files (without the partition column).
pub fn arrow_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// The column table of `docs/schema.md`, rendered from [`COLUMNS`].
pub fn markdown_table() -> String {
    let mut out = String::from("| column | type | meaning |\n|---|---|---|\n");
    for (name, ty, doc) in COLUMNS {
        let ty = match ty {
            ColType::Utf8 => "string",
            ColType::Int32 => "int32",
            ColType::Bool => "boolean",
            ColType::Timestamp => "timestamp(µs, UTC)",
            ColType::Resources => "list<struct<arn, account_id, type>>",
        };
        out += &format!("| `{name}` | {ty} | {} |\n", doc.replace('|', "\\|"));
    }
    out += &format!(
        "| `{PARTITION_COLUMN}` | string (Hive partition) | UTC date of `event_time`, `YYYY-MM-DD`; `{NULL_PARTITION}` when it is null. |\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// `docs/schema.md` shows the columns this build writes.
    /// Run with `UPDATE_SCHEMA_DOC=1` to rewrite its table after changing the schema.
    #[test]
    fn schema_doc_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let (start, end) = ("<!-- columns:start -->\n", "<!-- columns:end -->");
        let (head, rest) = doc.split_once(start).expect("start marker");
        let (_, tail) = rest.split_once(end).expect("end marker");
        let current = format!("{head}{start}{}{end}{tail}", markdown_table());
        if std::env::var_os("UPDATE_SCHEMA_DOC").is_some() {
            std::fs::write(path, &current).unwrap();
        }
        assert_eq!(
            doc, current,
            "docs/schema.md is stale: rerun with UPDATE_SCHEMA_DOC=1"
        );
        assert!(doc.contains(&format!("Schema version: {SCHEMA_VERSION}")));
    }

    fn collect(spec: &'static [FieldSpec], out: &mut Vec<Col>) {
        for field in spec {
            match &field.kind {
                Kind::Object(inner) => collect(inner, out),
                Kind::Str(c)
                | Kind::Bool(c)
                | Kind::BoolText(c)
                | Kind::Time(c)
                | Kind::Json(c)
                | Kind::Resources(c) => out.push(*c),
            }
        }
    }

    #[test]
    fn every_json_field_has_its_own_column() {
        let mut cols = Vec::new();
        collect(RECORD_FIELDS, &mut cols);
        let unique: HashSet<_> = cols.iter().collect();
        assert_eq!(unique.len(), cols.len(), "a column is mapped twice");
        // Only provenance, the time substitute and `unmapped` are not JSON fields.
        assert_eq!(cols.len() + 4, NUM_COLUMNS);
    }

    #[test]
    fn column_types_match_their_kinds() {
        fn check(spec: &'static [FieldSpec]) {
            for field in spec {
                let (col, want) = match &field.kind {
                    Kind::Object(inner) => {
                        check(inner);
                        continue;
                    }
                    Kind::Str(c) | Kind::Json(c) => (*c, ColType::Utf8),
                    Kind::Bool(c) | Kind::BoolText(c) => (*c, ColType::Bool),
                    Kind::Time(c) => (*c, ColType::Timestamp),
                    Kind::Resources(c) => (*c, ColType::Resources),
                };
                assert_eq!(COLUMNS[col as usize].1, want, "{}", field.key);
            }
        }
        check(RECORD_FIELDS);
    }

    #[test]
    fn names_are_snake_case_and_unique() {
        let names: HashSet<_> = COLUMNS.iter().map(|c| c.0).collect();
        assert_eq!(names.len(), NUM_COLUMNS);
        for name in names {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
        }
        assert_eq!(arrow_schema().fields().len(), NUM_COLUMNS);
    }
}
