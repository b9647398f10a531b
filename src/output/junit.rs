//! `-o junit`: the XML that conftest produces through go-junit-report v1's formatter
//! (conftest `output/junit.go`).
//!
//! Written by hand rather than with an XML crate: the bytes must match Go's
//! `xml.MarshalIndent` exactly (TAB indentation, never self-closed elements, `&#34;`
//! style escapes), which general-purpose writers do not produce.

use super::{Formatter, OutputOptions};
use crate::base::result::{CheckResult, Message};

/// One `<testsuite>` per namespace (in first-seen order; upstream iterates a Go map),
/// warnings and failures as failed cases, skipped tests as skipped cases, one passing
/// case per success. Exceptions are not reported.
pub struct JUnit;

/// The `go.version` property. conftest writes the Go runtime version of its binary;
/// this is the toolchain of the conftest release whose output regorun reproduces.
pub const GO_VERSION: &str = "go1.26.3";

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

struct Case {
    name: String,
    outcome: Outcome,
}

impl Formatter for JUnit {
    fn format(&self, results: &[CheckResult], opts: &OutputOptions) -> String {
        let mut suites: Vec<(String, Vec<Case>)> = Vec::new();
        for r in results {
            let name = |msg: &str, m: Option<&Message>| {
                // regorun: `file:line` when `metadata.path` names a line (and no `_loc`).
                let file = match m
                    .filter(|m| super::location(m).is_none())
                    .and_then(|m| m.pos)
                {
                    Some(p) => format!("{}:{}", r.filename, p.line),
                    None => r.filename.clone(),
                };
                if opts.junit_hide_message || msg.is_empty() {
                    file
                } else {
                    let first = msg.split('\n').next().unwrap_or_default();
                    format!("{file} - {first}")
                }
            };
            let mut cases = Vec::new();
            for m in r.warnings.iter().chain(&r.failures) {
                cases.push(Case {
                    name: name(&m.msg, Some(m)),
                    outcome: Outcome::Fail(m.msg.clone()),
                });
            }
            for m in &r.skipped {
                cases.push(Case {
                    name: name(&m.msg, Some(m)),
                    outcome: Outcome::Skip(m.msg.clone()),
                });
            }
            for _ in 0..r.successes {
                cases.push(Case {
                    name: name("", None),
                    outcome: Outcome::Pass,
                });
            }
            if cases.is_empty() {
                continue;
            }
            match suites.iter_mut().find(|(ns, _)| *ns == r.namespace) {
                Some((_, existing)) => existing.extend(cases),
                None => suites.push((r.namespace.clone(), cases)),
            }
        }

        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>");
        for (ns, cases) in &suites {
            let suite = format!("conftest.{ns}");
            // go-junit-report uses the part after the last `/` as the class name.
            let classname = match suite.rfind('/') {
                Some(i) => &suite[i + 1..],
                None => suite.as_str(),
            };
            let failures = cases
                .iter()
                .filter(|c| matches!(c.outcome, Outcome::Fail(_)))
                .count();
            out.push_str(&format!(
                "\n\t<testsuite tests=\"{}\" failures=\"{failures}\" time=\"0.000\" name=\"{}\">",
                cases.len(),
                escape(&suite)
            ));
            out.push_str("\n\t\t<properties>");
            out.push_str(&format!(
                "\n\t\t\t<property name=\"go.version\" value=\"{}\"></property>",
                escape(GO_VERSION)
            ));
            out.push_str("\n\t\t</properties>");
            for c in cases {
                out.push_str(&format!(
                    "\n\t\t<testcase classname=\"{}\" name=\"{}\" time=\"0.000\">",
                    escape(classname),
                    escape(&c.name)
                ));
                match &c.outcome {
                    Outcome::Pass => {}
                    Outcome::Skip(msg) => out.push_str(&format!(
                        "\n\t\t\t<skipped message=\"{}\"></skipped>\n\t\t",
                        escape(msg)
                    )),
                    Outcome::Fail(msg) => out.push_str(&format!(
                        "\n\t\t\t<failure message=\"Failed\" type=\"\">{}</failure>\n\t\t",
                        escape(msg)
                    )),
                }
                out.push_str("</testcase>");
            }
            out.push_str("\n\t</testsuite>");
        }
        if !suites.is_empty() {
            out.push('\n');
        }
        out.push_str("</testsuites>\n");
        out
    }
}

/// Go's `xml.EscapeText` (used for attribute values and character data alike).
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
