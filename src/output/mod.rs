//! Output formats. Each format lives in its own file behind [`Formatter`]; nothing
//! format-specific leaks into evaluation.

mod json;
mod stdout;

use crate::result::{CheckResult, Totals};

pub use json::Json;
pub use stdout::Stdout;

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
