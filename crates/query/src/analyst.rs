//! The analyst's SQL (`trailscope sql`, `trailscope shell`): anything that reads, and
//! nothing that writes into the dataset. `INSERT`, `UPDATE` and `DELETE` are refused
//! (an `INSERT INTO events` would add a Parquet file the manifest does not know, and
//! every later query would fail on its schema); `COPY ... TO` may write results anywhere
//! but inside the dataset; session-local DDL (`CREATE VIEW`, `CREATE EXTERNAL TABLE`)
//! stays, being an analyst's tool.

use std::path::{Path, PathBuf};

use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, SessionContext};

use crate::{Error, Result};

/// Plans `sql` on `ctx` and returns its frame, unless it would write into `dataset`.
pub async fn analyst_sql(ctx: &SessionContext, dataset: &Path, sql: &str) -> Result<DataFrame> {
    let plan = ctx.state().create_logical_plan(sql).await?;
    check_read_only(&plan, dataset)?;
    Ok(ctx.execute_logical_plan(plan).await?)
}

fn check_read_only(plan: &LogicalPlan, dataset: &Path) -> Result<()> {
    match plan {
        LogicalPlan::Dml(dml) => Err(Error::Invalid(format!(
            "{} is refused: the dataset is read-only here (COPY (SELECT ...) TO 'file' writes results elsewhere)",
            dml.op
        ))),
        LogicalPlan::Copy(copy) if inside(Path::new(&copy.output_url), dataset) => {
            Err(Error::Invalid(format!(
                "COPY TO {} is refused: it is inside the dataset {}",
                copy.output_url,
                dataset.display()
            )))
        }
        LogicalPlan::Explain(explain) => check_read_only(&explain.plan, dataset),
        LogicalPlan::Analyze(analyze) => check_read_only(&analyze.input, dataset),
        _ => Ok(()),
    }
}

/// Whether `path` (which may not exist yet) is `dataset` or under it.
fn inside(path: &Path, dataset: &Path) -> bool {
    let absolute = |p: &Path| -> PathBuf {
        // The deepest existing ancestor, resolved; the rest appended as written.
        let mut existing = p.to_path_buf();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.file_name(), existing.parent()) {
                (Some(name), Some(parent)) => {
                    rest.push(name.to_os_string());
                    existing = if parent.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        parent.to_path_buf()
                    };
                }
                _ => break,
            }
        }
        let mut resolved = existing.canonicalize().unwrap_or(existing);
        resolved.extend(rest.iter().rev());
        resolved
    };
    let path = path
        .to_str()
        .and_then(|p| p.strip_prefix("file://"))
        .map_or_else(|| path.to_path_buf(), PathBuf::from);
    absolute(&path).starts_with(absolute(dataset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_the_dataset_are_found_whether_or_not_they_exist() {
        let tmp = tempfile::tempdir().unwrap();
        let dataset = tmp.path().join("lake");
        std::fs::create_dir_all(dataset.join("event_date=2026-01-01")).unwrap();
        assert!(inside(
            &dataset.join("event_date=2026-01-01/x.parquet"),
            &dataset
        ));
        assert!(inside(&dataset.join("new/dir/x.parquet"), &dataset));
        assert!(inside(&tmp.path().join("lake/../lake/y.csv"), &dataset));
        assert!(!inside(&tmp.path().join("out.csv"), &dataset));
        assert!(!inside(&tmp.path().join("lake2/out.csv"), &dataset));
    }
}
