//! `.env` files as subosito/gotenv v1.6 `StrictParse` reads them (conftest's `dotenv`
//! parser): trimmed lines, `#` comments, `KEY=value` / `export KEY=value` / `KEY: value`;
//! single quotes are literal; double quotes turn `\n`/`\r` into newlines, drop other
//! backslashes and may span lines; `$VAR` / `${VAR}` (upper-case names) are expanded from the
//! process environment first, then earlier keys.

use anyhow::{bail, Result};
use regex::Regex;
use serde_json::{Map, Value};
use std::sync::OnceLock;

fn line_rgx() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(
            r#"\A[\t\n\f\r ]*(?:export[\t\n\f\r ]+)?([0-9A-Za-z_\.]+)(?:[\t\n\f\r ]*=[\t\n\f\r ]*|:[\t\n\f\r ]+?)('(?:'|[^'])*'|"(?:"|[^"])*"|[^#\n]+)?[\t\n\f\r ]*(?:[\t\n\f\r ]*\#.*)?\z"#,
        )
        .expect("valid regex")
    })
}

fn var_rgx() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"(\\)?(\$)(\{?([A-Z0-9_]+)?\}?)").expect("valid regex"))
}

fn var_name_rgx() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"(\$)(\{?([A-Z0-9_]+)\}?)").expect("valid regex"))
}

fn unescape_rgx() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"\\([^$])").expect("valid regex"))
}

/// Parses a dotenv file into a flat string object.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    // bufio.Scanner with gotenv's splitter: lines end at `\n`, `\r\n` or `\r`.
    let lines: Vec<&str> = text
        .split("\r\n")
        .flat_map(|l| l.split(['\n', '\r']))
        .collect();
    let mut lines: Vec<&str> = lines;
    if text.ends_with('\n') || text.ends_with('\r') {
        lines.pop();
    }
    let mut env: Map<String, Value> = Map::new();
    let mut i = 0;
    while i < lines.len() {
        let mut line = lines[i].trim().to_string();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut quote: Option<char> = None;
        let idx = line.find('=').or_else(|| line.find(':'));
        if let Some(idx) = idx {
            if idx > 0 && idx < line.len() - 1 {
                let val = line[idx + 1..].trim();
                if let Some(q) = val.chars().next().filter(|c| *c == '"' || *c == '\'') {
                    quote = Some(q);
                    // A closing quote on the same line ends the value there.
                    let rest = val[1..].trim();
                    if let Some(p) = rest.rfind(q) {
                        if val.as_bytes().get(p) != Some(&b'\\') {
                            quote = None;
                        }
                    }
                }
            }
        }
        while let Some(q) = quote {
            if i >= lines.len() {
                break;
            }
            let l = lines[i];
            i += 1;
            line.push('\n');
            line.push_str(l);
            if let Some(p) = l.rfind(q) {
                if p > 0 && l.as_bytes()[p - 1] == b'\\' {
                    continue;
                }
                quote = None;
            }
        }
        if quote.is_some() {
            bail!("read .env file: missing quotes");
        }
        parse_line(&line, &mut env)?;
    }
    Ok(Value::Object(env))
}

fn lookup(name: &str, env: &Map<String, Value>) -> String {
    if let Ok(v) = std::env::var(name) {
        return v;
    }
    match env.get(name) {
        Some(Value::String(v)) => v.clone(),
        _ => String::new(),
    }
}

fn parse_line(s: &str, env: &mut Map<String, Value>) -> Result<()> {
    let Some(caps) = line_rgx().captures(s) else {
        let st = s.trim();
        if st.is_empty() || st.starts_with('#') {
            return Ok(());
        }
        if st.starts_with("export") {
            if let Some((_, name)) = st.split_once(' ') {
                if !env.contains_key(name) {
                    bail!("read .env file: line `{st}` has an unset variable");
                }
            }
        }
        bail!("read .env file: line `{s}` doesn't match format");
    };
    let key = caps.get(1).map_or("", |m| m.as_str()).trim().to_string();
    let mut val = caps.get(2).map_or("", |m| m.as_str()).trim().to_string();
    let (mut hdq, mut hsq) = (false, false);
    if val.len() >= 2 {
        let b = val.as_bytes();
        let last = b[b.len() - 1];
        hdq = b[0] == b'"' && last == b'"';
        hsq = b[0] == b'\'' && last == b'\'';
        if hdq || hsq {
            val = val[1..val.len() - 1].to_string();
        }
    }
    if hdq {
        val = val.replace("\\n", "\n").replace("\\r", "\r");
        val = unescape_rgx().replace_all(&val, "$1").into_owned();
    }
    if !hsq {
        let env_ref: &Map<String, Value> = env;
        val = var_rgx()
            .replace_all(&val, |c: &regex::Captures| {
                let s = c.get(0).map_or("", |m| m.as_str());
                if let Some(rest) = s.strip_prefix('\\') {
                    return rest.to_string();
                }
                match var_name_rgx().captures(s) {
                    Some(m) => lookup(m.get(3).map_or("", |x| x.as_str()), env_ref),
                    None => s.to_string(),
                }
            })
            .into_owned();
        if val.contains('=') && !hdq {
            let parts: Vec<String> = val.split('\r').map(str::to_string).collect();
            if parts.len() > 1 {
                val = parts[0].clone();
                for l in &parts[1..] {
                    let _ = parse_line(l, env);
                }
            }
        }
    }
    env.insert(key, Value::String(val));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gotenv_rules() {
        let v = parse(b"# c\nexport A_X=1\nB='lit ${A_X}'\nC=\"x\\ny ${A_X}\"\nD=plain # comment\nE: yaml\nF=${A_X}-2\nG=\"multi\nline\"\nH=\\$A_X\n").unwrap();
        assert_eq!(
            v,
            json!({"A_X": "1", "B": "lit ${A_X}", "C": "x\ny 1", "D": "plain", "E": "yaml",
                   "F": "1-2", "G": "multi\nline", "H": "$A_X"})
        );
        assert_eq!(
            parse(b"NOT A LINE\n").unwrap_err().to_string(),
            "read .env file: line `NOT A LINE` doesn't match format"
        );
    }
}
