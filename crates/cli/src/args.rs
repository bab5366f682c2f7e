//! Command-line arguments, parsed by clap into the libraries' validated config structs.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use trailscope_ingest::{Codec, IngestOptions};

/// Offline AWS CloudTrail analytics: ingest trails into Parquet, and find out who did what.
#[derive(Debug, Parser)]
#[command(name = "trailscope", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest CloudTrail logs (files or directories, gzipped or not) into a Parquet dataset.
    Ingest(IngestArgs),
    /// Write the records of a dataset back out as CloudTrail JSON (one record a line).
    Export(ExportArgs),
    /// Ingest the sample trails shipped with trailscope into a temporary dataset and show
    /// what was found.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Trail files or directories (e.g. a synced `s3://bucket/AWSLogs`).
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// The dataset directory to create or add to.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Parquet compression: zstd, zstd:LEVEL, snappy, lz4 or none.
    #[arg(long, default_value = "zstd", value_name = "CODEC")]
    pub compression: String,
    /// Re-read files the dataset already holds (their events are still stored once).
    #[arg(long)]
    pub reread: bool,
    /// Largest record accepted, in MiB.
    #[arg(long, default_value_t = 32, value_name = "MIB")]
    pub max_record_mib: usize,
    /// A gzip file may expand to at most this many times its size (gzip bomb guard).
    #[arg(long, default_value_t = 200, value_name = "RATIO")]
    pub max_expansion_ratio: u64,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Print the summary as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
    /// No progress bar and no per-issue lines; the summary still prints.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A validated ingest configuration.
#[derive(Debug)]
pub struct IngestConfig {
    pub options: IngestOptions,
    pub output: OutputArgs,
}

impl IngestArgs {
    pub fn into_config(self) -> anyhow::Result<IngestConfig> {
        let mut options = IngestOptions::new(self.inputs, self.out);
        if let Some(threads) = self.threads {
            if threads == 0 {
                bail!("--threads must be at least 1");
            }
            options.threads = threads;
        }
        options.writer.codec = self.compression.parse::<Codec>().context("--compression")?;
        options.reread = self.reread;
        if self.max_record_mib == 0 {
            bail!("--max-record-mib must be at least 1");
        }
        options.max_record_bytes = self.max_record_mib << 20;
        if self.max_expansion_ratio < 2 {
            bail!("--max-expansion-ratio must be at least 2");
        }
        options.max_expansion_ratio = self.max_expansion_ratio;
        Ok(IngestConfig {
            options,
            output: self.output,
        })
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The dataset directory.
    #[arg(long, short, value_name = "DIR")]
    pub dataset: PathBuf,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A validated export configuration.
#[derive(Debug)]
pub struct ExportConfig {
    pub dataset: PathBuf,
    pub output: Option<PathBuf>,
}

impl ExportArgs {
    pub fn into_config(self) -> ExportConfig {
        ExportConfig {
            dataset: self.dataset,
            output: self.output,
        }
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo dataset in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}
