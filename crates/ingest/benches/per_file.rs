//! The per-file path, stage by stage, on the largest file of a generated trail:
//! gunzip, split into records, simd-json tape parse, map onto columns and build Arrow
//! batches, Parquet encode, and the whole `ingest` of that one file. `parse_whole` parses
//! the file as one document (after copying it in): the one-pass alternative to splitting
//! and parsing record by record.
//!
//! `cargo bench -p trailscope-ingest --bench per_file`. Throughput is in bytes of
//! uncompressed JSON for every stage, so the stages compare directly.

use std::io::Read;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::read::MultiGzDecoder;
use simd_json::{Buffers, Node, Tape};
use trailscope_ingest::bench::{BatchBuilder, PADDING, Piece, RecordMapper, RecordSplitter, Slot};
use trailscope_ingest::schema::Col;
use trailscope_ingest::{IngestOptions, MAX_DEPTH, Silent, WriterOptions};

struct Input {
    _dir: tempfile::TempDir,
    path: PathBuf,
    gz: Vec<u8>,
    json: Vec<u8>,
}

fn input() -> Input {
    let dir = tempfile::tempdir().unwrap();
    let mut options = trailscope_ingest::synth::SynthOptions::new(dir.path().join("trail"));
    options.size_bytes = 48 << 20;
    options.accounts = 1;
    options.regions = 1;
    options.days = 1;
    trailscope_ingest::synth::generate(&options).unwrap();
    let mut files: Vec<(u64, PathBuf)> = Vec::new();
    let mut stack = vec![options.out.join("AWSLogs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().contains("/CloudTrail/") {
                files.push((path.metadata().unwrap().len(), path));
            }
        }
    }
    files.sort();
    let path = files.pop().unwrap().1;
    let gz = std::fs::read(&path).unwrap();
    let mut json = Vec::new();
    MultiGzDecoder::new(&gz[..]).read_to_end(&mut json).unwrap();
    Input {
        _dir: dir,
        path,
        gz,
        json,
    }
}

/// Calls `each` with the parsed tape of every record of `json`.
fn for_each_tape(json: &[u8], mut each: impl FnMut(&[Node<'_>])) {
    let mut splitter = RecordSplitter::new(json, 32 << 20);
    let mut buffers = Buffers::with_max_depth(1 << 16, MAX_DEPTH);
    let mut cached: Option<Tape<'static>> = None;
    while let Some(piece) = splitter.next_piece().unwrap() {
        if let Piece::Record { start, len, .. } = piece {
            let bytes = &mut splitter.buffer_mut()[start..];
            debug_assert!(bytes.len() >= len + PADDING);
            let mut tape: Tape<'_> = cached.take().unwrap_or_else(Tape::null).reset();
            simd_json::fill_tape_padded(bytes, len, &mut buffers, &mut tape).unwrap();
            each(&tape.0);
            cached = Some(tape.reset());
        }
    }
}

fn batches(json: &[u8]) -> Vec<arrow::array::RecordBatch> {
    let mut mapper = RecordMapper::default();
    let mut builder = BatchBuilder::new();
    let mut out = Vec::new();
    for_each_tape(json, |nodes| {
        let mut row = mapper.map(nodes, &[], None);
        // Set by the worker from the file, not the record; never null.
        row.set(Col::SourceFile, Slot::Str("bench.json.gz"));
        row.set(Col::RecordIndex, Slot::Int(0));
        builder.append(&row, nodes);
        if builder.len() == 8192 {
            out.push(builder.finish().unwrap());
        }
    });
    if !builder.is_empty() {
        out.push(builder.finish().unwrap());
    }
    out
}

fn per_file(c: &mut Criterion) {
    let input = input();
    let mut group = c.benchmark_group("per_file");
    group.throughput(Throughput::Bytes(input.json.len() as u64));
    group.sample_size(20);
    group.bench_function("gunzip", |b| {
        let mut out = Vec::with_capacity(input.json.len());
        b.iter(|| {
            out.clear();
            MultiGzDecoder::new(&input.gz[..])
                .read_to_end(&mut out)
                .unwrap();
        })
    });
    group.bench_function("split", |b| {
        b.iter(|| {
            let mut splitter = RecordSplitter::new(&input.json[..], 32 << 20);
            let mut n = 0;
            while splitter.next_piece().unwrap().is_some() {
                n += 1;
            }
            n
        })
    });
    group.bench_function("parse_whole", |b| {
        let mut buffers = Buffers::with_max_depth(1 << 16, MAX_DEPTH);
        let mut cached: Option<Tape<'static>> = None;
        let mut bytes = input.json.clone();
        bytes.resize(input.json.len() + PADDING, 0);
        b.iter(|| {
            bytes[..input.json.len()].copy_from_slice(&input.json);
            let mut tape: Tape<'_> = cached.take().unwrap_or_else(Tape::null).reset();
            simd_json::fill_tape_padded(&mut bytes, input.json.len(), &mut buffers, &mut tape)
                .unwrap();
            let n = tape.0.len();
            cached = Some(tape.reset());
            n
        })
    });
    group.bench_function("split_parse", |b| {
        b.iter(|| {
            let mut nodes = 0;
            for_each_tape(&input.json, |tape| nodes += tape.len());
            nodes
        })
    });
    group.bench_function("split_parse_map_batch", |b| b.iter(|| batches(&input.json)));
    let prebuilt = batches(&input.json);
    let properties = WriterOptions::default().properties().unwrap();
    group.bench_function("parquet_encode", |b| {
        b.iter(|| {
            let mut writer = parquet::arrow::ArrowWriter::try_new(
                Vec::with_capacity(input.gz.len()),
                prebuilt[0].schema(),
                Some(properties.clone()),
            )
            .unwrap();
            for batch in &prebuilt {
                writer.write(batch).unwrap();
            }
            writer.into_inner().unwrap().len()
        })
    });
    group.bench_function("ingest_one_file", |b| {
        b.iter(|| {
            let out = tempfile::tempdir().unwrap();
            let mut options = IngestOptions::new(vec![input.path.clone()], out.path().join("ds"));
            options.threads = 1;
            trailscope_ingest::ingest(&options, &Silent).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, per_file);
criterion_main!(benches);
