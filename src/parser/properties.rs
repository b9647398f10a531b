//! Java `.properties` files as magiconair/properties loads them: `key=value`, `key: value`
//! or `key value`; `#`/`!` comments; backslash line continuations; `\t \n \r \f \uXXXX`
//! escapes. The result is a flat string object (values as written: `${x}` references are
//! checked for cycles but not expanded, as `Properties.Map()` returns raw values).

use anyhow::{bail, Result};
use serde_json::{Map, Value};

/// Parses a properties file.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    let lines: Vec<&str> = text.split(['\n', '\r']).collect();
    let mut out = Map::new();
    let mut i = 0;
    while i < lines.len() {
        let first = lines[i].trim_start_matches([' ', '\t', '\u{c}']);
        let start_line = i + 1;
        i += 1;
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        let mut logical = first.to_string();
        while ends_with_continuation(&logical) && i < lines.len() {
            logical.pop();
            logical.push_str(lines[i].trim_start_matches([' ', '\t', '\u{c}']));
            i += 1;
        }
        if ends_with_continuation(&logical) {
            logical.pop();
        }
        let (key, value) = split(&logical)
            .map_err(|e| anyhow::anyhow!("parse properties file: {e} (line {start_line})"))?;
        out.insert(key, Value::String(value));
    }
    for (k, v) in &out {
        if let Value::String(s) = v {
            check_refs(k, s, &out, &mut vec![k.clone()])?;
        }
    }
    Ok(Value::Object(out))
}

fn ends_with_continuation(s: &str) -> bool {
    s.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

fn split(line: &str) -> std::result::Result<(String, String), String> {
    let chars: Vec<char> = line.chars().collect();
    let mut key = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            i += 1;
            key.push_str(&unescape_one(&chars, &mut i)?);
            continue;
        }
        if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\u{c}' {
            break;
        }
        key.push(c);
        i += 1;
    }
    // Separator: whitespace, then at most one `=`/`:`, then whitespace.
    while i < chars.len() && matches!(chars[i], ' ' | '\t' | '\u{c}') {
        i += 1;
    }
    if i < chars.len() && matches!(chars[i], '=' | ':') {
        i += 1;
    }
    while i < chars.len() && matches!(chars[i], ' ' | '\t' | '\u{c}') {
        i += 1;
    }
    let mut value = String::new();
    while i < chars.len() {
        if chars[i] == '\\' {
            i += 1;
            value.push_str(&unescape_one(&chars, &mut i)?);
        } else {
            value.push(chars[i]);
            i += 1;
        }
    }
    Ok((key, value))
}

/// Decodes the escape after a backslash at `chars[*i]`.
fn unescape_one(chars: &[char], i: &mut usize) -> std::result::Result<String, String> {
    let Some(&c) = chars.get(*i) else {
        return Ok(String::new());
    };
    *i += 1;
    Ok(match c {
        't' => "\t".into(),
        'n' => "\n".into(),
        'r' => "\r".into(),
        'f' => "\u{c}".into(),
        'u' => {
            let hex: String = chars.iter().skip(*i).take(4).collect();
            if hex.len() != 4 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!("invalid unicode literal \\u{hex}"));
            }
            *i += 4;
            let n = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
            char::from_u32(n)
                .map(String::from)
                .unwrap_or_else(|| "\u{fffd}".into())
        }
        other => other.to_string(),
    })
}

/// magiconair's `check()`: every `${key}` must not lead back to itself.
fn check_refs(
    key: &str,
    value: &str,
    all: &Map<String, Value>,
    seen: &mut Vec<String>,
) -> Result<()> {
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            bail!("parse properties file: malformed expression");
        };
        let name = &after[..end];
        if seen.iter().any(|s| s == name) {
            bail!(
                "parse properties file: circular reference in:\n{}={}",
                key,
                value
            );
        }
        if let Some(Value::String(v)) = all.get(name) {
            if seen.len() > 64 {
                bail!("parse properties file: expansion too deep");
            }
            seen.push(name.to_string());
            check_refs(name, v, all, seen)?;
            seen.pop();
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn java_rules() {
        let v = parse(b"# c\n! c\na=1\nb : two words\nc three\nlong = x \\\n    y\nkey\\ with\\ space = \\u0041\n").unwrap();
        assert_eq!(
            v,
            json!({"a": "1", "b": "two words", "c": "three", "long": "x y", "key with space": "A"})
        );
        assert!(parse(b"a=${b}\nb=${a}\n").is_err());
    }
}
