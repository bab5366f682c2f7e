//! `trailscope sigma sql`: the SQL each Sigma rule compiles to, for analysts to read.

use std::io::Write;
use std::path::PathBuf;

use crate::Outcome;

pub fn sql(rules: &[PathBuf], one_pass: bool) -> anyhow::Result<Outcome> {
    if rules.is_empty() {
        anyhow::bail!("name a Sigma rule file or directory");
    }
    let load = trailscope_query::sigma::load(rules);
    for (source, why) in &load.not_supported {
        eprintln!("trailscope: {source}: not supported: {why}");
    }
    let mut out = std::io::stdout().lock();
    let mut shown: Vec<_> = if one_pass {
        trailscope_query::sigma::rule_set(&load)
            .into_iter()
            .collect()
    } else {
        load.detections.clone()
    };
    shown.extend(load.correlations.iter().cloned());
    for d in &shown {
        let sql = trailscope_query::detections::findings_sql(std::slice::from_ref(d))?;
        writeln!(out, "-- {} ({}): {}\n{sql};\n", d.id, d.source, d.title)?;
    }
    Ok(if shown.is_empty() {
        anyhow::bail!("no rule compiled");
    } else if load.not_supported.is_empty() {
        Outcome::Clean
    } else {
        Outcome::InputProblems
    })
}
