//! Writes a value of a simd-json tape back out as JSON text.
//!
//! Used for the free-form objects (`requestParameters`, ...) and for `unmapped`. The text is
//! value-equal to the input: strings are re-escaped, integers keep their digits, floats are
//! written in their shortest round-tripping form.

use std::fmt::Write;

use simd_json::{Node, StaticNode};

use crate::number_text::{NumberTexts, marked_index};

/// The index just past the value that starts at `index`.
#[inline]
pub fn skip(nodes: &[Node<'_>], index: usize) -> usize {
    match nodes[index] {
        Node::Object { count, .. } | Node::Array { count, .. } => index + 1 + count,
        _ => index + 1,
    }
}

/// Appends the JSON text of the value at `nodes[index]` to `out`; returns the index past it.
/// `numbers` holds the texts of the record's marked numbers ([`crate::number_text`]).
pub fn write_value<W: Write>(
    nodes: &[Node<'_>],
    numbers: &NumberTexts,
    index: usize,
    out: &mut W,
) -> usize {
    match nodes[index] {
        Node::String(s) => {
            write_string(s, out);
            index + 1
        }
        Node::Static(value) => {
            write_static(value, numbers, out);
            index + 1
        }
        Node::Array { len, .. } => {
            let _ = out.write_char('[');
            let mut at = index + 1;
            for i in 0..len {
                if i > 0 {
                    let _ = out.write_char(',');
                }
                at = write_value(nodes, numbers, at, out);
            }
            let _ = out.write_char(']');
            at
        }
        Node::Object { len, .. } => {
            let _ = out.write_char('{');
            let mut at = index + 1;
            for i in 0..len {
                if i > 0 {
                    let _ = out.write_char(',');
                }
                if let Node::String(key) = nodes[at] {
                    write_string(key, out);
                }
                let _ = out.write_char(':');
                at = write_value(nodes, numbers, at + 1, out);
            }
            let _ = out.write_char('}');
            at
        }
    }
}

fn write_static<W: Write>(value: StaticNode, numbers: &NumberTexts, out: &mut W) {
    let _ = match value {
        StaticNode::Null => out.write_str("null"),
        StaticNode::Bool(true) => out.write_str("true"),
        StaticNode::Bool(false) => out.write_str("false"),
        StaticNode::I64(n) => out.write_str(itoa::Buffer::new().format(n)),
        StaticNode::U64(n) => out.write_str(itoa::Buffer::new().format(n)),
        StaticNode::F64(x) if x.is_finite() => out.write_str(ryu::Buffer::new().format_finite(x)),
        // JSON has no NaN or infinity: a NaN is a marked number, kept as written.
        StaticNode::F64(x) => match marked_index(x).and_then(|i| numbers.get(i)) {
            Some(text) => out.write_str(text),
            None => out.write_str("null"),
        },
    };
}

/// Writes `s` as a JSON string literal, escaping as serde_json does.
pub fn write_string<W: Write>(s: &str, out: &mut W) {
    let _ = out.write_char('"');
    let bytes = s.as_bytes();
    // Nearly every string needs no escape: one branch-free pass over the bytes (which the
    // compiler vectorizes) finds that out, where the loop below branches on every byte.
    let needs_escape = bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !needs_escape {
        let _ = out.write_str(s);
        let _ = out.write_char('"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        if start < i {
            let _ = out.write_str(&s[start..i]);
        }
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            let _ = out.write_str(escape);
        }
        start = i + 1;
    }
    if start < bytes.len() {
        let _ = out.write_str(&s[start..]);
    }
    let _ = out.write_char('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let mut bytes = text.as_bytes().to_vec();
        let tape = simd_json::to_tape(&mut bytes).unwrap();
        let mut out = String::new();
        let end = write_value(&tape.0, &[], 0, &mut out);
        assert_eq!(end, tape.0.len());
        out
    }

    #[test]
    fn writes_value_equal_json() {
        for text in [
            r#"{"a":[1,-2,3.5,1e300,18446744073709551615,true,false,null],"b":{"c":"d\"e\\f\n\u0001é"}}"#,
            r#"[]"#,
            r#"{}"#,
            r#""x""#,
            r#"[{"k":[[],{}]}]"#,
        ] {
            let ours: serde_json::Value = serde_json::from_str(&round_trip(text)).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn escapes_like_serde_json() {
        let s = "tab\tquote\"ctl\u{7}uni\u{2028}";
        let mut out = String::new();
        write_string(s, &mut out);
        assert_eq!(out, serde_json::to_string(s).unwrap());
    }
}
