//! `trailscope synth`: a deterministic synthetic trail and its ground truth.

use trailscope_ingest::synth::SynthOptions;

use crate::Outcome;
use crate::report::synth_summary;

pub fn run(options: SynthOptions) -> anyhow::Result<Outcome> {
    let summary = trailscope_ingest::synth::generate(&options)?;
    print!("{}", synth_summary(&summary));
    Ok(Outcome::Clean)
}
