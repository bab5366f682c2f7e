//! A view computed once, the first time a query reads it, then served from memory.
//!
//! DataFusion inlines a view at every reference, so an intermediate table that several
//! detections read (the workload sessions, the interleaving identities) was computed once
//! per detection in one findings query. Such tables are small; caching them makes one
//! findings query compute each once, and a query that never reads them pays nothing.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::DataFrame;
use tokio::sync::OnceCell;

/// A view whose rows are computed on first read and kept.
#[derive(Debug)]
pub struct CachedView {
    plan: LogicalPlan,
    schema: SchemaRef,
    table: OnceCell<Arc<MemTable>>,
}

impl CachedView {
    /// The view of `plan` (a query planned on the session it will be registered in, not
    /// yet optimized: optimizing waits for the first read).
    pub fn new(plan: LogicalPlan) -> CachedView {
        // Every column nullable, in the logical types: the optimized plan may differ in
        // nullability or string encoding, and its batches are cast to these.
        let fields: Vec<Field> = plan
            .schema()
            .as_arrow()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        CachedView {
            plan,
            schema,
            table: OnceCell::new(),
        }
    }
}

#[async_trait::async_trait]
impl TableProvider for CachedView {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
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
                let session = state
                    .as_any()
                    .downcast_ref::<SessionState>()
                    .ok_or_else(|| {
                        DataFusionError::Internal("a cached view needs a SessionState".into())
                    })?;
                let batches = DataFrame::new(session.clone(), self.plan.clone())
                    .collect()
                    .await?
                    .iter()
                    .map(|batch| conform(batch, &self.schema))
                    .collect::<DfResult<Vec<_>>>()?;
                Ok::<_, DataFusionError>(Arc::new(MemTable::try_new(
                    self.schema.clone(),
                    vec![batches],
                )?))
            })
            .await?;
        table.scan(state, projection, filters, limit).await
    }
}

/// `batch` in `schema`'s column types.
fn conform(batch: &RecordBatch, schema: &SchemaRef) -> DfResult<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| arrow::compute::cast(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
