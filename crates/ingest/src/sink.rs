//! A worker's Parquet encoding, one row group in progress per event date.
//!
//! Each worker thread owns one [`PartitionSink`]: rows go to the builder of their date's
//! partition, full builders are encoded as batches into the partition's row group, and a
//! finished row group is appended to the partition's file, which all workers of the
//! checkpoint share ([`PartitionFiles`]). Only a bounded number of partitions are open at
//! once per worker (least recently used finishes first), so memory does not grow with the
//! number of days in a trail.
//!
//! Each row carries metadata of the caller's (`M`) until its batch is built; a
//! [`BatchGate`] then says which rows of the batch are stored. The worker's dedupe is such
//! a gate: it decides a batch of a day's rows at once, with one lock per shard of the
//! day's keys, instead of one lock per record.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, compute_leaves};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use simd_json::Node;

use crate::batch::BatchBuilder;
use crate::error::{Error, Result};
use crate::partition_files::PartitionFiles;
use crate::record::Row;
use crate::schema::{COLUMNS, arrow_schema, json_text_columns};

/// Parquet compression of the data files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Zstandard at the given level (1 is fast and compact).
    Zstd(i32),
    /// Snappy.
    Snappy,
    /// LZ4 (raw).
    Lz4,
    /// No compression.
    Uncompressed,
}

impl std::str::FromStr for Codec {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "zstd" => Ok(Codec::Zstd(1)),
            "snappy" => Ok(Codec::Snappy),
            "lz4" => Ok(Codec::Lz4),
            "none" | "uncompressed" => Ok(Codec::Uncompressed),
            _ => match lower.strip_prefix("zstd:").map(str::parse::<i32>) {
                Some(Ok(level)) if (1..=22).contains(&level) => Ok(Codec::Zstd(level)),
                _ => Err(Error::Config(format!(
                    "unknown compression '{text}' (expected zstd, zstd:LEVEL (1-22), snappy, lz4 or none)"
                ))),
            },
        }
    }
}

/// How data files are laid out and encoded.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Parquet compression codec.
    pub codec: Codec,
    /// Rows per builder before a batch goes to the Parquet writer.
    pub batch_rows: usize,
    /// Rows per row group at most.
    pub row_group_rows: usize,
    /// A file is closed once it holds about this many bytes.
    pub target_file_bytes: usize,
    /// Partitions open at once per worker.
    pub max_open_partitions: usize,
    /// Memory a worker's Parquet encoders may hold in unfinished row groups, all open
    /// partitions together; past it, the largest row group is written out early. Without
    /// it a worker holds up to `max_open_partitions` full row groups, and peak memory grew
    /// with the trail (measured: 556 MiB at 1 GiB of JSON, 1079 MiB at 10 GiB). What the
    /// encoders really hold is about 1.6 times what they account for (heaptrack, 30 GiB
    /// trail: ~210 MB for 2 workers at 64 MiB each; zstd contexts, page
    /// buffers), so this is set lower than the memory it aims at.
    pub max_buffered_bytes: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            codec: Codec::Zstd(1),
            // Builders start each batch at the last one's capacity: 4,096 rows keep what
            // that holds per open partition at half of 8,192's (10 GiB trail, 2 threads:
            // peak RSS 618-643 MiB vs 695-706 MiB, time 26.4 s vs 26.0 s).
            batch_rows: 4096,
            row_group_rows: 128 * 1024,
            target_file_bytes: 256 << 20,
            max_open_partitions: 8,
            // 32 MiB, not 64: the same time and data size, 6 more row groups of 70 on the
            // 10 GiB trail, and a peak RSS 90-100 MiB lower at 2 threads (1 GiB: 370 -> 269
            // MiB; 10 GiB: 470 -> 383; 30 GiB: 679 -> 547; benches/RESULTS.md, session 14).
            max_buffered_bytes: 32 << 20,
        }
    }
}

impl WriterOptions {
    /// The Parquet writer properties for these options.
    pub fn properties(&self) -> Result<WriterProperties> {
        let compression = match self.codec {
            Codec::Zstd(level) => Compression::ZSTD(ZstdLevel::try_new(level)?),
            Codec::Snappy => Compression::SNAPPY,
            Codec::Lz4 => Compression::LZ4_RAW,
            Codec::Uncompressed => Compression::UNCOMPRESSED,
        };
        let mut builder = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(self.row_group_rows))
            .set_created_by(format!("trailscope {}", env!("CARGO_PKG_VERSION")));
        // Parquet creates a zstd compressor and decompressor for every compressed column of
        // every open writer (about 45 MiB per worker at 8 open partitions: it was the
        // largest item of a worker's heap). The low-cardinality columns are dictionary indexes that
        // zstd shrinks little (measured on the 10 GiB trail: 1.0x to 1.9x, together under
        // 2% of the data): they are stored uncompressed, and only long or unique values
        // (JSON text, ids, times, file names, messages, resources) are compressed.
        let compressed: Vec<&str> = json_text_columns()
            .into_iter()
            .map(|c| COLUMNS[c as usize].0)
            .chain(COMPRESSED_COLUMNS.iter().copied())
            .collect();
        for (name, _, _) in COLUMNS {
            if !compressed.contains(name) {
                builder = builder
                    .set_column_compression(ColumnPath::from(*name), Compression::UNCOMPRESSED);
            }
        }
        // JSON text has no useful order: minimum and maximum prune nothing, and computing
        // them compared every value (measured: ~2.5% of a 1-thread ingest in memcmp).
        for column in json_text_columns() {
            let name = COLUMNS[column as usize].0;
            builder = builder
                .set_column_statistics_enabled(ColumnPath::from(name), EnabledStatistics::None);
        }
        // Unique or nearly unique columns gain nothing from a dictionary but its cost.
        // `additionalEventData` of S3 data events carries the request's `x-amz-id-2`: on
        // the generated 1 GiB trail, 32,851 values of one file were 32,851 distinct.
        for column in [
            "record_index",
            "event_time",
            "event_id",
            "request_id",
            "request_parameters",
            "response_elements",
            "additional_event_data",
        ] {
            builder = builder.set_column_dictionary_enabled(ColumnPath::from(column), false);
        }
        Ok(builder.build())
    }
}

/// The columns besides the JSON text ones that are compressed: long or nearly unique
/// values. (`resources` is a list: its leaf columns keep the default codec.)
const COMPRESSED_COLUMNS: &[&str] = &[
    "event_id",
    "request_id",
    "shared_event_id",
    "event_time",
    "record_index",
    "source_file",
    "error_message",
];

/// A row group being encoded: one writer per leaf column.
struct RowGroup {
    writers: Vec<ArrowColumnWriter>,
    rows: u64,
}

impl RowGroup {
    fn memory_size(&self) -> usize {
        self.writers
            .iter()
            .map(ArrowColumnWriter::memory_size)
            .sum()
    }
}

struct Partition<M> {
    builder: BatchBuilder,
    /// The metadata of the builder's rows, in order.
    pending: Vec<M>,
    row_group: Option<RowGroup>,
    last_used: u64,
}

/// Says which rows of a batch are stored, when a partition's pending rows are written.
pub(crate) trait BatchGate<M> {
    /// The rows of `batch` (of partition `day`, `rows` their metadata in order) to
    /// store; `None` stores them all.
    fn admit(
        &mut self,
        day: Option<i32>,
        rows: &[M],
        batch: &RecordBatch,
    ) -> Result<Option<BooleanArray>>;
}

/// A worker's encoders, one per open partition. See the module docs.
pub struct PartitionSink<M> {
    files: Arc<PartitionFiles>,
    options: Arc<WriterOptions>,
    partitions: HashMap<Option<i32>, Partition<M>>,
    clock: u64,
}

impl<M> PartitionSink<M> {
    /// A sink appending its row groups to `files`.
    pub(crate) fn new(files: Arc<PartitionFiles>, options: Arc<WriterOptions>) -> Self {
        PartitionSink {
            files,
            options,
            partitions: HashMap::new(),
            clock: 0,
        }
    }

    /// Appends a row and its metadata to the partition of `day` (days since 1970-01-01;
    /// `None` for no time); `gate` decides its batch's rows when the batch is full.
    pub(crate) fn append(
        &mut self,
        day: Option<i32>,
        row: &Row<'_>,
        nodes: &[Node<'_>],
        meta: M,
        gate: &mut impl BatchGate<M>,
    ) -> Result<()> {
        self.clock += 1;
        if !self.partitions.contains_key(&day) {
            if self.partitions.len() >= self.options.max_open_partitions {
                self.close_least_recent(gate)?;
            }
            self.partitions.insert(
                day,
                Partition {
                    builder: BatchBuilder::new(),
                    pending: Vec::new(),
                    row_group: None,
                    last_used: 0,
                },
            );
        }
        let partition = self.partitions.get_mut(&day).expect("inserted above");
        partition.last_used = self.clock;
        partition.builder.append(row, nodes);
        partition.pending.push(meta);
        if partition.builder.len() >= self.options.batch_rows {
            self.flush_partition(day, gate)?;
        }
        Ok(())
    }

    /// Encodes the pending rows of a partition that `gate` admits into its row group,
    /// appending the row group to the partition's file once it is full.
    fn flush_partition(&mut self, day: Option<i32>, gate: &mut impl BatchGate<M>) -> Result<()> {
        let Some(partition) = self.partitions.get_mut(&day) else {
            return Ok(());
        };
        if partition.builder.is_empty() {
            return Ok(());
        }
        let batch = partition.builder.finish()?;
        let admitted = gate.admit(day, &partition.pending, &batch)?;
        partition.pending.clear();
        let batch = match admitted {
            Some(mask) => filter_record_batch(&batch, &mask)?,
            None => batch,
        };
        // A batch of duplicates only: nothing to encode.
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if partition.row_group.is_none() {
            partition.row_group = Some(RowGroup {
                writers: self.files.column_writers()?,
                rows: 0,
            });
        }
        let row_group = partition.row_group.as_mut().expect("created above");
        let schema = arrow_schema();
        let mut writers = row_group.writers.iter_mut();
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            for leaf in compute_leaves(field, column)? {
                writers
                    .next()
                    .expect("one writer per leaf column")
                    .write(&leaf)?;
            }
        }
        row_group.rows += batch.num_rows() as u64;
        if row_group.rows >= self.options.row_group_rows as u64 {
            self.finish_row_group(day)?;
        }
        self.bound_buffered_memory()
    }

    /// Appends the partition's row group in progress, if any, to its file.
    fn finish_row_group(&mut self, day: Option<i32>) -> Result<()> {
        let Some(row_group) = self
            .partitions
            .get_mut(&day)
            .and_then(|partition| partition.row_group.take())
        else {
            return Ok(());
        };
        let chunks = row_group
            .writers
            .into_iter()
            .map(ArrowColumnWriter::close)
            .collect::<parquet::errors::Result<Vec<_>>>()?;
        self.files.append(day, chunks, row_group.rows)
    }

    /// Finishes the largest row group in progress while they together hold more than
    /// `max_buffered_bytes`.
    fn bound_buffered_memory(&mut self) -> Result<()> {
        loop {
            let mut total = 0;
            let mut largest: Option<(usize, Option<i32>)> = None;
            for (day, partition) in &self.partitions {
                if let Some(row_group) = &partition.row_group {
                    let size = row_group.memory_size();
                    total += size;
                    if largest.is_none_or(|(s, _)| size > s) {
                        largest = Some((size, *day));
                    }
                }
            }
            match largest {
                Some((size, day)) if total > self.options.max_buffered_bytes && size > 0 => {
                    self.finish_row_group(day)?;
                }
                _ => return Ok(()),
            }
        }
    }

    fn close_least_recent(&mut self, gate: &mut impl BatchGate<M>) -> Result<()> {
        let Some(day) = self
            .partitions
            .iter()
            .min_by_key(|(_, p)| p.last_used)
            .map(|(day, _)| *day)
        else {
            return Ok(());
        };
        self.flush_partition(day, gate)?;
        self.finish_row_group(day)?;
        self.partitions.remove(&day);
        Ok(())
    }

    /// Encodes everything pending that `gate` admits and appends every row group in
    /// progress to its file (the files stay open for the other workers).
    pub(crate) fn finish(mut self, gate: &mut impl BatchGate<M>) -> Result<()> {
        let days: Vec<_> = self.partitions.keys().copied().collect();
        for day in days {
            self.flush_partition(day, gate)?;
            self.finish_row_group(day)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codecs() {
        assert_eq!("zstd".parse::<Codec>().unwrap(), Codec::Zstd(1));
        assert_eq!("ZSTD:9".parse::<Codec>().unwrap(), Codec::Zstd(9));
        assert_eq!("snappy".parse::<Codec>().unwrap(), Codec::Snappy);
        assert!("zstd:99".parse::<Codec>().is_err());
        assert!("gzip".parse::<Codec>().is_err());
    }

    #[test]
    fn json_text_has_no_statistics_and_the_pruned_columns_keep_theirs() {
        let properties = WriterOptions::default().properties().unwrap();
        let stats = |name: &str| properties.statistics_enabled(&ColumnPath::from(name));
        for name in ["request_parameters", "response_elements", "unmapped"] {
            assert_eq!(stats(name), EnabledStatistics::None, "{name}");
        }
        for name in [
            "event_time",
            "event_name",
            "user_identity_arn",
            "error_code",
        ] {
            assert_eq!(stats(name), EnabledStatistics::Page, "{name}");
        }
    }

    #[test]
    fn only_long_or_unique_columns_are_compressed() {
        let properties = WriterOptions::default().properties().unwrap();
        let codec = |path: ColumnPath| properties.compression(&path);
        let zstd = Compression::ZSTD(ZstdLevel::try_new(1).unwrap());
        for name in ["request_parameters", "unmapped", "event_id", "event_time"] {
            assert_eq!(codec(ColumnPath::from(name)), zstd, "{name}");
        }
        let arn = ColumnPath::from(vec![
            "resources".into(),
            "list".into(),
            "item".into(),
            "arn".into(),
        ]);
        assert_eq!(codec(arn), zstd);
        for name in ["event_name", "aws_region", "user_identity_arn", "read_only"] {
            assert_eq!(
                codec(ColumnPath::from(name)),
                Compression::UNCOMPRESSED,
                "{name}"
            );
        }
    }
}
