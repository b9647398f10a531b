//! `-o json`: conftest's records marshalled by Go and indented with one TAB per level.

use super::{Formatter, OutputOptions, Sink};
use crate::base::gojson::{newline, write_str, write_value, Indent};
use crate::base::result::{CheckResult, Message, Totals};
use std::io::{self, Write};

/// Go-compatible JSON records.
pub struct Json;

const TAB: Indent = Indent::Pretty("\t");

fn write_messages(out: &mut String, key: &str, messages: &[Message], level: usize) {
    if messages.is_empty() {
        return;
    }
    out.push(',');
    newline(out, TAB, level);
    write_str(out, key);
    out.push_str(": [");
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(out, TAB, level + 1);
        out.push('{');
        newline(out, TAB, level + 2);
        out.push_str("\"msg\": ");
        write_str(out, &m.msg);
        if let Some(loc) = super::location(m) {
            // Go's `Location` has `omitempty` on both fields; a line of 0 is how the
            // model stores "no line".
            out.push(',');
            newline(out, TAB, level + 2);
            out.push_str("\"loc\": {");
            if !loc.file.is_empty() {
                newline(out, TAB, level + 3);
                out.push_str("\"file\": ");
                write_str(out, &loc.file);
            }
            if loc.line != 0 {
                if !loc.file.is_empty() {
                    out.push(',');
                }
                newline(out, TAB, level + 3);
                out.push_str(&format!("\"line\": {}", loc.line));
            }
            newline(out, TAB, level + 2);
            out.push('}');
        }
        if !m.metadata.is_empty() {
            out.push(',');
            newline(out, TAB, level + 2);
            out.push_str("\"metadata\": ");
            write_value(
                out,
                &serde_json::Value::Object(m.metadata.clone()),
                TAB,
                level + 2,
            );
        }
        newline(out, TAB, level + 1);
        out.push('}');
    }
    newline(out, TAB, level);
    out.push(']');
}

impl Formatter for Json {
    fn sink(&self, _opts: &OutputOptions) -> Box<dyn Sink> {
        Box::new(JsonSink { written: 0 })
    }
}

/// Writes each record as it comes: `[` before the first, `]` (or `null` for none) at the end.
struct JsonSink {
    written: usize,
}

impl Sink for JsonSink {
    fn record(&mut self, r: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
        let mut text = String::from(if self.written == 0 { "[" } else { "," });
        self.written += 1;
        newline(&mut text, TAB, 1);
        text.push('{');
        newline(&mut text, TAB, 2);
        text.push_str("\"filename\": ");
        write_str(&mut text, if r.filename == "-" { "" } else { &r.filename });
        text.push(',');
        newline(&mut text, TAB, 2);
        text.push_str("\"namespace\": ");
        write_str(&mut text, &r.namespace);
        text.push(',');
        newline(&mut text, TAB, 2);
        text.push_str(&format!("\"successes\": {}", r.successes));
        write_messages(&mut text, "skipped", &r.skipped, 2);
        write_messages(&mut text, "warnings", &r.warnings, 2);
        write_messages(&mut text, "failures", &r.failures, 2);
        write_messages(&mut text, "exceptions", &r.exceptions, 2);
        newline(&mut text, TAB, 1);
        text.push('}');
        out.write_all(text.as_bytes())
    }

    fn finish(&mut self, _totals: &Totals, out: &mut dyn Write) -> io::Result<()> {
        if self.written == 0 {
            return out.write_all(b"null\n");
        }
        let mut text = String::new();
        newline(&mut text, TAB, 0);
        text.push_str("]\n");
        out.write_all(text.as_bytes())
    }
}
