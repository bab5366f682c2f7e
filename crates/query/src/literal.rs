//! SQL text built from values: the one place literals are quoted.

/// `text` as a SQL string literal: in single quotes, each quote doubled.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(literal("o'brien"), "'o''brien'");
        assert_eq!(literal("x' OR 1=1 --"), "'x'' OR 1=1 --'");
        assert_eq!(literal(""), "''");
    }
}
