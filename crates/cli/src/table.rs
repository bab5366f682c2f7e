//! Query results as a text table. On a terminal wide cells are cut to fit; in files
//! and pipes nothing is ever cut.

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use comfy_table::{Table, presets};

/// Renders `batches` (all of `schema`) as a table. Cells longer than `max_cell` characters
/// are cut and end with `…`.
pub fn render(
    schema: &Schema,
    batches: &[RecordBatch],
    max_cell: Option<usize>,
) -> anyhow::Result<String> {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_header(schema.fields().iter().map(|f| f.name().as_str()));
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = 0usize;
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            table.add_row(
                formatters
                    .iter()
                    .map(|f| cut(f.value(row).to_string(), max_cell)),
            );
            rows += 1;
        }
    }
    Ok(format!(
        "{table}\n{rows} row{}\n",
        if rows == 1 { "" } else { "s" }
    ))
}

fn cut(text: String, max: Option<usize>) -> String {
    match max {
        Some(max) if text.chars().count() > max => {
            let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
            out.push('…');
            out
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_only_when_asked() {
        assert_eq!(cut("abcdef".into(), Some(4)), "abc…");
        assert_eq!(cut("abcdef".into(), None), "abcdef");
        assert_eq!(cut("abc".into(), Some(4)), "abc");
    }
}
