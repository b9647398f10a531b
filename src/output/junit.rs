//! `-o junit`: the XML that conftest produces through go-junit-report v1's formatter
//! (conftest `output/junit.go`).
//!
//! Written by hand rather than with an XML crate: the bytes must match Go's
//! `xml.MarshalIndent` exactly (TAB indentation, never self-closed elements, `&#34;`
//! style escapes), which general-purpose writers do not produce.

use super::{Formatter, OutputOptions, Sink};
use crate::base::result::{CheckResult, Message, Totals};
use crate::base::spool::Spool;
use std::io::{self, Write};

/// One `<testsuite>` per namespace (in first-seen order; upstream iterates a Go map),
/// warnings and failures as failed cases, skipped tests as skipped cases, one passing
/// case per success. Exceptions are not reported.
pub struct JUnit;

/// The `go.version` property. conftest writes the Go runtime version of its binary;
/// this is the toolchain of the conftest release whose output regorun reproduces.
pub const GO_VERSION: &str = "go1.26.3";

impl Formatter for JUnit {
    fn sink(&self, opts: &OutputOptions) -> Box<dyn Sink> {
        Box::new(JUnitSink {
            hide_message: opts.junit_hide_message,
            spill: opts.spill,
            suites: Vec::new(),
        })
    }
}

/// One namespace's suite: its counts lead its cases, so the cases wait in a spool.
struct Suite {
    namespace: String,
    tests: usize,
    failures: usize,
    cases: Spool,
}

/// Suites by namespace in order of first appearance, written at the end.
struct JUnitSink {
    hide_message: bool,
    spill: bool,
    suites: Vec<Suite>,
}

impl Sink for JUnitSink {
    fn record(&mut self, r: &CheckResult, _out: &mut dyn Write) -> io::Result<()> {
        let name = |msg: &str, m: Option<&Message>| {
            let file = match m
                .filter(|m| super::location(m).is_none())
                .and_then(|m| m.pos)
            {
                Some(p) => format!("{}:{}", r.filename, p.line),
                None => r.filename.clone(),
            };
            if self.hide_message || msg.is_empty() {
                file
            } else {
                let first = msg.split('\n').next().unwrap_or_default();
                format!("{file} - {first}")
            }
        };
        let suite_name = format!("conftest.{}", r.namespace);
        let classname = escape(match suite_name.rfind('/') {
            Some(i) => &suite_name[i + 1..],
            None => suite_name.as_str(),
        });
        let mut text = String::new();
        let (mut tests, mut failures) = (0, 0);
        let mut case = |name: String, body: Option<String>| {
            text.push_str(&format!(
                "\n\t\t<testcase classname=\"{classname}\" name=\"{}\" time=\"0.000\">",
                escape(&name)
            ));
            if let Some(body) = body {
                text.push_str(&body);
            }
            text.push_str("</testcase>");
            tests += 1;
        };
        for m in r.warnings.iter().chain(&r.failures) {
            case(
                name(&m.msg, Some(m)),
                Some(format!(
                    "\n\t\t\t<failure message=\"Failed\" type=\"\">{}</failure>\n\t\t",
                    escape(&m.msg)
                )),
            );
            failures += 1;
        }
        for m in &r.skipped {
            case(
                name(&m.msg, Some(m)),
                Some(format!(
                    "\n\t\t\t<skipped message=\"{}\"></skipped>\n\t\t",
                    escape(&m.msg)
                )),
            );
        }
        for _ in 0..r.successes {
            case(name("", None), None);
        }
        if tests == 0 {
            return Ok(());
        }
        let i = match self.suites.iter().rposition(|s| s.namespace == r.namespace) {
            Some(i) => i,
            None => {
                self.suites.push(Suite {
                    namespace: r.namespace.clone(),
                    tests: 0,
                    failures: 0,
                    cases: Spool::new(self.spill),
                });
                self.suites.len() - 1
            }
        };
        let suite = &mut self.suites[i];
        suite.tests += tests;
        suite.failures += failures;
        suite.cases.write(text.as_bytes())
    }

    fn finish(&mut self, _totals: &Totals, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>")?;
        for suite in &mut self.suites {
            out.write_all(
                format!(
                    "\n\t<testsuite tests=\"{}\" failures=\"{}\" time=\"0.000\" name=\"{}\">\
                     \n\t\t<properties>\
                     \n\t\t\t<property name=\"go.version\" value=\"{}\"></property>\
                     \n\t\t</properties>",
                    suite.tests,
                    suite.failures,
                    escape(&format!("conftest.{}", suite.namespace)),
                    escape(GO_VERSION)
                )
                .as_bytes(),
            )?;
            suite.cases.drain_to(out)?;
            out.write_all(b"\n\t</testsuite>")?;
        }
        if !self.suites.is_empty() {
            out.write_all(b"\n")?;
        }
        out.write_all(b"</testsuites>\n")
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

fn is_xml_char(c: char) -> bool {
    matches!(c as u32, 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty() {
        assert_eq!(
            JUnit.format(&[], &OutputOptions::default()),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites></testsuites>\n"
        );
        let zero = CheckResult::new("a.yaml", "main");
        assert_eq!(
            JUnit.format(&[zero], &OutputOptions::default()),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites></testsuites>\n"
        );
    }

    #[test]
    fn verify_records() {
        let [failed, skipped, passed] = super::super::verify_sample("data.main.todo_test_x");
        let out = JUnit.format(&[failed, skipped, passed], &OutputOptions::default());
        assert_eq!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n\
             \t<testsuite tests=\"3\" failures=\"1\" time=\"0.000\" name=\"conftest.\">\n\
             \t\t<properties>\n\
             \t\t\t<property name=\"go.version\" value=\"go1.26.3\"></property>\n\
             \t\t</properties>\n\
             \t\t<testcase classname=\"conftest.\" name=\"policy/a_test.rego - data.main.test_deny\" time=\"0.000\">\n\
             \t\t\t<failure message=\"Failed\" type=\"\">data.main.test_deny</failure>\n\
             \t\t</testcase>\n\
             \t\t<testcase classname=\"conftest.\" name=\"policy/a_test.rego - data.main.todo_test_x\" time=\"0.000\">\n\
             \t\t\t<skipped message=\"data.main.todo_test_x\"></skipped>\n\
             \t\t</testcase>\n\
             \t\t<testcase classname=\"conftest.\" name=\"policy/a_test.rego\" time=\"0.000\"></testcase>\n\
             \t</testsuite>\n</testsuites>\n"
        );
    }

    #[test]
    fn escapes_like_go() {
        assert_eq!(
            escape("a\"b'c&<>\t\n\r\u{1}\u{FFFE}é"),
            "a&#34;b&#39;c&amp;&lt;&gt;&#x9;&#xA;&#xD;\u{FFFD}\u{FFFD}é"
        );
    }
}
