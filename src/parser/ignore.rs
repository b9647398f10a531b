//! `.gitignore` / `.dockerignore` files as shteou/go-ignore lists them: one entry per
//! `\n`-separated line, wrapped in a one-element array so `input` is the entry list.

use anyhow::Result;
use serde_json::{json, Value};

/// Parses an ignore file into `[[{"Kind","Value","Original"}, …]]`.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(bytes);
    let entries: Vec<Value> = text.split('\n').map(entry).collect();
    Ok(Value::Array(vec![Value::Array(entries)]))
}

fn entry(line: &str) -> Value {
    let (kind, value) = if line.trim().is_empty() {
        ("Empty", String::new())
    } else if let Some(c) = line.strip_prefix('#') {
        ("Comment", c.trim().to_string())
    } else if let Some(p) = line.strip_prefix('!') {
        ("NegatedPath", path_value(p))
    } else {
        ("Path", path_value(line))
    };
    json!({"Kind": kind, "Value": value, "Original": line})
}

/// Trailing spaces are dropped unless escaped; backslash escapes are removed.
fn path_value(p: &str) -> String {
    let mut out = String::new();
    let mut pending_spaces = String::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push_str(&std::mem::take(&mut pending_spaces));
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            ' ' => pending_spaces.push(' '),
            c => {
                out.push_str(&std::mem::take(&mut pending_spaces));
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        let v = parse(b"!bar\n\n# Test\nfoo\\ \\#x  \n").unwrap();
        assert_eq!(
            v,
            json!([[
                {"Kind": "NegatedPath", "Value": "bar", "Original": "!bar"},
                {"Kind": "Empty", "Value": "", "Original": ""},
                {"Kind": "Comment", "Value": "Test", "Original": "# Test"},
                {"Kind": "Path", "Value": "foo #x", "Original": "foo\\ \\#x  "},
                {"Kind": "Empty", "Value": "", "Original": ""}
            ]])
        );
    }
}
