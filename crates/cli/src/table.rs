//! Query results as a text table. On a terminal wide cells are cut to fit; in files
//! and pipes nothing is ever cut.

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use comfy_table::{Table, presets};

/// How a table is cut to fit a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// No cell longer than this many characters.
    pub max_cell: Option<usize>,
    /// The whole table within this many columns, by cutting the widest columns first.
    pub total_width: Option<usize>,
}

/// Narrowest a column is cut to when fitting the terminal.
const MIN_COLUMN: usize = 8;

/// The terminal's width, when stdout is one.
pub fn terminal_width() -> Option<usize> {
    Table::new().width().map(usize::from)
}

/// Renders `batches` (all of `schema`) as a table with a row count. With `fit`, cells are
/// cut (ending in `…`) so that none exceeds `max_cell` and the table fits `total_width`.
pub fn render(
    schema: &Schema,
    batches: &[RecordBatch],
    fit: Option<Fit>,
) -> anyhow::Result<String> {
    let rows = batches.iter().map(RecordBatch::num_rows).sum::<usize>() as u64;
    render_first(schema, batches, fit, rows)
}

/// Renders `batches`, the first rows of a result of `total` rows; the footer says how
/// many were left out.
pub fn render_first(
    schema: &Schema,
    batches: &[RecordBatch],
    fit: Option<Fit>,
    total: u64,
) -> anyhow::Result<String> {
    let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let options = FormatOptions::default().with_null("NULL");
    let mut rows: Vec<Vec<String>> = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(render_text(header, rows, fit, total))
}

/// Renders rows of text under `header`, like [`render`].
pub fn render_rows(header: Vec<String>, rows: Vec<Vec<String>>, fit: Option<Fit>) -> String {
    let total = rows.len() as u64;
    render_text(header, rows, fit, total)
}

fn render_text(
    header: Vec<String>,
    mut rows: Vec<Vec<String>>,
    fit: Option<Fit>,
    total: u64,
) -> String {
    if let Some(fit) = fit {
        let widths = column_widths(&header, &rows, fit);
        for row in &mut rows {
            for (cell, &width) in row.iter_mut().zip(&widths) {
                cut(cell, width);
            }
        }
    }
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_header(header);
    let shown = rows.len() as u64;
    for row in rows {
        table.add_row(row);
    }
    let plural = if total == 1 { "" } else { "s" };
    if shown < total {
        format!(
            "{table}\n{total} row{plural}; the first {shown} shown (--max-rows 0 shows all, -f csv streams them)\n"
        )
    } else {
        format!("{table}\n{total} row{plural}\n")
    }
}

/// Each column's width: its widest cell (or header), at most `max_cell`, then the widest
/// columns narrowed in turn until the table (3 characters of border a column, plus 1)
/// fits `total_width`, but never below [`MIN_COLUMN`] or the header.
fn column_widths(header: &[String], rows: &[Vec<String>], fit: Fit) -> Vec<usize> {
    let mut widths: Vec<usize> = header
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let widest = rows
                .iter()
                .map(|r| r[i].chars().count())
                .chain([name.chars().count()])
                .max()
                .unwrap_or(0);
            fit.max_cell.map_or(widest, |max| widest.min(max.max(1)))
        })
        .collect();
    if let Some(total) = fit.total_width {
        let floor: Vec<usize> = header
            .iter()
            .map(|h| h.chars().count().max(MIN_COLUMN))
            .collect();
        let border = 3 * widths.len() + 1;
        while widths.iter().sum::<usize>() + border > total {
            let Some((i, _)) = widths
                .iter()
                .enumerate()
                .filter(|(i, w)| **w > floor[*i])
                .max_by_key(|(_, w)| **w)
            else {
                break;
            };
            widths[i] -= 1;
        }
    }
    widths
}

/// Cuts `text` to `max` characters, the last being `…`.
fn cut(text: &mut String, max: usize) {
    if text.chars().count() > max {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        *text = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut_to(text: &str, max: usize) -> String {
        let mut text = text.to_string();
        cut(&mut text, max);
        text
    }

    #[test]
    fn cuts_only_what_is_too_long() {
        assert_eq!(cut_to("abcdef", 4), "abc…");
        assert_eq!(cut_to("abc", 4), "abc");
        assert_eq!(cut_to("ééééé", 3), "éé…");
    }

    #[test]
    fn the_widest_columns_give_way_first() {
        let header = vec!["n".to_string(), "arn".to_string()];
        let rows = vec![vec!["12".to_string(), "x".repeat(100)]];
        let no_terminal = Fit {
            max_cell: Some(40),
            total_width: None,
        };
        assert_eq!(column_widths(&header, &rows, no_terminal), [2, 40]);
        let narrow = Fit {
            max_cell: None,
            total_width: Some(40),
        };
        // 2 + 31 + 7 of border = 40.
        assert_eq!(column_widths(&header, &rows, narrow), [2, 31]);
        let tiny = Fit {
            max_cell: None,
            total_width: Some(5),
        };
        assert_eq!(column_widths(&header, &rows, tiny), [2, MIN_COLUMN]);
    }
}
