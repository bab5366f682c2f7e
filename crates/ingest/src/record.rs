//! Maps one parsed record (a simd-json tape) onto the dataset's columns.
//!
//! The walk follows [`RECORD_FIELDS`]. A value goes to its column only when the column can
//! hold it exactly and export can write it back the same; everything else (unknown fields,
//! JSON nulls, values of an unexpected type, empty objects, times in a non-canonical form,
//! repeated keys) is written, at its path, into the `unmapped` JSON object. Nothing is
//! allocated per field: slots borrow from the tape.

use simd_json::{Node, StaticNode};

use crate::json_text::{skip, write_string, write_value};
use crate::number_text::NumberTexts;
use crate::raw_text::RawText;
use crate::schema::{
    Col, EVENT_TIME_SUBSTITUTES, FieldSpec, Kind, NUM_COLUMNS, RECORD_FIELDS, RESOURCE_KEYS,
};
use crate::time::{parse_timestamp_canonical, parse_timestamp_micros};

/// A column's value for the row being built.
#[derive(Debug, Clone, Copy, Default)]
pub enum Slot<'a> {
    /// Null.
    #[default]
    Empty,
    /// Text.
    Str(&'a str),
    /// A boolean.
    Bool(bool),
    /// Microseconds since the epoch, UTC.
    Time(i64),
    /// A 32-bit integer.
    Int(i32),
    /// The value at this tape index, written as JSON text.
    Json(usize),
    /// The `resources` array at this tape index.
    Resources(usize),
}

/// Columns of one record, borrowed from its tape.
#[derive(Debug)]
pub struct Row<'a> {
    /// One slot per column, in [`crate::schema::COLUMNS`] order.
    pub slots: [Slot<'a>; NUM_COLUMNS],
    /// The texts of the record's marked numbers, for its JSON slots.
    pub numbers: &'a NumberTexts,
}

impl<'a> Row<'a> {
    /// The slot of `col`.
    pub fn get(&self, col: Col) -> Slot<'a> {
        self.slots[col as usize]
    }

    /// The text in `col`, if it holds text.
    pub fn str(&self, col: Col) -> Option<&'a str> {
        match self.get(col) {
            Slot::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Sets `col`.
    pub fn set(&mut self, col: Col, value: Slot<'a>) {
        self.slots[col as usize] = value;
    }

    /// Whether this looks like a CloudTrail record rather than some other JSON object.
    ///
    /// A record says what happened (`eventName`, `eventType` or `eventID`) and carries
    /// `eventVersion` or `eventSource`. Fragments such as a lone `userIdentity` (even with
    /// `eventVersion`, as in the IAM user guide's examples) are not records.
    pub fn is_cloudtrail(&self) -> bool {
        let what = [Col::EventName, Col::EventType, Col::EventId];
        (self.str(Col::EventVersion).is_some() || self.str(Col::EventSource).is_some())
            && what.iter().any(|c| self.str(*c).is_some())
    }
}

/// Builds the `unmapped` JSON object incrementally, in walk (depth-first) order.
#[derive(Debug, Default)]
struct Unmapped {
    text: String,
    /// Keys of the nested objects open after the root.
    open: Vec<&'static str>,
    /// Whether the root and each open object already has a member.
    has_member: Vec<bool>,
}

impl Unmapped {
    fn clear(&mut self) {
        self.text.clear();
        self.open.clear();
        self.has_member.clear();
    }

    /// Starts a member `key` in the object at `path`; the caller writes its value next.
    fn member(&mut self, path: &[&'static str], key: &str) -> &mut String {
        if self.has_member.is_empty() {
            self.text.push('{');
            self.has_member.push(false);
        }
        let common = self
            .open
            .iter()
            .zip(path)
            .take_while(|(a, b)| a == b)
            .count();
        while self.open.len() > common {
            self.open.pop();
            self.has_member.pop();
            self.text.push('}');
        }
        for &level in &path[common..] {
            self.separator();
            write_string(level, &mut self.text);
            self.text.push_str(":{");
            self.open.push(level);
            self.has_member.push(false);
        }
        self.separator();
        write_string(key, &mut self.text);
        self.text.push(':');
        &mut self.text
    }

    fn separator(&mut self) {
        let last = self.has_member.last_mut().expect("root is open");
        if *last {
            self.text.push(',');
        }
        *last = true;
    }

    /// Closes every open object; returns the text, or `None` when nothing was unmapped.
    fn finish(&mut self) -> Option<&str> {
        if self.has_member.is_empty() {
            return None;
        }
        for _ in 0..self.has_member.len() {
            self.text.push('}');
        }
        self.has_member.clear();
        self.open.clear();
        Some(&self.text)
    }
}

/// The position of `key` in `specs`. Records list their keys in one order nearly always,
/// and the spec follows that order, so the search starts after the last match (`hint`);
/// this turns a linear search per key into one or two comparisons for typical records.
#[inline]
fn find_field(specs: &'static [FieldSpec], key: &str, hint: &mut usize) -> Option<usize> {
    let start = (*hint).min(specs.len());
    // Optional keys that are absent only move the match a few entries ahead.
    let found = match specs[start..].iter().position(|f| f.key == key) {
        Some(offset) => start + offset,
        None => specs[..start].iter().position(|f| f.key == key)?,
    };
    *hint = found + 1;
    Some(found)
}

/// Repeated keys in one object. JSON leaves them undefined; trailscope takes the last
/// value, as JavaScript, Python and most JSON readers do (RFC 8259, section 4), and
/// applies that one rule to the columns, `unmapped` and export alike.
#[derive(Debug, Default)]
struct KeysSeen<'a> {
    /// Bit `i` set: the spec's field `i` was seen.
    known: u128,
    /// Keys outside the spec (few in any record).
    other: Vec<&'a str>,
}

impl<'a> KeysSeen<'a> {
    /// Notes a key; returns whether it was seen before in this object.
    fn repeated(&mut self, field: Option<usize>, key: &'a str) -> bool {
        match field {
            Some(index) if index < 128 => {
                let bit = 1u128 << index;
                let seen = self.known & bit != 0;
                self.known |= bit;
                seen
            }
            _ => {
                let seen = self.other.contains(&key);
                if !seen {
                    self.other.push(key);
                }
                seen
            }
        }
    }
}

/// Whether a later member of the same object (`members_after` more, the next at
/// `next`) has the key `key`: under last-wins, this member is then not the value.
fn superseded(nodes: &[Node<'_>], key: &str, mut next: usize, members_after: usize) -> bool {
    for _ in 0..members_after {
        if key_at(nodes, next) == key {
            return true;
        }
        next = skip(nodes, next + 1);
    }
    false
}

/// Reusable state for mapping records; one per worker thread.
#[derive(Debug, Default)]
pub struct RecordMapper {
    unmapped: Unmapped,
    path: Vec<&'static str>,
    scratch: String,
    /// The walk met a repeated key: the record is mapped again, taking last values.
    repeated_key: bool,
    /// This walk keeps only the last member of each key.
    last_wins: bool,
}

impl RecordMapper {
    /// Maps the record object at `nodes[0]` into a [`Row`].
    ///
    /// The caller sets provenance (`source_file`, `record_index`). `unmapped` is set last,
    /// from this mapper's buffer, so the row borrows the mapper too. With the record's
    /// `raw` text, free-form objects are slices of it where they can be ([`RawText`]).
    pub fn map<'a>(
        &'a mut self,
        nodes: &[Node<'a>],
        numbers: &'a NumberTexts,
        raw: Option<RawText<'a>>,
    ) -> Row<'a> {
        self.last_wins = false;
        self.repeated_key = false;
        let mut row = self.walk(nodes, numbers, raw);
        if self.repeated_key {
            // Rare (hand-edited or hostile input): walk again, skipping superseded members.
            self.last_wins = true;
            row = self.walk(nodes, numbers, raw);
        }
        if let Some(text) = self.unmapped.finish() {
            row.set(Col::Unmapped, Slot::Str(text));
        }
        row
    }

    /// One walk over the record; `unmapped` is left open.
    fn walk<'a>(
        &mut self,
        nodes: &[Node<'a>],
        numbers: &'a NumberTexts,
        raw: Option<RawText<'a>>,
    ) -> Row<'a> {
        self.unmapped.clear();
        self.path.clear();
        let mut row = Row {
            slots: [Slot::Empty; NUM_COLUMNS],
            numbers,
        };
        let mut substitute: Option<(&'static str, &'a str)> = None;
        if let Some(Node::Object { len, .. }) = nodes.first() {
            let mut at = 1;
            let mut hint = 0;
            let mut seen = KeysSeen::default();
            for member in 0..*len {
                let key = key_at(nodes, at);
                let value = at + 1;
                at = skip(nodes, value);
                if self.last_wins && superseded(nodes, key, at, len - member - 1) {
                    continue;
                }
                let field = find_field(RECORD_FIELDS, key, &mut hint);
                self.repeated_key |= !self.last_wins && seen.repeated(field, key);
                match field {
                    Some(field) => {
                        let field = &RECORD_FIELDS[field];
                        let text = match (raw, &field.kind) {
                            (Some(raw), Kind::Json(_)) => {
                                let next_key = (member + 1 < *len).then(|| key_at(nodes, at));
                                raw.member_value(nodes, key, value, next_key)
                            }
                            _ => None,
                        };
                        self.map_field(nodes, field, key, value, text, &mut row)
                    }
                    None => {
                        if let (Some(name), Node::String(text)) = (
                            EVENT_TIME_SUBSTITUTES.iter().find(|s| **s == key),
                            nodes[value],
                        ) {
                            substitute = substitute.or(Some((name, text)));
                        }
                        self.unmap(nodes, numbers, key, value);
                    }
                }
            }
        }
        if matches!(row.get(Col::EventTime), Slot::Empty)
            && let Some((name, text)) = substitute
            && let Some(micros) = parse_timestamp_micros(text)
        {
            row.set(Col::EventTime, Slot::Time(micros));
            row.set(Col::EventTimeSubstitute, Slot::Str(name));
        }
        row
    }

    fn unmap(&mut self, nodes: &[Node<'_>], numbers: &NumberTexts, key: &str, value: usize) {
        let out = self.unmapped.member(&self.path, key);
        write_value(nodes, numbers, value, out);
    }

    fn map_field<'a>(
        &mut self,
        nodes: &[Node<'a>],
        field: &'static FieldSpec,
        key: &str,
        value: usize,
        text: Option<&'a str>,
        row: &mut Row<'a>,
    ) {
        let node = nodes[value];
        if let Kind::Object(spec) = &field.kind {
            match node {
                Node::Object { len, .. } if len > 0 => {
                    self.path.push(field.key);
                    let mut at = value + 1;
                    let mut hint = 0;
                    let mut seen = KeysSeen::default();
                    for member in 0..len {
                        let inner_key = key_at(nodes, at);
                        let inner_value = at + 1;
                        at = skip(nodes, inner_value);
                        if self.last_wins && superseded(nodes, inner_key, at, len - member - 1) {
                            continue;
                        }
                        let inner = find_field(spec, inner_key, &mut hint);
                        self.repeated_key |= !self.last_wins && seen.repeated(inner, inner_key);
                        match inner {
                            Some(inner) => {
                                let spec = &spec[inner];
                                self.map_field(nodes, spec, inner_key, inner_value, None, row)
                            }
                            None => self.unmap(nodes, row.numbers, inner_key, inner_value),
                        }
                    }
                    self.path.pop();
                }
                // An empty object, or not an object at all: kept as is.
                _ => self.unmap(nodes, row.numbers, key, value),
            }
            return;
        }
        let col = match field.kind {
            Kind::Str(c)
            | Kind::Bool(c)
            | Kind::BoolText(c)
            | Kind::Time(c)
            | Kind::Json(c)
            | Kind::Resources(c) => c,
            Kind::Object(_) => unreachable!(),
        };
        if !matches!(row.get(col), Slot::Empty) {
            // Two keys for one column (never after a last-wins walk): keep both values.
            self.unmap(nodes, row.numbers, key, value);
            return;
        }
        let slot = match (&field.kind, node) {
            (Kind::Str(_), Node::String(s)) => Slot::Str(s),
            (Kind::Bool(_), Node::Static(StaticNode::Bool(b))) => Slot::Bool(b),
            (Kind::BoolText(_), Node::String("true")) => Slot::Bool(true),
            (Kind::BoolText(_), Node::String("false")) => Slot::Bool(false),
            (Kind::Json(_), node) if !matches!(node, Node::Static(StaticNode::Null)) => {
                match text {
                    Some(text) => {
                        debug_assert_eq!(text, written(nodes, row.numbers, value));
                        Slot::Str(text)
                    }
                    None => Slot::Json(value),
                }
            }
            (Kind::Resources(_), Node::Array { .. }) if resources_fit(nodes, value) => {
                Slot::Resources(value)
            }
            (Kind::Time(_), Node::String(text)) => {
                match parse_timestamp_canonical(text, &mut self.scratch) {
                    Some((micros, canonical)) => {
                        if !canonical {
                            // Typed for queries, and the original text kept for export.
                            self.unmap(nodes, row.numbers, key, value);
                        }
                        Slot::Time(micros)
                    }
                    None => Slot::Empty,
                }
            }
            _ => Slot::Empty,
        };
        if matches!(slot, Slot::Empty) {
            self.unmap(nodes, row.numbers, key, value);
        } else {
            row.set(col, slot);
        }
    }
}

/// The JSON text of the value at `nodes[index]`, as the batch builder writes it.
fn written(nodes: &[Node<'_>], numbers: &NumberTexts, index: usize) -> String {
    let mut out = String::new();
    write_value(nodes, numbers, index, &mut out);
    out
}

/// The key at `nodes[index]` (object keys are always strings on the tape).
fn key_at<'a>(nodes: &[Node<'a>], index: usize) -> &'a str {
    match nodes[index] {
        Node::String(key) => key,
        _ => "",
    }
}

/// Whether a `resources` array is exactly objects of string `ARN`/`accountId`/`type`.
fn resources_fit(nodes: &[Node<'_>], array: usize) -> bool {
    let Node::Array { len, .. } = nodes[array] else {
        return false;
    };
    let mut at = array + 1;
    for _ in 0..len {
        let Node::Object { len: members, .. } = nodes[at] else {
            return false;
        };
        let mut seen = [false; 3];
        let mut member = at + 1;
        for _ in 0..members {
            let Some(slot) = RESOURCE_KEYS
                .iter()
                .position(|k| *k == key_at(nodes, member))
            else {
                return false;
            };
            if seen[slot] || !matches!(nodes[member + 1], Node::String(_)) {
                return false;
            }
            seen[slot] = true;
            member += 2;
        }
        at = skip(nodes, at);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_json(text: &str, check: impl FnOnce(&Row<'_>)) {
        let mut bytes = text.as_bytes().to_vec();
        let tape = simd_json::to_tape(&mut bytes).unwrap();
        let mut mapper = RecordMapper::default();
        let row = mapper.map(&tape.0, &[], None);
        check(&row);
    }

    fn unmapped(row: &Row<'_>) -> serde_json::Value {
        match row.get(Col::Unmapped) {
            Slot::Str(text) => serde_json::from_str(text).unwrap(),
            _ => serde_json::Value::Null,
        }
    }

    #[test]
    fn maps_known_fields_to_columns() {
        map_json(
            r#"{"eventVersion":"1.08","eventName":"GetObject","eventTime":"2020-09-14T01:19:40Z","readOnly":true,
               "userIdentity":{"type":"AssumedRole","sessionContext":{"attributes":{"mfaAuthenticated":"false"},
               "sessionIssuer":{"arn":"arn:aws:iam::1:role/R"}}},"requestParameters":{"a":[1]}}"#,
            |row| {
                assert!(row.is_cloudtrail());
                assert_eq!(row.str(Col::UserIdentityType), Some("AssumedRole"));
                assert_eq!(
                    row.str(Col::SessionIssuerArn),
                    Some("arn:aws:iam::1:role/R")
                );
                assert!(matches!(
                    row.get(Col::SessionMfaAuthenticated),
                    Slot::Bool(false)
                ));
                assert!(matches!(row.get(Col::ReadOnly), Slot::Bool(true)));
                assert!(matches!(
                    row.get(Col::EventTime),
                    Slot::Time(1_600_046_380_000_000)
                ));
                assert!(matches!(row.get(Col::RequestParameters), Slot::Json(_)));
                assert!(matches!(row.get(Col::Unmapped), Slot::Empty));
            },
        );
    }

    #[test]
    fn keeps_what_columns_cannot_hold_in_unmapped() {
        map_json(
            r#"{"eventVersion":"1.08","newField":{"x":1},"responseElements":null,"readOnly":"yes",
               "userIdentity":{"type":"IAMUser","sessionContext":{"sessionIssuer":{},"extra":2},"type":"dup"},
               "eventTime":"2020-09-14T01:19:40.5Z","resources":[{"ARN":"a","other":1}]}"#,
            |row| {
                assert_eq!(row.str(Col::UserIdentityType), Some("dup"));
                assert!(matches!(row.get(Col::ReadOnly), Slot::Empty));
                assert!(matches!(row.get(Col::Resources), Slot::Empty));
                assert!(matches!(row.get(Col::EventTime), Slot::Time(_)));
                assert_eq!(
                    unmapped(row),
                    serde_json::json!({
                        "newField": {"x": 1},
                        "responseElements": null,
                        "readOnly": "yes",
                        "userIdentity": {"sessionContext": {"sessionIssuer": {}, "extra": 2}},
                        "eventTime": "2020-09-14T01:19:40.5Z",
                        "resources": [{"ARN": "a", "other": 1}],
                    })
                );
            },
        );
    }

    #[test]
    fn substitutes_a_missing_event_time() {
        map_json(
            r#"{"eventVersion":"1.08","@timestamp":"2020-09-14T01:19:40.707Z"}"#,
            |row| {
                assert!(matches!(
                    row.get(Col::EventTime),
                    Slot::Time(1_600_046_380_707_000)
                ));
                assert_eq!(row.str(Col::EventTimeSubstitute), Some("@timestamp"));
            },
        );
        map_json(r#"{"eventVersion":"1.08","eventTime":"bad"}"#, |row| {
            assert!(matches!(row.get(Col::EventTime), Slot::Empty));
            assert_eq!(unmapped(row), serde_json::json!({"eventTime": "bad"}));
        });
    }

    #[test]
    fn fragments_are_not_cloudtrail() {
        map_json(r#"{"userIdentity":{"type":"IAMUser"}}"#, |row| {
            assert!(!row.is_cloudtrail());
        });
        map_json(
            r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser"}}"#,
            |row| {
                assert!(!row.is_cloudtrail());
            },
        );
        map_json(
            r#"{"eventVersion":"1.07","eventType":"AwsCloudTrailInsight"}"#,
            |row| {
                assert!(row.is_cloudtrail());
            },
        );
    }

    #[test]
    fn repeated_keys_take_the_last_value_everywhere() {
        map_json(
            r#"{"eventVersion":"1.08","eventName":"A","userIdentity":{"type":"IAMUser","type":"Root"}}"#,
            |row| {
                assert_eq!(row.str(Col::UserIdentityType), Some("Root"));
                assert!(matches!(row.get(Col::Unmapped), Slot::Empty));
            },
        );
        // The second object replaces the first whole: nothing of the first is merged in.
        map_json(
            r#"{"eventVersion":"1.08","eventName":"A","x":1,"userIdentity":{"type":"IAMUser","userName":"u"},
               "x":2,"userIdentity":{"type":"Root"},"eventName":"B"}"#,
            |row| {
                assert_eq!(row.str(Col::UserIdentityType), Some("Root"));
                assert_eq!(row.str(Col::UserIdentityUserName), None);
                assert_eq!(row.str(Col::EventName), Some("B"));
                assert_eq!(unmapped(row), serde_json::json!({"x": 2}));
            },
        );
        // A later value that a column cannot hold still replaces the earlier one.
        map_json(
            r#"{"eventVersion":"1.08","eventName":"A","userIdentity":{"type":"IAMUser"},"userIdentity":"gone"}"#,
            |row| {
                assert_eq!(row.str(Col::UserIdentityType), None);
                assert_eq!(unmapped(row), serde_json::json!({"userIdentity": "gone"}));
            },
        );
    }
}
