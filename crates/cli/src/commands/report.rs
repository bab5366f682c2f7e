//! `trailscope report`: the HTML report of a dataset, written to one file.

use std::path::Path;

use anyhow::Context;
use datafusion::prelude::SessionContext;
use tokio::runtime::Runtime;
use trailscope_query::report::{QueryText, ReportRequest};

use crate::Outcome;
use crate::args::ReportConfig;

/// Builds the report and prints where it was written.
pub fn run(config: ReportConfig) -> anyhow::Result<Outcome> {
    let (runtime, ctx) = crate::session::open(&config.dataset)?;
    let manifest = crate::session::manifest(&runtime, &config.dataset)?;
    let started = std::time::Instant::now();
    let (size, queries) = write(&runtime, &ctx, &manifest, &config.request, &config.output)?;
    if config.timings {
        for query in &queries {
            eprintln!("{:>8.2} s  {}", query.elapsed.as_secs_f64(), query.id);
        }
        eprintln!("{:>8.2} s  in all", started.elapsed().as_secs_f64());
    }
    println!(
        "Report written to {} ({} KiB)",
        config.output.display(),
        size.div_ceil(1024)
    );
    Ok(Outcome::Clean)
}

/// Asks the report's questions on `ctx` and writes the page to `path` (through a
/// temporary file in the same directory, so that a reader never sees half a report);
/// returns its size in bytes and the queries it ran.
pub fn write(
    runtime: &Runtime,
    ctx: &SessionContext,
    manifest: &trailscope_ingest::Manifest,
    request: &ReportRequest,
    path: &Path,
) -> anyhow::Result<(u64, Vec<QueryText>)> {
    let report = runtime.block_on(trailscope_query::report::gather(ctx, manifest, request))?;
    let html = crate::html::render(
        &report,
        &chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
    )?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut file, html.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok((html.len() as u64, report.queries))
}
