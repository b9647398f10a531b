//! The subcommands, one file each, on top of every other layer: they resolve settings
//! from flags and configuration, drive the engine and hand results to `output`.
//! Nothing below imports from here.

pub mod check;
pub mod doc;
pub mod emit;
pub mod merge;
pub mod parse;
pub mod settings;
mod stream;
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
pub fn output_targets(values: Vec<String>) -> Result<Vec<OutputTarget>> {
    let mut out: Vec<OutputTarget> = Vec::with_capacity(values.len());
    for o in values {
        let target = match o.split_once('=') {
            Some((f, p)) => OutputTarget {
                format: f.to_string(),
                path: Some(p.to_string()),
            },
            None => OutputTarget {
                format: o,
                path: None,
            },
        };
        if let Some(path) = &target.path {
            // Two formats written to one file would leave only the last.
            let same = |p: &str| same_path(p, path);
            if out.iter().any(|t| t.path.as_deref().is_some_and(same)) {
                bail!("the output file {path} is named by more than one --output flag");
            }
        }
        out.push(target);
    }
    Ok(out)
}

/// Whether two paths name the same file as written (`./a` and `a`).
fn same_path(a: &str, b: &str) -> bool {
    use std::path::{Component, Path};
    fn parts(p: &str) -> Vec<Component<'_>> {
        Path::new(p)
            .components()
            .filter(|c| *c != Component::CurDir)
            .collect()
    }
    parts(a) == parts(b)
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
            ..OutputOptions::default()
        })
    }
}
