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
pub mod doc;
pub mod engine;
pub mod eval;
pub mod fast;
pub mod godur;
pub mod gojson;
pub mod gostr;
pub mod input;
pub mod output;
pub mod parse_cmd;
pub mod parser;
pub mod policy;
pub mod rego;
pub mod result;
pub mod runner;
pub mod strict;
pub mod trace;
pub mod verify;

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
        Some(Command::Verify(args)) => {
            let settings = verify::VerifySettings::resolve(args, &config)?;
            verify::run_verify(&settings)
        }
        Some(Command::Doc(args)) => doc::run_doc(&args),
        Some(Command::Parse(args)) => {
            let parser =
                Some(config.string("parser", args.parser.clone(), "")).filter(|p| !p.is_empty());
            let combine = config.bool("combine", args.combine, false)?;
            // conftest's parse has no flag for it, but reads the config file's value.
            let proto_file_dirs = config.list("proto-file-dirs", None, &[]);
            parse_cmd::run(&args, parser.as_deref(), combine, &proto_file_dirs)
        }
        None => Ok(runner::Outcome::default()),
    }
}
