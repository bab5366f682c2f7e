//! `trailscope findings` and `trailscope detections`.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::prelude::SessionContext;
use trailscope_query::detections::Severity;

use crate::Outcome;
use crate::args::{DetectionsConfig, FindingsConfig};

/// Runs the detections; exit status 1 when `--fail-on` is met.
pub fn run_findings(config: FindingsConfig) -> anyhow::Result<Outcome> {
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let ctx = trailscope_query::open_session(&config.dataset.root, &config.dataset.options).await?;
        trailscope_query::detections::register_findings(&ctx, &config.detections).await?;
        let min = config.min_severity.rank();
        let sql = format!(
            "SELECT severity, detection_id, title, account_id, principal, actor, first_seen, last_seen, \
                    event_count, evidence, event_ids, finding_id \
             FROM findings WHERE severity_rank >= {min} \
             ORDER BY severity_rank DESC, first_seen, finding_id"
        );
        // Run every detection once: the rows are written and then checked for --fail-on.
        let frame = ctx.sql(&sql).await?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.collect().await?;
        let firing = config
            .fail_on
            .is_some_and(|fail_on| any_at_least(&batches, fail_on));
        config.output.write_batches(&ctx, schema, batches).await?;
        Ok(if firing { Outcome::Findings } else { Outcome::Clean })
    })
}

/// Whether a finding among `batches` (their `severity` column) is at least `severity`.
fn any_at_least(batches: &[RecordBatch], severity: Severity) -> bool {
    batches.iter().any(|batch| {
        batch
            .column_by_name("severity")
            .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok())
            .is_some_and(|c| {
                c.as_any().downcast_ref::<StringArray>().is_some_and(|c| {
                    c.iter()
                        .flatten()
                        .any(|s| Severity::parse(s) >= Some(severity))
                })
            })
    })
}

/// Lists the detections in the chosen format.
pub fn run_detections(config: DetectionsConfig) -> anyhow::Result<Outcome> {
    let d = &config.detections;
    let text = |values: Vec<String>| -> ArrayRef { Arc::new(StringArray::from(values)) };
    let columns = [
        ("id", d.iter().map(|d| d.id.clone()).collect()),
        (
            "severity",
            d.iter().map(|d| d.severity.as_str().to_string()).collect(),
        ),
        ("title", d.iter().map(|d| d.title.clone()).collect()),
        (
            "description",
            d.iter().map(|d| d.description.clone()).collect(),
        ),
        ("rationale", d.iter().map(|d| d.rationale.clone()).collect()),
        (
            "references",
            d.iter().map(|d| d.references.join(" ")).collect(),
        ),
        (
            "false_positives",
            d.iter().map(|d| d.false_positives.clone()).collect(),
        ),
        ("source", d.iter().map(|d| d.source.clone()).collect()),
    ];
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, _)| Field::new(*name, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema, columns.into_iter().map(|(_, v)| text(v)).collect())?;
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let frame = SessionContext::new().read_batch(batch)?;
        config.output.write_frame(frame).await?;
        Ok(Outcome::Clean)
    })
}
