//! INI as go-ini v1 loads it, shaped by conftest: one object per section (the implicit
//! `DEFAULT` section is dropped), each value converted number → bool → string with Go's
//! `strconv.ParseFloat` / `ParseBool`.

use super::{go_parse_bool, go_parse_float};
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Number, Value};

/// Parses an INI file.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut sections: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut current = "DEFAULT".to_string();
    let mut default = Map::new();
    for (n, raw) in text.split('\n').enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(end) = rest.find(']') else {
                bail!("read ini file: unclosed section: {line}");
            };
            let name = rest[..end].trim();
            if name.is_empty() {
                bail!("read ini file: empty section name (line {})", n + 1);
            }
            current = name.to_string();
            if current != "DEFAULT" && !sections.iter().any(|(s, _)| *s == current) {
                sections.push((current.clone(), Map::new()));
            }
            continue;
        }
        let Some(pos) = line.find(['=', ':']) else {
            bail!("read ini file: key-value delimiter not found: {line}");
        };
        let key = unquote(line[..pos].trim()).to_string();
        let value = read_value(line[pos + 1..].trim());
        let converted = convert(&value).map_err(|e| anyhow!("marshal ini to json: {e}"))?;
        let target = if current == "DEFAULT" {
            &mut default
        } else {
            match sections.iter_mut().find(|(s, _)| *s == current) {
                Some((_, m)) => m,
                None => continue,
            }
        };
        target.insert(key, converted);
    }
    let mut out = Map::new();
    for (name, map) in sections {
        out.insert(name, Value::Object(map));
    }
    Ok(Value::Object(out))
}

fn unquote(s: &str) -> &str {
    for q in ["\"\"\"", "`", "\"", "'"] {
        if s.len() >= 2 * q.len() && s.starts_with(q) && s.ends_with(q) {
            return &s[q.len()..s.len() - q.len()];
        }
    }
    s
}

/// go-ini `readValue`: quoted values keep their content; otherwise an inline `#`/`;`
/// comment is cut off.
fn read_value(v: &str) -> String {
    for q in ["\"\"\"", "`", "\"", "'"] {
        if let Some(rest) = v.strip_prefix(q) {
            if let Some(end) = rest.find(q) {
                return rest[..end].to_string();
            }
        }
    }
    match v.find(['#', ';']) {
        Some(i) => v[..i].trim().to_string(),
        None => v.to_string(),
    }
}

/// conftest's `convertKeyTypes` followed by a JSON round-trip.
pub(crate) fn convert(v: &str) -> std::result::Result<Value, String> {
    if let Some(f) = go_parse_float(v) {
        return Number::from_f64(f).map(Value::Number).ok_or_else(|| {
            format!(
                "json: unsupported value: {}",
                if f.is_nan() {
                    "NaN"
                } else if f > 0.0 {
                    "+Inf"
                } else {
                    "-Inf"
                }
            )
        });
    }
    if let Some(b) = go_parse_bool(v) {
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
        assert!(parse(b"[a]\nnovalue\n").is_err());
        assert!(parse(b"[a]\nx = nan\n").is_err());
    }
}
