//! Output formats. Each format lives in its own file behind [`Formatter`]; nothing
//! format-specific leaks into evaluation.

mod azuredevops;
mod github;
mod json;
mod junit;
mod sarif;
mod stdout;
mod table;
mod tap;

use crate::base::result::{CheckResult, Location, Message, Totals};

pub use azuredevops::AzureDevOps;
pub use github::GitHub;
pub use json::Json;
pub use junit::JUnit;
pub use sarif::Sarif;
pub use stdout::Stdout;
pub use table::Table;
pub use tap::Tap;

/// Settings every formatter may look at.
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    /// ANSI colours (stdout format).
    pub color: bool,
    /// Leave `EXCP` lines out (stdout format).
    pub suppress_exceptions: bool,
    /// The run is `verify`: summaries add `, N skipped`.
    pub show_skipped: bool,
    /// JUnit: test names without the message.
    pub junit_hide_message: bool,
    /// GitHub: skip groups with only successes.
    pub github_hide_passed: bool,
}

/// Renders result records as one output format.
pub trait Formatter {
    /// The whole output text for `results`.
    fn format(&self, results: &[CheckResult], opts: &OutputOptions) -> String;
}

/// Output names conftest accepts for `-o`.
pub const FORMATS: &[&str] = &[
    "stdout",
    "json",
    "tap",
    "table",
    "junit",
    "github",
    "azuredevops",
    "sarif",
];

/// The formatter for a known format name that this build serves, or `None`.
pub fn formatter(name: &str) -> Option<Box<dyn Formatter>> {
    match name {
        "stdout" => Some(Box::new(Stdout)),
        "json" => Some(Box::new(Json)),
        "tap" => Some(Box::new(Tap)),
        "table" => Some(Box::new(Table)),
        "junit" => Some(Box::new(JUnit)),
        "github" => Some(Box::new(GitHub)),
        "azuredevops" => Some(Box::new(AzureDevOps)),
        "sarif" => Some(Box::new(Sarif)),
        _ => None,
    }
}

/// conftest's summary line: `4 tests, 1 passed, 1 warning, 1 failure, 1 exception`.
pub fn summary_line(t: &Totals) -> String {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{} test{}, {} passed, {} warning{}, {} failure{}, {} exception{}",
        t.tests,
        s(t.tests),
        t.passed,
        t.warnings,
        s(t.warnings),
        t.failures,
        s(t.failures),
        t.exceptions,
        s(t.exceptions)
    )
}

/// The `_loc` of a message as conftest keeps it: a location with neither a file nor a
/// line (our model stores a missing line as 0) is dropped, like upstream's
/// `parseLocation`.
pub(crate) fn location(m: &Message) -> Option<&Location> {
    m.loc
        .as_ref()
        .filter(|l| !(l.file.is_empty() && l.line == 0))
}

/// Renders one format; unknown names fall back to coloured stdout, as conftest does.
pub fn render_format(
    format: &str,
    results: &[CheckResult],
    opts: &OutputOptions,
) -> anyhow::Result<String> {
    if let Some(f) = formatter(format) {
        return Ok(f.format(results, opts));
    }
    let fallback = OutputOptions {
        color: true,
        suppress_exceptions: false,
        ..opts.clone()
    };
    Ok(Formatter::format(&Stdout, results, &fallback))
}

/// Verify-style records for the formatters' unit tests: a failed, a skipped (named
/// `skipped_name`) and a passed test, namespace "".
#[cfg(test)]
pub(crate) fn verify_sample(skipped_name: &str) -> [CheckResult; 3] {
    let mut failed = CheckResult::new("policy/a_test.rego", "");
    failed
        .failures
        .push(crate::base::result::Message::plain("data.main.test_deny"));
    let mut skipped = CheckResult::new("policy/a_test.rego", "");
    skipped
        .skipped
        .push(crate::base::result::Message::plain(skipped_name));
    let mut passed = CheckResult::new("policy/a_test.rego", "");
    passed.successes = 1;
    [failed, skipped, passed]
}
