//! The `__credentials` table: one row per temporary key issued or used in the dataset,
//! with its issuing call and resolved origin. Built on first use, from the whole dataset
//! (not the session's time window: a session used today may have been issued yesterday).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, BooleanArray, Int64Array, ListBuilder, RecordBatch, StringArray,
    StringBuilder, StructBuilder, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use tokio::sync::OnceCell;

use super::resolve::{Issuing, PortalCall, Resolved, Resolver, ServiceSession, Signer};
use super::{principal_expr, principal_type_expr};
use crate::udf;

/// The fields of one hop of a `chain`.
pub fn hop_fields() -> Fields {
    Fields::from(vec![
        Field::new("arn", DataType::Utf8, true),
        Field::new("access_key_id", DataType::Utf8, true),
        Field::new("issuing_event_id", DataType::Utf8, true),
        Field::new("issuing_api", DataType::Utf8, true),
    ])
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The table's columns; the `sessions` view shows them under the same names.
pub static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        Field::new("access_key_id", DataType::Utf8, false),
        text("principal"),
        text("principal_type"),
        text("role_arn"),
        text("session_name"),
        text("source_identity"),
        text("issuing_event_id"),
        text("issuing_copy_event_id"),
        text("issuing_api"),
        Field::new("issued_at", timestamp(), true),
        text("issued_by"),
        text("issued_by_type"),
        text("actor"),
        text("actor_type"),
        text("actor_provider"),
        text("method"),
        Field::new(
            "chain",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(hop_fields()),
                true,
            ))),
            true,
        ),
        Field::new("first_used", timestamp(), true),
        Field::new("last_used", timestamp(), true),
        Field::new("event_count", DataType::Int64, false),
        Field::new("source_ips", DataType::Int64, false),
        Field::new("from_console", DataType::Boolean, true),
    ]))
});

/// A table provider that resolves credentials the first time a query reads it.
#[derive(Debug)]
pub struct CredentialsTable {
    events: Arc<dyn TableProvider>,
    table: OnceCell<Arc<MemTable>>,
}

impl CredentialsTable {
    /// Over `events`, the whole dataset.
    pub fn new(events: Arc<dyn TableProvider>) -> CredentialsTable {
        CredentialsTable {
            events,
            table: OnceCell::new(),
        }
    }
}

#[async_trait::async_trait]
impl TableProvider for CredentialsTable {
    fn schema(&self) -> SchemaRef {
        SCHEMA.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let table = self
            .table
            .get_or_try_init(|| async {
                let batch = build(self.events.clone(), state.runtime_env().clone()).await?;
                Ok::<_, datafusion::error::DataFusionError>(Arc::new(MemTable::try_new(
                    SCHEMA.clone(),
                    vec![vec![batch]],
                )?))
            })
            .await?;
        table.scan(state, projection, filters, limit).await
    }
}

/// Reads the issuing calls, the portal calls and the used keys, and resolves every key.
/// The queries run on `runtime`, the calling session's: its object stores (an S3
/// dataset's) and its memory pool.
pub async fn build(
    events: Arc<dyn TableProvider>,
    runtime: Arc<datafusion::execution::runtime_env::RuntimeEnv>,
) -> DfResult<RecordBatch> {
    let mut ctx = crate::context::context_on(SessionConfig::new(), runtime);
    udf::register_all(&mut ctx)
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
    ctx.register_table("events", events)?;
    let (calls, service_sessions) = read_issuing(&ctx).await?;
    let portal = read_portal(&ctx).await?;
    let used = read_used(&ctx).await?;
    let mut resolver = Resolver::new(calls, portal).with_service_sessions(service_sessions);

    let mut rows: Vec<(String, Signer, Option<Usage>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (key, signer, usage) in used {
        seen.insert(key.clone());
        rows.push((key, signer, Some(usage)));
    }
    // Keys issued and never used in the dataset still have a row.
    for key in resolver.issued_keys() {
        if !seen.contains(&key) {
            rows.push((key, Signer::default(), None));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let resolved: Vec<Resolved> = rows
        .iter()
        .map(|(key, signer, _)| resolver.resolve(key, signer))
        .collect();
    to_batch(&rows, &resolved)
}

/// How a key was used.
#[derive(Debug, Clone, Default)]
struct Usage {
    role_arn: Option<String>,
    first_used: Option<i64>,
    last_used: Option<i64>,
    events: i64,
    source_ips: i64,
}

/// The issuing calls that name the key they issued, and the sessions AWS services
/// assumed without naming it.
async fn read_issuing(ctx: &SessionContext) -> DfResult<(Vec<Issuing>, Vec<ServiceSession>)> {
    let (principal, principal_type) = (principal_expr(), principal_type_expr());
    let sql = format!(
        "SELECT event_id, CAST(event_time AS BIGINT) AS t, event_name, recipient_account_id, \
                source_ip_address, \
                {principal_type} AS signer_type, {principal} AS signer_principal, \
                user_identity_arn, user_identity_access_key_id, session_source_identity, \
                session_issuer_user_name, session_issuer_arn, \
                arn_session_name(user_identity_arn) AS signer_session, \
                session_credential_from_console, \
                request_parameters, response_elements, user_identity_user_name, \
                user_identity_identity_provider \
         FROM events \
         WHERE event_source = 'sts.amazonaws.com' AND error_code IS NULL AND event_name IN \
               ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetSessionToken', \
                'GetFederationToken', 'AssumeRoot')"
    );
    let mut out = Vec::new();
    let mut service_sessions = Vec::new();
    for batch in ctx.sql(&sql).await?.collect().await? {
        let col = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            // Each document is parsed once here; one JSON function per field in SQL
            // parsed it once per field (most of attribution's time, when measured).
            let request = json(col.text("request_parameters", row));
            let response = json(col.text("response_elements", row));
            let Some(issued_key) = text_at(&response, &["credentials", "accessKeyId"]) else {
                if let Some(session) = service_session(&col, row, &request) {
                    service_sessions.push(session);
                }
                continue;
            };
            out.push(Issuing {
                event_id: col.text("event_id", row).unwrap_or_default(),
                event_time_us: col.int("t", row).unwrap_or_default(),
                api: col.text("event_name", row).unwrap_or_default(),
                account_id: col.text("recipient_account_id", row).unwrap_or_default(),
                source_ip: col.text("source_ip_address", row),
                signer: Signer {
                    kind: col.text("signer_type", row).unwrap_or_default(),
                    principal: col.text("signer_principal", row).unwrap_or_default(),
                    arn: col
                        .text("user_identity_arn", row)
                        .or_else(|| col.text("signer_principal", row))
                        .unwrap_or_default(),
                    access_key_id: col.text("user_identity_access_key_id", row),
                    source_identity: col.text("session_source_identity", row),
                    role_name: col.text("session_issuer_user_name", row),
                    role_arn: col.text("session_issuer_arn", row),
                    session_name: col.text("signer_session", row),
                    from_console: col.flag("session_credential_from_console", row),
                },
                issued_key,
                issued_arn: text_at(&response, &["assumedRoleUser", "arn"])
                    .or_else(|| text_at(&response, &["federatedUser", "arn"])),
                session_name: text_at(&request, &["roleSessionName"])
                    .or_else(|| text_at(&request, &["name"])),
                source_identity: text_at(&request, &["sourceIdentity"]),
                subject: text_at(&response, &["subjectFromWebIdentityToken"])
                    .or_else(|| text_at(&response, &["subject"]))
                    .or_else(|| col.text("user_identity_user_name", row)),
                subject_provider: col
                    .text("user_identity_identity_provider", row)
                    .or_else(|| text_at(&request, &["principalArn"]))
                    .or_else(|| text_at(&response, &["provider"])),
            });
        }
    }
    Ok((out, service_sessions))
}

/// The session an `AssumeRole` by an AWS service created, from its request (role ARN and
/// session name), when the call names no key.
fn service_session(
    col: &Columns<'_>,
    row: usize,
    request: &serde_json::Value,
) -> Option<ServiceSession> {
    if col.text("event_name", row).as_deref() != Some("AssumeRole")
        || col.text("signer_type", row).as_deref() != Some("AWSService")
    {
        return None;
    }
    let role_arn = text_at(request, &["roleArn"])?;
    let session_name = text_at(request, &["roleSessionName"])?;
    // arn:<partition>:iam::<account>:role/<path/>name
    let mut parts = role_arn.splitn(6, ':');
    let (_, partition, _, _, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let role_name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    Some(ServiceSession {
        session_arn: format!(
            "arn:{partition}:sts::{account}:assumed-role/{role_name}/{session_name}"
        ),
        service: col.text("signer_principal", row)?,
        event_id: col.text("event_id", row).unwrap_or_default(),
    })
}

/// A JSON document of a column (`Null` when absent or not JSON).
fn json(text: Option<String>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// The string at `path` in a JSON document.
fn text_at(value: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut at = value;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str().map(str::to_string)
}

async fn read_portal(ctx: &SessionContext) -> DfResult<Vec<PortalCall>> {
    let sql = "SELECT event_id, CAST(event_time AS BIGINT) AS t, \
                      coalesce(on_behalf_of_user_id, user_identity_principal_id, user_identity_user_name) AS user_id, \
                      on_behalf_of_identity_store_arn, \
                      json_get_str(request_parameters, 'accountId') AS account_id, \
                      json_get_str(request_parameters, 'roleName') AS role_name, source_ip_address \
               FROM events \
               WHERE event_source = 'sso.amazonaws.com' AND event_name = 'GetRoleCredentials' \
                     AND error_code IS NULL";
    let mut out = Vec::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let col = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            let (Some(user_id), Some(account_id), Some(role_name)) = (
                col.text("user_id", row),
                col.text("account_id", row),
                col.text("role_name", row),
            ) else {
                continue;
            };
            out.push(PortalCall {
                event_id: col.text("event_id", row).unwrap_or_default(),
                event_time_us: col.int("t", row).unwrap_or_default(),
                user_id,
                identity_store_arn: col.text("on_behalf_of_identity_store_arn", row),
                account_id,
                role_name,
                source_ip: col.text("source_ip_address", row),
            });
        }
    }
    Ok(out)
}

async fn read_used(ctx: &SessionContext) -> DfResult<Vec<(String, Signer, Usage)>> {
    let (principal, principal_type) = (principal_expr(), principal_type_expr());
    let sql = format!(
        "SELECT user_identity_access_key_id AS key, max({principal_type}) AS kind, \
                max({principal}) AS principal, max(user_identity_arn) AS arn, \
                max(session_source_identity) AS source_identity, \
                max(session_issuer_user_name) AS role_name, max(session_issuer_arn) AS role_arn, \
                max(arn_session_name(user_identity_arn)) AS session_name, \
                bool_or(session_credential_from_console) AS from_console, \
                CAST(min(event_time) AS BIGINT) AS first_used, CAST(max(event_time) AS BIGINT) AS last_used, \
                count(*) AS events, count(DISTINCT source_ip_address) AS source_ips \
         FROM events WHERE user_identity_access_key_id LIKE 'ASIA%' \
         GROUP BY user_identity_access_key_id"
    );
    let mut out = Vec::new();
    for batch in ctx.sql(&sql).await?.collect().await? {
        let col = Columns::new(&batch);
        for row in 0..batch.num_rows() {
            let key = col.text("key", row).unwrap_or_default();
            let principal = col.text("principal", row).unwrap_or_default();
            let signer = Signer {
                kind: col.text("kind", row).unwrap_or_default(),
                arn: col.text("arn", row).unwrap_or_else(|| principal.clone()),
                principal,
                access_key_id: Some(key.clone()),
                source_identity: col.text("source_identity", row),
                role_name: col.text("role_name", row),
                role_arn: col.text("role_arn", row),
                session_name: col.text("session_name", row),
                from_console: col.flag("from_console", row),
            };
            let usage = Usage {
                role_arn: col.text("role_arn", row),
                first_used: col.int("first_used", row),
                last_used: col.int("last_used", row),
                events: col.int("events", row).unwrap_or_default(),
                source_ips: col.int("source_ips", row).unwrap_or_default(),
            };
            out.push((key, signer, usage));
        }
    }
    Ok(out)
}

/// Typed access to a result batch's columns by name; each column is cast once.
struct Columns<'a> {
    batch: &'a RecordBatch,
    cast: RefCell<HashMap<(&'static str, bool), ArrayRef>>,
}

impl<'a> Columns<'a> {
    fn new(batch: &'a RecordBatch) -> Self {
        Columns {
            batch,
            cast: RefCell::new(HashMap::new()),
        }
    }

    /// The column cast to Utf8 (`text`) or Int64.
    fn column(&self, name: &'static str, text: bool) -> ArrayRef {
        let mut cache = self.cast.borrow_mut();
        cache
            .entry((name, text))
            .or_insert_with(|| {
                let column = self
                    .batch
                    .column_by_name(name)
                    .unwrap_or_else(|| panic!("column {name} is in the query"));
                let to = if text {
                    DataType::Utf8
                } else {
                    DataType::Int64
                };
                arrow::compute::cast(column, &to).expect("text and integers cast")
            })
            .clone()
    }

    fn text(&self, name: &'static str, row: usize) -> Option<String> {
        let array = self.column(name, true);
        let array = array.as_any().downcast_ref::<StringArray>()?;
        array.is_valid(row).then(|| array.value(row).to_string())
    }

    fn int(&self, name: &'static str, row: usize) -> Option<i64> {
        let array = self.column(name, false);
        let array = array.as_any().downcast_ref::<Int64Array>()?;
        array.is_valid(row).then(|| array.value(row))
    }

    fn flag(&self, name: &str, row: usize) -> bool {
        self.batch
            .column_by_name(name)
            .and_then(|a| a.as_any().downcast_ref::<BooleanArray>())
            .is_some_and(|a| a.is_valid(row) && a.value(row))
    }
}

fn to_batch(
    rows: &[(String, Signer, Option<Usage>)],
    resolved: &[Resolved],
) -> DfResult<RecordBatch> {
    let text = |f: &dyn Fn(usize) -> Option<String>| -> ArrayRef {
        Arc::new((0..rows.len()).map(f).collect::<StringArray>())
    };
    let time = |f: &dyn Fn(usize) -> Option<i64>| -> ArrayRef {
        Arc::new(
            (0..rows.len())
                .map(f)
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        )
    };
    let issuing = |i: usize| resolved[i].issuing.as_ref();
    let usage = |i: usize| rows[i].2.as_ref();
    let signer = |i: usize| (!rows[i].1.principal.is_empty()).then_some(&rows[i].1);

    let mut chain = ListBuilder::new(StructBuilder::from_fields(hop_fields(), 0)).with_field(
        Arc::new(Field::new("item", DataType::Struct(hop_fields()), true)),
    );
    for r in resolved {
        let hops = chain.values();
        for hop in &r.chain {
            for (n, value) in [
                Some(&hop.arn),
                hop.access_key_id.as_ref(),
                hop.issuing_event_id.as_ref(),
                hop.issuing_api.as_ref(),
            ]
            .into_iter()
            .enumerate()
            {
                hops.field_builder::<StringBuilder>(n)
                    .expect("hop fields are strings")
                    .append_option(value);
            }
            hops.append(true);
        }
        chain.append(true);
    }

    let columns: Vec<ArrayRef> = vec![
        text(&|i| Some(rows[i].0.clone())),
        text(&|i| {
            signer(i)
                .map(|s| s.principal.clone())
                .or_else(|| issuing(i).and_then(|c| c.issued_arn.clone()))
        }),
        text(&|i| signer(i).map(|s| s.kind.clone())),
        text(&|i| usage(i).and_then(|u| u.role_arn.clone())),
        text(&|i| {
            signer(i)
                .and_then(|s| s.session_name.clone())
                .or_else(|| issuing(i).and_then(|c| c.session_name.clone()))
        }),
        text(&|i| resolved[i].source_identity.clone()),
        text(&|i| issuing(i).map(|c| c.event_id.clone())),
        text(&|i| resolved[i].copy_event_id.clone()),
        text(&|i| issuing(i).map(|c| c.api.clone())),
        time(&|i| issuing(i).map(|c| c.event_time_us)),
        text(&|i| issuing(i).map(|c| c.signer.principal.clone())),
        text(&|i| issuing(i).map(|c| c.signer.kind.clone())),
        text(&|i| Some(resolved[i].actor.id.clone())),
        text(&|i| Some(resolved[i].actor.kind.clone())),
        text(&|i| resolved[i].actor.provider.clone()),
        text(&|i| Some(resolved[i].method.as_str().to_string())),
        Arc::new(chain.finish()),
        time(&|i| usage(i).and_then(|u| u.first_used)),
        time(&|i| usage(i).and_then(|u| u.last_used)),
        Arc::new(
            (0..rows.len())
                .map(|i| usage(i).map_or(0, |u| u.events))
                .collect::<Int64Array>(),
        ),
        Arc::new(
            (0..rows.len())
                .map(|i| usage(i).map_or(0, |u| u.source_ips))
                .collect::<Int64Array>(),
        ),
        Arc::new(
            (0..rows.len())
                .map(|i| signer(i).map(|s| s.from_console))
                .collect::<BooleanArray>(),
        ),
    ];
    Ok(RecordBatch::try_new(SCHEMA.clone(), columns)?)
}
