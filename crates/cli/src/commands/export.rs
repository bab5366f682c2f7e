//! `trailscope export`.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::Context;

use crate::Outcome;
use crate::args::ExportConfig;

pub fn run(config: ExportConfig) -> anyhow::Result<Outcome> {
    let mut out: Box<dyn Write> = match &config.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    trailscope_ingest::export::write_json_lines(&config.dataset, &mut out)?;
    out.flush()?;
    Ok(Outcome::Clean)
}
