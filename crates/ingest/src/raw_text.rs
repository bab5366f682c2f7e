//! The free-form objects of a record (`requestParameters`, `responseElements`, ...) taken
//! as slices of its text, where that text is already what [`crate::json_text`] would write.
//!
//! Writing a value back from the tape re-escapes every string and formats every number:
//! 3.5% of a 1-thread ingest. For a record that is minified and has no backslash, the
//! input text of an object or array member is exactly that output when the member holds
//! no float (floats are written in their shortest form, which may not be how they were
//! written), no `-0` (read as the integer 0) and no number too large for simd-json (those
//! are rewritten before parsing).
//! Every other record, and every other member, is written from the tape as before.

use simd_json::{Node, StaticNode};

use crate::json_text::skip;

/// A record's text as it was before parsing, and where the parsed copy began, so that the
/// tape's strings (which point into the parsed copy) give offsets into it.
#[derive(Debug, Clone, Copy)]
pub struct RawText<'a> {
    /// The record's text: minified, without a backslash, no number rewritten.
    pub text: &'a [u8],
    /// The address of the first byte of the buffer the tape was parsed from.
    pub parsed_at: usize,
}

impl<'a> RawText<'a> {
    /// The text of the top-level member `key` whose value is at `nodes[value]`, when it is
    /// an object or array that [`crate::json_text::write_value`] would write the same;
    /// `next_key` is the key of the member after it, if there is one.
    pub fn member_value(
        &self,
        nodes: &[Node<'_>],
        key: &str,
        value: usize,
        next_key: Option<&str>,
    ) -> Option<&'a str> {
        if !matches!(nodes[value], Node::Object { .. } | Node::Array { .. }) {
            return None;
        }
        let mut has_zero = false;
        for node in &nodes[value + 1..skip(nodes, value)] {
            match node {
                Node::Static(StaticNode::F64(_)) => return None,
                Node::Static(StaticNode::I64(0) | StaticNode::U64(0)) => has_zero = true,
                _ => {}
            }
        }
        // Minified: `"key":VALUE,"next"`, or `"key":VALUE}` for the last member.
        let start = self.offset_of(key)? + key.len() + 2;
        let end = match next_key {
            Some(next) => self.offset_of(next)?.checked_sub(2)?,
            None => self.text.len().checked_sub(1)?,
        };
        let text = self.text.get(start..end)?;
        let after: &[u8] = if next_key.is_some() { b",\"" } else { b"}" };
        let framed = self.text.get(start - 2..start)? == b"\":"
            && self.text.get(end..end + after.len())? == after
            && matches!(
                (text.first(), text.last()),
                (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
            );
        // simd-json reads `-0` as the integer 0, which is written `0`.
        if !framed || has_zero && memchr::memmem::find(text, b"-0").is_some() {
            return None;
        }
        std::str::from_utf8(text).ok()
    }

    /// The offset in the record of a string that the tape holds (its first byte).
    fn offset_of(&self, s: &str) -> Option<usize> {
        let offset = (s.as_ptr() as usize).checked_sub(self.parsed_at)?;
        (offset + s.len() <= self.text.len()).then_some(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_text::write_value;

    /// Each top-level member's slice (or `None`) and, beside it, what the tape writes.
    fn members(record: &str) -> Vec<(Option<String>, String)> {
        let text = record.as_bytes().to_vec();
        let mut parsed = text.clone();
        let parsed_at = parsed.as_ptr() as usize;
        let tape = simd_json::to_tape(&mut parsed).unwrap();
        let nodes = &tape.0;
        let raw = RawText {
            text: &text,
            parsed_at,
        };
        let Node::Object { len, .. } = nodes[0] else {
            panic!("not an object")
        };
        let mut out = Vec::new();
        let mut at = 1;
        for member in 0..len {
            let Node::String(key) = nodes[at] else {
                panic!("key")
            };
            let value = at + 1;
            at = skip(nodes, value);
            let next_key = (member + 1 < len).then(|| match nodes[at] {
                Node::String(next) => next,
                _ => panic!("key"),
            });
            let slice = raw.member_value(nodes, key, value, next_key);
            let mut written = String::new();
            write_value(nodes, &[], value, &mut written);
            out.push((slice.map(str::to_string), written));
        }
        out
    }

    #[test]
    fn objects_and_arrays_are_slices_equal_to_what_the_tape_writes() {
        let record = r#"{"a":{"b":[1,-2,true,null,"x é"],"c":{}},"d":"s","e":[{"f":18446744073709551615}],"g":{"h":0}}"#;
        let members = members(record);
        let slices: Vec<_> = members.iter().map(|(s, _)| s.as_deref()).collect();
        assert_eq!(
            slices,
            [
                Some(r#"{"b":[1,-2,true,null,"x é"],"c":{}}"#),
                None,
                Some(r#"[{"f":18446744073709551615}]"#),
                Some(r#"{"h":0}"#),
            ]
        );
        for (slice, written) in &members {
            if let Some(slice) = slice {
                assert_eq!(slice, written);
            }
        }
    }

    #[test]
    fn floats_are_written_from_the_tape() {
        // `1.50` would be written `1.5`, and `-0` as `0`; a zero beside a `-0` in a string
        // is written from the tape too (the check is on the text).
        for record in [
            r#"{"a":{"x":1.50},"b":1}"#,
            r#"{"a":[-0],"b":1}"#,
            r#"{"a":[0,"us-0"],"b":1}"#,
        ] {
            assert_eq!(members(record)[0].0, None, "{record}");
        }
    }

    #[test]
    fn a_record_with_whitespace_is_not_framed() {
        // Offered a spaced record by mistake, the framing checks refuse it.
        let members = members(r#"{"a": {"x":1} ,"b":{"y":2} }"#);
        assert!(
            members.iter().all(|(slice, _)| slice.is_none()),
            "{members:?}"
        );
    }
}
