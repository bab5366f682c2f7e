//! `trailscope merge`: shard datasets (`ingest --shard K/N`) combined into one, with the
//! events stored twice dropped, committed through the same journal as ingest (a crash
//! leaves the target as it was) and idempotent (a shard merged again adds nothing).
//! Partitions are merged in parallel; within one, each shard's files in shard order.
//!
//! Deduplication is ingest's: an event is its identity (eventID and recipient account,
//! or its place) and the hash of its record's text. The text is not in the Parquet rows,
//! so each row's text hash is taken from its shard's key files (`_trailscope/keys`),
//! found by the identity recomputed from the row; where a shard holds several texts for
//! one identity (conflicting ids, all kept), its rows are kept and all its keys recorded.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::Int32Type;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;

use crate::dataset::{DatasetWriter, META_DIR, Manifest, RunRecord};
use crate::dedupe::{Day, DayKeys, EventKey, KeyLog, Seen, SeenEvents, for_each_key, key_path};
use crate::error::{Error, Result};
use crate::partition_files::StagedFile;
use crate::schema::arrow_schema;
use crate::sink::WriterOptions;

/// What to merge where.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// The dataset to create or add to.
    pub out: PathBuf,
    /// The shard datasets, merged in this order (the first copy of an event is kept).
    pub shards: Vec<PathBuf>,
    /// Data file encoding.
    pub writer: WriterOptions,
}

/// What a merge did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MergeSummary {
    /// Shards read and their data files.
    pub shards: u64,
    /// See `shards`.
    pub data_files_read: u64,
    /// Rows read from the shards.
    pub rows_read: u64,
    /// Rows written to the target.
    pub rows_written: u64,
    /// Rows dropped: their event was already in the target or an earlier shard.
    pub rows_duplicate: u64,
    /// Rows kept although their identity has several texts in their shard.
    pub rows_conflicting: u64,
    /// Data files the merge wrote.
    pub data_files_written: u64,
    /// Seconds it took.
    pub wall_seconds: f64,
}

/// Merges `options.shards` into `options.out`; see the module docs.
pub fn merge(options: &MergeOptions) -> Result<MergeSummary> {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // Every shard is checked before the target is touched.
    let manifests = options
        .shards
        .iter()
        .map(|shard| Manifest::load_checked(shard))
        .collect::<Result<Vec<_>>>()?;
    let mut target = DatasetWriter::open(&options.out)?;
    let seen = SeenEvents::open(&options.out.join(META_DIR).join("keys"))?;
    let run_id = format!("merge-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"));
    let staging = target.staging_dir(&run_id)?;
    let key_path = key_path(&staging, &run_id);
    let mut keys = KeyLog::create(&key_path)?;
    let properties = options.writer.properties()?;
    let mut summary = MergeSummary::default();
    let mut staged: Vec<StagedFile> = Vec::new();
    let mut inputs = Vec::new();
    let mut failed = Vec::new();
    // Partition by partition, each shard's files in shard order: a duplicate can only be
    // in the same `event_date` partition, and each partition gets one new file (its
    // target file size aside), not one per shard file.
    let mut contents = Vec::with_capacity(manifests.len());
    let mut partitions: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for (index, (shard, manifest)) in options.shards.iter().zip(&manifests).enumerate() {
        contents.push(shard_keys(&shard.join(META_DIR).join("keys"))?);
        summary.shards += 1;
        for file in &manifest.data_files {
            let partition = file.path.rsplit_once('/').map_or("", |(dir, _)| dir);
            partitions
                .entry(partition.to_string())
                .or_default()
                .push((index, file.path.clone()));
        }
    }
    // Partitions in parallel (a duplicate can only be in one partition: they share
    // nothing but the seen keys, whose table is sharded), keys gathered for one key file.
    let job = PartitionJob {
        shards: &options.shards,
        contents: &contents,
        seen: &seen,
        staging: &staging,
        run_id: &run_id,
        writer: &options.writer,
        properties: &properties,
    };
    let partitions: Vec<(&String, &Vec<(usize, String)>)> = partitions.iter().collect();
    let results = partitions
        .par_iter()
        .enumerate()
        .map(|(number, (partition, files))| job.merge_partition(number, partition, files))
        .collect::<Vec<Result<PartitionMerged>>>();
    for result in results {
        let merged = result?;
        staged.extend(merged.staged);
        for key in merged.keys {
            keys.push(merged.day, key)?;
        }
        summary.data_files_read += merged.counts.data_files_read;
        summary.rows_read += merged.counts.rows_read;
        summary.rows_duplicate += merged.counts.rows_duplicate;
        summary.rows_conflicting += merged.counts.rows_conflicting;
    }
    summary.rows_written = staged.iter().map(|f| f.rows).sum();
    // What the shards read, the merged dataset has: a later ingest into it skips those
    // files, and still-bad files stay remembered.
    for manifest in manifests {
        for (source, mut input) in manifest.inputs {
            input.run_id = run_id.clone();
            inputs.push((source, input));
        }
        for (source, mut bad) in manifest.failed_inputs {
            bad.run_id = run_id.clone();
            failed.push((source, bad));
        }
    }
    keys.finish()?;
    summary.data_files_written = staged.len() as u64;
    target.commit(
        RunRecord {
            run_id: run_id.clone(),
            started: started_at,
            committed: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            files_read: summary.data_files_read,
            records_written: summary.rows_written,
            records_duplicate: summary.rows_duplicate,
            records_rejected: 0,
        },
        inputs,
        failed,
        &staged,
        &[key_path],
    )?;
    let _ = std::fs::remove_dir_all(&staging);
    if let Some(parent) = staging.parent() {
        let _ = std::fs::remove_dir(parent);
    }
    summary.wall_seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// What every partition's merge shares.
struct PartitionJob<'a> {
    shards: &'a [PathBuf],
    contents: &'a [HashMap<u64, Vec<u64>>],
    seen: &'a SeenEvents,
    staging: &'a Path,
    run_id: &'a str,
    writer: &'a WriterOptions,
    properties: &'a parquet::file::properties::WriterProperties,
}

/// One partition merged: its staged files, the keys of the rows kept, and counts.
struct PartitionMerged {
    staged: Vec<StagedFile>,
    /// The partition's event date.
    day: Day,
    keys: Vec<EventKey>,
    counts: MergeSummary,
}

impl PartitionJob<'_> {
    /// Merges the `files` (shard index, path) of `partition`, the `number`th.
    fn merge_partition(
        &self,
        number: usize,
        partition: &str,
        files: &[(usize, String)],
    ) -> Result<PartitionMerged> {
        let day = crate::time::day_of_partition(partition);
        let day_keys = self.seen.day(day)?;
        let mut merged = PartitionMerged {
            staged: Vec::new(),
            day,
            keys: Vec::new(),
            counts: MergeSummary::default(),
        };
        let mut out = PartitionOut::default();
        for (index, relative) in files {
            merged.counts.data_files_read += 1;
            let path = self.shards[*index].join(relative);
            let input = File::open(&path).map_err(|e| Error::io(&path, e))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(input)?
                .with_batch_size(self.writer.batch_rows)
                .build()?;
            for batch in reader {
                let batch = batch?;
                merged.counts.rows_read += batch.num_rows() as u64;
                let keep = keep_rows(
                    &batch,
                    &self.contents[*index],
                    &day_keys,
                    &mut merged.keys,
                    &mut merged.counts,
                )?;
                self.seen.keep_within_budget()?;
                let kept = arrow::compute::filter_record_batch(&batch, &keep)?;
                if kept.num_rows() == 0 {
                    continue;
                }
                if out.bytes() >= self.writer.target_file_bytes as u64 {
                    out.finish(partition, &mut merged.staged)?;
                }
                if out.writer.is_none() {
                    let name = format!(
                        "part-{}-p{number:05}-{:03}.parquet",
                        self.run_id,
                        merged.staged.len()
                    );
                    let path = self.staging.join(&name);
                    let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
                    out.writer = Some(ArrowWriter::try_new(
                        file,
                        arrow_schema(),
                        Some(self.properties.clone()),
                    )?);
                    out.path = path;
                    out.name = name;
                }
                out.rows += kept.num_rows() as u64;
                out.writer.as_mut().expect("created above").write(&kept)?;
            }
        }
        out.finish(partition, &mut merged.staged)?;
        Ok(merged)
    }
}

/// The data file being written for one partition.
#[derive(Default)]
struct PartitionOut {
    writer: Option<ArrowWriter<File>>,
    path: PathBuf,
    name: String,
    rows: u64,
}

impl PartitionOut {
    /// Bytes written so far (0 with no file open).
    fn bytes(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.bytes_written() as u64)
    }

    /// Closes the open file, if any, into `staged`.
    fn finish(&mut self, partition: &str, staged: &mut Vec<StagedFile>) -> Result<()> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let out = writer.into_inner()?;
        out.sync_all().map_err(|e| Error::io(&self.path, e))?;
        let bytes = out.metadata().map_err(|e| Error::io(&self.path, e))?.len();
        staged.push(StagedFile {
            staged: std::mem::take(&mut self.path),
            relative: format!("{partition}/{}", self.name),
            rows: std::mem::take(&mut self.rows),
            bytes,
        });
        Ok(())
    }
}

/// Every key of a shard's key files: identity to the texts stored under it.
fn shard_keys(dir: &Path) -> Result<HashMap<u64, Vec<u64>>> {
    let mut out: HashMap<u64, Vec<u64>> = HashMap::new();
    for_each_key(dir, |key| {
        let texts = out.entry(key.identity).or_default();
        if !texts.contains(&key.content) {
            texts.push(key.content);
        }
    })?;
    Ok(out)
}

/// Which rows of `batch` to keep: those whose event the target has not seen.
fn keep_rows(
    batch: &RecordBatch,
    contents: &HashMap<u64, Vec<u64>>,
    seen: &DayKeys,
    keys: &mut Vec<EventKey>,
    summary: &mut MergeSummary,
) -> Result<BooleanArray> {
    let text = |name: &str| -> Result<arrow::array::ArrayRef> {
        let column = batch
            .column_by_name(name)
            .ok_or_else(|| Error::Config(format!("a shard's data file has no column {name}")))?;
        Ok(arrow::compute::cast(
            column,
            &arrow::datatypes::DataType::Utf8,
        )?)
    };
    let (ids, recipients, sources) = (
        text("event_id")?,
        text("recipient_account_id")?,
        text("source_file")?,
    );
    let (ids, recipients, sources) = (
        ids.as_string::<i32>(),
        recipients.as_string::<i32>(),
        sources.as_string::<i32>(),
    );
    let indexes = batch
        .column_by_name("record_index")
        .ok_or_else(|| Error::Config("a shard's data file has no column record_index".into()))?;
    let indexes = arrow::compute::cast(indexes, &arrow::datatypes::DataType::Int32)?;
    let indexes = indexes.as_primitive::<Int32Type>();
    let mut keep = Vec::with_capacity(batch.num_rows());
    fn value(a: &arrow::array::StringArray, row: usize) -> Option<&str> {
        a.is_valid(row).then(|| a.value(row))
    }
    for row in 0..batch.num_rows() {
        let identity = EventKey::new(
            value(ids, row),
            value(recipients, row),
            value(sources, row).unwrap_or(""),
            u64::try_from(indexes.value(row)).unwrap_or(0),
            0,
        )
        .identity;
        let texts = contents.get(&identity).map(Vec::as_slice).unwrap_or(&[]);
        let kept = match texts {
            [content] => {
                let key = EventKey {
                    identity,
                    content: *content,
                };
                match seen.insert(key)? {
                    Seen::Duplicate => false,
                    Seen::New | Seen::ConflictingId => {
                        keys.push(key);
                        true
                    }
                }
            }
            // Several texts (or, from a damaged shard, none) for this identity: the row
            // is kept, and every text of it is recorded.
            _ => {
                summary.rows_conflicting += 1;
                for content in texts {
                    let key = EventKey {
                        identity,
                        content: *content,
                    };
                    if seen.insert(key)? != Seen::Duplicate {
                        keys.push(key);
                    }
                }
                true
            }
        };
        if !kept {
            summary.rows_duplicate += 1;
        }
        keep.push(kept);
    }
    Ok(BooleanArray::from(keep))
}
