//! The data files of one checkpoint, shared by its workers: one open file per partition.
//!
//! Each worker encodes its own row groups (the ingest sink's `PartitionSink`), and hands each
//! finished one here, where it is appended to its partition's file under that file's lock:
//! a copy of encoded pages, not an encoding. So a checkpoint writes one file per partition
//! (more only past the target size) whatever its thread count. Before, each worker wrote
//! its own file per partition, and a run with 5 or more threads then compacted all it had
//! written (benches/RESULTS.md, session 13).

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::fsutil::{create_private_dir, create_private_file};
use crate::schema::{NULL_PARTITION, PARTITION_COLUMN, arrow_schema};
use crate::time::date_string;

/// Files open at once, all partitions together: past it, the least recently used closes
/// (a later row group of its partition starts another file), so a checkpoint spanning
/// years of days does not run out of file descriptors.
const MAX_OPEN_FILES: usize = 128;

/// A finished data file in the staging area.
#[derive(Debug, Clone)]
pub struct StagedFile {
    /// Where it is now.
    pub staged: PathBuf,
    /// Where it goes, relative to the dataset root (`event_date=.../part-....parquet`).
    pub relative: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
}

/// A partition's file being written.
struct OpenFile {
    writer: SerializedFileWriter<File>,
    staged: PathBuf,
    relative: String,
    rows: u64,
}

/// A partition's slot: its open file, if any, and when it was last appended to.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    last_used: AtomicU64,
}

#[derive(Default)]
struct SlotState {
    file: Option<OpenFile>,
    /// Closed for being least recently used and gone from the map: an append that took
    /// the slot before takes the partition's new one instead.
    retired: bool,
}

/// The files of one checkpoint. See the module docs.
pub(crate) struct PartitionFiles {
    staging: PathBuf,
    prefix: String,
    properties: WriterProperties,
    target_file_bytes: usize,
    factory: ArrowRowGroupWriterFactory,
    /// [`MAX_OPEN_FILES`] (a field for the tests).
    max_open: usize,
    slots: Mutex<HashMap<Option<i32>, Arc<Slot>>>,
    clock: AtomicU64,
    sequence: AtomicU32,
    staged: Mutex<Vec<StagedFile>>,
}

impl PartitionFiles {
    /// Files in `staging` named `{prefix}-{n}.parquet`, closed past `target_file_bytes`.
    pub(crate) fn new(
        staging: PathBuf,
        prefix: String,
        properties: WriterProperties,
        target_file_bytes: usize,
    ) -> Result<Self> {
        // The column writers depend only on the schema and properties: they come from a
        // writer that is never written to.
        let (template, factory) =
            ArrowWriter::try_new(Vec::new(), arrow_schema(), Some(properties.clone()))?
                .into_serialized_writer()?;
        drop(template);
        Ok(PartitionFiles {
            staging,
            prefix,
            properties,
            target_file_bytes,
            factory,
            max_open: MAX_OPEN_FILES,
            slots: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
            sequence: AtomicU32::new(0),
            staged: Mutex::new(Vec::new()),
        })
    }

    /// Column writers for a new row group.
    pub(crate) fn column_writers(&self) -> Result<Vec<ArrowColumnWriter>> {
        Ok(self.factory.create_column_writers(0)?)
    }

    /// Appends a finished row group (`rows` rows) to the file of partition `day`.
    pub(crate) fn append(
        &self,
        day: Option<i32>,
        chunks: Vec<ArrowColumnChunk>,
        rows: u64,
    ) -> Result<()> {
        let open = loop {
            let (slot, open) = {
                let mut slots = self.slots.lock().expect("no panics under the lock");
                let slot = slots.entry(day).or_default().clone();
                (slot, slots.len())
            };
            slot.last_used.store(
                self.clock.fetch_add(1, Ordering::Relaxed),
                Ordering::Relaxed,
            );
            let mut state = slot.state.lock().expect("no panics under the lock");
            if state.retired {
                continue;
            }
            let file = &mut state.file;
            if file.is_none() {
                *file = Some(self.create(day)?);
            }
            let open_file = file.as_mut().expect("created above");
            let mut row_group = open_file.writer.next_row_group()?;
            for chunk in chunks {
                chunk.append_to_row_group(&mut row_group)?;
            }
            row_group.close()?;
            open_file.rows += rows;
            if open_file.writer.bytes_written() >= self.target_file_bytes {
                let done = file.take().expect("present");
                self.close(done)?;
            }
            break open;
        };
        if open > self.max_open {
            self.close_least_recent(day)?;
        }
        Ok(())
    }

    /// Closes every file, once the workers are done; returns all the checkpoint's files.
    pub(crate) fn finish(&self) -> Result<Vec<StagedFile>> {
        let slots = std::mem::take(&mut *self.slots.lock().expect("no panics under the lock"));
        let open: Vec<OpenFile> = slots
            .values()
            .filter_map(|slot| {
                let mut state = slot.state.lock().expect("no panics under the lock");
                state.file.take()
            })
            .collect();
        // Footers and fsyncs in parallel (in the caller's thread pool): a checkpoint can
        // span hundreds of days.
        open.into_par_iter().try_for_each(|file| self.close(file))?;
        Ok(std::mem::take(
            &mut *self.staged.lock().expect("no panics under the lock"),
        ))
    }

    fn create(&self, day: Option<i32>) -> Result<OpenFile> {
        let partition = day.map_or_else(|| NULL_PARTITION.to_string(), date_string);
        let dir_name = format!("{PARTITION_COLUMN}={partition}");
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let file_name = format!("{}-{sequence:05}.parquet", self.prefix);
        let dir = self.staging.join(&dir_name);
        create_private_dir(&dir)?;
        let staged = dir.join(&file_name);
        let file = create_private_file(&staged)?;
        let (writer, _) =
            ArrowWriter::try_new(file, arrow_schema(), Some(self.properties.clone()))?
                .into_serialized_writer()?;
        Ok(OpenFile {
            writer,
            staged,
            relative: format!("{dir_name}/{file_name}"),
            rows: 0,
        })
    }

    /// Finishes a file and makes it durable.
    fn close(&self, open: OpenFile) -> Result<()> {
        let file = open.writer.into_inner()?;
        file.sync_all().map_err(|e| Error::io(&open.staged, e))?;
        let bytes = file
            .metadata()
            .map_err(|e| Error::io(&open.staged, e))?
            .len();
        self.staged
            .lock()
            .expect("no panics under the lock")
            .push(StagedFile {
                staged: open.staged,
                relative: open.relative,
                rows: open.rows,
                bytes,
            });
        Ok(())
    }

    /// Closes the least recently used open file other than `day`'s, unless another
    /// thread is appending to it (then a later append closes one).
    fn close_least_recent(&self, day: Option<i32>) -> Result<()> {
        let closed = {
            let mut slots = self.slots.lock().expect("no panics under the lock");
            let Some((candidate, slot)) = slots
                .iter()
                .filter(|(d, _)| **d != day)
                .min_by_key(|(_, slot)| slot.last_used.load(Ordering::Relaxed))
                .map(|(d, slot)| (*d, slot.clone()))
            else {
                return Ok(());
            };
            let Ok(mut state) = slot.state.try_lock() else {
                return Ok(());
            };
            state.retired = true;
            slots.remove(&candidate);
            state.file.take()
        };
        match closed {
            Some(open) => self.close(open),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray, new_null_array};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::arrow_writer::compute_leaves;

    /// A row group of `rows` rows (nulls but for the two required columns).
    fn row_group(files: &PartitionFiles, rows: usize) -> Vec<ArrowColumnChunk> {
        let schema = arrow_schema();
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .map(|field| match field.name().as_str() {
                "source_file" => Arc::new(StringArray::from(vec!["f"; rows])) as ArrayRef,
                "record_index" => Arc::new(Int32Array::from(vec![0; rows])) as ArrayRef,
                _ => new_null_array(field.data_type(), rows),
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let mut writers = files.column_writers().unwrap().into_iter();
        let mut used = Vec::new();
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            for leaf in compute_leaves(field, column).unwrap() {
                let mut writer = writers.next().unwrap();
                writer.write(&leaf).unwrap();
                used.push(writer);
            }
        }
        used.into_iter().map(|w| w.close().unwrap()).collect()
    }

    /// The rows of the Parquet file at `path`, read back.
    fn rows_in(path: &std::path::Path) -> u64 {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        reader.map(|b| b.unwrap().num_rows() as u64).sum()
    }

    #[test]
    fn row_groups_of_a_partition_share_a_file_and_the_least_recent_closes_past_the_cap() {
        let tmp = tempfile::tempdir().unwrap();
        let properties = WriterProperties::default();
        let mut files =
            PartitionFiles::new(tmp.path().into(), "part-t".into(), properties, 1 << 30).unwrap();
        files.max_open = 2;
        // Two row groups of day 1 from two workers: one file.
        for (day, rows) in [(1, 10), (1, 20), (2, 5), (3, 7), (1, 3)] {
            let chunks = row_group(&files, rows);
            files.append(Some(day), chunks, rows as u64).unwrap();
        }
        let mut staged = files.finish().unwrap();
        staged.sort_by(|a, b| a.relative.cmp(&b.relative));
        let summary: Vec<(String, u64)> = staged
            .iter()
            .map(|f| (f.relative.rsplit_once('/').unwrap().0.to_string(), f.rows))
            .collect();
        // Day 3's append closed day 1's file (the least recent), day 1's next row group
        // started another, which closed day 2's.
        assert_eq!(
            summary,
            [
                ("event_date=1970-01-02".to_string(), 30),
                ("event_date=1970-01-02".to_string(), 3),
                ("event_date=1970-01-03".to_string(), 5),
                ("event_date=1970-01-04".to_string(), 7),
            ]
        );
        for file in &staged {
            assert_eq!(rows_in(&file.staged), file.rows, "{}", file.relative);
        }
        assert!(files.finish().unwrap().is_empty());
    }

    #[test]
    fn workers_appending_to_many_partitions_at_once_lose_no_row_group() {
        let tmp = tempfile::tempdir().unwrap();
        let mut files = PartitionFiles::new(
            tmp.path().into(),
            "part-t".into(),
            WriterProperties::default(),
            1 << 30,
        )
        .unwrap();
        // Few open files for many days: files close (and slots retire) while other
        // threads append.
        files.max_open = 3;
        let files = &files;
        let day_of = |worker: i32, round: i32| (worker * 7 + round) % 10;
        std::thread::scope(|scope| {
            for worker in 0..8 {
                scope.spawn(move || {
                    for round in 0..12 {
                        let day = day_of(worker, round);
                        let chunks = row_group(files, 1 + day as usize);
                        files.append(Some(day), chunks, 1 + day as u64).unwrap();
                    }
                });
            }
        });
        let mut rows_by_day = [0u64; 10];
        for file in files.finish().unwrap() {
            assert_eq!(rows_in(&file.staged), file.rows, "{}", file.relative);
            let day = (0..10)
                .find(|d| {
                    file.relative
                        .starts_with(&format!("event_date=1970-01-{:02}/", d + 1))
                })
                .unwrap();
            rows_by_day[day] += file.rows;
        }
        let mut expected = [0u64; 10];
        for worker in 0..8 {
            for round in 0..12 {
                let day = day_of(worker, round);
                expected[day as usize] += 1 + day as u64;
            }
        }
        assert_eq!(rows_by_day, expected);
    }
}
