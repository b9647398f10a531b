//! The subcommands, one file each, on top of every other layer: they resolve settings
//! from flags and configuration, drive the engine and hand results to `output`.
//! Nothing below imports from here.

pub mod doc;
pub mod parse;
pub mod test;
pub mod verify;

use crate::output::OutputOptions;
use anyhow::{bail, Result};

/// Where one output format goes.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputTarget {
    /// Format name as given.
    pub format: String,
    /// A file to write, or `None` for stdout.
    pub path: Option<String>,
}

/// `-o` values: `FORMAT` goes to stdout, `FORMAT=PATH` to a file.
pub fn output_targets(values: Vec<String>) -> Vec<OutputTarget> {
    values
        .into_iter()
        .map(|o| match o.split_once('=') {
            Some((f, p)) => OutputTarget {
                format: f.to_string(),
                path: Some(p.to_string()),
            },
            None => OutputTarget {
                format: o,
                path: None,
            },
        })
        .collect()
}

/// `--rego-version`: `Ok(true)` for v0; the error is conftest's text without its prefix.
pub fn rego_v0(version: &str) -> Result<bool> {
    match version {
        "v0" | "V0" => Ok(true),
        "v1" | "V1" => Ok(false),
        other => bail!("invalid Rego version: {other}"),
    }
}

/// What a command produced: text for stdout, files to write, and the exit code.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Text for standard output.
    pub stdout: String,
    /// Text for standard error, printed before stdout (e.g. `--trace`).
    pub stderr: String,
    /// Extra outputs for `-o FORMAT=PATH`.
    pub files: Vec<(String, String)>,
    /// Process exit code.
    pub exit_code: i32,
}

impl OutputOptions {
    /// The settings `test` and `verify` share, with conftest's flag > env > file precedence.
    pub fn resolve(
        cfg: &crate::config::Config,
        no_color: Option<bool>,
        junit_hide_message: Option<bool>,
        github_hide_passed: Option<bool>,
    ) -> anyhow::Result<OutputOptions> {
        Ok(OutputOptions {
            color: !cfg.bool("no-color", no_color, false)?,
            suppress_exceptions: false,
            show_skipped: false,
            junit_hide_message: cfg.bool("junit-hide-message", junit_hide_message, false)?,
            github_hide_passed: cfg.bool("github-hide-passed", github_hide_passed, false)?,
        })
    }
}
