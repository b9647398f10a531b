//! `-o azuredevops`: Azure Pipelines logging commands (conftest `output/azuredevops.go`).

use super::{summary_line, Formatter, OutputOptions, Sink};
use crate::base::result::{CheckResult, Message, Totals};
use std::io::{self, Write};

/// `##[section]` / `##[group]` framing and `##vso[task.logissue …]` lines per record,
/// then the plain summary line (never with a `, N skipped` suffix).
pub struct AzureDevOps;

impl Formatter for AzureDevOps {
    fn sink(&self, _opts: &OutputOptions) -> Box<dyn Sink> {
        Box::new(AzureSink)
    }
}

/// A section per record as it comes; the summary at the end.
struct AzureSink;

impl Sink for AzureSink {
    fn record(&mut self, r: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
        let file = &r.filename;
        let mut text = format!(
            "##[section]Testing '{file}' against {} policies in namespace '{}'\n",
            r.tests(),
            r.namespace
        );
        text.push_str("##[group]See conftest results\n");
        for m in &r.failures {
            text.push_str(&format!(
                "##vso[task.logissue type=error{}] file={file} --> {}\n",
                properties(file, m),
                m.msg
            ));
        }
        for m in r.warnings.iter().chain(&r.exceptions) {
            text.push_str(&format!(
                "##vso[task.logissue type=warning{}] file={file} --> {}\n",
                properties(file, m),
                m.msg
            ));
        }
        for m in &r.skipped {
            text.push_str(&format!("skipped file={file} {}\n", m.msg));
        }
        if r.successes > 0 {
            text.push_str(&format!("success file={file} {}\n", r.successes));
        }
        text.push_str("##[endgroup]\n");
        out.write_all(text.as_bytes())
    }

    fn finish(&mut self, totals: &Totals, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(format!("{}\n", summary_line(totals)).as_bytes())
    }
}

fn properties(file: &str, m: &Message) -> String {
    match (m.pos, super::location(m)) {
        (Some(p), None) => format!(
            ";sourcepath={file};linenumber={};columnnumber={}",
            p.line, p.column
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_records_keep_skipped_out_of_the_summary_suffix() {
        let [failed, skipped, passed] = super::super::verify_sample("data.main.todo_test_x");
        let opts = OutputOptions {
            show_skipped: true,
            ..Default::default()
        };
        let out = AzureDevOps.format(&[failed, skipped, passed], &opts);
        assert_eq!(
            out,
            "##[section]Testing 'policy/a_test.rego' against 1 policies in namespace ''\n\
             ##[group]See conftest results\n\
             ##vso[task.logissue type=error] file=policy/a_test.rego --> data.main.test_deny\n\
             ##[endgroup]\n\
             ##[section]Testing 'policy/a_test.rego' against 1 policies in namespace ''\n\
             ##[group]See conftest results\n\
             skipped file=policy/a_test.rego data.main.todo_test_x\n\
             ##[endgroup]\n\
             ##[section]Testing 'policy/a_test.rego' against 1 policies in namespace ''\n\
             ##[group]See conftest results\n\
             success file=policy/a_test.rego 1\n\
             ##[endgroup]\n\
             3 tests, 1 passed, 0 warnings, 1 failure, 0 exceptions\n"
        );
    }

    #[test]
    fn no_records() {
        assert_eq!(
            AzureDevOps.format(&[], &OutputOptions::default()),
            "0 tests, 0 passed, 0 warnings, 0 failures, 0 exceptions\n"
        );
    }
}
