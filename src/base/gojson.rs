//! JSON text exactly as Go's `encoding/json` writes it: HTML-safe escaping, object keys
//! sorted, and `json.Indent`-style indentation.

use serde_json::Value;
use std::fmt::Write;

/// `encoding/json`'s error for a float JSON cannot hold (NaN or an infinity).
pub fn unsupported_float(f: f64) -> String {
    let name = if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    };
    format!("json: unsupported value: {name}")
}

/// Appends `s` as a Go-escaped JSON string literal (`<`, `>`, `&`, U+2028/9 escaped).
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Formats a number the way Go marshals a float64 (or an exact integer as is).
pub fn number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    go_float(f)
}

/// Go's `encoding/json` float64 format: shortest digits, exponent outside [1e-6, 1e21).
pub fn go_float(f: f64) -> String {
    if f == f.trunc() && f.abs() < 1e21 {
        // Shortest round-trip digits, zero-padded (`12345678901234567000`, not the exact
        // binary value `12345678901234567168`).
        return format!("{}", f);
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust prints `1e21` / `1e-7`; Go writes `1e+21` / `1e-07` then trims to `1e-7`.
        let s = format!("{:e}", f);
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        return format!("{mant}e{sign}{digits}");
    }
    format!("{}", f)
}

/// Indentation style for [`write_value`].
#[derive(Clone, Copy)]
pub enum Indent<'a> {
    /// Compact, no whitespace (Go `json.Marshal`).
    Compact,
    /// One `unit` per level, `": "` after keys (Go `json.MarshalIndent` / `json.Indent`).
    Pretty(&'a str),
}

/// Appends `v` as Go would marshal it, with object keys sorted bytewise.
pub fn write_value(out: &mut String, v: &Value, indent: Indent, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_value(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_str(out, k);
                out.push(':');
                if let Indent::Pretty(_) = indent {
                    out.push(' ');
                }
                write_value(out, &map[k], indent, level + 1);
            }
            newline(out, indent, level);
            out.push('}');
        }
    }
}

/// Starts a new line at `level` (nothing in compact mode).
pub fn newline(out: &mut String, indent: Indent, level: usize) {
    if let Indent::Pretty(unit) = indent {
        out.push('\n');
        for _ in 0..level {
            out.push_str(unit);
        }
    }
}

/// Go-marshals `v` into a new string.
pub fn to_string(v: &Value, indent: Indent) -> String {
    let mut s = String::new();
    write_value(&mut s, v, indent, 0);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_like_go() {
        let mut s = String::new();
        write_str(&mut s, "a<b>&\"c\"\u{2028}é\u{1}");
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"c\"\u2028é\u0001""#);
    }

    #[test]
    fn floats_like_go() {
        assert_eq!(go_float(1e6), "1000000");
        assert_eq!(go_float(0.5), "0.5");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1e-7), "1e-7");
        assert_eq!(go_float(-2.5), "-2.5");
        assert_eq!(go_float(12345678901234567890.0), "12345678901234567000");
    }

    #[test]
    fn sorts_keys_and_indents() {
        let v = json!({"b": [1, {}], "a": []});
        assert_eq!(
            to_string(&v, Indent::Pretty("  ")),
            "{\n  \"a\": [],\n  \"b\": [\n    1,\n    {}\n  ]\n}"
        );
        assert_eq!(to_string(&v, Indent::Compact), r#"{"a":[],"b":[1,{}]}"#);
    }
}
