//! `trailscope merge`.

use crate::Outcome;

pub fn run(
    (options, json): (trailscope_ingest::merge::MergeOptions, bool),
) -> anyhow::Result<Outcome> {
    let summary = trailscope_ingest::merge::merge(&options)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        eprintln!(
            "merged {} shards ({} data files, {} rows) into {}: {} rows written, {} already there \
             (dropped), {} kept with conflicting ids; {} data files written in {:.2} s",
            summary.shards,
            summary.data_files_read,
            summary.rows_read,
            options.out.display(),
            summary.rows_written,
            summary.rows_duplicate,
            summary.rows_conflicting,
            summary.data_files_written,
            summary.wall_seconds
        );
    }
    Ok(Outcome::Clean)
}
