//! `trailscope demo`: generate a small synthetic trail, ingest it into a temporary
//! dataset, and show what trailscope finds, checked against the generator's ground truth.
//! `--samples` runs the same on the third-party sample trails in `../shared/testdata`
//! (never shipped in this repository: see [`trailscope_ingest::synth::shared`]).

use anyhow::{Context, bail};
use trailscope_ingest::synth::SynthOptions;
use trailscope_ingest::{IngestOptions, Silent};
use trailscope_query::QueryOptions;
use trailscope_query::truth::TruthCheck;

use crate::Outcome;
use crate::args::DemoArgs;
use crate::report::{ingest_summary, synth_summary};
use crate::table::{self, Fit};

/// Demo tables are cut to a readable width wherever they are printed.
const FIT: Fit = Fit {
    max_cell: Some(72),
    total_width: None,
};

pub fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let dataset = args
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().join("dataset"));
    let mut truth = None;
    let input = if args.samples {
        let Some(samples) = trailscope_ingest::synth::shared::locate() else {
            bail!("{}", trailscope_ingest::synth::shared::ORIGIN);
        };
        println!(
            "Ingesting the public CloudTrail samples in {}",
            samples.display()
        );
        println!(
            "(the AWS documentation folder also holds blocks that are not records: they are reported)\n"
        );
        samples
    } else {
        let mut options = SynthOptions::new(tmp.path().join("trail"));
        options.size_bytes = trailscope_ingest::synth::parse_size(&args.size).context("--size")?;
        options.seed = args.seed;
        println!(
            "Generating a synthetic organization trail (seed {})",
            args.seed
        );
        let summary = trailscope_ingest::synth::generate(&options)?;
        print!("{}", synth_summary(&summary));
        println!();
        truth = Some(summary.truth);
        options.out.join("AWSLogs")
    };

    let mut options = IngestOptions::new(vec![input], dataset.clone());
    options.reread = true;
    let summary = trailscope_ingest::ingest(&options, &Silent)?;
    print!("{}", ingest_summary(&summary));
    if summary.issues_total > 0 {
        println!("  (first issues below; `trailscope ingest` prints every one)");
        for issue in summary.issues.iter().take(5) {
            println!("    {issue}");
        }
    }

    let (runtime, ctx) = crate::session::open(&crate::args::DatasetConfig {
        root: dataset.clone(),
        remote: None,
        cluster: None,
        options: QueryOptions::default(),
    })?;
    let overview = runtime.block_on(trailscope_query::overview::ask(&ctx))?;
    for (question, answer) in &overview {
        println!("\n{}", question.title);
        print!(
            "{}",
            table::render(&answer.schema, &answer.batches, Some(FIT))?
        );
    }
    println!();
    if let Some(truth) = truth {
        let check = runtime.block_on(trailscope_query::truth::compare(&ctx, &overview, &truth))?;
        print!("{}", truth_lines(&check, truth.sessions.len()));
    }
    let request = trailscope_query::report::ReportRequest {
        title: "trailscope demo report".to_string(),
        dataset_label: dataset.display().to_string(),
        ..Default::default()
    };
    let manifest = trailscope_ingest::Manifest::load(&dataset)?;
    let (size, _) = super::report::write(&runtime, &ctx, &manifest, &request, &args.report)?;
    println!(
        "\nReport written to {} ({} KiB): open it in a browser",
        args.report.display(),
        size.div_ceil(1024)
    );
    println!(
        "Dataset written to {} ({})",
        dataset.display(),
        if args.keep.is_some() {
            "kept"
        } else {
            "removed on exit; --keep DIR keeps it"
        }
    );
    Ok(if summary.is_clean() || args.samples {
        Outcome::Clean
    } else {
        Outcome::InputProblems
    })
}

/// How the findings compare with the ground truth, a line for each kind.
fn truth_lines(check: &TruthCheck, sessions: usize) -> String {
    let verdict = |found: u64, expected: u64, all: &'static str| {
        if found == expected { all } else { "MISMATCH" }
    };
    format!(
        "Root usage events found: {}; the generator injected {} ({})\n\
         Shared identities found: {}; the generator injected {} ({})\n\
         Events of the {sessions} sessions with known origins attributed as the ground truth \
         says: {} of {} ({})\n",
        check.root_found,
        check.root_expected,
        verdict(
            check.root_found,
            check.root_expected,
            "all found, none extra"
        ),
        check.shared_found,
        check.shared_expected,
        verdict(
            check.shared_found,
            check.shared_expected,
            "all found, none extra"
        ),
        check.session_events_agreeing,
        check.session_events,
        verdict(check.session_events_agreeing, check.session_events, "all"),
    )
}
