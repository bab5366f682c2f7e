//! The DataFusion context every session (and the credential resolver) starts from.

use datafusion::prelude::{SessionConfig, SessionContext};

/// A DataFusion context without the rules that move "cheap" expressions below filters.
///
/// DataFusion 55 moves expressions that declare themselves leaf-like (struct field access,
/// and every function of datafusion-functions-json) under the filters, into the scan, so
/// `SELECT json_get_str(request_parameters, 'roleArn') FROM events WHERE event_name =
/// 'AssumeRole'` parsed the JSON of every row, not only of the matching ones (measured:
/// most of the time of such queries). Our JSON columns are text: parsing is not cheap.
pub(crate) fn new_context(config: SessionConfig) -> SessionContext {
    let ctx = SessionContext::new_with_config(config);
    ctx.remove_optimizer_rule("extract_leaf_expressions");
    ctx.remove_optimizer_rule("push_down_leaf_projections");
    ctx
}
