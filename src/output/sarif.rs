//! `-o sarif`: SARIF 2.1.0 as conftest writes it through go-sarif v2 (conftest
//! `output/sarif.go`): compact Go JSON, keys in go-sarif's struct order, no trailing
//! newline.

use super::{Formatter, OutputOptions, Sink};
use crate::base::gojson::{to_string, write_str, Indent};
use crate::base::result::{CheckResult, Message, Totals};
use crate::base::spool::Spool;
use serde_json::{Map, Value};
use std::io::{self, Write};

/// The SARIF log of a run.
pub struct Sarif;

/// `tool.driver.version`. conftest writes its own version there; regorun reports the
/// conftest release whose behaviour it reproduces (the same one `--version` names).
pub const DRIVER_VERSION: &str = "0.69.0";

const SCHEMA: &str =
    "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json";
const TOOL_URI: &str = "https://github.com/open-policy-agent/conftest";
const SUCCESS_DESC: &str = "Policy was satisfied successfully";
const SKIPPED_DESC: &str = "Policy check was skipped";

struct Rule {
    id: String,
    properties: Map<String, Value>,
}

/// Rules as first seen; results wait in a spool because the rules table precedes them.
struct SarifSink {
    rules: Vec<Rule>,
    results: Spool,
    written: usize,
    has_failures: bool,
    has_warnings: bool,
}

fn description(rule_type: &str) -> &'static str {
    match rule_type {
        "success" => SUCCESS_DESC,
        "skip" => SKIPPED_DESC,
        "allow" => "Policy exception",
        "warn" => "Policy warning",
        _ => "Policy violation",
    }
}

impl SarifSink {
    fn add(
        &mut self,
        m: &Message,
        namespace: &str,
        rule_type: &str,
        level: &str,
        file: &str,
    ) -> io::Result<()> {
        let id = format!("{namespace}/{rule_type}");
        let index = match self.rules.iter().position(|r| r.id == id) {
            Some(i) => i,
            None => {
                self.rules.push(Rule {
                    id: id.clone(),
                    properties: m.metadata.clone(),
                });
                self.rules.len() - 1
            }
        };
        let mut s = String::from(if self.written == 0 { "" } else { "," });
        self.written += 1;
        s.push_str("{\"ruleId\":");
        write_str(&mut s, &id);
        s.push_str(&format!(",\"ruleIndex\":{index},\"level\":"));
        write_str(&mut s, level);
        s.push_str(",\"message\":{\"text\":");
        write_str(&mut s, &m.msg);
        s.push_str("},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
        match super::location(m) {
            Some(loc) => {
                write_str(&mut s, &loc.file);
                s.push_str(&format!(
                    "}},\"region\":{{\"startLine\":{0},\"endLine\":{0}}}",
                    loc.line
                ));
            }
            None => {
                write_str(&mut s, file);
                s.push('}');
                if let Some(p) = m.pos {
                    s.push_str(&format!(
                        ",\"region\":{{\"startLine\":{},\"startColumn\":{}}}",
                        p.line, p.column
                    ));
                }
            }
        }
        s.push_str("}}]}");
        self.results.write(s.as_bytes())
    }
}

fn status(text: &str) -> Message {
    let mut m = Message::plain(text);
    m.metadata
        .insert("description".into(), Value::String(text.into()));
    m
}

impl Formatter for Sarif {
    fn sink(&self, opts: &OutputOptions) -> Box<dyn Sink> {
        Box::new(SarifSink {
            rules: Vec::new(),
            results: Spool::new(opts.spill),
            written: 0,
            has_failures: false,
            has_warnings: false,
        })
    }
}

impl Sink for SarifSink {
    fn record(&mut self, r: &CheckResult, _out: &mut dyn Write) -> io::Result<()> {
        let (ns, file) = (r.namespace.as_str(), r.filename.as_str());
        self.has_failures |= !r.failures.is_empty();
        self.has_warnings |= !r.warnings.is_empty();
        for m in &r.failures {
            self.add(m, ns, "deny", "error", file)?;
        }
        for m in &r.warnings {
            self.add(m, ns, "warn", "warning", file)?;
        }
        for m in &r.exceptions {
            self.add(m, ns, "allow", "note", file)?;
        }
        if !r.failures.is_empty() || !r.warnings.is_empty() {
            return Ok(());
        }
        if r.successes > 0 || !r.exceptions.is_empty() {
            self.add(&status(SUCCESS_DESC), ns, "success", "none", file)
        } else {
            self.add(&status(SKIPPED_DESC), ns, "skip", "none", file)
        }
    }

    fn finish(&mut self, _totals: &Totals, out: &mut dyn Write) -> io::Result<()> {
        let (exit_code, exit_desc) = if self.has_failures {
            (1, "Policy violations found")
        } else if self.has_warnings {
            (0, "Policy warnings found")
        } else {
            (0, "No policy violations found")
        };
        let mut text = String::from("{\"version\":\"2.1.0\",\"$schema\":");
        write_str(&mut text, SCHEMA);
        text.push_str(",\"runs\":[{\"tool\":{\"driver\":{\"informationUri\":");
        write_str(&mut text, TOOL_URI);
        text.push_str(",\"name\":\"conftest\",\"rules\":[");
        for (i, rule) in self.rules.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str("{\"id\":");
            write_str(&mut text, &rule.id);
            text.push_str(",\"shortDescription\":{\"text\":");
            let rule_type = rule.id.rsplit('/').next().unwrap_or_default();
            write_str(&mut text, description(rule_type));
            text.push('}');
            if !rule.properties.is_empty() {
                text.push_str(",\"properties\":");
                text.push_str(&to_string(
                    &Value::Object(rule.properties.clone()),
                    Indent::Compact,
                ));
            }
            text.push('}');
        }
        text.push_str("],\"version\":");
        write_str(&mut text, DRIVER_VERSION);
        text.push_str(&format!(
            "}}}},\"invocations\":[{{\"executionSuccessful\":true,\"exitCode\":{exit_code},\"exitCodeDescription\":"
        ));
        write_str(&mut text, exit_desc);
        text.push_str("}],\"results\":[");
        out.write_all(text.as_bytes())?;
        self.results.drain_to(out)?;
        out.write_all(b"]}]}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_json(results: &[CheckResult]) -> Value {
        let out = Sarif.format(results, &OutputOptions::default());
        assert!(!out.ends_with('\n'));
        serde_json::from_str(&out).expect("valid JSON")
    }

    #[test]
    fn empty_run() {
        let out = Sarif.format(&[], &OutputOptions::default());
        assert_eq!(
            out,
            format!(
                "{{\"version\":\"2.1.0\",\"$schema\":\"{SCHEMA}\",\"runs\":[{{\"tool\":{{\"driver\":{{\"informationUri\":\"{TOOL_URI}\",\"name\":\"conftest\",\"rules\":[],\"version\":\"{DRIVER_VERSION}\"}}}},\"invocations\":[{{\"executionSuccessful\":true,\"exitCode\":0,\"exitCodeDescription\":\"No policy violations found\"}}],\"results\":[]}}]}}"
            )
        );
    }

    #[test]
    fn verify_records() {
        // verify: namespace "", a failure, a skipped-only record and a pass.
        let [failed, skipped, passed] = super::super::verify_sample("data.main.todo_test_x");
        let v = run_json(&[failed, skipped, passed]);
        let run = &v["runs"][0];
        let ids: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["/deny", "/skip", "/success"]);
        let levels: Vec<&str> = run["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        assert_eq!(levels, ["error", "none", "none"]);
        assert_eq!(run["invocations"][0]["exitCode"], 1);
    }

    #[test]
    fn exception_only_record_is_a_success() {
        let mut r = CheckResult::new("b.yaml", "main");
        r.exceptions
            .push(Message::plain("data.main.exception[_][_] == \"x\""));
        let v = run_json(&[r]);
        let rules = &v["runs"][0]["tool"]["driver"]["rules"];
        assert_eq!(rules[0]["id"], "main/allow");
        assert!(rules[0].get("properties").is_none());
        assert_eq!(rules[1]["id"], "main/success");
        assert_eq!(
            rules[1]["properties"]["description"],
            "Policy was satisfied successfully"
        );
        assert_eq!(v["runs"][0]["results"][1]["ruleIndex"], 1);
    }
}
