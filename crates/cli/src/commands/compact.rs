//! `trailscope compact`.

use crate::Outcome;

pub fn run((options, json): (trailscope_ingest::CompactOptions, bool)) -> anyhow::Result<Outcome> {
    let summary = trailscope_ingest::compact(&options)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        eprintln!(
            "compacted {} of {} partitions: {} data files now {} ({} rows rewritten) in {:.2} s",
            summary.partitions_compacted,
            summary.partitions,
            summary.files_before,
            summary.files_after,
            summary.rows_rewritten,
            summary.wall_seconds
        );
    }
    Ok(Outcome::Clean)
}
