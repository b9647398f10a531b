//! JSON as Go's `encoding/json` reads it: BOM stripped, last duplicate key wins, nesting
//! capped at 10,000 levels with Go's error text.

use super::MAX_DEPTH;
use anyhow::{anyhow, bail, Result};
use serde::Deserialize;
use serde_json::Value;

/// Parses one JSON document.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let mut value: Value = parse_as(bytes)?;
    round_big_ints(&mut value);
    Ok(value)
}

/// Parses one JSON document straight into the value policies see, skipping the
/// `serde_json::Value` step (same rules and errors as [`parse`]).
pub fn parse_rego(bytes: &[u8]) -> Result<regorus::Value> {
    if scan(bytes)? {
        // Integers past 2^53 must be rounded as Go rounds them: take the exact route.
        return crate::base::value::to_rego(parse(bytes)?);
    }
    parse_as(bytes)
}

fn parse_as<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    scan(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    // Deep but legal documents must not overflow the stack.
    let stacked = serde_stacker::Deserializer::new(&mut de);
    let value = T::deserialize(stacked).map_err(|e| go_error(bytes, &e))?;
    de.end().map_err(|e| go_error(bytes, &e))?;
    Ok(value)
}

/// Go decodes every JSON number into a float64: integers beyond 2^53 lose precision
/// (`12345678901234567890` → `12345678901234567000`). Smaller integers are exact either way.
fn round_big_ints(v: &mut Value) {
    const EXACT: u64 = 1 << 53;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Number(n) => {
                let big = n.as_u64().is_some_and(|u| u > EXACT)
                    || n.as_i64().is_some_and(|i| i.unsigned_abs() > EXACT);
                if big {
                    if let Some(f) = n.as_f64().and_then(serde_json::Number::from_f64) {
                        *n = f;
                    }
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(map) => stack.extend(map.values_mut()),
            _ => {}
        }
    }
}

/// Rewords a serde_json error the way Go's `encoding/json` words it, so pipelines that
/// grep conftest's messages keep working.
fn go_error(bytes: &[u8], e: &serde_json::Error) -> anyhow::Error {
    use serde_json::error::Category;
    if e.classify() == Category::Eof {
        return anyhow!("unmarshal json: unexpected end of JSON input");
    }
    let offending = offset_of(bytes, e.line(), e.column()).and_then(|i| {
        let rest = std::str::from_utf8(&bytes[i..]).ok();
        match rest {
            Some(r) => r.chars().next(),
            None => bytes.get(i).map(|&b| b as char),
        }
    });
    let text = e.to_string();
    let Some(c) = offending else {
        return anyhow!("unmarshal json: {text}");
    };
    let what = if text.starts_with("trailing characters") {
        "after top-level value"
    } else if text.starts_with("expected `,` or `]`") {
        "after array element"
    } else if text.starts_with("expected `,` or `}`") {
        "after object key:value pair"
    } else if text.starts_with("expected `:`") {
        "after object key"
    } else if text.starts_with("key must be a string") {
        "looking for beginning of object key string"
    } else if text.starts_with("invalid escape") {
        "in string escape code"
    } else if text.starts_with("control character") {
        "in string literal"
    } else if text.starts_with("expected value") || text.starts_with("expected ident") {
        "looking for beginning of value"
    } else {
        return anyhow!("unmarshal json: {text}");
    };
    anyhow!(
        "unmarshal json: invalid character {} {what}",
        go_quote_char(c)
    )
}

/// Byte offset of serde_json's 1-based line and column (the column points at the byte
/// just read, so step back one).
fn offset_of(bytes: &[u8], line: usize, column: usize) -> Option<usize> {
    let mut start = 0usize;
    for _ in 1..line {
        start += bytes[start..].iter().position(|&b| b == b'\n')? + 1;
    }
    let i = start + column.saturating_sub(1);
    (i < bytes.len()).then_some(i)
}

/// Go's `quoteChar`: `'x'`, `'\''`, `'"'`, `'\x00'`, `'\n'`.
fn go_quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        '\n' => "'\\n'".to_string(),
        '\r' => "'\\r'".to_string(),
        '\t' => "'\\t'".to_string(),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

/// Rejects documents nested deeper than Go's scanner allows, before any recursion.
/// Returns whether a number outside strings has 16 or more digits (it may need Go's
/// float64 rounding).
fn scan(bytes: &[u8]) -> Result<bool> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut digits = 0usize;
    let mut long_number = false;
    for &b in bytes {
        if !in_string {
            if b.is_ascii_digit() {
                digits += 1;
                long_number |= digits >= 16;
            } else {
                digits = 0;
            }
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    bail!(
                        "unmarshal json: invalid character '{}' exceeded max depth",
                        b as char
                    );
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(long_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_bom_and_keeps_last_duplicate() {
        let v = parse(b"\xEF\xBB\xBF{\"a\":1,\"a\":2}").unwrap();
        assert_eq!(v, serde_json::json!({"a": 2}));
    }

    #[test]
    fn direct_values_match_the_serde_json_route() {
        let docs: [&[u8]; 4] = [
            b"\xEF\xBB\xBF{\"a\":1,\"a\":2,\"b\":[1.5,-3,18446744073709551615,null,true]}",
            b"[{\"Statement\":{\"Effect\":\"Allow\"}}, \"x\\u00e9\"]",
            b"{\"$serde_json::private::Number\":\"1\"}",
            b"1e300",
        ];
        for d in docs {
            let via = crate::base::value::to_rego(parse(d).unwrap()).unwrap();
            assert_eq!(parse_rego(d).unwrap(), via);
        }
        // regorus's number marker fails both routes (the runner rewords via the old one).
        for odd in [
            &b"{\"$serde_json::private::Number\":\"1\",\"k\":1}"[..],
            b"{\"$serde_json::private::Number\":\"abc\"}",
        ] {
            assert!(parse_rego(odd).is_err());
            assert!(crate::base::value::to_rego(parse(odd).unwrap()).is_err());
        }
        for bad in [&b"{\"a\": 1"[..], b"{} x", b"1e400"] {
            assert_eq!(
                parse_rego(bad).unwrap_err().to_string(),
                parse(bad).unwrap_err().to_string()
            );
        }
    }

    #[test]
    fn deep_documents() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let err = parse(deep.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            err,
            "unmarshal json: invalid character '[' exceeded max depth"
        );
    }

    #[test]
    fn errors_read_like_go() {
        let e = |s: &str| parse(s.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            e(r#"{"a": [1, 2,,]}"#),
            "unmarshal json: invalid character ',' looking for beginning of value"
        );
        assert_eq!(
            e("{} x"),
            "unmarshal json: invalid character 'x' after top-level value"
        );
        assert_eq!(
            e(r#"{"a": 1"#),
            "unmarshal json: unexpected end of JSON input"
        );
        assert_eq!(
            e("{\"a\" 1}"),
            "unmarshal json: invalid character '1' after object key"
        );
        assert_eq!(
            e("\u{0}"),
            "unmarshal json: invalid character '\\x00' looking for beginning of value"
        );
    }
}
