//! The dedupe of a worker's batches ([`BatchGate`]): a partition's rows wait in its batch
//! with their keys, and when the batch is built the day's keys decide it at once, one
//! lock per shard per batch instead of one per record. Duplicates leave the batch; the
//! written, duplicate and conflicting rows are counted as they are decided.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, RecordBatch, StringArray};

use crate::dedupe::{Day, DayKeys, EventKey, KeyLog, Seen, SeenEvents};
use crate::error::Result;
use crate::run::RecordCounts;
use crate::schema::Col;
use crate::sink::BatchGate;

/// Where a conflicting id is reported: (file, record index, message).
pub(crate) type ConflictReport<'a> = &'a (dyn Fn(&str, u64, String) + Sync);

/// What the dedupe decides a row by, kept beside the row until its batch is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingRow {
    pub(crate) key: EventKey,
    /// The record's position in its file.
    pub(crate) index: u64,
    /// Whether its time came from another field than `eventTime`.
    pub(crate) time_substituted: bool,
}

/// A worker's dedupe state: the keys of the days it met in this checkpoint, its key log,
/// and the outcome of every row decided.
pub(crate) struct Dedupe {
    keys: KeyLog,
    days: HashMap<Day, Arc<DayKeys>>,
    /// Written, duplicate and conflicting rows, and the times of those written.
    records: RecordCounts,
    batch_keys: Vec<EventKey>,
    seen: Vec<Seen>,
}

/// Decides a batch of a day's rows against the day's keys: one lock per shard per batch,
/// not one per record. Duplicates are dropped from the batch; every row is counted
/// against its file.
pub(crate) struct DedupeGate<'a> {
    dedupe: &'a mut Dedupe,
    seen: &'a SeenEvents,
    report: ConflictReport<'a>,
}

impl Dedupe {
    /// A worker's dedupe, logging the keys it stores to `keys`.
    pub(crate) fn new(keys: KeyLog) -> Dedupe {
        Dedupe {
            keys,
            days: HashMap::new(),
            records: RecordCounts::default(),
            batch_keys: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// Once every batch is written: finishes the key file; returns it with the counts of
    /// the rows decided (written, duplicate, conflicting, and the times of those written).
    pub(crate) fn finish(self) -> Result<(PathBuf, RecordCounts)> {
        Ok((self.keys.finish()?, self.records))
    }
}

impl<'a> DedupeGate<'a> {
    /// The gate of `dedupe`, against the dataset's keys `seen`, reporting conflicting ids
    /// to `report`.
    pub(crate) fn new(
        dedupe: &'a mut Dedupe,
        seen: &'a SeenEvents,
        report: ConflictReport<'a>,
    ) -> Self {
        DedupeGate {
            dedupe,
            seen,
            report,
        }
    }
}

impl BatchGate<PendingRow> for DedupeGate<'_> {
    fn admit(
        &mut self,
        day: Option<i32>,
        rows: &[PendingRow],
        batch: &RecordBatch,
    ) -> Result<Option<BooleanArray>> {
        let dedupe = &mut *self.dedupe;
        let day_keys = match dedupe.days.get(&day) {
            Some(keys) => keys.clone(),
            None => {
                let keys = self.seen.day(day)?;
                dedupe.days.insert(day, keys.clone());
                keys
            }
        };
        dedupe.batch_keys.clear();
        dedupe.batch_keys.extend(rows.iter().map(|row| row.key));
        day_keys.insert_batch(&dedupe.batch_keys, &mut dedupe.seen)?;
        self.seen.keep_within_budget()?;
        let mut duplicates = false;
        for (position, (row, seen)) in rows.iter().zip(&dedupe.seen).enumerate() {
            let counts = &mut dedupe.records;
            match seen {
                Seen::Duplicate => {
                    counts.duplicate += 1;
                    duplicates = true;
                    continue;
                }
                Seen::ConflictingId => {
                    counts.conflicting_ids += 1;
                    report_conflict(self.report, batch, position, row.index);
                }
                Seen::New => {}
            }
            counts.written += 1;
            if day.is_none() {
                counts.without_time += 1;
            } else if row.time_substituted {
                counts.time_substituted += 1;
            }
            dedupe.keys.push(day, row.key)?;
        }
        Ok(duplicates.then(|| {
            BooleanArray::from(
                dedupe
                    .seen
                    .iter()
                    .map(|seen| *seen != Seen::Duplicate)
                    .collect::<Vec<_>>(),
            )
        }))
    }
}

/// Reports a row stored though another record with its `eventID` was stored before.
fn report_conflict(report: ConflictReport<'_>, batch: &RecordBatch, position: usize, index: u64) {
    let text = |col: Col| {
        let array = batch
            .column(col as usize)
            .as_any()
            .downcast_ref::<StringArray>()?;
        array.is_valid(position).then(|| array.value(position))
    };
    report(
        text(Col::SourceFile).unwrap_or(""),
        index,
        format!(
            "eventID {:?} (recipient account {}) was already stored for a different record: both kept",
            text(Col::EventId).unwrap_or(""),
            text(Col::RecipientAccountId).unwrap_or("none"),
        ),
    );
}
