//! Command-line arguments, parsed by clap into the libraries' validated config structs.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use trailscope_ingest::synth::{Layout, SynthOptions};
use trailscope_ingest::{Codec, IngestOptions};
use trailscope_query::attribution::{PrincipalFilter, TimelineOf};
use trailscope_query::detections::{DetectionSet, Severity};
use trailscope_query::{QueryOptions, TimeWindow};

use crate::output::{Format, OutputConfig};

mod cluster;
mod policy;
mod report;
pub use cluster::{ExecutorArgs, SchedulerArgs};
pub use policy::{PolicyArgs, PolicyConfig};
pub use report::{ReportArgs, ReportConfig};

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
    /// Merge the small data files of each partition (left by frequent runs and checkpoints)
    /// into few of a sensible size; crash-safe, like ingest.
    Compact(CompactArgs),
    /// Combine shard datasets (`ingest --shard K/N`) into one, dropping events stored
    /// twice; crash-safe and idempotent, like ingest.
    Merge(MergeArgs),
    /// Generate a synthetic trail, ingest it into a temporary dataset and show what
    /// trailscope finds.
    Demo(DemoArgs),
    /// Generate a deterministic synthetic trail in the S3 export layout, with injected
    /// scenarios and a ground-truth file.
    Synth(SynthArgs),
    /// Run one SQL query over a dataset and print the result.
    Sql(SqlArgs),
    /// An interactive SQL shell over a dataset (history, multi-line statements, \\d).
    Shell(ShellArgs),
    /// Principals and the actors behind them: events, addresses, clients, keys.
    Principals(PrincipalsArgs),
    /// Who is behind an access key, session ARN or name, or event: the full chain of
    /// credentials with the calls that issued them.
    Who(WhoArgs),
    /// Every event of one actor, principal, access key or address, in time order.
    Timeline(TimelineArgs),
    /// The IAM policy a role, user, root or person needs: the actions their allowed calls
    /// used (scoped to the resources they named), with denied calls reported apart.
    Policy(PolicyArgs),
    /// Run the detections and list what they find (root usage, ...).
    Findings(FindingsArgs),
    /// One self-contained HTML report: scope, root use per account, findings, people and
    /// their session chains, shared identities, activity, least privilege.
    Report(ReportArgs),
    /// List the detections, with what each looks for and why.
    Detections(DetectionsArgs),
    /// Sigma rules: `trailscope sigma sql RULE.yml` prints the SQL each rule compiles to.
    #[command(subcommand)]
    Sigma(SigmaCommand),
    /// A Ballista scheduler with trailscope's functions, for `--cluster` (cargo feature
    /// `cluster`).
    Scheduler(SchedulerArgs),
    /// A Ballista executor with trailscope's functions, serving a scheduler (cargo feature
    /// `cluster`).
    Executor(ExecutorArgs),
}

#[derive(Debug, Subcommand)]
pub enum SigmaCommand {
    /// Print the finding query each rule of a Sigma file (or directory) compiles to.
    Sql {
        /// A rule file or a directory of rules.
        #[arg(value_name = "RULE")]
        rules: Vec<PathBuf>,
        /// Print instead the one query `findings --sigma` runs: every rule in one pass.
        #[arg(long)]
        one_pass: bool,
    },
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Trail files or directories (e.g. a synced `s3://bucket/AWSLogs`), or `s3://`
    /// prefixes read straight from S3.
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// The dataset directory to create or add to, or an `s3://` prefix.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Skip the export's delivery-day folders (`YYYY/MM/DD`, local or S3) delivered before
    /// this day, without listing them: a date (2026-10-01), RFC 3339, or a span before now
    /// (7d). Files delivered on or after it are read whole.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// An S3-compatible endpoint (`http://127.0.0.1:9000`) for `s3://` inputs and datasets;
    /// credentials and region come from the standard AWS environment variables.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
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
    /// Commit every time the files read since the last commit reach this size (as stored,
    /// e.g. `4GiB`, `500MB`): a crash or `kill -9` loses at most that much work, and the
    /// next run reads only the files not yet committed. `0`: commit only at the end.
    #[arg(long, default_value = "4GiB", value_name = "SIZE")]
    pub checkpoint: String,
    /// After the run, merge the data files of each partition it wrote to that then holds
    /// at least this many (0: never; `trailscope compact` merges any partition).
    #[arg(long, default_value_t = 5, value_name = "FILES")]
    pub compact_at: usize,
    /// Dedupe keys held in memory, all days together (16 bytes each in hash tables);
    /// past it, the largest day's keys go to sorted scratch files beside the dataset and
    /// 10 bits a key stay in memory. Deduplication stays exact either way.
    #[arg(long, default_value_t = 1 << 20, value_name = "KEYS")]
    pub dedupe_keys: usize,
    /// Read only the files of shard K of N (1 <= K <= N), for ingest split across
    /// machines: files are assigned by account, region and delivery day from their S3
    /// path, so that every copy of an event falls in one shard. Each shard writes its own
    /// dataset; `trailscope merge` combines them.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The dataset to create or add to.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// The shard datasets, in order (the first copy of an event is kept).
    #[arg(required = true, value_name = "SHARD")]
    pub shards: Vec<PathBuf>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl MergeArgs {
    pub fn into_options(self) -> anyhow::Result<(trailscope_ingest::merge::MergeOptions, bool)> {
        for dataset in std::iter::once(&self.out).chain(&self.shards) {
            local_only("merge", dataset)?;
        }
        Ok((
            trailscope_ingest::merge::MergeOptions {
                out: self.out,
                shards: self.shards,
                writer: trailscope_ingest::WriterOptions::default(),
            },
            self.json,
        ))
    }
}

/// An error for an `s3://` dataset given to a command that works on local datasets only.
fn local_only(command: &str, dataset: &Path) -> anyhow::Result<()> {
    if crate::remote::is_s3(dataset) {
        bail!(
            "`trailscope {command}` works on local datasets only; {} is on S3 (ingest, and every query command, take s3:// datasets)",
            dataset.display()
        );
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// The dataset directory (written by `trailscope ingest`).
    #[arg(long, short, value_name = "DIR")]
    pub dataset: PathBuf,
    /// Merge files into ones of at most about this size (`256MiB`, `1GiB`, ...).
    #[arg(long, default_value = "256MiB", value_name = "SIZE")]
    pub target_size: String,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl CompactArgs {
    /// The compaction options, or why the arguments are wrong.
    pub fn into_options(self) -> anyhow::Result<(trailscope_ingest::CompactOptions, bool)> {
        local_only("compact", &self.dataset)?;
        let mut options = trailscope_ingest::CompactOptions::new(self.dataset);
        options.target_file_bytes =
            trailscope_ingest::synth::parse_size(&self.target_size).context("--target-size")?;
        if options.target_file_bytes < 1 << 20 {
            bail!("--target-size must be at least 1MiB");
        }
        Ok((options, self.json))
    }
}

#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Print the summary as JSON on stdout (for scripts); no progress bar. Problems still
    /// go to stderr, one line each.
    #[arg(long)]
    pub json: bool,
    /// No progress bar and no summary; problems still go to stderr, one line each, and the
    /// exit status says whether there were any.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The largest `--max-record-mib`: a record is held whole in memory while it is parsed.
const MAX_RECORD_MIB: usize = 4096;

/// A validated ingest configuration.
#[derive(Debug)]
pub struct IngestConfig {
    pub options: IngestOptions,
    pub output: OutputArgs,
    /// The S3 dataset written, when `--out` is an `s3://` URL.
    pub remote_out: Option<crate::remote::RemoteDataset>,
    /// Its local working copy, kept until the run ends.
    pub _work: Option<tempfile::TempDir>,
}

impl IngestArgs {
    pub fn into_config(self) -> anyhow::Result<IngestConfig> {
        let remote_out = crate::remote::is_s3(&self.out).then(|| crate::remote::RemoteDataset {
            url: self.out.to_string_lossy().into_owned(),
            endpoint: self.endpoint.clone(),
        });
        let mut options = IngestOptions::new(self.inputs, self.out);
        if let Some(threads) = self.threads {
            if threads == 0 {
                bail!("--threads must be at least 1");
            }
            options.threads = threads;
        }
        options.writer.codec = self.compression.parse::<Codec>().context("--compression")?;
        options.reread = self.reread;
        if !(1..=MAX_RECORD_MIB).contains(&self.max_record_mib) {
            bail!("--max-record-mib must be between 1 and {MAX_RECORD_MIB}");
        }
        options.max_record_bytes = self.max_record_mib << 20;
        if self.max_expansion_ratio < 2 {
            bail!("--max-expansion-ratio must be at least 2");
        }
        options.max_expansion_ratio = self.max_expansion_ratio;
        options.checkpoint_bytes =
            trailscope_ingest::synth::parse_size(&self.checkpoint).context("--checkpoint")?;
        if self.compact_at == 1 {
            bail!("--compact-at must be 0 (never) or at least 2");
        }
        options.compact_at_files = self.compact_at;
        if self.dedupe_keys < 64 {
            bail!("--dedupe-keys must be at least 64");
        }
        options.keys_in_memory = self.dedupe_keys;
        options.shard = self
            .shard
            .as_deref()
            .map(trailscope_ingest::shard::Shard::parse)
            .transpose()
            .context("--shard")?;
        if let Some(since) = &self.since {
            let instant =
                trailscope_query::parse_instant(since, chrono::Utc::now()).context("--since")?;
            options.delivered_since = Some(instant.timestamp().div_euclid(86_400));
        }
        let work =
            crate::remote::prepare_ingest(&mut options, remote_out.as_ref(), &self.endpoint)?;
        Ok(IngestConfig {
            options,
            output: self.output,
            remote_out,
            _work: work,
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
    pub fn into_config(self) -> anyhow::Result<ExportConfig> {
        local_only("export", &self.dataset)?;
        Ok(ExportConfig {
            dataset: self.dataset,
            output: self.output,
        })
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo dataset in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Size of the synthetic trail (uncompressed JSON).
    #[arg(long, default_value = "8MiB", value_name = "SIZE")]
    pub size: String,
    /// Seed of the synthetic trail.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Use the public sample trails in ../shared/testdata (not shipped) instead of a
    /// synthetic trail.
    #[arg(long)]
    pub samples: bool,
    /// Where to write the HTML report of the demo dataset.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "trailscope-demo-report.html"
    )]
    pub report: PathBuf,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output directory (the trail goes to DIR/AWSLogs, the ground truth to
    /// DIR/ground-truth.json).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Uncompressed JSON size of the trail, e.g. 64MiB, 2GiB.
    #[arg(long, default_value = "256MiB", value_name = "SIZE")]
    pub size: String,
    /// Seed: the same seed and options give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Accounts in the organization (the first is the management account).
    #[arg(long, default_value_t = 3)]
    pub accounts: usize,
    /// Regions with activity.
    #[arg(long, default_value_t = 4)]
    pub regions: usize,
    /// Days of activity.
    #[arg(long, default_value_t = 7)]
    pub days: i64,
    /// First day (YYYY-MM-DD).
    #[arg(long, default_value = "2026-10-01", value_name = "DATE")]
    pub start: String,
    /// account (AWSLogs/<account>), org (AWSLogs/<org>/<account>) or mixed (an
    /// organization trail plus an account trail that delivers one account twice).
    #[arg(long, default_value = "org")]
    pub layout: String,
    /// Gzip level of the trail files (0-9).
    #[arg(long, default_value_t = 6)]
    pub gzip_level: u32,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

impl SynthArgs {
    pub fn into_options(self) -> anyhow::Result<SynthOptions> {
        let mut options = SynthOptions::new(self.out);
        options.size_bytes = trailscope_ingest::synth::parse_size(&self.size).context("--size")?;
        options.seed = self.seed;
        options.accounts = self.accounts;
        options.regions = self.regions;
        options.days = self.days;
        options.start = self.start;
        options.layout = self
            .layout
            .parse::<Layout>()
            .map_err(anyhow::Error::msg)
            .context("--layout")?;
        options.gzip_level = self.gzip_level;
        if let Some(threads) = self.threads {
            if threads == 0 {
                bail!("--threads must be at least 1");
            }
            options.threads = threads;
        }
        Ok(options)
    }
}

/// The dataset and time window shared by every query command.
#[derive(Debug, Args, Clone)]
pub struct DatasetArgs {
    /// The dataset directory (written by `trailscope ingest`), or its `s3://` prefix.
    #[arg(long, short, value_name = "DIR")]
    pub dataset: PathBuf,
    /// An S3-compatible endpoint for an `s3://` dataset (see `ingest --endpoint`).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Run the queries on the Ballista cluster whose scheduler is at `df://HOST:PORT`
    /// (`trailscope scheduler`; cargo feature `cluster`); a local dataset must be at the
    /// same path on every executor, an `s3://` one is read by each from S3.
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
    /// Only events at or after this time: RFC 3339 (2026-10-01T12:00:00Z), a date
    /// (2026-10-01) or a span before now (90m, 12h, 7d, 2w).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events before this time (the same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Memory a query's sorts, joins, aggregations and windows may hold: past it, those
    /// that can spill to temporary files do (sorts, aggregations), the others stop the
    /// query with an error (`512MiB`, `4GiB`; `0`, the default: no limit).
    #[arg(long, default_value = "0", value_name = "SIZE")]
    pub memory_limit: String,
}

/// A validated dataset and query options.
#[derive(Debug, Clone)]
pub struct DatasetConfig {
    pub root: PathBuf,
    /// Set when the dataset is on S3 (`root` then holds its URL).
    pub remote: Option<crate::remote::RemoteDataset>,
    /// The cluster to run on (`df://HOST:PORT`), if any.
    pub cluster: Option<String>,
    pub options: QueryOptions,
}

impl DatasetArgs {
    pub fn into_config(self) -> anyhow::Result<DatasetConfig> {
        let window = TimeWindow::parse(
            self.since.as_deref(),
            self.until.as_deref(),
            chrono::Utc::now(),
        )?;
        let limit =
            trailscope_ingest::synth::parse_size(&self.memory_limit).context("--memory-limit")?;
        let remote = crate::remote::is_s3(&self.dataset).then(|| crate::remote::RemoteDataset {
            url: self.dataset.to_string_lossy().into_owned(),
            endpoint: self.endpoint.clone(),
        });
        Ok(DatasetConfig {
            root: self.dataset,
            remote,
            cluster: self.cluster,
            options: QueryOptions {
                window,
                memory_limit: (limit > 0).then_some(limit as usize),
                ..QueryOptions::default()
            },
        })
    }
}

/// How results are written.
#[derive(Debug, Args, Clone)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// On a terminal, cut table cells longer than this (0: no limit); files and pipes
    /// are never cut.
    #[arg(long, default_value_t = 60, value_name = "CHARS")]
    pub max_cell: usize,
    /// A table shows at most this many rows and counts the rest (0: all); the machine
    /// formats always write every row.
    #[arg(long, default_value_t = DEFAULT_MAX_ROWS, value_name = "N")]
    pub max_rows: usize,
}

/// Rows a table shows unless `--max-rows` says otherwise: enough to read, few enough
/// that a large result does not fill the memory.
const DEFAULT_MAX_ROWS: usize = 1000;

impl FormatArgs {
    pub fn into_config(self) -> anyhow::Result<OutputConfig> {
        OutputConfig::new(self.format, self.output, self.max_cell, self.max_rows)
    }
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    #[command(flatten)]
    pub format: FormatArgs,
    /// The query (one statement); `-` reads it from stdin.
    #[arg(value_name = "SQL", required_unless_present = "file")]
    pub sql: Option<String>,
    /// Read the query from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "sql")]
    pub file: Option<PathBuf>,
}

/// A validated `sql` command.
#[derive(Debug)]
pub struct SqlConfig {
    pub dataset: DatasetConfig,
    pub output: OutputConfig,
    pub sql: String,
}

impl SqlArgs {
    pub fn into_config(self) -> anyhow::Result<SqlConfig> {
        let sql = match (self.sql, self.file) {
            (_, Some(file)) => std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?,
            (Some(dash), None) if dash == "-" => {
                std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
            }
            (Some(sql), None) => sql,
            (None, None) => bail!("give a query, or --file FILE"),
        };
        if sql.trim().trim_end_matches(';').trim().is_empty() {
            bail!("the query is empty");
        }
        Ok(SqlConfig {
            dataset: self.dataset.into_config()?,
            output: self.format.into_config()?,
            sql,
        })
    }
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Longest table cell on a terminal (0: no limit).
    #[arg(long, default_value_t = 60, value_name = "CHARS")]
    pub max_cell: usize,
    /// History file (default: $HOME/.trailscope_history).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

/// A validated `shell` command.
#[derive(Debug)]
pub struct ShellConfig {
    pub dataset: DatasetConfig,
    pub output: OutputConfig,
    pub history: Option<PathBuf>,
}

impl ShellArgs {
    pub fn into_config(self) -> anyhow::Result<ShellConfig> {
        let history = self.history.or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".trailscope_history"))
        });
        Ok(ShellConfig {
            dataset: self.dataset.into_config()?,
            output: OutputConfig::new(Format::Table, None, self.max_cell, DEFAULT_MAX_ROWS)?,
            history,
        })
    }
}

/// Which rows of `principals` to show (the library's `PrincipalKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrincipalKind {
    /// Signing identities and resolved actors.
    All,
    /// Signing identities only.
    Principal,
    /// Resolved actors only.
    Actor,
}

impl From<PrincipalKind> for trailscope_query::attribution::PrincipalKind {
    fn from(kind: PrincipalKind) -> Self {
        match kind {
            PrincipalKind::All => Self::All,
            PrincipalKind::Principal => Self::Principal,
            PrincipalKind::Actor => Self::Actor,
        }
    }
}

/// The column `principals` is sorted by, descending (the library's `PrincipalSort`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrincipalSort {
    Events,
    SourceIps,
    Errors,
    FirstSeen,
    LastSeen,
}

impl From<PrincipalSort> for trailscope_query::attribution::PrincipalSort {
    fn from(sort: PrincipalSort) -> Self {
        match sort {
            PrincipalSort::Events => Self::Events,
            PrincipalSort::SourceIps => Self::SourceIps,
            PrincipalSort::Errors => Self::Errors,
            PrincipalSort::FirstSeen => Self::FirstSeen,
            PrincipalSort::LastSeen => Self::LastSeen,
        }
    }
}

#[derive(Debug, Args)]
pub struct PrincipalsArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    #[command(flatten)]
    pub format: FormatArgs,
    #[arg(long, value_enum, default_value_t = PrincipalKind::All)]
    pub kind: PrincipalKind,
    /// Only principals or actors seen in this account.
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<String>,
    /// Only this type (IAMUser, AssumedRole, Root, SAMLUser, ...).
    #[arg(long = "type", value_name = "TYPE")]
    pub kind_name: Option<String>,
    #[arg(long, value_enum, default_value_t = PrincipalSort::Events)]
    pub sort: PrincipalSort,
    /// At most this many rows (0: all).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// A validated `principals` command.
#[derive(Debug)]
pub struct PrincipalsConfig {
    pub dataset: DatasetConfig,
    pub output: OutputConfig,
    pub filter: PrincipalFilter,
}

impl PrincipalsArgs {
    pub fn into_config(self) -> anyhow::Result<PrincipalsConfig> {
        Ok(PrincipalsConfig {
            dataset: self.dataset.into_config()?,
            output: self.format.into_config()?,
            filter: PrincipalFilter {
                kind: self.kind.into(),
                account: self.account,
                type_name: self.kind_name,
                sort: self.sort.into(),
                limit: self.limit,
            },
        })
    }
}

#[derive(Debug, Args)]
pub struct WhoArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    #[command(flatten)]
    pub format: FormatArgs,
    /// An access key id, a session or principal ARN, a role session name, or an event id.
    #[arg(value_name = "KEY|ARN|SESSION|EVENT")]
    pub subject: String,
}

/// A validated `who` command.
#[derive(Debug)]
pub struct WhoConfig {
    pub dataset: DatasetConfig,
    pub output: OutputConfig,
    pub subject: String,
}

impl WhoArgs {
    pub fn into_config(self) -> anyhow::Result<WhoConfig> {
        let subject = self.subject.trim().to_string();
        if subject.is_empty() {
            bail!("give an access key id, ARN, session name or event id");
        }
        Ok(WhoConfig {
            dataset: self.dataset.into_config()?,
            output: self.format.into_config()?,
            subject,
        })
    }
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("who").required(true)))]
pub struct TimelineArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    #[command(flatten)]
    pub format: FormatArgs,
    /// The resolved actor (an IAM user ARN, a SAML or web identity subject, ...).
    #[arg(long, group = "who")]
    pub actor: Option<String>,
    /// The signing principal (ARN, or trailscope's normalized form).
    #[arg(long, group = "who")]
    pub principal: Option<String>,
    /// An access key id.
    #[arg(long, group = "who", value_name = "KEY")]
    pub access_key: Option<String>,
    /// A source address, or a CIDR block (10.0.0.0/8, 2001:db8::/32).
    #[arg(long, group = "who", value_name = "IP|CIDR")]
    pub ip: Option<String>,
}

/// A validated `timeline` command.
#[derive(Debug)]
pub struct TimelineConfig {
    pub dataset: DatasetConfig,
    pub output: OutputConfig,
    pub of: TimelineOf,
}

impl TimelineArgs {
    pub fn into_config(self) -> anyhow::Result<TimelineConfig> {
        let of = match (self.actor, self.principal, self.access_key, self.ip) {
            (Some(actor), ..) => TimelineOf::Actor(actor),
            (_, Some(principal), ..) => TimelineOf::Principal(principal),
            (_, _, Some(key), _) => TimelineOf::AccessKey(key),
            (_, _, _, Some(ip)) => TimelineOf::ip(&ip).context("--ip")?,
            _ => bail!("give --actor, --principal, --access-key or --ip"),
        };
        Ok(TimelineConfig {
            dataset: self.dataset.into_config()?,
            output: self.format.into_config()?,
            of,
        })
    }
}

/// A severity on the command line.
fn severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| "one of info, low, medium, high, critical".to_string())
}

#[derive(Debug, Args)]
pub struct FindingsArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Only these detections (repeat the option, or separate ids with commas).
    #[arg(long = "detection", value_name = "ID", value_delimiter = ',')]
    pub detections: Vec<String>,
    /// Only findings of at least this severity.
    #[arg(long, value_parser = severity, value_name = "SEVERITY")]
    pub min_severity: Option<Severity>,
    /// Exit with status 1 when a finding of at least this severity fires (for scheduled
    /// jobs and CI).
    #[arg(long, value_parser = severity, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Also load the detections (`*.sql` with their header) of this directory; one with
    /// a built-in id replaces the built-in one.
    #[arg(long = "extra-detections", value_name = "DIR")]
    pub extra: Option<PathBuf>,
    /// Also run the Sigma rules (AWS CloudTrail) of this file or directory, read
    /// recursively (repeatable); all in one pass, as the detection `sigma`.
    #[arg(long, value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
    /// Run no built-in detection (only `--sigma` and `--extra-detections` ones).
    #[arg(long)]
    pub no_builtin: bool,
    /// The output of `aws iam get-account-authorization-details` (one or more accounts):
    /// what each user and role is granted, for `permissions-mostly-unused`.
    #[arg(long, value_name = "FILE")]
    pub authorization_details: Option<PathBuf>,
}

/// Loads Sigma rules and says, on stderr, what was left out and why (one line each) and
/// what was loaded.
fn load_sigma(paths: &[PathBuf]) -> trailscope_query::sigma::SigmaLoad {
    let load = trailscope_query::sigma::load(paths);
    for (source, why) in &load.not_supported {
        eprintln!("trailscope: {source}: not supported: {why}");
    }
    eprintln!(
        "trailscope: sigma: {} files, {} rules compiled, {} correlations (over {} base rules), \
         {} not supported, {} repeated ids",
        load.files,
        load.detections.len(),
        load.correlations.len(),
        load.base_rules,
        load.not_supported.len(),
        load.duplicates.len()
    );
    load
}

/// Reads and expands `aws iam get-account-authorization-details` output.
pub fn read_authorization_details(
    path: &std::path::Path,
) -> anyhow::Result<Vec<trailscope_query::privilege::authorization::Granted>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    trailscope_query::privilege::authorization::parse(&text)
        .with_context(|| format!("{}", path.display()))
}

/// A validated `findings` command (its detections are in the dataset's options).
#[derive(Debug)]
pub struct FindingsConfig {
    pub dataset: DatasetConfig,
    pub output: OutputConfig,
    pub min_severity: Severity,
    pub fail_on: Option<Severity>,
    /// Each user's and role's granted actions, from `--authorization-details`.
    pub granted: Option<Vec<trailscope_query::privilege::authorization::Granted>>,
}

/// The built-in detections with those of `extra` on top.
fn detection_set(extra: Option<&PathBuf>) -> anyhow::Result<DetectionSet> {
    let set = DetectionSet::builtin();
    Ok(match extra {
        Some(dir) => set.with_overrides(dir)?,
        None => set,
    })
}

impl FindingsArgs {
    pub fn into_config(self) -> anyhow::Result<FindingsConfig> {
        let mut dataset = self.dataset.into_config()?;
        let mut all = if self.no_builtin {
            match &self.extra {
                Some(dir) => trailscope_query::detections::load_dir(dir)?,
                None => Vec::new(),
            }
        } else {
            detection_set(self.extra.as_ref())?.detections().to_vec()
        };
        if !self.sigma.is_empty() {
            let load = load_sigma(&self.sigma);
            all.extend(trailscope_query::sigma::rule_set(&load));
            all.extend(load.correlations);
        }
        if all.is_empty() {
            anyhow::bail!("no detection to run (--no-builtin, and no rule compiled)");
        }
        let set = DetectionSet::new(all)?;
        dataset.options.detections = set.only(&self.detections)?;
        Ok(FindingsConfig {
            dataset,
            output: self.format.into_config()?,
            min_severity: self.min_severity.unwrap_or(Severity::Info),
            fail_on: self.fail_on,
            granted: self
                .authorization_details
                .as_deref()
                .map(read_authorization_details)
                .transpose()?,
        })
    }
}

#[derive(Debug, Args)]
pub struct DetectionsArgs {
    #[command(flatten)]
    pub format: FormatArgs,
    /// Also list (and validate) the detections of this directory.
    #[arg(long = "extra-detections", value_name = "DIR")]
    pub extra: Option<PathBuf>,
    /// Also list the Sigma rules of this file or directory (repeatable): each rule that
    /// compiled; those that did not are named on stderr with the reason.
    #[arg(long, value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
}

/// A validated `detections` command.
#[derive(Debug)]
pub struct DetectionsConfig {
    pub output: OutputConfig,
    pub detections: DetectionSet,
}

impl DetectionsArgs {
    pub fn into_config(self) -> anyhow::Result<DetectionsConfig> {
        let mut detections = detection_set(self.extra.as_ref())?;
        if !self.sigma.is_empty() {
            let mut all = detections.detections().to_vec();
            let load = load_sigma(&self.sigma);
            all.extend(load.detections);
            all.extend(load.correlations);
            detections = DetectionSet::new(all)?;
        }
        Ok(DetectionsConfig {
            detections,
            output: self.format.into_config()?,
        })
    }
}
