//! The HTML report: [`trailscope_query::report::Report`] rendered through a minijinja
//! template into one self-contained page (styles, script and SVG charts inline; a
//! Content-Security-Policy that lets the page fetch nothing).

mod charts;

use std::collections::BTreeMap;

use minijinja::{Environment, Value, context};
use serde::Serialize;
use trailscope_query::report::{Report, shell_word};

const TEMPLATE: &str = include_str!("report.html.j2");
const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// A query as the page shows it: its title, SQL and the command that reruns it.
#[derive(Debug, Serialize)]
struct ShownQuery {
    title: String,
    sql: String,
    command: String,
}

/// The report as one HTML page; `generated` is the time printed in its header.
pub fn render(report: &Report, generated: &str) -> anyhow::Result<String> {
    let queries: BTreeMap<String, ShownQuery> = report
        .queries
        .iter()
        .map(|q| {
            (
                q.id.clone(),
                ShownQuery {
                    title: q.title.clone(),
                    sql: q.sql.clone(),
                    command: format!("{} {}", report.rerun, shell_word(&q.sql)),
                },
            )
        })
        .collect();
    let (activity_svg, errors_svg) = charts::activity(&report.activity)?;
    let mut root_svgs = BTreeMap::new();
    for account in &report.root {
        if account.events > 0 {
            root_svgs.insert(
                account.account.clone(),
                charts::root_timeline(&report.root_events, &account.account)?,
            );
        }
    }
    let mut shared_svgs = BTreeMap::new();
    for identity in &report.shared {
        shared_svgs.insert(
            identity.finding_id.clone(),
            charts::shared_timeline(identity)?,
        );
    }
    let distinct = |f: &dyn Fn(&trailscope_query::report::Finding) -> String| {
        let mut v: Vec<String> = report.findings.iter().map(f).collect();
        v.sort();
        v.dedup();
        v
    };
    let filters = context! {
        severities => ["critical", "high", "medium", "low", "info"]
            .iter()
            .filter(|s| report.findings.iter().any(|f| f.severity == **s))
            .collect::<Vec<_>>(),
        detections => distinct(&|f| f.detection_id.clone()),
        accounts => distinct(&|f| f.account_id.clone()),
    };

    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)?;
    let links: BTreeMap<String, String> = queries
        .iter()
        .map(|(id, q)| (id.clone(), q.command.clone()))
        .collect();
    env.add_function("q", move |id: String| -> Value {
        let title = links.get(&id).cloned().unwrap_or_default();
        Value::from_safe_string(format!(
            "<a class=\"q\" href=\"#q-{}\" title=\"{}\">query</a>",
            escape(&id),
            escape(&title)
        ))
    });
    env.add_filter("num", |v: Value| -> String {
        match i64::try_from(v.clone()) {
            Ok(n) => thousands(n),
            Err(_) => v.to_string(),
        }
    });
    let page = env.get_template("report.html")?.render(context! {
        report => Value::from_serialize(report),
        queries => Value::from_serialize(&queries),
        style => Value::from_safe_string(STYLE.to_string()),
        script => Value::from_safe_string(SCRIPT.to_string()),
        activity_svg => Value::from_safe_string(activity_svg),
        errors_svg => Value::from_safe_string(errors_svg),
        root_svgs => Value::from_serialize(
            root_svgs.into_iter().map(|(k, v)| (k, Value::from_safe_string(v))).collect::<BTreeMap<_, _>>()
        ),
        shared_svgs => Value::from_serialize(
            shared_svgs.into_iter().map(|(k, v)| (k, Value::from_safe_string(v))).collect::<BTreeMap<_, _>>()
        ),
        filters => filters,
        generated => generated,
    })?;
    Ok(page)
}

/// `text` escaped for an HTML attribute or element.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `n` with a comma between each group of three digits.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(7_059_195), "7,059,195");
        assert_eq!(thousands(-1234), "-1,234");
    }

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'"),
            "&lt;a href=&quot;x&quot;&gt;&#39;"
        );
    }
}
