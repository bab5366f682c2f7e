//! `trailscope demo`: generate a small synthetic trail, ingest it into a temporary
//! dataset, and show what trailscope finds, checked against the generator's ground truth.
//! `--samples` runs the same on the public sample trails shipped in `testdata/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use trailscope_ingest::{IngestOptions, Silent};
use trailscope_query::QueryOptions;
use trailscope_synth::SynthOptions;

use crate::Outcome;
use crate::args::DemoArgs;
use crate::report::{ingest_summary, synth_summary};
use crate::table::{self, Fit};

/// Demo tables are cut to a readable width wherever they are printed.
const FIT: Fit = Fit {
    max_cell: Some(72),
    total_width: None,
};

/// Where the shipped samples are (the source tree this binary was built from).
fn samples_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/samples"
    ))
}

/// Questions the demo asks of the dataset, in SQL anyone can rerun with `trailscope sql`.
const QUESTIONS: &[(&str, &str)] = &[
    (
        "Events by identity type",
        "SELECT coalesce(user_identity_type, '(none)') AS identity_type, count(*) AS events \
         FROM events GROUP BY 1 ORDER BY events DESC, identity_type",
    ),
    (
        "Root user activity (CIS: type Root, no invokedBy, not an AwsServiceEvent)",
        "SELECT recipient_account_id AS account, event_name, \
                count(*) AS events, count(error_code) + count(error_message) AS failed, \
                min(event_time) AS first_seen, max(event_time) AS last_seen \
         FROM events \
         WHERE user_identity_type = 'Root' AND user_identity_invoked_by IS NULL \
           AND event_type <> 'AwsServiceEvent' \
         GROUP BY 1, 2 ORDER BY first_seen",
    ),
    (
        "Most active principals",
        "SELECT coalesce(user_identity_arn, user_identity_invoked_by, user_identity_type) AS principal, \
                count(*) AS events, count(DISTINCT source_ip_address) AS source_ips \
         FROM events GROUP BY 1 ORDER BY events DESC, principal LIMIT 10",
    ),
    (
        "Who is behind role and federated sessions (attribution, AWS services left out)",
        "SELECT actor, actor_type, method, count(*) AS events, count(DISTINCT principal) AS sessions \
         FROM attribution \
         WHERE principal_type IN ('AssumedRole', 'FederatedUser') AND actor_type <> 'AWSService' \
         GROUP BY 1, 2, 3 ORDER BY events DESC, actor LIMIT 12",
    ),
    (
        "Findings (`trailscope findings` for all columns, `trailscope detections` for what each means)",
        "SELECT severity, detection_id, account_id, actor, event_count, first_seen \
         FROM findings ORDER BY severity_rank DESC, first_seen, finding_id",
    ),
];

pub fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let dataset = args
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().join("dataset"));
    let mut truth = None;
    let input = if args.samples {
        let samples = samples_dir();
        if !samples.is_dir() {
            bail!(
                "the sample trails are not at {} (run the demo from a trailscope source checkout)",
                samples.display()
            );
        }
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
        options.size_bytes = trailscope_synth::parse_size(&args.size).context("--size")?;
        options.seed = args.seed;
        println!(
            "Generating a synthetic organization trail (seed {})",
            args.seed
        );
        let summary = trailscope_synth::generate(&options)?;
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

    let runtime = crate::runtime()?;
    let (root_events, shared) = runtime.block_on(ask(&dataset))?;
    if let Some(truth) = truth {
        let expected = truth.root_usage.len() as u64;
        println!(
            "Root usage events found: {root_events}; the generator injected {expected} ({})",
            if root_events == expected {
                "all found, none extra"
            } else {
                "MISMATCH"
            }
        );
        let expected = truth.shared_identities.len() as u64;
        println!(
            "Shared identities found: {shared}; the generator injected {expected} ({})",
            if shared == expected {
                "all found, none extra"
            } else {
                "MISMATCH"
            }
        );
        let (agreeing, events) = runtime.block_on(check_sessions(&dataset, &truth))?;
        println!(
            "Events of the {} sessions with known origins attributed as the ground truth says: \
             {agreeing} of {events} ({})",
            truth.sessions.len(),
            if agreeing == events {
                "all"
            } else {
                "MISMATCH"
            }
        );
    }
    println!(
        "\nDataset written to {} ({})",
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

/// Asks the demo's questions; returns the root events and the shared-identity findings.
async fn ask(dataset: &Path) -> anyhow::Result<(u64, u64)> {
    let ctx = trailscope_query::open_session(dataset, &QueryOptions::default()).await?;
    let (mut root_events, mut shared) = (0, 0);
    for (title, sql) in QUESTIONS {
        let frame = ctx.sql(sql).await?;
        let schema = frame.schema().as_arrow().clone();
        let batches = frame.collect().await?;
        if title.starts_with("Root") {
            for batch in &batches {
                let events = batch
                    .column_by_name("events")
                    .and_then(|c| c.as_any().downcast_ref::<arrow::array::Int64Array>())
                    .context("events column")?;
                root_events += events.iter().flatten().sum::<i64>() as u64;
            }
        }
        if title.starts_with("Findings") {
            for batch in &batches {
                let ids = batch
                    .column_by_name("detection_id")
                    .map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8))
                    .context("detection_id column")??;
                let ids = ids.as_any().downcast_ref::<arrow::array::StringArray>();
                shared += ids
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|id| id.starts_with("shared-") || *id == "root-shared-console")
                    .count() as u64;
            }
        }
        println!("\n{title}");
        print!("{}", table::render(&schema, &batches, Some(FIT))?);
    }
    println!();
    Ok((root_events, shared))
}

/// How many events of the ground truth's sessions `attribution` gives the same actor and
/// method as the generator (and how many such events there are).
async fn check_sessions(
    dataset: &Path,
    truth: &trailscope_synth::GroundTruth,
) -> anyhow::Result<(u64, u64)> {
    let literal = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let expected: Vec<String> = truth
        .sessions
        .iter()
        .flat_map(|s| {
            s.event_ids.iter().map(move |id| {
                format!(
                    "({}, {}, {})",
                    literal(id),
                    literal(&s.actor.id),
                    literal(&s.method)
                )
            })
        })
        .collect();
    if expected.is_empty() {
        return Ok((0, 0));
    }
    let ctx = trailscope_query::open_session(dataset, &QueryOptions::default()).await?;
    let sql = format!(
        "SELECT count(*) FROM (VALUES {}) AS t(event_id, actor, method) \
         JOIN attribution a ON a.event_id = t.event_id AND a.actor = t.actor AND a.method = t.method",
        expected.join(", ")
    );
    let agreeing = ctx.sql(&sql).await?.collect().await?;
    let agreeing = agreeing
        .first()
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
        })
        .map_or(0, |c| c.value(0)) as u64;
    Ok((agreeing, expected.len() as u64))
}
