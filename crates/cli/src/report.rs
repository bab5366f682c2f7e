//! Human-readable summaries and the progress bar.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use trailscope_ingest::{FileReport, IngestSummary, InputIssue, Observer};

/// Shows progress on a terminal and prints every input problem as it is found, one line
/// on stderr each, whatever else is silenced (a scheduled job must learn which files).
pub struct Progress {
    bar: ProgressBar,
    files_done: AtomicU64,
    files_total: AtomicU64,
}

impl Progress {
    /// With `hide_bar`, or when stderr is no terminal, only the problem lines show.
    pub fn new(hide_bar: bool) -> Self {
        let bar = if hide_bar || !std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        } else {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}",
                )
                .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        };
        Progress {
            bar,
            files_done: AtomicU64::new(0),
            files_total: AtomicU64::new(0),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn on_start(&self, files: u64, bytes: u64) {
        self.files_total.store(files, Ordering::Relaxed);
        self.bar.set_length(bytes);
    }

    fn on_file(&self, report: &FileReport) {
        self.bar.inc(report.bytes);
        let done = self.files_done.fetch_add(1, Ordering::Relaxed) + 1;
        let total = self.files_total.load(Ordering::Relaxed);
        self.bar.set_message(format!("{done}/{total} files"));
    }

    fn on_issue(&self, issue: &InputIssue) {
        self.bar.suspend(|| eprintln!("trailscope: {issue}"));
    }

    fn on_conflicting_id(&self, conflict: &InputIssue) {
        self.bar
            .suspend(|| eprintln!("trailscope: note: {conflict}"));
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The summary an ingest run prints.
pub fn ingest_summary(s: &IngestSummary) -> String {
    let f = &s.files;
    let r = &s.records;
    let rate = if s.wall_seconds > 0.0 {
        s.bytes_decompressed as f64 / 1e6 / s.wall_seconds
    } else {
        0.0
    };
    let mut out = format!(
        "ingested {} files ({} on disk, {} of JSON) in {:.2} s with {} threads: {:.0} MB/s, {:.0} events/s\n",
        f.read,
        megabytes(s.bytes_read),
        megabytes(s.bytes_decompressed),
        s.wall_seconds,
        s.threads,
        rate,
        r.seen as f64 / s.wall_seconds.max(1e-9),
    );
    out += &format!(
        "  records: {} seen = {} written + {} duplicate + {} rejected\n",
        r.seen, r.written, r.duplicate, r.rejected
    );
    if r.conflicting_ids > 0 {
        out += &format!(
            "  ids:     {} conflicting ids: written records whose eventID a different record has too (both kept; named on stderr)\n",
            r.conflicting_ids
        );
    }
    if r.time_substituted > 0 || r.without_time > 0 {
        out += &format!(
            "  time:    {} records had no eventTime and took it from @timestamp; {} have no time (partition event_date=__HIVE_DEFAULT_PARTITION__)\n",
            r.time_substituted, r.without_time
        );
    }
    out += &format!(
        "  files:   {} found, {} read, {} already ingested, {} failed ({} of them unchanged since they failed); skipped {} digest, {} Insight, {} not trail files\n",
        f.found,
        f.read,
        f.unchanged,
        f.failed,
        f.unchanged_bad,
        f.digest_skipped,
        f.insight_skipped,
        f.other_skipped
    );
    if f.other_shards > 0 {
        out += &format!(
            "  shard:   {} of the files found belong to other shards, not read\n",
            f.other_shards
        );
    }
    if f.folders_before_since > 0 {
        out += &format!(
            "  since:   {} delivery-day folders delivered before --since, not listed\n",
            f.folders_before_since
        );
    }
    out += &format!(
        "  dataset: {} ({} rows; this run wrote {} Parquet files, {})\n",
        s.dataset.display(),
        s.dataset_rows,
        s.data_files_written,
        megabytes(s.data_bytes_written)
    );
    if s.partitions_compacted > 0 {
        out += &format!(
            "  compacted {} partitions it wrote to (their small files merged)\n",
            s.partitions_compacted
        );
    }
    if s.issues_total > 0 {
        out += &format!(
            "  {} input problems (files and records that could not be used)\n",
            s.issues_total
        );
    }
    out
}

/// The summary `trailscope synth` prints.
pub fn synth_summary(s: &trailscope_ingest::synth::SynthSummary) -> String {
    let t = &s.truth;
    let n = &t.totals;
    let mut out = format!(
        "generated {} trail files ({} of JSON, {} gzipped) with {} records in {:.2} s\n",
        n.trail_files,
        megabytes(n.json_bytes),
        megabytes(n.gzip_bytes),
        n.records,
        s.wall_seconds
    );
    out += &format!(
        "  layout {} (organization {}), {} accounts, {} days from {}, seed {}\n",
        t.layout,
        t.organization_id,
        t.accounts.len(),
        t.days,
        t.start,
        t.seed
    );
    out += &format!(
        "  also {} digest files and {} Insight files (ingest skips both); {} records delivered twice\n",
        n.digest_files, n.insight_files, n.duplicate_records
    );
    out += &format!(
        "  scenarios: {} root usage events, {} root look-alikes, {} sessions with known origin, {} shared identities, {} look-alikes\n",
        t.root_usage.len(),
        t.not_root_usage.len(),
        t.sessions.len(),
        t.shared_identities.len(),
        t.not_shared.len()
    );
    out += &format!(
        "  trail: {}  ground truth: {}\n",
        s.out.join("AWSLogs").display(),
        s.out
            .join(trailscope_ingest::synth::GROUND_TRUTH_FILE)
            .display()
    );
    out
}
