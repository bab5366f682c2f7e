//! The ingest run: discover, read files in parallel ([`crate::worker`]), write partitions,
//! commit.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::dataset::{DatasetWriter, FailedInput, InputRecord, META_DIR, RunRecord};
use crate::dedupe::SeenEvents;
use crate::discover::{InputFile, discover_since};
use crate::error::{Error, Result};
use crate::partition_files::PartitionFiles;
use crate::run::{FileCounts, IngestOptions, IngestSummary, Observer, RecordCounts};
use crate::worker::{Shared, Worker, WorkerOutput};

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Ingests `options.inputs` into the dataset; see the crate docs.
pub fn ingest(options: &IngestOptions, observer: &dyn Observer) -> Result<IngestSummary> {
    let started_at = Instant::now();
    let started = now_rfc3339();
    let mut dataset = DatasetWriter::open(&options.dataset)?;
    let mut discovery = match &options.remote {
        Some(remote) => remote.discover(options.delivered_since)?,
        None => discover_since(
            &options.inputs,
            Some(&options.dataset),
            options.delivered_since,
        )?,
    };
    let found = discovery.files.len();
    if let Some(shard) = options.shard {
        discovery.files.retain(|f| shard.owns(f.source()));
    }
    let mut files = FileCounts {
        found: found as u64,
        other_shards: (found - discovery.files.len()) as u64,
        digest_skipped: discovery.digest_files,
        insight_skipped: discovery.insight_files,
        other_skipped: discovery.other_files.len() as u64,
        unreadable_dirs: discovery.unreadable_dirs.len() as u64,
        folders_before_since: discovery.folders_before_since,
        ..FileCounts::default()
    };
    let manifest = dataset.manifest();
    // A file is read again when its size or modification time changed (a same-size
    // rewrite is a change); a file that failed is reported again without being read,
    // as long as it has not changed.
    let mut to_read = Vec::with_capacity(discovery.files.len());
    let mut still_bad = Vec::new();
    for file in discovery.files {
        let read_before = manifest.inputs.get(file.source()).is_some_and(|r| {
            r.size == file.size && (r.modified.is_none() || r.modified == file.modified)
        });
        let failed_before = manifest
            .failed_inputs
            .get(file.source())
            .filter(|f| f.unchanged(file.size, file.modified));
        match (options.reread, read_before, failed_before) {
            (false, true, _) => files.unchanged += 1,
            (false, false, Some(failed)) => {
                still_bad.push((file.source().to_string(), failed.clone()))
            }
            _ => to_read.push(file),
        }
    }

    let seen = SeenEvents::open_with_budget(
        &options.dataset.join(META_DIR).join("keys"),
        options.keys_in_memory,
    )?;
    let run_id = format!(
        "{}-{:08x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        std::process::id() ^ (started_at.elapsed().subsec_nanos())
    );
    observer.on_start(to_read.len() as u64, to_read.iter().map(|f| f.size).sum());
    files.failed += still_bad.len() as u64;
    files.unchanged_bad = still_bad.len() as u64;
    let chunks = checkpoints(&to_read, options.checkpoint_bytes);
    let mut totals = Totals::default();
    for (n, chunk) in chunks.iter().enumerate() {
        // The first checkpoint also reports what was not read (unchanged failures, folders).
        let first = n == 0;
        let chunk_id = if first {
            run_id.clone()
        } else {
            format!("{run_id}-c{n}")
        };
        let context = Chunk {
            files: chunk,
            run_id: &chunk_id,
            started: &started,
            still_bad: if first { &still_bad } else { &[] },
            unreadable_dirs: if first {
                &discovery.unreadable_dirs
            } else {
                &[]
            },
        };
        run_chunk(&mut dataset, &seen, options, observer, context, &mut totals)?;
    }
    files.read += totals.files_read;
    files.failed += totals.files_failed;
    let mut partitions_compacted = 0;
    if options.compact_at_files > 0 && options.publish.is_none() && !totals.touched.is_empty() {
        let compaction = crate::compact::CompactOptions {
            dataset: options.dataset.clone(),
            target_file_bytes: options.writer.target_file_bytes as u64,
            writer: options.writer.clone(),
            min_files: options.compact_at_files,
            threads: options.threads,
        };
        partitions_compacted =
            crate::compact::compact_partitions(&mut dataset, &compaction, Some(&totals.touched))?
                .partitions_compacted;
    }
    Ok(IngestSummary {
        partitions_compacted,
        run_id,
        dataset: options.dataset.clone(),
        files,
        records: totals.records,
        bytes_read: totals.bytes_read,
        bytes_decompressed: totals.bytes_decompressed,
        data_files_written: totals.data_files_written,
        data_bytes_written: totals.data_bytes_written,
        threads: totals.threads,
        wall_seconds: started_at.elapsed().as_secs_f64(),
        dataset_rows: dataset.manifest().total_rows(),
        issues: totals.issues,
        issues_total: totals.issues_total,
        conflicting_ids: totals.conflicting_ids,
    })
}

/// The files of each checkpoint, in order: a new one starts when those before reach
/// `bytes` (0: one for all). At least one, so that a run with nothing to read still commits
/// what it found (unchanged failures).
fn checkpoints(files: &[InputFile], bytes: u64) -> Vec<&[InputFile]> {
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0u64);
    for (i, file) in files.iter().enumerate() {
        size += file.size;
        if bytes > 0 && size >= bytes {
            out.push(&files[start..=i]);
            (start, size) = (i + 1, 0);
        }
    }
    if start < files.len() || out.is_empty() {
        out.push(&files[start..]);
    }
    out
}

/// One checkpoint's work: its files, and its own run id in the manifest.
struct Chunk<'a> {
    files: &'a [InputFile],
    run_id: &'a str,
    started: &'a str,
    still_bad: &'a [(String, FailedInput)],
    unreadable_dirs: &'a [(std::path::PathBuf, String)],
}

/// What the checkpoints of a run add up to.
#[derive(Default)]
struct Totals {
    files_read: u64,
    files_failed: u64,
    records: RecordCounts,
    bytes_read: u64,
    bytes_decompressed: u64,
    data_files_written: u64,
    data_bytes_written: u64,
    threads: usize,
    issues: Vec<crate::run::InputIssue>,
    issues_total: u64,
    conflicting_ids: Vec<crate::run::InputIssue>,
    /// The partitions the run wrote to (`event_date=...`).
    touched: std::collections::BTreeSet<String>,
}

/// Reads one checkpoint's files in parallel and commits them.
fn run_chunk(
    dataset: &mut DatasetWriter,
    seen: &SeenEvents,
    options: &IngestOptions,
    observer: &dyn Observer,
    chunk: Chunk,
    totals: &mut Totals,
) -> Result<()> {
    let run_id = chunk.run_id.to_string();
    let staging = dataset.staging_dir(&run_id)?;
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    }
    .min(chunk.files.len().max(1));
    totals.threads = totals.threads.max(threads);
    let fetched = options
        .remote
        .as_ref()
        .map(|remote| remote.fetch(chunk.files));
    let data_files = Arc::new(PartitionFiles::new(
        staging.clone(),
        format!("part-{run_id}"),
        options.writer.properties()?,
        options.writer.target_file_bytes,
    )?);
    let shared = Shared {
        files: chunk.files,
        data_files: data_files.clone(),
        next: AtomicUsize::new(0),
        fetched: fetched.as_deref(),
        seen,
        observer,
        options,
        staging: &staging,
        run_id: &run_id,
        issues: Mutex::new(Vec::new()),
        issues_total: AtomicU64::new(0),
        conflicts: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
    };
    for (source, failed) in chunk.still_bad {
        shared.issue(
            source,
            None,
            format!(
                "{} (unchanged since run {}: not read again; --reread reads it)",
                failed.message, failed.run_id
            ),
        );
    }
    for (dir, why) in chunk.unreadable_dirs {
        shared.issue(
            &dir.display().to_string(),
            None,
            format!("cannot list directory: {why}"),
        );
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("trailscope-ingest-{i}"))
        .build()
        .map_err(|e| Error::Config(format!("cannot start {threads} threads: {e}")))?;
    let outputs: Vec<Result<WorkerOutput>> = pool.broadcast(|ctx| {
        let result = Worker::new(&shared, ctx.index()).and_then(|w| w.run(&shared));
        if result.is_err() {
            shared.stop.store(true, Ordering::Relaxed);
        }
        result
    });

    let mut key_files = Vec::new();
    let mut records = RecordCounts::default();
    let mut inputs = Vec::new();
    let mut failed = Vec::new();
    let mut files_read = 0;
    for output in outputs {
        let output = output?;
        key_files.extend(output.key_file);
        records.add(&output.records);
        totals.bytes_read += output.bytes_read;
        totals.bytes_decompressed += output.bytes_decompressed;
        files_read += (output.read.len() + output.failed.len()) as u64;
        totals.files_failed += output.failed.len() as u64;
        for read in output.read {
            let file = &chunk.files[read.index];
            inputs.push((
                file.source().to_string(),
                InputRecord {
                    size: read.bytes,
                    modified: file.modified,
                    records: read.records_seen,
                    run_id: run_id.clone(),
                },
            ));
        }
        for (read, message) in output.failed {
            let file = &chunk.files[read.index];
            failed.push((
                file.source().to_string(),
                FailedInput {
                    size: read.bytes,
                    modified: file.modified,
                    message,
                    run_id: run_id.clone(),
                },
            ));
        }
    }
    let staged = pool.install(|| data_files.finish())?;
    totals.data_files_written += staged.len() as u64;
    totals.touched.extend(
        staged
            .iter()
            .filter_map(|f| f.relative.rsplit_once('/').map(|(dir, _)| dir.to_string())),
    );
    totals.data_bytes_written += staged.iter().map(|f| f.bytes).sum::<u64>();
    totals.files_read += files_read;
    dataset.commit(
        RunRecord {
            run_id: run_id.clone(),
            started: chunk.started.to_string(),
            committed: now_rfc3339(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            files_read,
            records_written: records.written,
            records_duplicate: records.duplicate,
            records_rejected: records.rejected,
        },
        inputs,
        failed,
        &staged,
        &key_files,
    )?;
    // The checkpoint's keys are committed: the days it did not use can leave memory.
    let keys_dir = dataset.root().join(META_DIR).join("keys");
    for key_file in &key_files {
        if let Some(name) = key_file.file_name() {
            seen.add_committed(&keys_dir.join(name))?;
        }
    }
    seen.drop_unused_days();
    if let Some(publisher) = &options.publish {
        publisher.publish(dataset.root())?;
    }
    totals.records.add(&records);
    totals.issues_total += shared.issues_total.load(Ordering::Relaxed);
    // As within a checkpoint, at most MAX_ISSUES_KEPT are kept (all are counted).
    let room = crate::run::MAX_ISSUES_KEPT.saturating_sub(totals.issues.len());
    let issues = shared.issues.into_inner().expect("not poisoned");
    totals.issues.extend(issues.into_iter().take(room));
    let room = crate::run::MAX_ISSUES_KEPT.saturating_sub(totals.conflicting_ids.len());
    let conflicts = shared.conflicts.into_inner().expect("not poisoned");
    totals
        .conflicting_ids
        .extend(conflicts.into_iter().take(room));
    Ok(())
}
