//! `.env` files as subosito/gotenv's `StrictParse` reads them: `KEY=value`,
//! `export KEY=value` and `KEY: value` lines; single quotes are literal, double quotes
//! process `\n`-style escapes and `${VAR}` expansion, unquoted values are trimmed, cut at
//! `#` and expanded. Expansion looks at earlier keys, then the process environment.

use anyhow::{bail, Result};
use serde_json::{Map, Value};

/// Parses a dotenv file into a flat string object.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(bytes);
    let text = text
        .strip_prefix('\u{feff}')
        .unwrap_or(&text)
        .replace("\r\n", "\n");
    let mut env: Map<String, Value> = Map::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let mut line = lines[i].to_string();
        i += 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        // A double-quoted value may span lines.
        while quote_open(&line) && i < lines.len() {
            line.push('\n');
            line.push_str(lines[i]);
            i += 1;
        }
        let Some((key, value)) = split_line(&line, &env) else {
            bail!("read .env file: line `{}` doesn't match format", line);
        };
        env.insert(key, Value::String(value));
    }
    Ok(Value::Object(env))
}

fn quote_open(line: &str) -> bool {
    let Some(eq) = line.find(['=', ':']) else {
        return false;
    };
    let v = line[eq + 1..].trim_start();
    if let Some(rest) = v.strip_prefix('"') {
        let mut escaped = false;
        for c in rest.chars() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return false,
                _ => escaped = false,
            }
        }
        return true;
    }
    false
}

fn split_line(line: &str, env: &Map<String, Value>) -> Option<(String, String)> {
    let mut s = line.trim_start();
    if let Some(rest) = s.strip_prefix("export") {
        if rest.starts_with(char::is_whitespace) {
            s = rest.trim_start();
        }
    }
    let key_len = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(s.len());
    if key_len == 0 {
        return None;
    }
    let key = &s[..key_len];
    let rest = &s[key_len..];
    let after = {
        let r = rest.trim_start();
        if let Some(v) = r.strip_prefix('=') {
            v.trim_start()
        } else if let Some(v) = rest.strip_prefix(':') {
            if !v.starts_with(char::is_whitespace) && !v.is_empty() {
                return None;
            }
            v.trim_start()
        } else {
            return None;
        }
    };
    let value = if let Some(body) = after.strip_prefix('\'') {
        let end = body.rfind('\'')?;
        check_tail(&body[end + 1..])?;
        body[..end].to_string()
    } else if let Some(body) = after.strip_prefix('"') {
        let end = closing_quote(body)?;
        check_tail(&body[end + 1..])?;
        expand(&unescape(&body[..end]), env)
    } else {
        let v = match after.find('#') {
            Some(p) => &after[..p],
            None => after,
        };
        expand(v.trim(), env)
    };
    Some((key.to_string(), value))
}

fn check_tail(tail: &str) -> Option<()> {
    let t = tail.trim();
    (t.is_empty() || t.starts_with('#')).then_some(())
}

fn closing_quote(body: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('$') => out.push_str("\\$"),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `${VAR}` / `$VAR` expansion; `\$` stays a literal `$`.
fn expand(s: &str, env: &Map<String, Value>) -> String {
    let lookup = |name: &str| -> String {
        match env.get(name) {
            Some(Value::String(v)) => v.clone(),
            _ => std::env::var(name).unwrap_or_default(),
        }
    };
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c == '$' {
            if chars.get(i + 1) == Some(&'{') {
                if let Some(end) = chars[i + 2..].iter().position(|&c| c == '}') {
                    let name: String = chars[i + 2..i + 2 + end].iter().collect();
                    out.push_str(&lookup(&name));
                    i += end + 3;
                    continue;
                }
            } else {
                let len = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_')
                    .count();
                if len > 0 {
                    let name: String = chars[i + 1..i + 1 + len].iter().collect();
                    out.push_str(&lookup(&name));
                    i += len + 1;
                    continue;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gotenv_rules() {
        let v = parse(b"# c\nexport A=1\nB='lit ${A}'\nC=\"x\\ny ${A}\"\nD=plain # comment\nE: yaml\nF=${A}-2\n").unwrap();
        assert_eq!(
            v,
            json!({"A": "1", "B": "lit ${A}", "C": "x\ny 1", "D": "plain", "E": "yaml", "F": "1-2"})
        );
        assert!(parse(b"NOT A LINE\n").is_err());
    }
}
