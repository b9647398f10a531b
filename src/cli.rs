//! Command-line definitions: conftest's commands and flags, same long and short names.
//!
//! Every setting is optional here so that [`crate::config::Config`] can tell an explicit
//! flag from a default and apply conftest's precedence (flag > env > config file > default).

use clap::{Args, Parser, Subcommand};

/// A fast, Rego-compatible drop-in replacement for conftest.
#[derive(Debug, Parser)]
#[command(name = "regorun", disable_version_flag = true)]
pub struct Cli {
    /// Path to a config file (default: regorun.toml or conftest.{json,toml,yaml,yml} in the current directory)
    #[arg(short = 'c', long = "config-file", global = true)]
    pub config_file: Option<String>,

    /// Print the version and exit
    #[arg(short = 'v', long = "version")]
    pub version: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Test your configuration files using Open Policy Agent
    Test(TestArgs),
    /// Verify Rego unit tests
    Verify(VerifyArgs),
    /// Print out the parsed input files
    Parse(ParseArgs),
    /// Generate documentation
    Doc(DocArgs),
    /// regorun: combine the JSON reports of `test --shard` runs into one report
    Merge(MergeArgs),
}

/// The flags of `test` and `merge` that choose the output and the exit code.
#[derive(Debug, Args, Default)]
pub struct ReportArgs {
    /// Output format for conftest results (stdout, json, tap, table, junit, github, azuredevops, sarif)
    #[arg(short = 'o', long)]
    pub output: Option<Vec<String>>,
    /// Return a non-zero exit code if warnings or errors are found
    #[arg(long = "fail-on-warn", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub fail_on_warn: Option<bool>,
    /// Return an exit code of zero even if a policy fails
    #[arg(long = "no-fail", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub no_fail: Option<bool>,
    /// Disable color when printing
    #[arg(long = "no-color", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub no_color: Option<bool>,
}

/// Flags of `regorun merge`.
#[derive(Debug, Args, Default)]
pub struct MergeArgs {
    /// The JSON reports (`regorun test --shard K/N -o json`)
    #[arg(required = true)]
    pub reports: Vec<String>,
    /// What the run reports and its exit code.
    #[command(flatten)]
    pub report: ReportArgs,
    /// Hide the message in the JUnit test name
    #[arg(long = "junit-hide-message", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub junit_hide_message: Option<bool>,
    /// Hide passed results in GitHub output
    #[arg(long = "github-hide-passed", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub github_hide_passed: Option<bool>,
}

/// Boolean flags take Go spellings: `--flag`, `--flag=true`, `--flag=false`, `--flag=1`.
fn go_bool(s: &str) -> Result<bool, String> {
    crate::base::gostr::parse_go_bool(s)
}

/// Flags of `regorun test`.
#[derive(Debug, Args, Default)]
pub struct TestArgs {
    /// Files or directories to test ('-' for stdin)
    pub paths: Vec<String>,

    /// Path to the Rego policy files directory (builtin:kms names the built-in pack)
    #[arg(short = 'p', long, value_delimiter = ',')]
    pub policy: Option<Vec<String>>,
    /// Test policies in a specific namespace (glob patterns allowed)
    #[arg(short = 'n', long, value_delimiter = ',')]
    pub namespace: Option<Vec<String>>,
    /// Test policies found in all namespaces
    #[arg(long = "all-namespaces", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub all_namespaces: Option<bool>,
    /// A list of paths from which data for the rego policies will be recursively loaded
    #[arg(short = 'd', long, value_delimiter = ',')]
    pub data: Option<Vec<String>>,
    /// Combine all config files to be evaluated together
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub combine: Option<bool>,
    /// Parser to use to parse the configurations
    #[arg(long)]
    pub parser: Option<String>,
    /// What the run reports and its exit code.
    #[command(flatten)]
    pub report: ReportArgs,
    /// Do not include exceptions in output
    #[arg(long = "suppress-exceptions", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub suppress_exceptions: Option<bool>,
    /// Disable successful test output
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub quiet: Option<bool>,
    /// Enable more detailed trace output
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub trace: Option<bool>,
    /// Enable strict mode for Rego policies
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub strict: Option<bool>,
    /// Collect and return all encountered built-in errors
    #[arg(long = "show-builtin-errors", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub show_builtin_errors: Option<bool>,
    /// A regex pattern which can be used for ignoring paths
    #[arg(long)]
    pub ignore: Option<String>,
    /// A list of URLs can be provided to the update flag, which will download before the tests run
    #[arg(short = 'u', long, value_delimiter = ',')]
    pub update: Option<Vec<String>>,
    /// Path to JSON file that can filter the built-ins and features of the OPA runtime
    #[arg(long)]
    pub capabilities: Option<String>,
    /// Which version of Rego syntax to use. Options: v0, v1
    #[arg(long = "rego-version")]
    pub rego_version: Option<String>,
    /// A list of directories containing Protocol Buffer definitions
    #[arg(long = "proto-file-dirs", value_delimiter = ',')]
    pub proto_file_dirs: Option<Vec<String>>,
    /// Hide the message in the JUnit test name
    #[arg(long = "junit-hide-message", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub junit_hide_message: Option<bool>,
    /// Hide passed results in GitHub output
    #[arg(long = "github-hide-passed", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub github_hide_passed: Option<bool>,
    /// Name to use for stdin input in results
    #[arg(long = "stdin-filename")]
    pub stdin_filename: Option<String>,
    /// Use TLS to access the registry (used by --update only)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub tls: Option<bool>,
    /// regorun: report unreadable or unparsable files as failures and evaluate the rest
    #[arg(long = "keep-going", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub keep_going: Option<bool>,
    /// regorun: worker threads for evaluation (default: all cores)
    #[arg(long)]
    pub jobs: Option<usize>,
    /// regorun: fail a document whose evaluation runs longer than this (Go duration: 500ms, 30s, 2m; default: no limit)
    #[arg(long)]
    pub timeout: Option<String>,
    /// regorun: exit 1 when no rule was evaluated for some input (a namespace mismatch tests nothing)
    #[arg(long = "fail-on-empty", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub fail_on_empty: Option<bool>,
    /// regorun: print a unified diff of each input as the findings' fixes correct it, instead of the results (nothing is written)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub diff: Option<bool>,
    /// regorun: write each input as the findings' fixes correct it, then evaluate again and report what remains
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub fix: Option<bool>,
    /// regorun: replace account ids, ARN resource names, key, organization and principal ids with stable placeholders in every output
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub redact: Option<bool>,
    /// regorun: with --redact, write the placeholder table (placeholder -> value) to this file
    #[arg(long = "redact-map")]
    pub redact_map: Option<String>,
    /// regorun: evaluate only shard K of N (K/N, from 1): inputs are split by a stable hash of their path, for CI matrices
    #[arg(long)]
    pub shard: Option<String>,
}

/// Flags of `regorun verify`.
#[derive(Debug, Args, Default)]
pub struct VerifyArgs {
    /// Ignored, as in conftest
    pub paths: Vec<String>,
    /// Path to the Rego policy files directory
    #[arg(short = 'p', long, value_delimiter = ',')]
    pub policy: Option<Vec<String>>,
    /// Data paths
    #[arg(short = 'd', long, value_delimiter = ',')]
    pub data: Option<Vec<String>>,
    /// Output format
    #[arg(short = 'o', long)]
    pub output: Option<Vec<String>>,
    /// Disable color when printing
    #[arg(long = "no-color", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub no_color: Option<bool>,
    /// Print nothing when every test passes
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub quiet: Option<bool>,
    /// Enable more detailed trace output
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub trace: Option<bool>,
    /// Enable strict mode for Rego policies
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub strict: Option<bool>,
    /// Path to an OPA capabilities file
    #[arg(long)]
    pub capabilities: Option<String>,
    /// Which version of Rego syntax to use. Options: v0, v1
    #[arg(long = "rego-version")]
    pub rego_version: Option<String>,
    /// Shows a verbose report (full, notes, fails)
    #[arg(long)]
    pub report: Option<String>,
    /// Collect and return all encountered built-in errors
    #[arg(long = "show-builtin-errors", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub show_builtin_errors: Option<bool>,
    /// Directories with Protocol Buffer definitions
    #[arg(long = "proto-file-dirs", value_delimiter = ',')]
    pub proto_file_dirs: Option<Vec<String>>,
    /// Hide the message in the JUnit test name
    #[arg(long = "junit-hide-message", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub junit_hide_message: Option<bool>,
    /// Hide passed results in GitHub output
    #[arg(long = "github-hide-passed", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub github_hide_passed: Option<bool>,
    /// Show the values of variables in failing tests
    #[arg(long = "var-values", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub var_values: Option<bool>,
    /// Namespaces whose tests are reported (glob patterns allowed)
    #[arg(short = 'n', long, value_delimiter = ',')]
    pub namespace: Option<Vec<String>>,
    /// regorun: print line coverage of the (non-test) policy files after the results
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub coverage: Option<bool>,
    /// regorun: fail (exit 1) when total coverage is below this percentage (implies --coverage)
    #[arg(long = "coverage-threshold")]
    pub coverage_threshold: Option<f64>,
}

/// Flags of `regorun doc`.
#[derive(Debug, Args, Default)]
pub struct DocArgs {
    /// Directories with annotated Rego policies
    pub paths: Vec<String>,
    /// Directory the documentation files are written to
    #[arg(short = 'o', long = "outDir", default_value = ".")]
    pub out_dir: String,
    /// Go template for the document generation (not supported by regorun)
    #[arg(short = 't', long)]
    pub template: Option<String>,
}

/// Flags of `regorun parse`.
#[derive(Debug, Args, Default)]
pub struct ParseArgs {
    /// Files to parse ('-' for stdin)
    pub paths: Vec<String>,
    /// Parser to use
    #[arg(long)]
    pub parser: Option<String>,
    /// Combine all inputs into one document
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub combine: Option<bool>,
}

/// Prints the top-level help to stdout.
pub fn print_help() -> std::io::Result<()> {
    use clap::CommandFactory;
    Cli::command().print_help()
}

/// Reports a command-line error in conftest's words and returns the exit code.
pub fn report_clap_error(e: clap::Error) -> std::process::ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return std::process::ExitCode::SUCCESS;
        }
        ErrorKind::UnknownArgument => {
            if let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) {
                let flag = arg.split('=').next().unwrap_or(arg);
                return exit_with(&format!("unknown flag: {flag}"));
            }
        }
        ErrorKind::InvalidSubcommand => {
            if let Some(ContextValue::String(cmd)) = e.get(ContextKind::InvalidSubcommand) {
                // Installed as `conftest`, speak as conftest does.
                let me = std::env::args()
                    .next()
                    .and_then(|a| {
                        std::path::Path::new(&a)
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                    })
                    .unwrap_or_else(|| "regorun".to_string());
                return exit_with(&format!(
                    "unknown command {cmd:?} for {me:?}\nRun '{me} --help' for usage."
                ));
            }
        }
        _ => {}
    }
    let text = e.render().to_string();
    let first = text
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ");
    exit_with(first)
}

/// An `Error:` line on stderr (a closed stderr cannot make this panic) and exit code 1.
fn exit_with(msg: &str) -> std::process::ExitCode {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "Error: {msg}");
    std::process::ExitCode::from(1)
}
