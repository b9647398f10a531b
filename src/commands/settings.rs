//! The settings of `regorun test`, resolved from flags, environment and the config file
//! with conftest's precedence.

use crate::cli::TestArgs;
use crate::commands::{output_targets, rego_v0, OutputTarget};
use crate::config::Config;
use crate::engine::eval::EngineOptions;
use crate::output::OutputOptions;
use anyhow::{anyhow, bail, Result};

/// Fully resolved settings of `regorun test`.
#[derive(Debug, Clone)]
pub struct TestSettings {
    /// Inputs as given.
    pub paths: Vec<String>,
    /// Policy paths (`builtin:kms` for the embedded pack).
    pub policy: Vec<String>,
    /// Namespaces or globs.
    pub namespaces: Vec<String>,
    /// Evaluate every namespace.
    pub all_namespaces: bool,
    /// Data paths.
    pub data: Vec<String>,
    /// One combined input.
    pub combine: bool,
    /// Forced parser name.
    pub parser: Option<String>,
    /// Directories searched for `.proto` files (textproto message types).
    pub proto_file_dirs: Vec<String>,
    /// Output targets, in order.
    pub outputs: Vec<OutputTarget>,
    /// Exit 1 on warnings, 2 on failures.
    pub fail_on_warn: bool,
    /// Exit 0 unless an error occurs.
    pub no_fail: bool,
    /// Formatter options.
    pub output_options: OutputOptions,
    /// Print nothing when the exit code is 0.
    pub quiet: bool,
    /// Regex of walked paths to skip.
    pub ignore: Option<String>,
    /// Engine options.
    pub engine: EngineOptions,
    /// Report broken inputs as failures and go on.
    pub keep_going: bool,
    /// Worker threads (0 = all cores).
    pub jobs: usize,
    /// Name for stdin.
    pub stdin_filename: Option<String>,
    /// `--trace`: trace text on stderr (and instead of the stdout format's output).
    pub trace: bool,
    /// `--fail-on-empty`: an input for which no rule was evaluated fails the run.
    pub fail_on_empty: bool,
    /// `--diff`: print the corrected inputs as diffs instead of the results.
    pub diff: bool,
    /// `--fix`: write the corrected inputs, then report what remains.
    pub fix: bool,
    /// `--redact`: placeholders for AWS identifiers in every output.
    pub redact: bool,
    /// `--redact-map`: where to write the placeholder table.
    pub redact_map: Option<String>,
    /// `--shard K/N`: (K - 1, N).
    pub shard: Option<(u64, u64)>,
}

/// `--shard K/N` as (K - 1, N); empty is every input.
fn shard(value: &str) -> Result<Option<(u64, u64)>> {
    if value.is_empty() {
        return Ok(None);
    }
    let parsed = value
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((k, n)) if k >= 1 && k <= n => Ok(Some((k - 1, n))),
        _ => bail!(
            "invalid argument {} for \"--shard\" flag: want K/N with 1 <= K <= N",
            crate::base::gostr::quote(value)
        ),
    }
}

/// `--timeout`: empty or zero is no limit; otherwise pflag's wording for a bad duration.
fn timeout(value: &str) -> Result<Option<std::time::Duration>> {
    if value.is_empty() {
        return Ok(None);
    }
    let d = crate::base::godur::parse(value).map_err(|e| {
        anyhow!(
            "invalid argument {} for \"--timeout\" flag: {e}",
            crate::base::gostr::quote(value)
        )
    })?;
    Ok((!d.is_zero()).then_some(d))
}

/// The built-in pack is used when no policy path is configured and `./policy` is absent.
pub const DEFAULT_BUILTIN: &str = "builtin:kms";

impl TestSettings {
    /// Applies conftest's precedence to the flags, environment and config file.
    pub fn resolve(args: TestArgs, cfg: &Config) -> Result<TestSettings> {
        let unsupported = [
            (
                "update",
                args.update.as_ref().is_some_and(|v| !v.is_empty()) || cfg.is_set("update"),
            ),
            (
                "capabilities",
                args.capabilities.as_ref().is_some_and(|v| !v.is_empty()),
            ),
        ];
        if let Some((flag, _)) = unsupported.iter().find(|(_, set)| *set) {
            bail!("the --{flag} flag is not supported by this build of regorun");
        }
        let policy_configured = args.policy.is_some() || cfg.is_set("policy");
        let mut policy = cfg.list("policy", args.policy, &["policy"]);
        if !policy_configured && !std::path::Path::new("policy").exists() {
            policy = vec![DEFAULT_BUILTIN.to_string()];
        }
        let outputs = output_targets(cfg.list("output", args.report.output, &["stdout"]))?;
        let rego_v0 = rego_v0(&cfg.string("rego-version", args.rego_version, "v1"))
            .map_err(|e| anyhow!("running test: load: loading policies: {e}"))?;
        let parser = Some(cfg.string("parser", args.parser, "")).filter(|p| !p.is_empty());
        Ok(TestSettings {
            paths: args.paths,
            policy,
            namespaces: cfg.list("namespace", args.namespace, &["main"]),
            all_namespaces: cfg.bool("all-namespaces", args.all_namespaces, false)?,
            data: cfg.list("data", args.data, &[]),
            combine: cfg.bool("combine", args.combine, false)?,
            parser,
            // `--proto-file-dirs ""` is an empty list, as pflag reads it.
            proto_file_dirs: cfg
                .list("proto-file-dirs", args.proto_file_dirs, &[])
                .into_iter()
                .filter(|d| !d.is_empty())
                .collect(),
            outputs,
            fail_on_warn: cfg.bool("fail-on-warn", args.report.fail_on_warn, false)?,
            no_fail: cfg.bool("no-fail", args.report.no_fail, false)?,
            output_options: OutputOptions {
                suppress_exceptions: cfg.bool(
                    "suppress-exceptions",
                    args.suppress_exceptions,
                    false,
                )?,
                ..OutputOptions::resolve(
                    cfg,
                    args.report.no_color,
                    args.junit_hide_message,
                    args.github_hide_passed,
                )?
            },
            quiet: cfg.bool("quiet", args.quiet, false)?,
            ignore: Some(cfg.string("ignore", args.ignore, "")).filter(|s| !s.is_empty()),
            engine: EngineOptions {
                rego_v0,
                strict_builtin_errors: cfg.bool(
                    "show-builtin-errors",
                    args.show_builtin_errors,
                    false,
                )?,
                strict: cfg.bool("strict", args.strict, false)?,
                interpreter_only: crate::engine::fast::FastProgram::disabled_by_env(),
                timeout: timeout(&cfg.string("timeout", args.timeout, ""))?,
            },
            keep_going: cfg.bool("keep-going", args.keep_going, false)?,
            jobs: args.jobs.unwrap_or(0),
            stdin_filename: Some(cfg.string("stdin-filename", args.stdin_filename, ""))
                .filter(|s| !s.is_empty()),
            trace: cfg.bool("trace", args.trace, false)?,
            fail_on_empty: cfg.bool("fail-on-empty", args.fail_on_empty, false)?,
            diff: cfg.bool("diff", args.diff, false)?,
            fix: cfg.bool("fix", args.fix, false)?,
            shard: shard(&cfg.string("shard", args.shard, ""))?,
            redact: cfg.bool("redact", args.redact, false)?,
            redact_map: Some(cfg.string("redact-map", args.redact_map, ""))
                .filter(|s| !s.is_empty()),
        })
    }
}
