//! The default human format (conftest `output/standard.go`).

use super::{summary_line, Formatter, OutputOptions};
use crate::base::result::{CheckResult, Totals};

/// `FAIL - file - ns - msg` lines and a coloured summary.
pub struct Stdout;

use crate::base::color::{paint, Color};

const RED: Color = Color::Red;
const GREEN: Color = Color::Green;
const YELLOW: Color = Color::Yellow;
const BLUE: Color = Color::Blue;
const CYAN: Color = Color::Cyan;

impl Formatter for Stdout {
    fn format(&self, results: &[CheckResult], opts: &OutputOptions) -> String {
        let mut out = String::new();
        for r in results {
            for p in &r.prints {
                out.push_str(&paint("PRNT ", BLUE, opts.color));
                out.push_str("  ");
                out.push_str(p);
                out.push_str("\n\n");
            }
        }
        for r in results {
            let indicator = if r.filename == "-" {
                "-".to_string()
            } else {
                format!("- {}", r.filename)
            };
            let ns = format!("- {} -", r.namespace);
            let mut line = |label: &str, code: Color, msg: &str| {
                out.push_str(&format!(
                    "{} {} {} {}\n",
                    paint(label, code, opts.color),
                    indicator,
                    ns,
                    msg
                ));
            };
            for m in &r.warnings {
                line("WARN", YELLOW, &m.msg);
            }
            for m in &r.failures {
                line("FAIL", RED, &m.msg);
            }
            if !opts.suppress_exceptions {
                for m in &r.exceptions {
                    line("EXCP", CYAN, &m.msg);
                }
            }
        }
        let totals = Totals::of(results);
        let mut text = summary_line(&totals);
        if opts.show_skipped {
            text.push_str(&format!(", {} skipped", totals.skipped));
        }
        let code = if totals.failures > 0 {
            RED
        } else if totals.warnings > 0 {
            YELLOW
        } else if totals.exceptions > 0 {
            CYAN
        } else {
            GREEN
        };
        out.push('\n');
        out.push_str(&paint(&text, code, opts.color));
        out.push('\n');
        out
    }
}
