//! Detections are data: one `.sql` file each, its metadata in a comment header.
//!
//! ```sql
//! -- id: root-activity
//! -- title: Root user activity
//! -- severity: high
//! -- description: What fires, and how findings are grouped.
//! -- rationale: Why it matters.
//! -- references: https://..., https://...
//! -- false_positives: What fires and is fine.
//! SELECT principal, actor, account_id, first_seen, last_seen, event_count, event_ids, evidence
//! FROM signed_events WHERE ...
//! ```
//!
//! The query returns the finding columns: `principal`, `actor` (text), `account_id`,
//! `first_seen`, `last_seen` (timestamps), `event_count` (integer), `event_ids` (a list of
//! event ids) and `evidence` (JSON text, e.g. `to_json(named_struct(...))`). With
//! `-- grain: event` (one event, one finding) it returns `event_time` and `event_id`
//! instead of the time span, count and ids. Detections read `signed_events` (`events`
//! with `root_principal`, `via_aws_service` and `root_use`), so that none is written twice. The built-in
//! detections are embedded in the binary ([`builtin`]); more are loaded from a directory
//! ([`DetectionSet::with_overrides`]). The session's `findings` view unions the detections
//! of its [`DetectionSet`] ([`findings_sql`]); [`findings()`] asks it what fired.
//! Each built-in detection has records that must fire it and records that must not, in
//! `crates/query/tests/detections/<id>/`.

mod findings;
mod registry;
mod set;

pub use findings::{any_at_least, findings, listing};
pub(crate) use registry::register_findings;
pub use registry::{Detection, Grain, Severity, builtin, findings_sql, load_dir, parse};
pub use set::DetectionSet;
