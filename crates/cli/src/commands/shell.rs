//! `trailscope shell`: an interactive SQL shell with history, multi-line statements,
//! `\d` to list and describe tables, `\df` for trailscope's functions, and the time of
//! every query.

use std::time::Instant;

use anyhow::Context;
use datafusion::prelude::SessionContext;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use trailscope_ingest::schema::{COLUMNS, PARTITION_COLUMN};
use trailscope_query::{EVENTS, user_table, user_tables};

use crate::Outcome;
use crate::args::ShellConfig;
use crate::output::OutputConfig;
use crate::table::render_rows;

const HELP: &str = "\
Statements end with `;` and may span lines. Ctrl-C clears the statement, Ctrl-D quits.
  \\d         list tables
  \\d NAME    describe a table's columns
  \\df        trailscope's SQL functions (DataFusion's own work too, as do json_get_str and ->>)
  \\?         this help
  \\q         quit";

pub fn run(config: ShellConfig) -> anyhow::Result<Outcome> {
    let (runtime, ctx) = crate::session::open(&config.dataset)?;
    let mut editor = DefaultEditor::new().context("cannot start the line editor")?;
    if let Some(history) = &config.history {
        // A missing history file is the first session, not an error.
        let _ = editor.load_history(history);
    }
    println!(
        "trailscope shell on {}; tables: {}. End statements with `;`, \\? for help, \\q to quit.",
        config.dataset.root.display(),
        user_tables(&ctx).join(", ")
    );
    let mut statement = String::new();
    loop {
        let prompt = if statement.is_empty() {
            "trailscope> "
        } else {
            "       ...> "
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                statement.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e).context("cannot read input"),
        };
        if statement.is_empty() && line.trim_start().starts_with('\\') {
            let _ = editor.add_history_entry(line.trim());
            match runtime.block_on(meta_command(&ctx, line.trim(), &config.output)) {
                Ok(Next::Quit) => break,
                Ok(Next::Continue) => {}
                Err(e) => eprintln!("error: {}", crate::errors::one_line(&e)),
            }
            continue;
        }
        if statement.is_empty() && line.trim().is_empty() {
            continue;
        }
        statement.push_str(&line);
        statement.push('\n');
        if !is_complete(&statement) {
            continue;
        }
        let _ = editor.add_history_entry(statement.trim());
        if let Err(e) = runtime.block_on(execute(
            &ctx,
            &config.dataset.root,
            &statement,
            &config.output,
        )) {
            if crate::errors::is_broken_pipe(&e) {
                break;
            }
            eprintln!("error: {}", crate::errors::one_line(&e));
        }
        statement.clear();
    }
    if let Some(history) = &config.history {
        let _ = editor.save_history(history);
    }
    Ok(Outcome::Clean)
}

/// Runs one statement, prints its rows and how long it took.
async fn execute(
    ctx: &SessionContext,
    dataset: &std::path::Path,
    sql: &str,
    output: &OutputConfig,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let frame = trailscope_query::analyst_sql(ctx, dataset, sql).await?;
    output.write_frame(frame).await?;
    println!("({:.3} s)", started.elapsed().as_secs_f64());
    Ok(())
}

/// What the shell does after a meta-command.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Continue,
    Quit,
}

/// Runs a backslash command (`\d`, `\d NAME`, `\df`, `\?`, `\q`).
async fn meta_command(
    ctx: &SessionContext,
    line: &str,
    output: &OutputConfig,
) -> anyhow::Result<Next> {
    let mut words = line.split_whitespace();
    let command = words.next().unwrap_or_default();
    let argument = words.next();
    let fit = output.fit;
    match (command, argument) {
        ("\\q", _) => return Ok(Next::Quit),
        ("\\?", _) => println!("{HELP}"),
        ("\\d", None) => {
            let rows = user_tables(ctx)
                .into_iter()
                .map(|name| vec![name])
                .collect();
            print!("{}", render_rows(vec!["table".into()], rows, fit));
        }
        ("\\d", Some(name)) => {
            let Some(table) = user_table(ctx, name).await? else {
                anyhow::bail!("no table named {name} (\\d lists them)");
            };
            let rows = table
                .schema()
                .fields()
                .iter()
                .map(|field| {
                    vec![
                        field.name().clone(),
                        field.data_type().to_string(),
                        column_doc(name, field.name()).to_string(),
                    ]
                })
                .collect();
            let header = vec!["column".into(), "type".into(), "meaning".into()];
            print!("{}", render_rows(header, rows, fit));
        }
        ("\\df", _) => {
            let docs = trailscope_query::udf::functions()
                .into_iter()
                .map(|(_, doc)| doc)
                .chain(
                    trailscope_query::udf::aggregate_functions()
                        .into_iter()
                        .map(|(_, doc)| doc),
                );
            let rows = docs
                .map(|doc| {
                    vec![
                        doc.usage.to_string(),
                        doc.description.to_string(),
                        format!("{} = {}", doc.example, doc.result),
                    ]
                })
                .collect();
            let header = vec!["function".into(), "returns".into(), "example".into()];
            print!("{}", render_rows(header, rows, fit));
        }
        _ => anyhow::bail!("unknown command {command} (\\? lists them)"),
    }
    Ok(Next::Continue)
}

/// The documented meaning of a column of `events` (empty for other tables).
fn column_doc(table: &str, column: &str) -> &'static str {
    if table != EVENTS {
        return "";
    }
    if column == PARTITION_COLUMN {
        return "Hive partition: the UTC date of event_time, YYYY-MM-DD (filter on it to skip whole days).";
    }
    COLUMNS
        .iter()
        .find(|(name, _, _)| *name == column)
        .map_or("", |(_, _, doc)| doc)
}

/// Whether `text` holds a complete statement: a `;` outside quotes and comments ends it.
fn is_complete(text: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Code,
        Single,
        Double,
        LineComment,
        BlockComment,
    }
    let mut state = State::Code;
    let mut complete = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        state = match (state, c) {
            (State::Code, '\'') => State::Single,
            (State::Code, '"') => State::Double,
            (State::Code, '-') if chars.peek() == Some(&'-') => State::LineComment,
            (State::Code, '/') if chars.peek() == Some(&'*') => {
                chars.next();
                State::BlockComment
            }
            (State::Code, ';') => {
                complete = true;
                State::Code
            }
            (State::Single, '\'') | (State::Double, '"') | (State::LineComment, '\n') => {
                State::Code
            }
            (State::BlockComment, '*') if chars.peek() == Some(&'/') => {
                chars.next();
                State::Code
            }
            (state, _) => state,
        };
        // Anything but blanks and comments after the `;` starts a new statement.
        if complete && state == State::Code && !c.is_whitespace() && c != ';' {
            complete = false;
        }
    }
    complete && state != State::Single && state != State::Double && state != State::BlockComment
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_semicolon_outside_quotes_and_comments_ends_a_statement() {
        assert!(is_complete("SELECT 1;"));
        assert!(is_complete("SELECT 1\n  FROM events;\n"));
        assert!(is_complete("SELECT ';' AS x;"));
        assert!(is_complete("SELECT 1; -- done"));
        assert!(!is_complete("SELECT 1"));
        assert!(!is_complete("SELECT ';"));
        assert!(!is_complete("SELECT \"a;b"));
        assert!(!is_complete("SELECT 1 -- the end;"));
        assert!(!is_complete("SELECT 1 /* ; */"));
        assert!(is_complete("SELECT 1 /* ; */;"));
        // '' inside a string is an escaped quote, not its end.
        assert!(is_complete("SELECT 'it''s';"));
        assert!(!is_complete("SELECT 'it'';"));
    }

    #[test]
    fn columns_of_events_are_documented() {
        assert!(column_doc(EVENTS, "user_identity_type").contains("userIdentity.type"));
        assert!(column_doc(EVENTS, PARTITION_COLUMN).contains("date"));
        assert_eq!(column_doc("other", "user_identity_type"), "");
        assert!(
            COLUMNS
                .iter()
                .all(|(name, _, _)| !column_doc(EVENTS, name).is_empty())
        );
    }
}
