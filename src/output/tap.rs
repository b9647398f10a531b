//! `-o tap`: Test Anything Protocol, one plan per record (conftest `output/tap.go`).

use super::{Formatter, OutputOptions, Sink};
use crate::base::result::{CheckResult, Message, Totals};
use std::io::{self, Write};

/// TAP output. Quirk kept from conftest: the first record with 0 tests ends the whole
/// output (later records are not printed), so a run whose first record is empty prints
/// nothing at all.
pub struct Tap;

impl Formatter for Tap {
    fn sink(&self, _opts: &OutputOptions) -> Box<dyn Sink> {
        Box::new(TapSink { stopped: false })
    }
}

/// conftest's TAP writer returns at the first record without tests: later records are
/// not written.
struct TapSink {
    stopped: bool,
}

impl Sink for TapSink {
    fn record(&mut self, r: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
        if self.stopped {
            return Ok(());
        }
        let indicator = if r.filename == "-" {
            "-".to_string()
        } else {
            format!("- {}", r.filename)
        };
        let ns = if r.namespace == "-" {
            "-".to_string()
        } else {
            format!("- {} -", r.namespace)
        };
        let total = r.tests();
        if total == 0 {
            self.stopped = true;
            return Ok(());
        }
        let mut text = format!("1..{total}\n");
        let mut counter = 1;
        let mut line = |out: &mut String, status: &str, msg: &str, m: Option<&Message>| {
            let at = match m
                .filter(|m| super::location(m).is_none())
                .and_then(|m| m.pos)
            {
                Some(p) if r.filename != "-" => format!("{indicator}:{}", p.line),
                _ => indicator.clone(),
            };
            out.push_str(&format!("{status} {counter} {at} {ns} {msg}\n"));
            counter += 1;
        };
        for m in &r.failures {
            line(&mut text, "not ok", &m.msg, Some(m));
        }
        if !r.warnings.is_empty() {
            text.push_str("# warnings\n");
            for m in &r.warnings {
                line(&mut text, "not ok", &m.msg, Some(m));
            }
        }
        if !r.exceptions.is_empty() {
            text.push_str("# exceptions\n");
            for m in &r.exceptions {
                line(&mut text, "ok", &m.msg, Some(m));
            }
        }
        if !r.skipped.is_empty() {
            text.push_str("# skip\n");
            for m in &r.skipped {
                line(&mut text, "ok", &m.msg, Some(m));
            }
        }
        if r.successes > 0 {
            text.push_str("# successes\n");
            for _ in 0..r.successes {
                line(&mut text, "ok", "SUCCESS", None);
            }
        }
        out.write_all(text.as_bytes())
    }

    fn finish(&mut self, _totals: &Totals, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::result::Message;

    fn verify_record(file: &str, passed: bool, skipped: bool) -> CheckResult {
        let mut r = CheckResult::new(file, "");
        if skipped {
            r.skipped.push(Message::plain("data.main.todo_test_x"));
        } else if passed {
            r.successes = 1;
        } else {
            r.failures.push(Message::plain("data.main.test_deny"));
        }
        r
    }

    #[test]
    fn verify_records() {
        let results = vec![
            verify_record("policy/a_test.rego", false, false),
            verify_record("policy/a_test.rego", true, false),
            verify_record("policy/a_test.rego", false, true),
        ];
        let out = Tap.format(&results, &OutputOptions::default());
        assert_eq!(
            out,
            "1..1\nnot ok 1 - policy/a_test.rego -  - data.main.test_deny\n\
             1..1\n# successes\nok 1 - policy/a_test.rego -  - SUCCESS\n\
             1..1\n# skip\nok 1 - policy/a_test.rego -  - data.main.todo_test_x\n"
        );
    }

    #[test]
    fn stops_at_first_empty_record() {
        let mut a = CheckResult::new("a.yaml", "main");
        a.successes = 1;
        let empty = CheckResult::new("b.yaml", "main");
        let mut c = CheckResult::new("c.yaml", "main");
        c.successes = 1;
        let out = Tap.format(&[a, empty, c], &OutputOptions::default());
        assert_eq!(out, "1..1\n# successes\nok 1 - a.yaml - main - SUCCESS\n");
    }

    #[test]
    fn stdin_and_dash_namespace() {
        let mut r = CheckResult::new("-", "-");
        r.failures.push(Message::plain("x"));
        assert_eq!(
            Tap.format(&[r], &OutputOptions::default()),
            "1..1\nnot ok 1 - - x\n"
        );
    }
}
