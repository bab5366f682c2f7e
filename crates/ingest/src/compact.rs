//! Compaction: the small data files of each partition rewritten into few of a sensible
//! size, so that a dataset fed by frequent runs (each adds a file to every partition it
//! touches) stays as fast to query as one ingested at once.
//!
//! Files are streamed batch by batch into the new ones (memory stays that of one row
//! group per thread), the groups of files merged in parallel, under `_staging/`, and
//! swapped in by one journaled commit, as ingest commits:
//! after a crash or `kill -9` at any point, readers see either the old files or the new
//! ones, never both or a part, and the next writer finishes or discards the swap.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::time::Instant;

use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::dataset::{DataFile, DatasetWriter};
use crate::error::{Error, Result};
use crate::partition_files::StagedFile;
use crate::schema::arrow_schema;
use crate::sink::WriterOptions;

/// What to compact and how.
#[derive(Debug, Clone)]
pub struct CompactOptions {
    /// The dataset directory.
    pub dataset: PathBuf,
    /// Files are merged into ones of at most about this many bytes; files already this
    /// large are left alone.
    pub target_file_bytes: u64,
    /// Encoding of the new files.
    pub writer: WriterOptions,
    /// A partition is compacted when it holds at least this many data files.
    pub min_files: usize,
    /// Groups of files merged at once; 0 means one per core.
    pub threads: usize,
}

impl CompactOptions {
    /// Defaults (files of up to 256 MiB, ingest's encoding) for `dataset`.
    pub fn new(dataset: PathBuf) -> Self {
        let writer = WriterOptions::default();
        CompactOptions {
            dataset,
            target_file_bytes: writer.target_file_bytes as u64,
            writer,
            min_files: 2,
            threads: 0,
        }
    }
}

/// What a compaction did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CompactSummary {
    /// Partitions in the dataset.
    pub partitions: u64,
    /// Partitions whose files were merged.
    pub partitions_compacted: u64,
    /// Data files before and after.
    pub files_before: u64,
    /// Data files after.
    pub files_after: u64,
    /// Rows rewritten (the rows of the merged files).
    pub rows_rewritten: u64,
    /// Seconds it took.
    pub wall_seconds: f64,
}

/// Merges the small files of every partition of the dataset; see the module docs.
pub fn compact(options: &CompactOptions) -> Result<CompactSummary> {
    let mut dataset = DatasetWriter::open(&options.dataset)?;
    compact_partitions(&mut dataset, options, None)
}

/// Merges the small files of the partitions `only` names (`event_date=...`; all when
/// `None`) that hold at least `options.min_files` files, through `dataset` (ingest
/// compacts what a run touched while it holds the dataset).
pub(crate) fn compact_partitions(
    dataset: &mut DatasetWriter,
    options: &CompactOptions,
    only: Option<&std::collections::BTreeSet<String>>,
) -> Result<CompactSummary> {
    let started = Instant::now();
    let run_id = format!(
        "compact-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ")
    );
    let mut partitions: BTreeMap<String, Vec<DataFile>> = BTreeMap::new();
    for file in &dataset.manifest().data_files {
        let partition = file.path.rsplit_once('/').map_or("", |(dir, _)| dir);
        partitions
            .entry(partition.to_string())
            .or_default()
            .push(file.clone());
    }
    let mut summary = CompactSummary {
        partitions: partitions.len() as u64,
        files_before: dataset.manifest().data_files.len() as u64,
        ..CompactSummary::default()
    };
    let staging = dataset.staging_dir(&run_id)?;
    let properties = options.writer.properties()?;
    let mut work: Vec<(String, &[DataFile])> = Vec::new();
    for (partition, files) in &mut partitions {
        if only.is_some_and(|only| !only.contains(partition)) || files.len() < options.min_files {
            continue;
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let groups = groups(files, options.target_file_bytes);
        if !groups.is_empty() {
            summary.partitions_compacted += 1;
        }
        work.extend(groups.into_iter().map(|group| (partition.clone(), group)));
    }
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(work.len().max(1));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("trailscope-compact-{i}"))
        .build()
        .map_err(|e| Error::Config(format!("cannot start {threads} threads: {e}")))?;
    // Numbered across partitions: the staged files share one directory.
    let staged: Vec<StagedFile> = pool.install(|| {
        work.par_iter()
            .enumerate()
            .map(|(number, (partition, group))| {
                let name = format!("part-{run_id}-{number:05}.parquet");
                merge_group(options, &properties, partition, group, &staging, name)
            })
            .collect::<Result<_>>()
    })?;
    let removed: Vec<String> = work
        .iter()
        .flat_map(|(_, group)| group.iter().map(|file| file.path.clone()))
        .collect();
    summary.rows_rewritten = staged.iter().map(|file| file.rows).sum();
    if !staged.is_empty() {
        dataset.replace(&run_id, &staged, &removed)?;
    }
    // Nothing to swap in: the staging folder (and `_staging`, once empty) go.
    let _ = std::fs::remove_dir_all(&staging);
    if let Some(parent) = staging.parent() {
        let _ = std::fs::remove_dir(parent);
    }
    summary.files_after = dataset.manifest().data_files.len() as u64;
    summary.wall_seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Streams the files of `group` (of `partition`) into one new file `name` in `staging`.
fn merge_group(
    options: &CompactOptions,
    properties: &WriterProperties,
    partition: &str,
    group: &[DataFile],
    staging: &std::path::Path,
    name: String,
) -> Result<StagedFile> {
    let target = staging.join(&name);
    let out = File::create(&target).map_err(|e| Error::io(&target, e))?;
    let mut writer = ArrowWriter::try_new(out, arrow_schema(), Some(properties.clone()))?;
    let mut rows = 0;
    for file in group {
        let path = options.dataset.join(&file.path);
        let input = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(input)?
            .with_batch_size(options.writer.batch_rows)
            .build()?;
        for batch in reader {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            writer.write(&batch)?;
        }
    }
    let expected: u64 = group.iter().map(|f| f.rows).sum();
    if rows != expected {
        return Err(Error::Config(format!(
            "{partition}: read {rows} rows from files the manifest says hold {expected}"
        )));
    }
    let out = writer.into_inner()?;
    out.sync_all().map_err(|e| Error::io(&target, e))?;
    let bytes = out.metadata().map_err(|e| Error::io(&target, e))?.len();
    Ok(StagedFile {
        staged: target,
        relative: format!("{partition}/{name}"),
        rows,
        bytes,
    })
}

/// The runs of consecutive files to merge: each up to `target` bytes, at least two files
/// (a file alone is left as it is).
fn groups(files: &[DataFile], target: u64) -> Vec<&[DataFile]> {
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0u64);
    for (i, file) in files.iter().enumerate() {
        if i > start && size + file.bytes > target {
            if i - start >= 2 {
                out.push(&files[start..i]);
            }
            (start, size) = (i, 0);
        }
        size += file.bytes;
    }
    if files.len() - start >= 2 {
        out.push(&files[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, bytes: u64) -> DataFile {
        DataFile {
            path: format!("event_date=2026-01-01/{name}"),
            rows: 1,
            bytes,
            run_id: "r".into(),
        }
    }

    #[test]
    fn small_files_are_grouped_up_to_the_target_and_large_ones_left_alone() {
        let files = [
            file("a", 10),
            file("b", 10),
            file("c", 90),
            file("d", 200),
            file("e", 5),
        ];
        let names = |groups: Vec<&[DataFile]>| -> Vec<Vec<String>> {
            groups
                .iter()
                .map(|g| g.iter().map(|f| f.path[22..].to_string()).collect())
                .collect()
        };
        assert_eq!(names(groups(&files, 100)), [vec!["a", "b"]]);
        assert_eq!(
            names(groups(&files, 300)),
            [vec!["a", "b", "c"], vec!["d", "e"]]
        );
        assert!(groups(&files[..1], 100).is_empty());
    }
}
