//! `-o json`: conftest's records marshalled by Go and indented with one TAB per level.

use super::{Formatter, OutputOptions};
use crate::base::gojson::{newline, write_str, write_value, Indent};
use crate::base::result::{CheckResult, Message};

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
    fn format(&self, results: &[CheckResult], _opts: &OutputOptions) -> String {
        if results.is_empty() {
            return "null\n".to_string();
        }
        let mut out = String::from("[");
        for (i, r) in results.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            newline(&mut out, TAB, 1);
            out.push('{');
            newline(&mut out, TAB, 2);
            out.push_str("\"filename\": ");
            write_str(&mut out, if r.filename == "-" { "" } else { &r.filename });
            out.push(',');
            newline(&mut out, TAB, 2);
            out.push_str("\"namespace\": ");
            write_str(&mut out, &r.namespace);
            out.push(',');
            newline(&mut out, TAB, 2);
            out.push_str(&format!("\"successes\": {}", r.successes));
            write_messages(&mut out, "skipped", &r.skipped, 2);
            write_messages(&mut out, "warnings", &r.warnings, 2);
            write_messages(&mut out, "failures", &r.failures, 2);
            write_messages(&mut out, "exceptions", &r.exceptions, 2);
            newline(&mut out, TAB, 1);
            out.push('}');
        }
        newline(&mut out, TAB, 0);
        out.push_str("]\n");
        out
    }
}
