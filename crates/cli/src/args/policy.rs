//! `trailscope policy`: its arguments and their validated config.

use std::path::PathBuf;

use anyhow::bail;
use clap::{ArgGroup, Args, ValueEnum};
use trailscope_query::privilege::{PolicySubject, ResourceScope};

use super::{DatasetArgs, DatasetConfig};
use crate::output::{Format, OutputConfig};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("subject").required(true).args(["principal", "actor", "all_roles", "authorization_details"])))]
pub struct PolicyArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// The policy of one role, IAM user or root: what its calls used
    /// (arn:aws:iam::ACCOUNT:role/NAME, :user/NAME, :root).
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// The policy of one person or workload: what every session attributed to it used,
    /// whatever roles it went through (an actor as `principals --kind actor` lists it).
    #[arg(long, value_name = "ACTOR")]
    pub actor: Option<String>,
    /// Write one policy file per role that signed calls into this directory.
    #[arg(long, value_name = "DIR")]
    pub all_roles: Option<PathBuf>,
    /// Granted against used: the output of `aws iam get-account-authorization-details`
    /// (one or more accounts); prints, per user and role, the actions granted, used and
    /// unused, the least-privilege ratio, and the last use of each service.
    #[arg(long, value_name = "FILE")]
    pub authorization_details: Option<PathBuf>,
    /// `named`: scope statements to the resources the calls named, where the action
    /// supports it; `any`: `"*"` everywhere.
    #[arg(long, value_enum, default_value_t = ResourcesArg::Named)]
    pub resources: ResourcesArg,
    /// Print the rows behind the policy instead (action, resource, outcome, calls, first
    /// and last use, event, mapping): table, csv, json, jsonl.
    #[arg(long, short, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Write the policy (or the rows) to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResourcesArg {
    Named,
    Any,
}

/// A validated `policy` command.
#[derive(Debug)]
pub struct PolicyConfig {
    pub dataset: DatasetConfig,
    /// With `--authorization-details`: the granted actions to compare, and the output.
    pub compare: Option<(
        Vec<trailscope_query::privilege::authorization::Granted>,
        OutputConfig,
    )>,
    pub subject: PolicySubject,
    pub scope: ResourceScope,
    /// Where each role's policy goes, with `--all-roles`.
    pub directory: Option<PathBuf>,
    /// The rows instead of the policy, with `--format`.
    pub rows: Option<OutputConfig>,
    /// The policy's file, or stdout.
    pub output: Option<PathBuf>,
}

impl PolicyArgs {
    pub fn into_config(self) -> anyhow::Result<PolicyConfig> {
        let compare = match &self.authorization_details {
            Some(path) => Some((
                super::read_authorization_details(path)?,
                OutputConfig::new(
                    self.format.unwrap_or(Format::Table),
                    self.output.clone(),
                    60,
                    0,
                )?,
            )),
            None => None,
        };
        let subject = match (self.principal, self.actor, &self.all_roles) {
            _ if compare.is_some() => PolicySubject::AllRoles,
            (Some(arn), None, None) => {
                let arn = arn.trim().to_string();
                if !arn.starts_with("arn:") {
                    bail!("--principal takes an ARN (arn:aws:iam::ACCOUNT:role/NAME, ...)");
                }
                PolicySubject::Principal(arn)
            }
            (None, Some(actor), None) if !actor.trim().is_empty() => {
                PolicySubject::Actor(actor.trim().to_string())
            }
            (None, None, Some(_)) => PolicySubject::AllRoles,
            _ => bail!("give one of --principal ARN, --actor ACTOR, --all-roles DIR"),
        };
        let rows = self
            .format
            .map(|format| OutputConfig::new(format, self.output.clone(), 60, 0))
            .transpose()?;
        Ok(PolicyConfig {
            dataset: self.dataset.into_config()?,
            compare,
            subject,
            scope: match self.resources {
                ResourcesArg::Named => ResourceScope::Named,
                ResourcesArg::Any => ResourceScope::Any,
            },
            directory: self.all_roles,
            rows,
            output: self.output,
        })
    }
}
