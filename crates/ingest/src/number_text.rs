//! Numbers that a 64-bit tape cannot hold, kept as the text they were written in.
//!
//! JSON puts no limit on numbers (RFC 8259, section 6), and CloudTrail passes request
//! parameters through as the caller wrote them: `123456789012345678901234567890` or `1e400`
//! are valid JSON that simd-json refuses (`InvalidNumber`). Such a record is parsed again
//! from a copy of its text in which each of those numbers is `0`; the placeholder nodes are
//! then marked with a NaN (a value JSON cannot produce) whose payload indexes the original
//! texts, and `json_text::write_value` writes the text back. Columns and export
//! therefore hold the number exactly as it was written.

use simd_json::{Node, StaticNode};

/// The original texts of the marked numbers of one record, by payload index.
pub type NumberTexts = [String];

/// A quiet NaN with a tag in its high payload bits: never produced by parsing JSON.
const TAG: u64 = 0x7FFB_5A00_0000_0000;
const TAG_MASK: u64 = 0xFFFF_FF00_0000_0000;

/// The index of the original text that the marked value `x` stands for.
pub fn marked_index(x: f64) -> Option<usize> {
    let bits = x.to_bits();
    (bits & TAG_MASK == TAG).then_some((bits & !TAG_MASK) as usize)
}

fn mark(index: usize) -> f64 {
    f64::from_bits(TAG | index as u64)
}

/// Whether the number token `text` is one simd-json holds exactly (an integer within 64
/// bits, or a float that is finite and does not underflow to zero).
fn fits(text: &str) -> bool {
    if !text.contains(['.', 'e', 'E']) {
        return text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok();
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x != 0.0 => true,
        // Zero is exact only when the mantissa is: `0.0e5`, not `1e-400`.
        Ok(0.0) => {
            let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
            mantissa
                .bytes()
                .all(|b| matches!(b, b'0' | b'.' | b'-' | b'+'))
        }
        _ => false,
    }
}

/// Rewrites the record text `raw` into `out` (padded for simd-json), each number that does
/// not fit replaced by `0`; fills `texts` with those numbers and `ordinals` with their
/// places among all the record's numbers. Returns whether any number was replaced.
pub fn rewrite(
    raw: &[u8],
    out: &mut Vec<u8>,
    texts: &mut Vec<String>,
    ordinals: &mut Vec<usize>,
) -> bool {
    out.clear();
    texts.clear();
    ordinals.clear();
    let mut at = 0;
    let mut ordinal = 0;
    while at < raw.len() {
        let byte = raw[at];
        if byte == b'"' {
            let start = at;
            at += 1;
            while at < raw.len() && raw[at] != b'"' {
                at += if raw[at] == b'\\' { 2 } else { 1 };
            }
            at = (at + 1).min(raw.len());
            out.extend_from_slice(&raw[start..at]);
        } else if byte == b'-' || byte.is_ascii_digit() {
            let start = at;
            while at < raw.len()
                && matches!(raw[at], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                at += 1;
            }
            let token = String::from_utf8_lossy(&raw[start..at]);
            if fits(&token) {
                out.extend_from_slice(&raw[start..at]);
            } else {
                texts.push(token.into_owned());
                ordinals.push(ordinal);
                out.push(b'0');
            }
            ordinal += 1;
        } else {
            out.push(byte);
            at += 1;
        }
    }
    out.resize(out.len() + crate::split::PADDING, 0);
    !texts.is_empty()
}

/// Marks, on the tape parsed from [`rewrite`]'s text, the number nodes at `ordinals`.
pub fn mark_nodes(nodes: &mut [Node<'_>], ordinals: &[usize]) {
    let mut ordinal = 0;
    let mut next = 0;
    for node in nodes.iter_mut() {
        if next == ordinals.len() {
            return;
        }
        if let Node::Static(StaticNode::I64(_) | StaticNode::U64(_) | StaticNode::F64(_)) = node {
            if ordinal == ordinals[next] {
                *node = Node::Static(StaticNode::F64(mark(next)));
                next += 1;
            }
            ordinal += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_numbers_that_do_not_fit() {
        for text in [
            "1",
            "-9223372036854775808",
            "18446744073709551615",
            "1.5",
            "1e300",
        ] {
            assert!(fits(text), "{text}");
        }
        for text in [
            "18446744073709551616",
            "-9223372036854775809",
            "1e400",
            "1e-400",
        ] {
            assert!(!fits(text), "{text}");
        }
        assert!(fits("0.0e5"));
    }

    #[test]
    fn rewrites_and_marks_in_order() {
        let raw = br#"{"a":[1,123456789012345678901234567890,"9e999",-2],"b":1e400,"c":2.5}"#;
        let (mut out, mut texts, mut ordinals) = (Vec::new(), Vec::new(), Vec::new());
        assert!(rewrite(raw, &mut out, &mut texts, &mut ordinals));
        assert_eq!(texts, ["123456789012345678901234567890", "1e400"]);
        assert_eq!(ordinals, [1, 3]);
        let len = out.len() - crate::split::PADDING;
        assert_eq!(
            std::str::from_utf8(&out[..len]).unwrap(),
            r#"{"a":[1,0,"9e999",-2],"b":0,"c":2.5}"#
        );
        let mut tape = simd_json::to_tape(&mut out[..len]).unwrap();
        mark_nodes(&mut tape.0, &ordinals);
        let marked: Vec<usize> = tape
            .0
            .iter()
            .filter_map(|n| match n {
                Node::Static(StaticNode::F64(x)) => marked_index(*x),
                _ => None,
            })
            .collect();
        assert_eq!(marked, [0, 1]);
        assert_eq!(marked_index(2.5), None);
        assert_eq!(marked_index(f64::NAN), None);
    }

    #[test]
    fn records_without_escapes_survive_the_in_place_parse() {
        // The worker copies a record's text before parsing only when it holds a backslash:
        // simd-json rewrites strings in place only to unescape them.
        let text = br#"{"eventVersion":"1.08","n":[1,2.5,null,true],"s":"a b/c","o":{"k":"v"}}"#;
        let mut bytes = text.to_vec();
        simd_json::to_tape(&mut bytes).unwrap();
        assert_eq!(bytes, text);
    }
}
