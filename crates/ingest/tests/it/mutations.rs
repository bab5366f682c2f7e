//! Seeded mutation fuzzing of the whole record path (gunzip, splitter, simd-json, mapper,
//! Parquet) on stable Rust: trail files of every shape, damaged the ways files get damaged (bytes
//! flipped, cut, repeated, JSON punctuation inserted, gzip streams truncated), must never
//! crash ingest, and every record must be accounted for.

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::*;

/// Small files of every shape: a generated trail's files (gunzipped, so that damage
/// reaches the JSON) and the project's input shapes.
fn seeds() -> Vec<Vec<u8>> {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    let mut stack = vec![small_trail(tmp.path(), 256 << 10), shapes(tmp.path())];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let mut bytes = std::fs::read(&path).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut plain)
                .unwrap();
            bytes = plain;
        }
        if bytes.len() < 64 * 1024 {
            out.push(bytes);
        }
    }
    assert!(out.len() >= 10, "{} seed files", out.len());
    out
}

const PUNCTUATION: &[u8] = b"{}[]\",:\\ \n0-.eE\x00\xff";

fn mutate(rng: &mut ChaCha8Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.random_range(1..=6) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..5) {
            0 => bytes[at] ^= 1 << rng.random_range(0..8),
            1 => {
                let end = (at + rng.random_range(1..64)).min(bytes.len());
                bytes.drain(at..end);
            }
            2 => {
                let end = (at + rng.random_range(1..256)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            3 => bytes.insert(at, PUNCTUATION[rng.random_range(0..PUNCTUATION.len())]),
            _ => bytes.truncate(at),
        }
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Rounds of 240 damaged files: 4 by default, more with `TRAILSCOPE_MUTATION_ROUNDS=N`
/// (a longer hunt on a developer's machine; each round has its own seed).
#[test]
fn damaged_files_never_crash_ingest_and_every_record_is_accounted_for() {
    let rounds: u64 = std::env::var("TRAILSCOPE_MUTATION_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    let seeds = seeds();
    for round in 0..rounds {
        damaged_round(&seeds, 20261128 + round);
    }
}

fn damaged_round(seeds: &[Vec<u8>], seed: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in 0..240 {
        let seed = seeds[rng.random_range(0..seeds.len())].clone();
        let damaged = mutate(&mut rng, seed);
        let (name, bytes) = match rng.random_range(0..3) {
            0 => (format!("{i:03}.json"), damaged),
            // A whole gzip stream of the damaged file.
            1 => (format!("{i:03}.json.gz"), gzip(&damaged)),
            // A good gzip stream, itself cut or flipped.
            _ => {
                let mut gz = gzip(&damaged);
                let at = rng.random_range(0..gz.len());
                if rng.random_bool(0.5) {
                    gz.truncate(at);
                } else {
                    gz[at] ^= 0x55;
                }
                (format!("{i:03}.json.gz"), gz)
            }
        };
        std::fs::write(input.join(name), bytes).unwrap();
    }
    let dataset = tmp.path().join("lake");
    // run_ingest asserts seen = written + duplicate + rejected.
    let summary = run_ingest(&[input], &dataset);
    assert_eq!(summary.files.found, 240);
    assert!(
        summary.records.written > 0,
        "some records survive their damage"
    );
    assert!(summary.issues_total > 0, "damage is reported");
    assert_eq!(exported(&dataset).len() as u64, summary.records.written);
}
