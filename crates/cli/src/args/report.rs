//! `trailscope report`: its arguments and their validated config.

use std::path::PathBuf;

use clap::Args;
use trailscope_query::detections::DetectionSet;
use trailscope_query::report::ReportRequest;

use super::{DatasetArgs, DatasetConfig};

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// The HTML file to write (one self-contained file: no network at view time).
    #[arg(
        long,
        short,
        value_name = "FILE",
        default_value = "trailscope-report.html"
    )]
    pub output: PathBuf,
    /// The title on the page.
    #[arg(long, default_value = "CloudTrail report")]
    pub title: String,
    /// Also run the Sigma rules of this file or directory (repeatable); their findings are
    /// listed with the built-in ones.
    #[arg(long, value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
    /// The output of `aws iam get-account-authorization-details`: adds the least-privilege
    /// section (granted against used, per user and role).
    #[arg(long, value_name = "FILE")]
    pub authorization_details: Option<PathBuf>,
    /// Print on stderr how long each of the report's queries took.
    #[arg(long)]
    pub timings: bool,
}

/// A validated `report` command.
#[derive(Debug)]
pub struct ReportConfig {
    pub dataset: DatasetConfig,
    pub output: PathBuf,
    pub request: ReportRequest,
    pub timings: bool,
}

impl ReportArgs {
    pub fn into_config(self) -> anyhow::Result<ReportConfig> {
        let mut window_args = Vec::new();
        if let Some(since) = &self.dataset.since {
            window_args.push(format!(
                "--since {}",
                trailscope_query::report::shell_word(since)
            ));
        }
        if let Some(until) = &self.dataset.until {
            window_args.push(format!(
                "--until {}",
                trailscope_query::report::shell_word(until)
            ));
        }
        let dataset_label = self.dataset.dataset.display().to_string();
        let mut dataset = self.dataset.into_config()?;
        if !self.sigma.is_empty() {
            let mut all = DetectionSet::builtin().detections().to_vec();
            let load = super::load_sigma(&self.sigma);
            all.extend(trailscope_query::sigma::rule_set(&load));
            all.extend(load.correlations);
            dataset.options.detections = DetectionSet::new(all)?;
        }
        let granted = self
            .authorization_details
            .as_deref()
            .map(super::read_authorization_details)
            .transpose()?;
        Ok(ReportConfig {
            dataset,
            output: self.output,
            request: ReportRequest {
                title: self.title,
                dataset_label,
                window_args: window_args.join(" "),
                granted,
            },
            timings: self.timings,
        })
    }
}
