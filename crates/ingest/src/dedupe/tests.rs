//! Unit tests of the dataset's keys: identities, days, key files, and spills.

use super::*;

fn content(text: &str) -> u64 {
    EventKey::content_of_spaced(text.as_bytes(), &mut Vec::new())
}

fn key(id: Option<&str>, recipient: Option<&str>, file: &str, index: u64) -> EventKey {
    EventKey::new(id, recipient, file, index, 0)
}

/// A day's keys with no limit on memory.
fn day_keys() -> DayKeys {
    DayKeys::new(Budget::new(&std::env::temp_dir(), usize::MAX))
}

#[test]
fn keys_distinguish_accounts_and_places() {
    let a = key(Some("e1"), Some("111"), "f", 0);
    assert_eq!(a, key(Some("e1"), Some("111"), "other-file", 9));
    assert_ne!(a, key(Some("e1"), Some("222"), "f", 0));
    assert_ne!(key(None, None, "f", 0), key(None, None, "f", 1));
    assert_ne!(key(None, None, "f", 0), key(None, None, "g", 0));
}

#[test]
fn only_the_same_record_is_a_duplicate() {
    let seen = day_keys();
    assert_eq!(
        content("{\n  \"a\": [1, \"x y\\\" \"]\n}"),
        content(r#"{"a":[1,"x y\" "]}"#)
    );
    assert_eq!(content(r#"{"a":1}"#), EventKey::content_of(br#"{"a":1}"#));
    assert_ne!(content(r#"{"a":"x y"}"#), content(r#"{"a":"xy"}"#));
    assert_ne!(content(r#"{"a":1}"#), content(r#"{"a":"1"}"#));
    let record = |text: &str| EventKey::new(Some("1"), None, "f", 0, content(text));
    let insert = |text: &str| seen.insert(record(text)).unwrap();
    assert_eq!(insert(r#"{"a":1}"#), Seen::New);
    assert_eq!(insert(r#"{ "a" : 1 }"#), Seen::Duplicate);
    assert_eq!(insert(r#"{"a":2}"#), Seen::ConflictingId);
    assert_eq!(insert(r#"{"a":3}"#), Seen::ConflictingId);
    assert_eq!(insert(r#"{"a":2}"#), Seen::Duplicate);
    assert_eq!(seen.len(), 3);
}

#[test]
fn a_batch_decides_each_key_as_inserting_them_one_by_one_would() {
    // Identities spread over every shard, each with copies and other texts, in an
    // order where a key's copies come before and after other shards' keys.
    let mut keys = Vec::new();
    for round in 0..3u64 {
        for id in 0..200u64 {
            let identity = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let content = if id % 7 == 0 { round } else { 0 };
            keys.push(EventKey { identity, content });
        }
    }
    let one_by_one = day_keys();
    let expected: Vec<Seen> = keys
        .iter()
        .map(|&k| one_by_one.insert(k).unwrap())
        .collect();
    let batched = day_keys();
    let mut seen = Vec::new();
    batched.insert_batch(&keys[..250], &mut seen).unwrap();
    let mut all = seen.clone();
    batched.insert_batch(&keys[250..], &mut seen).unwrap();
    all.extend_from_slice(&seen);
    assert_eq!(all, expected);
    assert!(all.contains(&Seen::New));
    assert!(all.contains(&Seen::Duplicate));
    assert!(all.contains(&Seen::ConflictingId));
    assert_eq!(batched.len(), one_by_one.len());
}

#[test]
fn days_round_trip_through_key_files_and_are_read_only_when_used() {
    let tmp = tempfile::tempdir().unwrap();
    let seen = SeenEvents::empty(tmp.path(), usize::MAX);
    let path = tmp.path().join("run.keys");
    let mut log = KeyLog::create(&path).unwrap();
    let day_of = |i: u64| (!i.is_multiple_of(3)).then_some(i32::try_from(i % 3).unwrap());
    for i in 0..1000u64 {
        let key = key(Some(&i.to_string()), None, "", 0);
        assert_eq!(seen.insert(day_of(i), key).unwrap(), Seen::New);
        log.push(day_of(i), key).unwrap();
    }
    let conflict = EventKey::new(Some("7"), None, "", 0, content(r#"{"a":2}"#));
    assert_eq!(
        seen.insert(day_of(7), conflict).unwrap(),
        Seen::ConflictingId
    );
    log.push(day_of(7), conflict).unwrap();
    let five = key(Some("5"), None, "", 0);
    assert_eq!(seen.insert(day_of(5), five).unwrap(), Seen::Duplicate);
    log.finish().unwrap();

    let again = SeenEvents::open(tmp.path()).unwrap();
    assert_eq!(again.len(), 0, "nothing is read before a day is used");
    assert_eq!(
        again
            .insert(day_of(999), key(Some("999"), None, "", 0))
            .unwrap(),
        Seen::Duplicate
    );
    assert_eq!(again.len(), 334, "only that day's keys are read");
    assert_eq!(again.insert(day_of(7), conflict).unwrap(), Seen::Duplicate);
    assert_eq!(again.len(), 334 + 334);
    // The same event on another day is another partition's: not a duplicate there.
    assert_eq!(again.insert(Some(9), five).unwrap(), Seen::New);

    // Days not used since the last call leave memory, and come back whole.
    assert_eq!(again.drop_unused_days(), 3);
    assert_eq!(again.insert(day_of(5), five).unwrap(), Seen::Duplicate);
    assert_eq!(again.drop_unused_days(), 1);
    assert_eq!(again.len(), 333);
    assert_eq!(
        again
            .insert(day_of(999), key(Some("999"), None, "", 0))
            .unwrap(),
        Seen::Duplicate
    );
}

#[test]
fn keys_spilled_out_of_memory_decide_as_keys_in_memory_do() {
    // Three days of keys with copies and conflicting texts, stored with no limit and
    // with a limit of 100 keys in memory, then read back from key files the same way.
    let tmp = tempfile::tempdir().unwrap();
    let keys: Vec<(Day, EventKey)> = (0..3u64)
        .flat_map(|round| (0..2000u64).map(move |i| (round, i)))
        .map(|(round, i)| {
            let content = if i % 11 == 0 { round } else { 0 };
            let id = (i * 7919) % 2000;
            let day = Some(i32::try_from(id % 3).unwrap());
            (
                day,
                EventKey::new(Some(&id.to_string()), None, "", 0, content),
            )
        })
        .collect();
    let unlimited = SeenEvents::empty(tmp.path(), usize::MAX);
    let expected: Vec<Seen> = keys
        .iter()
        .map(|&(day, key)| unlimited.insert(day, key).unwrap())
        .collect();
    let limited = SeenEvents::open_with_budget(tmp.path(), 100).unwrap();
    let path = tmp.path().join("run.keys");
    let mut log = KeyLog::create(&path).unwrap();
    let mut got = Vec::new();
    for &(day, key) in &keys {
        let seen = limited.insert(day, key).unwrap();
        if seen != Seen::Duplicate {
            log.push(day, key).unwrap();
        }
        got.push(seen);
        assert!(limited.budget.in_memory.load(Ordering::Relaxed) <= 101);
    }
    assert_eq!(got, expected);
    assert!(got.contains(&Seen::ConflictingId) && got.contains(&Seen::Duplicate));
    assert_eq!(limited.len(), unlimited.len());
    let spilled: usize = limited
        .days
        .lock()
        .unwrap()
        .values()
        .map(|d| d.spilled.read().unwrap().keys.len())
        .sum();
    assert!(spilled > limited.len() / 2, "{spilled} spilled");
    log.finish().unwrap();

    // Committed keys read back under the limit: everything is a duplicate now.
    let again = SeenEvents::open_with_budget(tmp.path(), 100).unwrap();
    for &(day, key) in &keys {
        assert_eq!(again.insert(day, key).unwrap(), Seen::Duplicate);
    }
    let other_text = EventKey::new(Some("5"), None, "", 0, 99);
    assert_eq!(
        again.insert(Some(2), other_text).unwrap(),
        Seen::ConflictingId
    );
    // Dropping the days gives their memory back to the budget.
    again.drop_unused_days();
    assert_eq!(again.drop_unused_days(), 0);
    assert_eq!(again.budget.in_memory.load(Ordering::Relaxed), 0);
}

#[test]
fn storers_find_the_keys_of_a_spill_in_progress() {
    let tmp = tempfile::tempdir().unwrap();
    let seen = SeenEvents::empty(tmp.path(), usize::MAX);
    let day = seen.day(Some(1)).unwrap();
    let key = |i: u64, content: u64| EventKey::new(Some(&i.to_string()), None, "", 0, content);
    for i in 0..100 {
        assert_eq!(day.insert(key(i, 0)).unwrap(), Seen::New);
    }
    day.freeze();
    // Between the tables moved aside and the run put in place, from every side.
    assert_eq!(day.insert(key(5, 0)).unwrap(), Seen::Duplicate);
    assert_eq!(day.insert(key(6, 1)).unwrap(), Seen::ConflictingId);
    assert_eq!(day.insert(key(6, 1)).unwrap(), Seen::Duplicate);
    let prepared = day.prepare_spill().unwrap();
    assert_eq!(day.insert(key(7, 0)).unwrap(), Seen::Duplicate);
    assert_eq!(day.insert(key(100, 0)).unwrap(), Seen::New);
    day.install_spill(prepared);
    assert_eq!(day.spilled.read().unwrap().keys.len(), 100);
    assert_eq!(day.in_memory.load(Ordering::Relaxed), 2);
    assert_eq!(seen.budget.in_memory.load(Ordering::Relaxed), 2);
    for (i, content, expected) in [
        (5, 0, Seen::Duplicate),
        (6, 1, Seen::Duplicate),
        (6, 2, Seen::ConflictingId),
        (100, 0, Seen::Duplicate),
        (101, 0, Seen::New),
    ] {
        assert_eq!(day.insert(key(i, content)).unwrap(), expected, "{i}");
    }
}

#[test]
fn workers_storing_one_day_while_it_spills_store_each_key_once() {
    // Four threads store the same 20,000 keys of one day in batches, with 500 keys
    // allowed in memory: spills run while the others store.
    let tmp = tempfile::tempdir().unwrap();
    let seen = SeenEvents::open_with_budget(tmp.path(), 500).unwrap();
    let keys: Vec<EventKey> = (0..20_000u64)
        .map(|i| EventKey::new(Some(&i.to_string()), None, "", 0, 0))
        .collect();
    let new: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|worker| {
                let (seen, keys) = (&seen, &keys);
                scope.spawn(move || {
                    let day = seen.day(Some(3)).unwrap();
                    let mut outcomes = Vec::new();
                    let mut new = 0;
                    // Each worker in its own order, so copies meet at every stage.
                    for batch in keys
                        .chunks(97)
                        .cycle()
                        .skip(worker * 50)
                        .take(keys.len().div_ceil(97))
                    {
                        day.insert_batch(batch, &mut outcomes).unwrap();
                        new += outcomes.iter().filter(|&&o| o == Seen::New).count();
                        assert!(!outcomes.contains(&Seen::ConflictingId));
                        seen.keep_within_budget().unwrap();
                    }
                    new
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    assert_eq!(new, keys.len());
    assert_eq!(seen.len(), keys.len());
    let day = seen.day(Some(3)).unwrap();
    assert!(day.spilled.read().unwrap().keys.len() > 10_000);
}
