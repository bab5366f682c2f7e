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
//! FROM events WHERE ...
//! ```
//!
//! The query returns the finding columns: `principal`, `actor` (text), `account_id`,
//! `first_seen`, `last_seen` (timestamps), `event_count` (integer), `event_ids` (a list of
//! event ids) and `evidence` (JSON text, e.g. `to_json(named_struct(...))`). The built-in
//! detections are embedded in the binary ([`builtin`]); more are loaded from a directory
//! ([`load_dir`]). The `findings` view unions them all ([`findings_sql`]).

mod registry;

pub use registry::{
    Detection, Severity, builtin, findings_sql, load_dir, parse, register_findings,
};
