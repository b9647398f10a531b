//! regorun: a fast, Rego-compatible drop-in replacement for conftest, with a built-in
//! AWS KMS key-policy pack.
//!
//! The crate is split the way conftest is: [`input`] and [`parser`] find and read inputs,
//! [`policy`] and [`data`] load Rego and data, [`eval`] queries rules, [`runner`] drives
//! the `test` command, and [`output`] renders results in every format.

pub mod builtins;
pub mod cli;
pub mod config;
pub mod data;
pub mod eval;
pub mod fast;
pub mod gojson;
pub mod input;
pub mod output;
pub mod parser;
pub mod policy;
pub mod result;
pub mod runner;

use anyhow::Result;
use cli::{Cli, Command};

/// Version line printed by `regorun --version`.
pub fn version_text() -> String {
    format!(
        "regorun: {}\nConftest: 0.69.0 (compatible)\nOPA: regorus 0.14.1\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Runs a parsed command line and returns what to print and the exit code.
pub fn run(cli: Cli) -> Result<runner::Outcome> {
    if cli.version {
        return Ok(runner::Outcome {
            stdout: version_text(),
            ..Default::default()
        });
    }
    let config = config::Config::load(cli.config_file.as_deref())?;
    match cli.command {
        Some(Command::Test(args)) => {
            if args.paths.iter().all(|p| p.is_empty()) {
                anyhow::bail!("missing required arguments");
            }
            let settings = runner::TestSettings::resolve(args, &config)?;
            runner::run_test(&settings)
        }
        Some(Command::Verify(_)) => {
            anyhow::bail!("verify is not available in this build of regorun")
        }
        Some(Command::Parse(_)) => anyhow::bail!("parse is not available in this build of regorun"),
        None => Ok(runner::Outcome::default()),
    }
}
