//! Deterministic synthetic CloudTrail trails, in the exact S3 export layout, with injected
//! scenarios (root usage, STS chains, shared identities and their look-alikes) and a
//! ground-truth file that describes them.
//!
//! ```no_run
//! use trailscope_ingest::synth::{SynthOptions, generate};
//!
//! let mut options = SynthOptions::new("./trail".into());
//! options.size_bytes = 64 << 20;
//! options.seed = 7;
//! let summary = generate(&options)?;
//! // Ingest `./trail/AWSLogs`; `./trail/ground-truth.json` says what is in it.
//! assert_eq!(summary.truth.totals.records, summary.truth.totals.unique_events + summary.truth.totals.duplicate_records);
//! # Ok::<(), trailscope_ingest::synth::Error>(())
//! ```
//!
//! The same options and seed give the same bytes, whatever the number of threads: every
//! file is generated from a generator seeded by the seed and the file's place in the plan.

mod background;
mod catalog;
mod clock;
mod error;
mod event;
pub mod fixtures;
mod ids;
mod json;
pub mod layout;
mod plan;
mod scenarios;
pub mod shared;
pub mod truth;
mod world;
mod write;

use std::path::PathBuf;
use std::time::Instant;

pub use error::{Error, Result};
pub use layout::Layout;
pub use truth::GroundTruth;

use crate::synth::json::JsonOut;

/// The name of the ground-truth file in the output directory.
pub const GROUND_TRUTH_FILE: &str = "ground-truth.json";

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// The output directory; the trail goes under `AWSLogs/` in it.
    pub out: PathBuf,
    /// About how many bytes of (uncompressed) JSON the trail files hold in all.
    pub size_bytes: u64,
    /// The same seed and options give the same bytes.
    pub seed: u64,
    /// Accounts in the organization (the first is the management account).
    pub accounts: usize,
    /// Regions with activity.
    pub regions: usize,
    /// Days of activity.
    pub days: i64,
    /// The first day, `YYYY-MM-DD`.
    pub start: String,
    /// Account trails, an organization trail, or both.
    pub layout: Layout,
    /// Gzip level of the trail files (CloudTrail's own files compress about as level 6).
    pub gzip_level: u32,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

impl SynthOptions {
    /// The defaults (256 MiB over 7 days, 3 accounts, 4 regions) into `out`.
    pub fn new(out: PathBuf) -> Self {
        SynthOptions {
            out,
            size_bytes: 256 << 20,
            seed: 1,
            accounts: 3,
            regions: 4,
            days: 7,
            start: "2026-10-01".into(),
            layout: Layout::Org,
            gzip_level: 6,
            threads: 0,
        }
    }

    fn validate(&self) -> Result<i64> {
        let fail = |m: &str| Err(Error::Options(m.to_string()));
        if !(1..=64).contains(&self.accounts) {
            return fail("accounts must be between 1 and 64");
        }
        if !(1..=world::ALL_REGIONS.len()).contains(&self.regions) {
            return fail(&format!(
                "regions must be between 1 and {}",
                world::ALL_REGIONS.len()
            ));
        }
        if !(1..=366).contains(&self.days) {
            return fail("days must be between 1 and 366");
        }
        if self.gzip_level > 9 {
            return fail("the gzip level is 0 to 9");
        }
        clock::parse_date(&self.start).ok_or_else(|| {
            Error::Options(format!("start {:?} is not a YYYY-MM-DD date", self.start))
        })
    }
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct SynthSummary {
    /// The output directory.
    pub out: PathBuf,
    /// What the trail holds, as written to `ground-truth.json`.
    pub truth: GroundTruth,
    /// Time taken.
    pub wall_seconds: f64,
}

/// Average record size of the background, measured on a fixed sample so that the plan
/// (and so the output) depends only on the options.
fn mean_record_bytes(world: &world::World) -> f64 {
    let mut rng = ids::rng_for(world.seed, "calibrate", 0);
    let mut out = JsonOut::new();
    const SAMPLE: usize = 2000;
    for i in 0..SAMPLE {
        let account = i % world.accounts.len();
        let time = world.start + (i as i64 * 997) % (world.days * clock::DAY);
        background::event(
            world,
            account,
            &world.regions[i % world.regions.len()],
            time,
            &mut rng,
        )
        .write(&mut out);
        out.buf.push(b',');
    }
    out.buf.len() as f64 / SAMPLE as f64
}

/// Generates a trail and its ground truth under `options.out`.
pub fn generate(options: &SynthOptions) -> Result<SynthSummary> {
    let start = options.validate()?;
    let started = Instant::now();
    let world = world::World::new(
        options.seed,
        options.accounts,
        options.regions,
        start,
        options.days,
    );
    let (scheduled, mut truth) = scenarios::build(&world);
    let per_record = mean_record_bytes(&world);
    let background_records = (options.size_bytes as f64 / per_record).round() as u64;
    let plans = plan::plan(&world, background_records, &scheduled);
    std::fs::create_dir_all(&options.out).map_err(|e| Error::io(&options.out, e))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .map_err(|e| Error::Options(e.to_string()))?;
    let (written, digests_and_insights) = pool.install(|| {
        rayon::join(
            || {
                write::trail_files(
                    &world,
                    options.layout,
                    &options.out,
                    &plans,
                    &scheduled,
                    options.gzip_level,
                )
            },
            || write::digest_and_insight_files(&world, options.layout, &options.out),
        )
    });
    let written = written?;
    let (digests, insights) = digests_and_insights?;
    truth.seed = options.seed;
    truth.layout = options.layout.to_string();
    truth.organization_id = world.org_id.clone();
    truth.start = options.start.clone();
    truth.days = options.days;
    truth.accounts = world
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| truth::AccountTruth {
            id: a.id.clone(),
            name: a.name.clone(),
            management: i == 0,
        })
        .collect();
    truth.totals = truth::Totals {
        trail_files: written.files,
        digest_files: digests,
        insight_files: insights,
        records: written.records,
        duplicate_records: written.duplicate_records,
        unique_events: written.records - written.duplicate_records,
        json_bytes: written.json_bytes,
        gzip_bytes: written.gzip_bytes,
    };
    let path = options.out.join(GROUND_TRUTH_FILE);
    let mut text = serde_json::to_vec_pretty(&truth)?;
    text.push(b'\n');
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    Ok(SynthSummary {
        out: options.out.clone(),
        truth,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Parses sizes such as `2GiB`, `500MB`, `64m` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().map_err(|_| {
        Error::Options(format!(
            "size {text:?}: expected a number and a unit like 2GiB"
        ))
    })?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => (1u64 << 20) as f64,
        "g" | "gb" => 1e9,
        "gib" => (1u64 << 30) as f64,
        "t" | "tb" => 1e12,
        "tib" => (1u64 << 40) as f64,
        other => {
            return Err(Error::Options(format!(
                "size {text:?}: unknown unit {other:?}"
            )));
        }
    };
    Ok((number * factor) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("1.5k").unwrap(), 1500);
        assert_eq!(parse_size("123").unwrap(), 123);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }
}
