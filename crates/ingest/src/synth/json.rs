//! A small streaming JSON writer: records are written straight into a byte buffer, in a
//! fixed key order, so that the same seed gives the same bytes.

/// Writes one JSON value at a time into `buf`; commas are placed by the writer.
#[derive(Debug, Default)]
pub struct JsonOut {
    pub buf: Vec<u8>,
    needs_comma: bool,
}

impl JsonOut {
    pub fn new() -> Self {
        Self::default()
    }

    /// Clears the buffer for the next record, keeping its allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.needs_comma = false;
    }

    fn sep(&mut self) {
        if self.needs_comma {
            self.buf.push(b',');
        }
    }

    fn key(&mut self, key: &str) {
        self.sep();
        self.string_raw(key);
        self.buf.push(b':');
        self.needs_comma = false;
    }

    fn string_raw(&mut self, text: &str) {
        self.buf.push(b'"');
        for &b in text.as_bytes() {
            match b {
                b'"' => self.buf.extend_from_slice(b"\\\""),
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                0..=0x1f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.buf.extend_from_slice(b"\\u00");
                    self.buf.push(HEX[(b >> 4) as usize]);
                    self.buf.push(HEX[(b & 15) as usize]);
                }
                _ => self.buf.push(b),
            }
        }
        self.buf.push(b'"');
    }

    /// Opens an object (as an array element or top-level value).
    pub fn begin(&mut self) {
        self.sep();
        self.buf.push(b'{');
        self.needs_comma = false;
    }

    /// Opens an object under `key`.
    pub fn begin_obj(&mut self, key: &str) {
        self.key(key);
        self.buf.push(b'{');
    }

    /// Opens an array under `key`.
    pub fn begin_arr(&mut self, key: &str) {
        self.key(key);
        self.buf.push(b'[');
    }

    pub fn end_obj(&mut self) {
        self.buf.push(b'}');
        self.needs_comma = true;
    }

    pub fn end_arr(&mut self) {
        self.buf.push(b']');
        self.needs_comma = true;
    }

    pub fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        self.string_raw(value);
        self.needs_comma = true;
    }

    /// A string array element.
    #[cfg(test)]
    pub fn item_str(&mut self, value: &str) {
        self.sep();
        self.string_raw(value);
        self.needs_comma = true;
    }

    pub fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.str(key, value);
        }
    }

    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
        self.needs_comma = true;
    }

    #[cfg(test)]
    pub fn int(&mut self, key: &str, value: i64) {
        self.key(key);
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self.needs_comma = true;
    }

    pub fn null(&mut self, key: &str) {
        self.key(key);
        self.buf.extend_from_slice(b"null");
        self.needs_comma = true;
    }

    /// A value that is already JSON text.
    pub fn raw(&mut self, key: &str, json: &str) {
        self.key(key);
        self.buf.extend_from_slice(json.as_bytes());
        self.needs_comma = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_valid_json() {
        let mut out = JsonOut::new();
        out.begin();
        out.str("a", "x\"y\\z\u{1}");
        out.begin_obj("b");
        out.int("n", -3);
        out.bool("t", true);
        out.end_obj();
        out.begin_arr("c");
        out.item_str("p");
        out.begin();
        out.null("q");
        out.end_obj();
        out.end_arr();
        out.raw("d", "[1,2]");
        out.end_obj();
        let value: serde_json::Value = serde_json::from_slice(&out.buf).unwrap();
        assert_eq!(value["a"], "x\"y\\z\u{1}");
        assert_eq!(value["b"]["n"], -3);
        assert_eq!(value["c"][1]["q"], serde_json::Value::Null);
        assert_eq!(value["d"][1], 2);
    }
}
