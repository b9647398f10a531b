//! The result model shared by the runner and every output format, mirroring conftest's
//! `output.CheckResult`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a result came from, as a policy reports it through `_loc`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// The file the policy names (may be empty).
    pub file: String,
    /// The line, or 0 when the policy gave none.
    pub line: i64,
}

/// A line and column (both from 1; the column counts characters) in an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The line.
    pub line: usize,
    /// The column.
    pub column: usize,
}

/// One message of a rule: a failure, warning, exception or skipped test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The message text.
    pub msg: String,
    /// Location from `_loc`, when the policy set one.
    pub loc: Option<Location>,
    /// Where `metadata.path` (a JSON pointer into the input) is in the input file, when the
    /// run looked it up (formats with a place for it; `_loc` wins over it).
    pub pos: Option<Position>,
    /// Extra keys of an object result plus conftest's `query`; sorted by key.
    pub metadata: Map<String, Value>,
}

impl Message {
    /// A message with no location and no metadata.
    pub fn plain(msg: impl Into<String>) -> Self {
        Message {
            msg: msg.into(),
            loc: None,
            pos: None,
            metadata: Map::new(),
        }
    }
}

/// The outcome of evaluating one namespace against one file (or the combined input).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The file name as conftest prints it (`-` for stdin, `Combined` for `--combine`).
    pub filename: String,
    /// The namespace (Rego package without `data.`); empty for `verify`.
    pub namespace: String,
    /// Number of passed checks.
    pub successes: usize,
    /// Warnings (`warn` rules).
    pub warnings: Vec<Message>,
    /// Failures (`deny` and `violation` rules).
    pub failures: Vec<Message>,
    /// Exceptions that suppressed a rule.
    pub exceptions: Vec<Message>,
    /// Skipped tests (`verify` only).
    pub skipped: Vec<Message>,
    /// `print()` output captured while evaluating this record, as `file:line: text`.
    pub prints: Vec<String>,
    /// Per-query traces, filled only with `--trace` (see [`crate::engine::trace`]).
    pub traces: Vec<crate::base::result::QueryTrace>,
}

impl CheckResult {
    /// An empty record for `filename` and `namespace`.
    pub fn new(filename: impl Into<String>, namespace: impl Into<String>) -> Self {
        CheckResult {
            filename: filename.into(),
            namespace: namespace.into(),
            ..Default::default()
        }
    }

    /// Tests in this record, as conftest counts them.
    pub fn tests(&self) -> usize {
        self.successes
            + self.warnings.len()
            + self.failures.len()
            + self.exceptions.len()
            + self.skipped.len()
    }

    /// Folds the results of another document of the same file into this record.
    pub fn absorb(&mut self, other: CheckResult) {
        self.successes += other.successes;
        self.warnings.extend(other.warnings);
        self.failures.extend(other.failures);
        self.exceptions.extend(other.exceptions);
        self.skipped.extend(other.skipped);
        self.prints.extend(other.prints);
        self.traces.extend(other.traces);
    }
}

/// Totals over a whole run, used by summaries and exit codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Sum of `tests()`.
    pub tests: usize,
    /// Sum of successes.
    pub passed: usize,
    /// Sum of warnings.
    pub warnings: usize,
    /// Sum of failures.
    pub failures: usize,
    /// Sum of exceptions.
    pub exceptions: usize,
    /// Sum of skipped tests.
    pub skipped: usize,
}

impl Totals {
    /// Adds up every record.
    pub fn of(results: &[CheckResult]) -> Self {
        let mut t = Totals::default();
        for r in results {
            t.add(r);
        }
        t
    }

    /// Counts one more record.
    pub fn add(&mut self, r: &CheckResult) {
        self.tests += r.tests();
        self.passed += r.successes;
        self.warnings += r.warnings.len();
        self.failures += r.failures.len();
        self.exceptions += r.exceptions.len();
        self.skipped += r.skipped.len();
    }
}

/// The trace of one query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryTrace {
    /// The query as conftest names it in the header.
    pub query: String,
    /// Whether the query passed (header colour).
    pub passed: bool,
    /// Trace lines, without the `TRAC ` label.
    pub lines: Vec<String>,
}
