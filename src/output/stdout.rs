//! The default human format (conftest `output/standard.go`).

use super::{summary_line, Formatter, OutputOptions, Sink};
use crate::base::result::{CheckResult, Totals};
use crate::base::spool::Spool;
use std::io::{self, Write};

/// `FAIL - file - ns - msg` lines and a coloured summary.
pub struct Stdout;

use crate::base::color::{paint, Color};

const RED: Color = Color::Red;
const GREEN: Color = Color::Green;
const YELLOW: Color = Color::Yellow;
const BLUE: Color = Color::Blue;
const CYAN: Color = Color::Cyan;

impl Formatter for Stdout {
    fn sink(&self, opts: &OutputOptions) -> Box<dyn Sink> {
        Box::new(StdoutSink {
            opts: opts.clone(),
            held: opts.prints.then(|| Spool::new(opts.spill)),
        })
    }
}

/// Writes lines as records come, unless records may print: every `PRNT` line comes
/// first, so the other lines are then held back until the end.
struct StdoutSink {
    opts: OutputOptions,
    held: Option<Spool>,
}

impl Sink for StdoutSink {
    fn record(&mut self, r: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
        let color = self.opts.color;
        let mut prints = String::new();
        for p in &r.prints {
            prints.push_str(&paint("PRNT ", BLUE, color));
            prints.push_str("  ");
            prints.push_str(p);
            prints.push_str("\n\n");
        }
        out.write_all(prints.as_bytes())?;
        let indicator = if r.filename == "-" {
            "-".to_string()
        } else {
            format!("- {}", r.filename)
        };
        let ns = format!("- {} -", r.namespace);
        let mut text = String::new();
        let mut line = |label: &str, code: Color, msg: &str| {
            text.push_str(&format!(
                "{} {} {} {}\n",
                paint(label, code, color),
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
        if !self.opts.suppress_exceptions {
            for m in &r.exceptions {
                line("EXCP", CYAN, &m.msg);
            }
        }
        match &mut self.held {
            Some(spool) => spool.write(text.as_bytes()),
            None => out.write_all(text.as_bytes()),
        }
    }

    fn finish(&mut self, totals: &Totals, out: &mut dyn Write) -> io::Result<()> {
        if let Some(spool) = &mut self.held {
            spool.drain_to(out)?;
        }
        let mut text = summary_line(totals);
        if self.opts.show_skipped {
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
        out.write_all(format!("\n{}\n", paint(&text, code, self.opts.color)).as_bytes())
    }
}
