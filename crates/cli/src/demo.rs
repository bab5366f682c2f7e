//! `trailscope demo`: the sample trails shipped in `testdata/`, ingested into a temporary
//! dataset, with a summary of what they hold.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use trailscope_ingest::{IngestOptions, Silent};

use crate::Outcome;
use crate::args::DemoArgs;
use crate::report::ingest_summary;

/// Where the shipped samples are (the source tree this binary was built from).
fn samples_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/samples"
    ))
}

pub fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    let samples = samples_dir();
    if !samples.is_dir() {
        bail!(
            "the demo samples are not at {} (run the demo from a trailscope source checkout)",
            samples.display()
        );
    }
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let dataset = args.keep.unwrap_or_else(|| tmp.path().join("dataset"));
    println!(
        "Ingesting the public CloudTrail samples in {}",
        samples.display()
    );
    println!("(Stratus Red Team detonations, OTRF, plaso and AWS documentation examples; the");
    println!(" documentation folder also holds blocks that are not records, reported below)\n");
    let summary =
        trailscope_ingest::ingest(&IngestOptions::new(vec![samples], dataset.clone()), &Silent)?;
    print!("{}", ingest_summary(&summary));
    let mut by_file: BTreeMap<&str, usize> = BTreeMap::new();
    for issue in &summary.issues {
        *by_file
            .entry(issue.file.rsplit('/').next().unwrap_or(&issue.file))
            .or_default() += 1;
    }
    if !by_file.is_empty() {
        println!("\nInput problems by file (expected for these samples):");
        for (file, count) in by_file {
            println!("  {count:>4}  {file}");
        }
    }

    let mut identity_types: BTreeMap<String, u64> = BTreeMap::new();
    let mut event_names: BTreeMap<String, u64> = BTreeMap::new();
    trailscope_ingest::export::for_each_record(&dataset, |r| {
        let kind = r.record["userIdentity"]["type"]
            .as_str()
            .unwrap_or("(none)")
            .to_string();
        *identity_types.entry(kind).or_default() += 1;
        let name = r.record["eventName"]
            .as_str()
            .unwrap_or("(none)")
            .to_string();
        *event_names.entry(name).or_default() += 1;
        Ok(())
    })?;
    println!("\nEvents by userIdentity type:");
    for (kind, count) in sorted(identity_types).into_iter().take(10) {
        println!("  {count:>6}  {kind}");
    }
    println!("\nMost frequent events:");
    for (name, count) in sorted(event_names).into_iter().take(10) {
        println!("  {count:>6}  {name}");
    }
    println!(
        "\nDataset written to {} (removed on exit unless --keep DIR)",
        dataset.display()
    );
    Ok(Outcome::Clean)
}

fn sorted(counts: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}
