//! `trailscope policy`: the IAM policy a role, user, root or person needs, from what
//! their calls used; denied calls are reported apart.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use trailscope_query::privilege::{Outcome, PolicyReport, policies};

use crate::Outcome as Exit;
use crate::args::PolicyConfig;
use crate::session::with_session;

pub fn run(config: PolicyConfig) -> anyhow::Result<Exit> {
    with_session(&config.dataset, async |ctx| {
        if let Some((granted, output)) = &config.compare {
            let rows = trailscope_query::privilege::summary::granted_vs_used(&ctx, granted).await?;
            let answer = trailscope_query::privilege::summary::answer(&rows)?;
            output
                .write_batches(&ctx, answer.schema, answer.batches)
                .await?;
            return Ok(Exit::Clean);
        }
        let report = policies(&ctx, &config.subject, config.scope).await?;
        if let Some(rows) = &config.rows {
            let answer = report.usage_answer();
            rows.write_batches(&ctx, answer.schema, answer.batches)
                .await?;
        } else if let Some(directory) = &config.directory {
            write_each(&report, directory)?;
        } else {
            let (_, policy) = report.policies.first().with_context(|| {
                "no allowed call that needs a permission: no policy to write \
                 (see the calls with --format table)"
            })?;
            let json = policy.to_json() + "\n";
            match &config.output {
                Some(path) => std::fs::write(path, json)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => std::io::stdout().write_all(json.as_bytes())?,
            }
        }
        note_denied(&report);
        Ok(Exit::Clean)
    })
}

/// One `<account>_<role path and name>.json` per role, and a line per file on stderr.
fn write_each(report: &PolicyReport, directory: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(directory)
        .with_context(|| format!("creating {}", directory.display()))?;
    for (role, policy) in &report.policies {
        let file = directory.join(file_name(role));
        std::fs::write(&file, policy.to_json() + "\n")
            .with_context(|| format!("writing {}", file.display()))?;
        eprintln!(
            "{}: {} actions -> {}",
            role,
            policy.actions().len(),
            file.display()
        );
    }
    eprintln!(
        "{} policies written to {}",
        report.policies.len(),
        directory.display()
    );
    Ok(())
}

/// `arn:aws:iam::111122223333:role/ops/deploy` -> `111122223333_role_ops_deploy.json`.
fn file_name(arn: &str) -> String {
    let mut fields = arn.splitn(6, ':');
    let account = fields.nth(4).unwrap_or_default();
    let resource = fields.next().unwrap_or(arn);
    let safe: String = format!("{account}_{resource}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.+=@,".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.json")
}

/// Denied calls are what broke, or what an intruder tried: say so on stderr, per
/// subject and action.
fn note_denied(report: &PolicyReport) {
    let mut denied: BTreeMap<(&str, &str), (u64, usize)> = BTreeMap::new();
    for usage in report.with_outcome(Outcome::Denied) {
        let action = usage.action.as_deref().unwrap_or(&usage.event_name);
        let entry = denied.entry((&usage.subject, action)).or_default();
        entry.0 += usage.calls;
        entry.1 += 1;
    }
    if denied.is_empty() {
        return;
    }
    let calls: u64 = denied.values().map(|(calls, _)| calls).sum();
    eprintln!("{calls} calls were denied (attempted, not granted):");
    for ((subject, action), (calls, resources)) in denied.iter().take(20) {
        eprintln!("  {subject} {action}: {calls} calls on {resources} resources");
    }
    if denied.len() > 20 {
        eprintln!(
            "  ... and {} more (--format table lists them)",
            denied.len() - 20
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_keep_account_path_and_name() {
        assert_eq!(
            super::file_name("arn:aws:iam::111122223333:role/ops/deploy"),
            "111122223333_role_ops_deploy.json"
        );
    }
}
