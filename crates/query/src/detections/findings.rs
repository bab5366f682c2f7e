//! The questions asked of the `findings` view: what fired, most severe first, and
//! whether anything fired at or above a threshold; and the listing of the detections.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;

use super::registry::Severity;
use super::set::DetectionSet;
use crate::{Answer, Result};

/// Every finding of the session's detections of at least `min_severity`, most severe
/// first, then by time.
pub async fn findings(ctx: &SessionContext, min_severity: Severity) -> Result<Answer> {
    let sql = format!(
        "SELECT severity, detection_id, title, account_id, principal, actor, first_seen, \
                last_seen, event_count, evidence, event_ids, finding_id \
         FROM findings WHERE severity_rank >= {} \
         ORDER BY severity_rank DESC, first_seen, finding_id",
        min_severity.rank()
    );
    Answer::collect(ctx.sql(&sql).await?).await
}

/// Whether a row of `answer` (its `severity` column) is at least `threshold`.
pub fn any_at_least(answer: &Answer, threshold: Severity) -> bool {
    answer
        .strings("severity")
        .iter()
        .filter_map(|s| Severity::parse(s))
        .any(|s| s.at_least(threshold))
}

/// The detections of `set` as a table: id, severity, title, description, rationale,
/// references, false positives and source.
pub fn listing(set: &DetectionSet) -> Result<RecordBatch> {
    let d = set.detections();
    let column = |f: &dyn Fn(&super::Detection) -> String| -> ArrayRef {
        Arc::new(StringArray::from(d.iter().map(f).collect::<Vec<_>>()))
    };
    let columns: [(&str, ArrayRef); 8] = [
        ("id", column(&|d| d.id.clone())),
        ("severity", column(&|d| d.severity.as_str().to_string())),
        ("title", column(&|d| d.title.clone())),
        ("description", column(&|d| d.description.clone())),
        ("rationale", column(&|d| d.rationale.clone())),
        ("references", column(&|d| d.references.join(" "))),
        ("false_positives", column(&|d| d.false_positives.clone())),
        ("source", column(&|d| d.source.clone())),
    ];
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, _)| Field::new(*name, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema, columns.into_iter().map(|(_, c)| c).collect())
        .map_err(datafusion::error::DataFusionError::from)?;
    Ok(batch)
}
