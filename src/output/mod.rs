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
use std::io::{self, Write};

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
    /// Records may carry `print()` lines, which the stdout format writes before every
    /// other line: it then holds its other lines back until the end.
    pub prints: bool,
    /// Text a format holds back may go to temporary files (a streamed run) rather than
    /// stay in memory.
    pub spill: bool,
}

/// One output format written as records arrive: [`Sink::record`] for each record in
/// order, then [`Sink::finish`] once. The bytes equal [`Formatter::format`]'s of the
/// same records.
pub trait Sink {
    /// Writes (or holds back) one record's text.
    fn record(&mut self, r: &CheckResult, out: &mut dyn Write) -> io::Result<()>;
    /// Writes what was held back and the closing text; `totals` counts every record.
    fn finish(&mut self, totals: &Totals, out: &mut dyn Write) -> io::Result<()>;
}

/// Renders result records as one output format.
pub trait Formatter {
    /// A writer of this format for one run.
    fn sink(&self, opts: &OutputOptions) -> Box<dyn Sink>;

    /// The whole output text for `results`.
    fn format(&self, results: &[CheckResult], opts: &OutputOptions) -> String {
        let opts = OutputOptions {
            prints: opts.prints || results.iter().any(|r| !r.prints.is_empty()),
            spill: false,
            ..opts.clone()
        };
        let mut sink = self.sink(&opts);
        let mut out = Vec::new();
        // Writing to memory only fails when memory does.
        let written = results
            .iter()
            .try_for_each(|r| sink.record(r, &mut out))
            .and_then(|()| sink.finish(&Totals::of(results), &mut out));
        match written {
            Ok(()) => String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            Err(e) => format!("regorun: writing output: {e}\n"),
        }
    }
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
    let (f, opts) = resolve(format, opts);
    Ok(f.format(results, &opts))
}

/// A sink for one format name; unknown names fall back to coloured stdout, as in
/// [`render_format`].
pub fn sink_for(format: &str, opts: &OutputOptions) -> Box<dyn Sink> {
    let (f, opts) = resolve(format, opts);
    f.sink(&opts)
}

/// The formatter for `format` and its options, with conftest's fallback for unknown names.
fn resolve(format: &str, opts: &OutputOptions) -> (Box<dyn Formatter>, OutputOptions) {
    match formatter(format) {
        Some(f) => (f, opts.clone()),
        None => (
            Box::new(Stdout),
            OutputOptions {
                color: true,
                suppress_exceptions: false,
                ..opts.clone()
            },
        ),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Enough records, in two namespaces taking turns, for held-back text to pass the
    /// spool's memory bound; some print.
    fn many() -> Vec<CheckResult> {
        (0..9000)
            .map(|i| {
                let mut r = CheckResult::new(format!("dir/file-{i:05}.json"), ["main", "b"][i % 2]);
                r.successes = i % 3;
                for k in 0..i % 4 {
                    r.failures.push(Message::plain(format!(
                        "failure {k} of <{i}> & \"x\": the key policy lets everyone use the key"
                    )));
                }
                if i % 5 == 0 {
                    r.warnings.push(Message::plain("a warning"));
                }
                if i % 7 == 0 {
                    r.exceptions.push(Message::plain("an exception"));
                }
                if i % 1000 == 1 {
                    r.prints.push(format!("printed by {i}"));
                }
                r
            })
            .collect()
    }

    #[test]
    fn spilled_sinks_write_the_bytes_of_format() {
        let results = many();
        for name in FORMATS {
            let opts = OutputOptions {
                prints: true,
                spill: true,
                ..OutputOptions::default()
            };
            let whole = render_format(name, &results, &OutputOptions::default()).unwrap();
            let mut sink = sink_for(name, &opts);
            let mut out = Vec::new();
            let mut totals = Totals::default();
            for r in &results {
                totals.add(r);
                sink.record(r, &mut out).unwrap();
            }
            sink.finish(&totals, &mut out).unwrap();
            assert!(
                whole.len() > 1 << 20 || *name == "tap",
                "{name}: {}",
                whole.len()
            );
            assert!(String::from_utf8(out).unwrap() == whole, "{name}");
        }
    }
}
