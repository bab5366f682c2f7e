//! The DataFusion context every session (and the credential resolver) starts from.

use datafusion::prelude::{SessionConfig, SessionContext};

/// A DataFusion context without the rules that move "cheap" expressions below filters.
///
/// DataFusion 55 moves expressions that declare themselves leaf-like (struct field access,
/// and every function of datafusion-functions-json) under the filters, into the scan, so
/// `SELECT json_get_str(request_parameters, 'roleArn') FROM events WHERE event_name =
/// 'AssumeRole'` parsed the JSON of every row, not only of the matching ones (measured:
/// most of the time of such queries). Our JSON columns are text: parsing is not cheap.
///
/// With `memory_limit`, the operators that can spill (sorts, aggregations) write to
/// temporary files once the query's tracked memory reaches it; those that cannot fail.
/// The pool is greedy, not fair: a findings query runs dozens of sorts at once, and a fair
/// share of even 1 GiB left each too little to merge its spills (measured on the 1 GiB
/// trail: every limit failed with the fair pool; 256 MiB works with the greedy one).
pub(crate) fn new_context(config: SessionConfig, memory_limit: Option<usize>) -> SessionContext {
    let mut runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new();
    if let Some(limit) = memory_limit {
        runtime = runtime.with_memory_pool(std::sync::Arc::new(
            datafusion::execution::memory_pool::TrackConsumersPool::new(
                datafusion::execution::memory_pool::GreedyMemoryPool::new(limit),
                std::num::NonZeroUsize::new(5).expect("not zero"),
            ),
        ));
    }
    let runtime = runtime
        .build_arc()
        .expect("a runtime with the default disk manager builds");
    context_on(config, runtime)
}

/// A context as [`new_context`] makes, on an existing runtime (its object stores, memory
/// pool and disk manager).
pub(crate) fn context_on(
    config: SessionConfig,
    runtime: std::sync::Arc<datafusion::execution::runtime_env::RuntimeEnv>,
) -> SessionContext {
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    remove_leaf_pushdown(&ctx);
    ctx
}

/// Removes from `ctx` the rules that move "cheap" expressions below filters (see
/// [`new_context`]).
pub(crate) fn remove_leaf_pushdown(ctx: &SessionContext) {
    ctx.remove_optimizer_rule("extract_leaf_expressions");
    ctx.remove_optimizer_rule("push_down_leaf_projections");
}
