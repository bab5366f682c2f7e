//! `trailscope findings` and `trailscope detections`.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;

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
        config.output.write_frame(ctx.sql(&sql).await?).await?;
        let Some(fail_on) = config.fail_on else {
            return Ok(Outcome::Clean);
        };
        let rank = fail_on.rank().max(min);
        let firing = ctx
            .sql(&format!("SELECT 1 FROM findings WHERE severity_rank >= {rank}"))
            .await?
            .count()
            .await?;
        Ok(if firing > 0 { Outcome::Findings } else { Outcome::Clean })
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
