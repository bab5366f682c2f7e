//! Writing query results: a table for people, CSV / JSON / JSON Lines / Parquet for
//! programs. Only a table on a terminal is ever cut to fit; files and pipes get every
//! byte.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use futures_util::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::table::{self, Fit};

/// An output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A text table, cut to fit on a terminal.
    Table,
    /// CSV with a header line.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object a line.
    Jsonl,
    /// A Parquet file (needs --output).
    Parquet,
}

/// Where and how results go; validated (Parquet never goes to a terminal).
#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub format: Format,
    pub path: Option<PathBuf>,
    /// For tables: cut cells to fit, `None` in files and pipes.
    pub fit: Option<Fit>,
    /// For tables: the most rows shown (0: all); the rest are counted, not held.
    pub max_rows: usize,
}

impl OutputConfig {
    /// Validates `--format`, `--output` and `--max-cell` (0 = no limit).
    pub fn new(
        format: Format,
        path: Option<PathBuf>,
        max_cell: usize,
        max_rows: usize,
    ) -> anyhow::Result<Self> {
        let terminal = path.is_none() && std::io::stdout().is_terminal();
        if format == Format::Parquet && path.is_none() {
            bail!("--format parquet writes a file: give it with --output FILE");
        }
        let fit = (terminal && format == Format::Table).then(|| Fit {
            max_cell: (max_cell > 0).then_some(max_cell),
            total_width: table::terminal_width(),
        });
        Ok(OutputConfig {
            format,
            path,
            fit,
            max_rows,
        })
    }

    /// Writes rows a query already produced (a caller that also inspects them runs the
    /// query once); `schema` gives the header when there are none.
    pub async fn write_batches(
        &self,
        ctx: &SessionContext,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> anyhow::Result<u64> {
        let table = MemTable::try_new(schema, vec![batches])?;
        self.write_frame(ctx.read_table(Arc::new(table))?).await
    }

    /// Runs `frame` and writes its rows; returns how many there were.
    pub async fn write_frame(&self, frame: DataFrame) -> anyhow::Result<u64> {
        let closed = Arc::new(AtomicBool::new(false));
        let mut out = ClosedPipeAware {
            inner: self.open()?,
            closed: closed.clone(),
        };
        let stream = frame.execute_stream().await?;
        let written = match self.format {
            Format::Table => self.write_table(stream, &mut out).await,
            format => write_stream(format, stream, &mut out).await,
        };
        let written = written.and_then(|rows| Ok(out.flush().map(|()| rows)?));
        // Some writers (arrow's CSV) turn the io::Error into text: the flag still knows
        // that the reader went away, which is no error (`trailscope sql ... | head`).
        if written.is_err() && closed.load(Ordering::Relaxed) {
            return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe).into());
        }
        written
    }

    /// A table: the first `max_rows` rows rendered, the rest counted as they stream by.
    async fn write_table(
        &self,
        mut stream: SendableRecordBatchStream,
        out: &mut (dyn Write + Send),
    ) -> anyhow::Result<u64> {
        let schema = stream.schema();
        let limit = if self.max_rows == 0 {
            u64::MAX
        } else {
            self.max_rows as u64
        };
        let (mut kept, mut kept_rows, mut total) = (Vec::new(), 0u64, 0u64);
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            total += batch.num_rows() as u64;
            if kept_rows < limit {
                let take = (limit - kept_rows).min(batch.num_rows() as u64) as usize;
                kept_rows += take as u64;
                kept.push(batch.slice(0, take));
            }
        }
        out.write_all(table::render_first(&schema, &kept, self.fit, total)?.as_bytes())?;
        Ok(total)
    }

    fn open(&self) -> anyhow::Result<Box<dyn Write + Send>> {
        Ok(match &self.path {
            Some(path) => Box::new(BufWriter::new(
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            )),
            None => Box::new(BufWriter::new(std::io::stdout())),
        })
    }
}

/// Passes writes through, remembering whether one failed because the reader went away.
struct ClosedPipeAware<W> {
    inner: W,
    closed: Arc<AtomicBool>,
}

impl<W: Write> Write for ClosedPipeAware<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| self.note(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| self.note(e))
    }
}

impl<W> ClosedPipeAware<W> {
    fn note(&self, error: &std::io::Error) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            self.closed.store(true, Ordering::Relaxed);
        }
    }
}

/// Streams batches to `out` in a machine format, batch by batch (memory stays bounded).
async fn write_stream(
    format: Format,
    mut stream: SendableRecordBatchStream,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<u64> {
    let schema = stream.schema();
    let mut rows = 0u64;
    let mut sink: Box<dyn BatchSink + '_> = match format {
        Format::Csv => Box::new(CsvSink(
            arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out),
        )),
        Format::Json => Box::new(arrow::json::ArrayWriter::new(out)),
        Format::Jsonl => Box::new(arrow::json::LineDelimitedWriter::new(out)),
        Format::Parquet => {
            let properties = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .build();
            Box::new(ArrowWriter::try_new(out, schema, Some(properties))?)
        }
        Format::Table => unreachable!("tables are written by write_table"),
    };
    let mut batches = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        batches += 1;
        sink.write_batch(&batch)?;
    }
    if batches == 0 {
        // No rows still gets a CSV header (and a JSON `[]`).
        sink.write_batch(&RecordBatch::new_empty(stream.schema()))?;
    }
    sink.finish()?;
    Ok(rows)
}

/// The arrow writers behind one interface.
trait BatchSink {
    fn write_batch(&mut self, batch: &RecordBatch) -> anyhow::Result<()>;
    fn finish(self: Box<Self>) -> anyhow::Result<()>;
}

/// CSV has no lists or structs: such cells are written as their display text
/// (`[a, b]`, `{arn: x, ...}`), as the table shows them.
struct CsvSink<W: Write>(arrow::csv::Writer<W>);

impl<W: Write> BatchSink for CsvSink<W> {
    fn write_batch(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        if !batch
            .schema()
            .fields()
            .iter()
            .any(|f| f.data_type().is_nested())
        {
            return Ok(self.0.write(batch)?);
        }
        let options = FormatOptions::default();
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            if field.data_type().is_nested() {
                let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
                let text: StringArray = (0..column.len())
                    .map(|row| {
                        column
                            .is_valid(row)
                            .then(|| formatter.value(row).to_string())
                    })
                    .collect();
                fields.push(Field::new(field.name(), DataType::Utf8, true));
                columns.push(Arc::new(text));
            } else {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
            }
        }
        let flat = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
        Ok(self.0.write(&flat)?)
    }
    fn finish(self: Box<Self>) -> anyhow::Result<()> {
        Ok(())
    }
}

impl<W: Write, F: arrow::json::writer::JsonFormat> BatchSink for arrow::json::Writer<W, F> {
    fn write_batch(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        Ok(self.write(batch)?)
    }
    fn finish(mut self: Box<Self>) -> anyhow::Result<()> {
        Ok(arrow::json::Writer::finish(&mut *self)?)
    }
}

impl<W: Write + Send> BatchSink for ArrowWriter<W> {
    fn write_batch(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        Ok(self.write(batch)?)
    }
    fn finish(self: Box<Self>) -> anyhow::Result<()> {
        self.close()?;
        Ok(())
    }
}
