//! The bad-input corpus: each case gets a clear issue naming the file (and record), the
//! run goes on, and every record is accounted for.

use std::path::PathBuf;

use trailscope_ingest::{IngestSummary, InputIssue};

use crate::common::*;

fn issues_of<'a>(summary: &'a IngestSummary, file: &str) -> Vec<&'a InputIssue> {
    summary
        .issues
        .iter()
        .filter(|i| i.file.ends_with(file))
        .collect()
}

fn has_issue(summary: &IngestSummary, file: &str, record: Option<u64>, text: &str) {
    let issues = issues_of(summary, file);
    assert!(
        issues
            .iter()
            .any(|i| i.record == record && i.message.contains(text)),
        "expected an issue for {file} record {record:?} containing {text:?}, got {issues:#?}"
    );
}

fn written_from(dataset: &std::path::Path, file: &str) -> Vec<i64> {
    exported(dataset)
        .keys()
        .filter(|(source, _)| source.ends_with(file))
        .map(|(_, index)| *index)
        .collect()
}

#[test]
fn the_bad_input_corpus_is_reported_and_the_rest_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dataset = tmp.path().join("lake");
    // A file that cannot be opened, inside a directory being walked.
    let extra = tmp.path().join("extra");
    std::fs::create_dir(&extra).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("gone"), extra.join("unreadable.json.gz")).unwrap();
    let corpus = bad_corpus(tmp.path());
    let summary = run_ingest(&[corpus.clone(), extra], &dataset);

    has_issue(
        &summary,
        "truncated.json.gz",
        None,
        "records before this point were kept",
    );
    has_issue(&summary, "corrupt-record.json", Some(1), "invalid JSON");
    has_issue(
        &summary,
        "not-cloudtrail.json",
        Some(0),
        "not a CloudTrail record",
    );
    has_issue(&summary, "empty.json.gz", None, "empty file");
    has_issue(&summary, "non-utf8.json", Some(1), "invalid JSON");
    has_issue(&summary, "gzip-bomb.json.gz", None, "gzip bomb");
    has_issue(&summary, "deep-nesting.json", Some(1), "invalid JSON");
    has_issue(
        &summary,
        "corrupt-lines.jsonl",
        Some(1),
        "corrupt JSON line",
    );
    has_issue(
        &summary,
        "corrupt-lines.jsonl",
        Some(3),
        "not a JSON object",
    );
    for index in 0..3 {
        has_issue(
            &summary,
            "wrong-shape.json",
            Some(index),
            "not a JSON object",
        );
    }
    has_issue(&summary, "binary.json", None, "not JSON");
    has_issue(&summary, "unreadable.json.gz", None, "cannot read");

    assert_eq!(summary.files.read, 11);
    assert_eq!(
        summary.files.failed, 5,
        "truncated, empty, bomb, binary, unreadable"
    );
    // Rejected: corrupt-record 1, not-cloudtrail 0, non-utf8 1, deep-nesting 1,
    // corrupt-lines 1 and 3, wrong-shape 0-2.
    assert_eq!(summary.records.rejected, 9);
    assert_eq!(summary.issues_total, 9 + 5);
    assert_eq!(
        summary.records.seen,
        9 + summary.records.written + summary.records.duplicate
    );
    assert!(!summary.is_clean());

    // The good records around the bad ones are stored (or dropped as duplicates of the
    // same events in another file of the corpus): none is lost.
    let truncated = read_items_before_cut(&corpus);
    assert!(
        truncated >= 3,
        "the cut leaves {truncated} complete records"
    );
    // The count names exactly the complete records (not the one the cut broke).
    has_issue(
        &summary,
        "truncated.json.gz",
        None,
        &format!("the {truncated} records before this point were kept"),
    );
    assert_eq!(
        summary.records.written + summary.records.duplicate,
        truncated + 2 + 1 + 2 + 2 + 1
    );
    assert_eq!(
        written_from(&dataset, "wrong-shape.json").len()
            + written_from(&dataset, "corrupt-lines.jsonl").len()
            + written_from(&dataset, "corrupt-record.json").len()
            + written_from(&dataset, "deep-nesting.json").len()
            + written_from(&dataset, "non-utf8.json").len()
            + written_from(&dataset, "truncated.json.gz").len(),
        summary.records.written as usize
    );
}

/// How many complete records the truncated gzip still holds, read without our code.
fn read_items_before_cut(corpus: &std::path::Path) -> u64 {
    use std::io::Read;
    let bytes = std::fs::read(corpus.join("truncated.json.gz")).unwrap();
    let mut text = Vec::new();
    let _ = flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut text);
    let text = String::from_utf8_lossy(&text);
    count_rest(text.trim_start_matches("{\"Records\": ["))
}

/// Counts the complete values of `a, b, c, ...` up to the first incomplete one.
fn count_rest(text: &str) -> u64 {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    match stream.next() {
        Some(Ok(_)) => {
            let rest = &text[stream.byte_offset()..];
            1 + rest.strip_prefix(", ").map_or(0, count_rest)
        }
        _ => 0,
    }
}

#[test]
fn documentation_blocks_that_are_not_records_are_rejected() {
    // INDEX.json says which blocks are not records: the .txt ones (invalid JSON as
    // published) and the fragments; INDEX.json itself is not CloudTrail either.
    let Some(shared) = shared_samples() else {
        return;
    };
    let docs = shared.join("aws-docs");
    let mut inputs: Vec<PathBuf> = Vec::new();
    for guide in ["cloudtrail-user-guide", "iam-user-guide"] {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(docs.join(guide).join("INDEX.json")).unwrap())
                .unwrap();
        inputs.push(docs.join(guide).join("INDEX.json"));
        for block in index.as_array().unwrap() {
            let kind = block.get("kind").and_then(|k| k.as_str());
            let wrapped_other = kind == Some("other") && block["wrap"] == "wrapped";
            if kind.is_none() || kind == Some("userIdentity-fragment") || wrapped_other {
                inputs.push(docs.join(guide).join(block["file"].as_str().unwrap()));
            }
        }
    }
    assert_eq!(inputs.len(), 2 + 8 + 5 + 1, "{inputs:#?}");
    let tmp = tempfile::tempdir().unwrap();
    let dataset = tmp.path().join("lake");
    let summary = run_ingest(&inputs, &dataset);
    // `event-reference__block01` is one valid record followed by
    // `, ... additional entries ...`: the record is kept, like any record next to a corrupt
    // one, and the rest reported by record. `log-file-examples__block06` is one record with
    // a raw newline inside a string: rejected. Nothing else here is a record.
    let salvaged = ["cloudtrail-event-reference__block01.txt"];
    let stored = exported(&dataset);
    assert_eq!(stored.len() as u64, summary.records.written);
    assert_eq!(
        stored.keys().next().map(|(s, i)| (s.as_str(), *i)),
        Some((salvaged[0], 0))
    );
    assert!(
        issues_of(&summary, salvaged[0])
            .iter()
            .all(|i| i.record.is_some())
    );
    has_issue(
        &summary,
        "cloudtrail-log-file-examples__block06.txt",
        Some(0),
        "invalid JSON",
    );
    assert!(stored.keys().all(|(s, _)| salvaged.contains(&s.as_str())));
    for input in &inputs {
        let name = input.file_name().unwrap().to_string_lossy();
        assert!(
            !issues_of(&summary, &name).is_empty(),
            "{name} was not reported"
        );
    }
}

#[test]
fn a_fifo_is_reported_and_never_read() {
    let tmp = tempfile::tempdir().unwrap();
    let trail = tmp.path().join("trail");
    std::fs::create_dir(&trail).unwrap();
    let shapes = shapes(tmp.path());
    std::fs::copy(shapes.join("records.jsonl"), trail.join("good.jsonl")).unwrap();
    let fifo = trail.join("stuck.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let dataset = tmp.path().join("lake");
    // Opened, the FIFO would block forever: the run must end by itself.
    let (done, finished) = std::sync::mpsc::channel();
    let inputs = vec![trail.clone(), fifo.clone()];
    std::thread::spawn(move || done.send(run_ingest(&inputs, &dataset)).unwrap());
    let summary = finished
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("ingest ended");
    has_issue(&summary, "stuck.json", None, "not a regular file");
    assert_eq!(summary.records.written, 6, "the good file's records");
    assert_eq!(
        summary.files.failed, 2,
        "the FIFO in the tree and named alone"
    );
}

#[test]
fn the_record_size_limit_holds_for_gzip_input_as_for_plain() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let trail = tmp.path().join("trail");
    std::fs::create_dir(&trail).unwrap();
    let mut records = trailscope_ingest::synth::fixtures::records();
    records[1]["requestParameters"]["blob"] = serde_json::Value::String("x".repeat(3 << 20));
    let text = serde_json::json!({ "Records": records }).to_string();
    std::fs::write(trail.join("plain.json"), &text).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    std::fs::write(trail.join("packed.json.gz"), gz.finish().unwrap()).unwrap();

    let mut options = trailscope_ingest::IngestOptions::new(vec![trail], tmp.path().join("lake"));
    options.max_record_bytes = 1 << 20;
    let summary = trailscope_ingest::ingest(&options, &trailscope_ingest::Silent).unwrap();
    for file in ["plain.json", "packed.json.gz"] {
        has_issue(&summary, file, Some(1), "over the 1048576-byte limit");
    }
    assert_eq!(summary.records.rejected, 2);
    // The other five records of each file are kept (the second copy as duplicates).
    assert_eq!(summary.records.written + summary.records.duplicate, 10);
}

/// `{"Records":[...]}` of six records, gzipped: the fixture records, or (`small`) six
/// minimal ones, a few hundred bytes in all.
fn gzipped_records(small: bool) -> Vec<u8> {
    use std::io::Write;
    let records: Vec<String> = if small {
        (0..6)
            .map(|i| {
                format!(
                    r#"{{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventID":"small-{i}","eventTime":"2026-03-02T10:0{i}:00Z"}}"#
                )
            })
            .collect()
    } else {
        trailscope_ingest::synth::fixtures::record_texts()
    };
    let text = format!("{{\"Records\":[{}]}}", records.join(","));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn complete_records_before_a_gzip_break_are_kept() {
    for small in [false, true] {
        gzip_breaks_keep_the_records_before_them(gzipped_records(small));
    }
}

fn gzip_breaks_keep_the_records_before_them(good: Vec<u8>) {
    let mut nuls = good.clone();
    nuls.extend([0u8; 16]);
    let mut text = good.clone();
    text.extend(b"trailing text\n");
    // Three members, the second corrupt: the first member's records are complete.
    let mut members = good.clone();
    let mut broken = good.clone();
    let middle = broken.len() / 2;
    for byte in &mut broken[middle..middle + 8] {
        *byte ^= 0x5a;
    }
    members.extend(&broken);
    members.extend(&good);
    for (file, bytes) in [
        ("nuls.json.gz", nuls),
        ("text.json.gz", text),
        ("members.json.gz", members),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(file);
        std::fs::write(&path, bytes).unwrap();
        let summary = run_ingest(&[path], &tmp.path().join("lake"));
        assert_eq!(summary.records.written, 6, "{file}: {summary:?}");
        assert_eq!(summary.files.failed, 1, "{file} was not reported");
    }
}

#[test]
fn json_lines_after_a_stray_first_line_are_kept() {
    let records = trailscope_ingest::synth::fixtures::record_texts();
    for first in ["# exported by a log shipper", "not json", "EOF"] {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("records.jsonl");
        std::fs::write(&path, format!("{first}\n{}\n", records.join("\n"))).unwrap();
        let summary = run_ingest(std::slice::from_ref(&path), &tmp.path().join("lake"));
        assert_eq!(summary.records.written, 6, "{first}: {summary:?}");
        assert_eq!(summary.records.rejected, 1, "{first}: the stray line");
        has_issue(&summary, "records.jsonl", Some(0), "not a JSON object");
    }
}

fn minimal(id: &str, name: &str, extra: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"{name}","eventID":"{id}","eventTime":"2026-03-02T10:00:00Z"{extra}}}"#
    )
}

/// The exported JSON line of `file`'s record `index`.
fn exported_line(dataset: &std::path::Path, file: &str, index: i32) -> String {
    let mut line = None;
    trailscope_ingest::export::for_each_record(dataset, |r| {
        if r.source_file.ends_with(file) && r.record_index == index {
            line = Some(r.json);
        }
        Ok(())
    })
    .unwrap();
    line.unwrap_or_else(|| panic!("{file} record {index} was not stored"))
}

#[test]
fn repeated_keys_take_the_last_value_in_columns_and_export() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("repeated.jsonl");
    let records = [
        minimal(
            "r0",
            "A",
            r#","userIdentity":{"type":"IAMUser","type":"Root"}"#,
        ),
        minimal(
            "r1",
            "A",
            r#","userIdentity":{"type":"IAMUser","userName":"alice"},"userIdentity":{"type":"Root"},"x":1,"x":{"y":2}"#,
        ),
    ];
    std::fs::write(&path, records.join("\n")).unwrap();
    let dataset = tmp.path().join("lake");
    let summary = run_ingest(std::slice::from_ref(&path), &dataset);
    assert_eq!(summary.records.written, 2);
    for (index, text) in records.iter().enumerate() {
        // serde_json keeps the last value of a repeated key, as JavaScript and Python do.
        let expected: serde_json::Value = serde_json::from_str(text).unwrap();
        let line = exported_line(&dataset, "repeated.jsonl", index as i32);
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, expected, "{line}");
        assert_eq!(back["userIdentity"], serde_json::json!({"type": "Root"}));
    }
}

#[test]
fn numbers_beyond_64_bits_keep_their_text() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("numbers.json");
    let big = "123456789012345678901234567890";
    let records = [
        minimal(
            "n0",
            "PutObject",
            &format!(r#","requestParameters":{{"big":{big},"huge":1e400,"tiny":-1e-400,"ok":[1,2.5]}}"#),
        ),
        // A numeric eventID, too large for 64 bits, escapes in a string beside it.
        r#"{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"Get\"Object","eventID":99999999999999999999999,"eventTime":"2026-03-02T10:00:00Z"}"#.to_string(),
    ];
    std::fs::write(&path, format!("{{\"Records\":[{}]}}", records.join(","))).unwrap();
    let dataset = tmp.path().join("lake");
    let summary = run_ingest(std::slice::from_ref(&path), &dataset);
    assert_eq!(summary.records.written, 2, "{:?}", summary.issues);
    let first = exported_line(&dataset, "numbers.json", 0);
    assert!(
        first.contains(&format!(
            r#""big":{big},"huge":1e400,"tiny":-1e-400,"ok":[1,2.5]"#
        )),
        "{first}"
    );
    let second = exported_line(&dataset, "numbers.json", 1);
    assert!(
        second.contains(r#""eventID":99999999999999999999999"#),
        "{second}"
    );
    assert!(second.contains(r#""eventName":"Get\"Object""#), "{second}");
}

#[test]
fn only_identical_records_are_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let trail = tmp.path().join("trail");
    std::fs::create_dir(&trail).unwrap();
    // A published-scenario style file: sixteen different events, every one `eventID: "1"`.
    let scenario: Vec<String> = (0..16)
        .map(|i| minimal("1", &format!("Step{i}"), ""))
        .collect();
    std::fs::write(
        trail.join("scenario.json"),
        format!("{{\"Records\":[{}]}}", scenario.join(",")),
    )
    .unwrap();
    // Two different sign-ins sharing an id, without recipientAccountId.
    std::fs::write(
        trail.join("signins.jsonl"),
        format!(
            "{}\n{}\n",
            minimal("s", "ConsoleLogin", r#","sourceIPAddress":"192.0.2.1""#),
            minimal("s", "ConsoleLogin", r#","sourceIPAddress":"192.0.2.2""#)
        ),
    )
    .unwrap();
    // A real duplicate delivery: the same record, re-indented.
    std::fs::write(
        trail.join("again.json"),
        format!(
            "[\n  {}\n]",
            minimal("1", "Step3", "").replace(',', ",\n    ")
        ),
    )
    .unwrap();
    let dataset = tmp.path().join("lake");
    let summary = run_ingest(std::slice::from_ref(&trail), &dataset);
    assert_eq!(summary.records.written, 18, "{summary:?}");
    assert_eq!(summary.records.duplicate, 1);
    assert_eq!(summary.records.conflicting_ids, 16);
    assert_eq!(summary.conflicting_ids.len(), 16);
    assert!(
        summary.is_clean(),
        "conflicting ids are kept, not input problems"
    );
    // Read again: every record is a duplicate now.
    let mut options = trailscope_ingest::IngestOptions::new(vec![trail], dataset.clone());
    options.reread = true;
    let again = trailscope_ingest::ingest(&options, &trailscope_ingest::Silent).unwrap();
    assert_eq!((again.records.written, again.records.duplicate), (0, 19));
    assert_eq!(exported(&dataset).len(), 18);
}
