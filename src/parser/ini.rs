//! INI as go-ini v1 loads it, shaped by conftest: one object per section (the implicit
//! `DEFAULT` section is dropped), each value converted number → bool → string with Go's
//! `strconv.ParseFloat` / `ParseBool`.

use super::go_parse_float;
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Number, Value};

/// Parses an INI file.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    // go-ini reads with `ReadBytes('\n')`: every line keeps its newline, which shows up in
    // its error messages.
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut sections: Vec<(String, Map<String, Value>)> = vec![("DEFAULT".into(), Map::new())];
    let mut current = 0usize;
    let mut count = 1usize;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        i += 1;
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            let Some(close) = line.rfind(']') else {
                bail!("read ini file: unclosed section: {line}");
            };
            let name = &line[1..close];
            if name.is_empty() {
                bail!("read ini file: empty section name");
            }
            current = match sections.iter().position(|(s, _)| s == name) {
                Some(p) => p,
                None => {
                    sections.push((name.to_string(), Map::new()));
                    sections.len() - 1
                }
            };
            count = 1;
            continue;
        }
        let (mut key, offset) = read_key_name(line)?;
        if key == "-" {
            key = format!("#{count}");
            count += 1;
        }
        let value = read_value(&line[offset..], &lines, &mut i);
        let converted = convert(&value).map_err(|e| anyhow!("marshal ini to json: {e}"))?;
        sections[current].1.insert(key, converted);
    }
    let mut out = Map::new();
    for (name, map) in sections.into_iter().skip(1) {
        out.insert(name, Value::Object(map));
    }
    Ok(Value::Object(out))
}

/// go-ini `readKeyName` with the default delimiters `=:`: (name, offset of the value).
fn read_key_name(line: &str) -> Result<(String, usize)> {
    for q in ["\"\"\"", "`", "\""] {
        if let Some(rest) = line.strip_prefix(q) {
            let Some(end) = rest.find(q) else {
                bail!("read ini file: missing closing key quote: {line}");
            };
            let key = rest[..end].to_string();
            let after = q.len() + end + q.len();
            let Some(d) = line[after..].find(['=', ':']) else {
                bail!("read ini file: key-value delimiter not found: {line}");
            };
            return Ok((key, after + d + 1));
        }
    }
    match line.find(['=', ':']) {
        None => bail!("read ini file: key-value delimiter not found: {line}"),
        Some(0) => bail!("read ini file: empty key name: {line}"),
        Some(p) => Ok((line[..p].trim().to_string(), p + 1)),
    }
}

/// go-ini `readValue` with default options: `"""`/backtick quoting, `\` continuation lines,
/// an inline `#`/`;` comment cut off, then one pair of surrounding quotes removed.
fn read_value(raw: &str, lines: &[&str], i: &mut usize) -> String {
    let line = raw.trim_start();
    if line.is_empty() {
        return String::new();
    }
    let quote = if line.len() > 3 && line.starts_with("\"\"\"") {
        Some("\"\"\"")
    } else if line.starts_with('`') {
        Some("`")
    } else {
        None
    };
    if let Some(q) = quote {
        let rest = &line[q.len()..];
        if let Some(pos) = rest.rfind(q) {
            return rest[..pos].to_string();
        }
        // Multi-line quoted value: read on until a line holds the closing quote.
        let mut val = rest.to_string();
        while *i < lines.len() {
            let next = lines[*i];
            *i += 1;
            if let Some(pos) = next.find(q) {
                val.push_str(&next[..pos]);
                return val;
            }
            val.push_str(next);
        }
        return val;
    }
    let mut line = line.trim().to_string();
    if line.ends_with('\\') {
        line.pop();
        while *i < lines.len() {
            let next = lines[*i].trim();
            *i += 1;
            if next.is_empty() {
                break;
            }
            line.push_str(next);
            if !line.ends_with('\\') {
                break;
            }
            line.pop();
        }
        return line;
    }
    if let Some(p) = line.find(['#', ';']) {
        line = line[..p].trim().to_string();
    }
    for q in ['\'', '"'] {
        let b = line.as_bytes();
        if b.len() >= 2
            && b[0] == q as u8
            && b[b.len() - 1] == q as u8
            && line[1..].find(q) == Some(line.len() - 2)
        {
            return line[1..line.len() - 1].to_string();
        }
    }
    line
}

/// conftest's `convertKeyTypes` followed by a JSON round-trip.
pub(crate) fn convert(v: &str) -> std::result::Result<Value, String> {
    if let Some(f) = go_parse_float(v) {
        return Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| crate::base::gojson::unsupported_float(f));
    }
    if let Ok(b) = crate::base::gostr::parse_go_bool(v) {
        return Ok(Value::Bool(b));
    }
    Ok(Value::String(v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sections_and_conversions() {
        let v = parse(b"top = 1\n[server]\nport = 8080\ndebug = t\nname = web ; comment\nhex = 0x10\nempty =\n[auth.basic]\nenabled = false\n").unwrap();
        assert_eq!(
            v,
            json!({"server": {"port": 8080.0, "debug": true, "name": "web", "hex": "0x10", "empty": ""},
                   "auth.basic": {"enabled": false}})
        );
        assert_eq!(
            parse(b"[a]\nnovalue\n").unwrap_err().to_string(),
            "read ini file: key-value delimiter not found: novalue\n"
        );
        assert_eq!(
            parse(b"[a]\nq = \"quoted\"\ncont = a \\\n  b\n- = x\n- = y\n").unwrap(),
            json!({"a": {"q": "quoted", "cont": "a b", "#1": "x", "#2": "y"}})
        );
        assert!(parse(b"[a]\nx = nan\n").is_err());
    }
}
