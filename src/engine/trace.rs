//! `--trace` for `test` and `verify` (conftest spec 9.10).
//!
//! regorus has no OPA-style tracer: `eval_query(_, true)` keeps `trace()` notes in a private
//! field and emits no Enter/Eval/Exit events. The trace here is built from what the engine
//! does expose, per query:
//!
//! * `Enter <query>` and `| Input <summary>` (the shape of `input`),
//! * `| Eval <file>:<line>: <source line>` for every policy line that was evaluated while
//!   answering the query (from regorus' per-line coverage, reset before each query),
//! * `| Print <file>:<line>: <text>` for `print()` output,
//! * `| Exit <query> = <value as JSON>` (or `| Fail <query> (undefined)`),
//! * `| Result <PASS|FAIL|WARN|...>` with a short reason.
//!
//! Rendering follows conftest: a `file: <file> | query: <query>` header (green when the
//! query passed, red otherwise), then each line as `TRAC ` + two spaces + line.

use crate::base::color::{paint, Color};
use crate::base::result::{CheckResult, Message, QueryTrace};
use crate::rego::policy::PolicyFile;
use regorus::{Engine, Value};
use std::collections::BTreeSet;

/// What [`check_with`] just did, for print capture and `--trace`.
pub enum Step<'a> {
    /// The namespace's `exception` rule was evaluated.
    ExceptionEvaluated {
        /// `data.<ns>.exception`.
        query: &'a str,
        /// Its value.
        value: &'a Value,
    },
    /// A rule's exception query was answered from that value.
    ExceptionChecked {
        /// `data.<ns>.exception[_][_] == "<name>"`.
        query: String,
        /// How many exception entries matched.
        hits: usize,
    },
    /// A rule was evaluated.
    RuleEvaluated {
        /// The rule.
        rule: &'a crate::rego::policy::QueryRule,
        /// Its value.
        value: &'a Value,
        /// Its messages (`None` when undefined).
        messages: &'a Option<Vec<Message>>,
    },
}

/// One evaluated policy line: file, line number, source text (trimmed).
pub type EvalLine = (String, u32, String);

/// Builds the traces of one document's queries as [`crate::engine::eval`] reports its steps.
pub struct DocumentTracer {
    input: String,
    /// The exception query's trace material, replayed under each rule's exception header.
    exception: Option<(String, Value, Vec<EvalLine>, Vec<String>)>,
}

impl DocumentTracer {
    /// A tracer for a document whose `input` is `input`.
    pub fn new(input: &Value) -> Self {
        DocumentTracer {
            input: input_summary(input),
            exception: None,
        }
    }

    /// Records one step; `prints_from` is where this step's `print()` output starts.
    pub fn observe(
        &mut self,
        engine: &mut Engine,
        originals: &[PolicyFile],
        result: &mut CheckResult,
        prints_from: usize,
        step: &crate::engine::trace::Step,
    ) {
        use crate::engine::trace::Step;
        use crate::rego::policy::RuleKind;
        match step {
            Step::ExceptionEvaluated { query, value } => {
                let lines = take_evaluated_lines(engine, originals);
                self.exception = Some((
                    query.to_string(),
                    (*value).clone(),
                    lines,
                    result.prints[prints_from..].to_vec(),
                ));
            }
            Step::ExceptionChecked { query, hits } => {
                let t = match self.exception.as_ref() {
                    Some((eq, v, lines, prints)) => TraceBuilder::enter(eq, Some(&self.input))
                        .evaluated(lines)
                        .prints(prints)
                        .exit(eq, v),
                    None => TraceBuilder::enter(query, Some(&self.input))
                        .note("no exception rule in this namespace"),
                };
                let outcome = match hits {
                    0 => "no exception".to_string(),
                    1 => "EXCEPTION (1 matching entry)".to_string(),
                    n => format!("EXCEPTION ({n} matching entries)"),
                };
                result
                    .traces
                    .push(t.finish(query.clone(), *hits == 0, &outcome));
            }
            Step::RuleEvaluated {
                rule,
                value,
                messages,
            } => {
                let lines = take_evaluated_lines(engine, originals);
                let count = messages
                    .as_ref()
                    .map_or(0, |m| m.iter().filter(|m| !m.msg.is_empty()).count());
                let plural = if count == 1 { "" } else { "s" };
                let (passed, outcome) = match (messages, rule.kind) {
                    (None, _) => (true, "PASS (undefined)".to_string()),
                    (_, _) if count == 0 => (true, "PASS".to_string()),
                    (_, RuleKind::Failure) => (false, format!("FAIL ({count} failure{plural})")),
                    (_, RuleKind::Warning) => (false, format!("WARN ({count} warning{plural})")),
                };
                let trace = TraceBuilder::enter(&rule.query, Some(&self.input))
                    .evaluated(&lines)
                    .prints(&result.prints[prints_from..])
                    .exit(&rule.query, value)
                    .finish(rule.query.clone(), passed, &outcome);
                result.traces.push(trace);
            }
        }
    }
}

/// Whether a module path belongs to regorun itself rather than to the user.
pub fn is_internal(path: &str) -> bool {
    path.starts_with("<regorun")
}

/// The policy lines covered since the last call, then resets the engine's coverage data.
/// Needs `set_enable_coverage(true)` on the engine. Each line's text is the user's, from
/// `originals` (the sources before the load-time rewrites, which keep every line).
pub fn take_evaluated_lines(engine: &mut Engine, originals: &[PolicyFile]) -> Vec<EvalLine> {
    let mut out = Vec::new();
    if let Ok(report) = engine.get_coverage_report() {
        for f in report.files {
            if is_internal(&f.path) {
                continue;
            }
            let original = originals.iter().find(|o| o.path == f.path);
            let lines: Vec<&str> = original
                .map_or(f.code.as_str(), |o| o.source.as_str())
                .lines()
                .collect();
            for l in f.covered {
                let text = lines
                    .get((l as usize).saturating_sub(1))
                    .map(|t| t.trim().to_string())
                    .unwrap_or_default();
                out.push((f.path.clone(), l, text));
            }
        }
    }
    engine.clear_coverage_data();
    out
}

/// A short description of an input document: `object with 3 keys: a, b, c`.
pub fn input_summary(v: &Value) -> String {
    const MAX_KEYS: usize = 8;
    match v {
        Value::Undefined => "undefined".to_string(),
        Value::Object(o) => {
            let keys: Vec<String> = o
                .keys()
                .map(|k| match k {
                    Value::String(s) => s.to_string(),
                    other => json_text(other),
                })
                .collect();
            let mut shown = keys
                .iter()
                .take(MAX_KEYS)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if keys.len() > MAX_KEYS {
                shown.push_str(", ...");
            }
            let s = if keys.len() == 1 { "" } else { "s" };
            if keys.is_empty() {
                "object with 0 keys".to_string()
            } else {
                format!("object with {} key{s}: {shown}", keys.len())
            }
        }
        Value::Array(a) => format!("array with {} item{}", a.len(), plural(a.len())),
        Value::Set(a) => format!("set with {} item{}", a.len(), plural(a.len())),
        other => truncate(&json_text(other), 120),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A value as compact JSON (sets as arrays).
pub fn json_text(v: &Value) -> String {
    match v {
        Value::Undefined => "undefined".to_string(),
        other => serde_json::to_string(&crate::base::value::to_json(other))
            .unwrap_or_else(|_| "<unprintable>".to_string()),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}...")
}

/// Builds the lines of one query's trace.
pub struct TraceBuilder {
    lines: Vec<String>,
}

impl TraceBuilder {
    /// Starts with `Enter <rule>` and, when given, the input summary.
    pub fn enter(rule: &str, input: Option<&str>) -> Self {
        let mut lines = vec![format!("Enter {rule}")];
        if let Some(i) = input {
            lines.push(format!("| Input {i}"));
        }
        TraceBuilder { lines }
    }

    /// Adds `| Eval` lines, in file then line order.
    pub fn evaluated(mut self, lines: &[EvalLine]) -> Self {
        let mut seen = BTreeSet::new();
        for (file, line, text) in lines {
            if seen.insert((file.clone(), *line)) {
                self.lines.push(format!("| Eval {file}:{line}: {text}"));
            }
        }
        self
    }

    /// Adds `| Print` lines.
    pub fn prints(mut self, prints: &[String]) -> Self {
        for p in prints {
            self.lines.push(format!("| Print {}", p.trim_end()));
        }
        self
    }

    /// Adds `| Exit <rule> = <json>` or `| Fail <rule> (undefined)`.
    pub fn exit(mut self, rule: &str, value: &Value) -> Self {
        match value {
            Value::Undefined => self.lines.push(format!("| Fail {rule} (undefined)")),
            v => self
                .lines
                .push(format!("| Exit {rule} = {}", truncate(&json_text(v), 2000))),
        }
        self
    }

    /// Adds a free-form `| <text>` line.
    pub fn note(mut self, text: impl AsRef<str>) -> Self {
        self.lines.push(format!("| {}", text.as_ref()));
        self
    }

    /// Finishes with `| Result <outcome>`.
    pub fn finish(mut self, query: impl Into<String>, passed: bool, outcome: &str) -> QueryTrace {
        self.lines.push(format!("| Result {outcome}"));
        QueryTrace {
            query: query.into(),
            passed,
            lines: self.lines,
        }
    }
}

/// Renders the traces of every record: header per query, then `TRAC ` lines.
pub fn render(results: &[CheckResult], color: bool) -> String {
    let mut out = String::new();
    for r in results {
        for q in &r.traces {
            let header = format!("file: {} | query: {}", r.filename, q.query);
            out.push_str(&paint(
                &header,
                if q.passed { Color::Green } else { Color::Red },
                color,
            ));
            out.push('\n');
            for l in &q.lines {
                out.push_str(&paint("TRAC ", Color::Blue, color));
                out.push_str("  ");
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_inputs() {
        let v = Value::from_json_str(r#"{"b":1,"a":[1,2]}"#).unwrap();
        assert_eq!(input_summary(&v), "object with 2 keys: a, b");
        let v = Value::from_json_str("[1,2,3]").unwrap();
        assert_eq!(input_summary(&v), "array with 3 items");
        assert_eq!(input_summary(&Value::from("x")), "\"x\"");
    }

    #[test]
    fn renders_plain() {
        let mut r = CheckResult::new("a.yaml", "main");
        r.traces.push(
            TraceBuilder::enter("data.main.deny", Some("object with 0 keys"))
                .exit("data.main.deny", &Value::new_array())
                .finish("data.main.deny", true, "PASS"),
        );
        assert_eq!(
            render(&[r], false),
            "file: a.yaml | query: data.main.deny\nTRAC   Enter data.main.deny\nTRAC   | Input object with 0 keys\nTRAC   | Exit data.main.deny = []\nTRAC   | Result PASS\n"
        );
    }
}
