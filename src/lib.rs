//! regorun: a fast, Rego-compatible drop-in replacement for conftest, with a built-in
//! AWS KMS key-policy pack.
//!
//! Layers, bottom to top, each importing only the ones below it (as conftest separates
//! parser / engine / runner / output): [`base`] (shared helpers and result records),
//! [`parser`] (finding and reading inputs), [`rego`] (Rego sources and load-time checks),
//! [`engine`] (evaluation), [`fix`] (fixes attached to findings, applied to an input's
//! text), [`output`] (every output format), [`cli`] and [`config`]
//! (flags and configuration), and [`commands`] (one file per subcommand).

pub mod base;
pub mod cli;
pub mod commands;
pub mod config;
pub mod engine;
pub mod fix;
pub mod output;
pub mod parser;
pub mod rego;

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
pub fn run(cli: Cli) -> Result<commands::Outcome> {
    if cli.version {
        return Ok(commands::Outcome {
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
            let settings = commands::settings::TestSettings::resolve(args, &config)?;
            commands::test::run_test(&settings)
        }
        Some(Command::Verify(args)) => {
            let settings = commands::verify::VerifySettings::resolve(args, &config)?;
            commands::verify::run_verify(&settings)
        }
        Some(Command::Doc(args)) => commands::doc::run_doc(&args),
        Some(Command::Merge(args)) => commands::merge::run_merge(args, &config),
        Some(Command::Parse(args)) => {
            let parser =
                Some(config.string("parser", args.parser.clone(), "")).filter(|p| !p.is_empty());
            let combine = config.bool("combine", args.combine, false)?;
            // conftest's parse has no flag for it, but reads the config file's value.
            let proto_file_dirs = config.list("proto-file-dirs", None, &[]);
            commands::parse::run(&args, parser.as_deref(), combine, &proto_file_dirs)
        }
        None => Ok(commands::Outcome::default()),
    }
}
