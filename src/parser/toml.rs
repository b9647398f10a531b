//! TOML as BurntSushi/toml v1 decodes it into `any`: integers stay exact 64-bit ints,
//! floats are doubles, and date-times are `time.Time` values that Go marshals as RFC 3339
//! (local date-times, dates and times carry a zero offset zone, so they print with `Z`).

use anyhow::{anyhow, Result};
use serde_json::{Map, Number, Value};
use toml::value::Datetime;

/// Parses a TOML document.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let text = super::utf8(bytes).map_err(|e| anyhow!("unmarshal toml: toml: {e}"))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (line, col) = e
            .span()
            .map(|s| super::line_col(text, s.start))
            .unwrap_or((1, 1));
        anyhow!(
            "unmarshal toml: toml: line {line} (column {col}): {}",
            e.message().trim_end().replace('\n', "; ")
        )
    })?;
    convert(toml::Value::Table(table))
}

fn convert(v: toml::Value) -> Result<Value> {
    Ok(match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::Number(i.into()),
        toml::Value::Float(f) => Value::Number(
            Number::from_f64(f)
                .ok_or_else(|| anyhow!("{}", crate::base::gojson::unsupported_float(f)))?,
        ),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(rfc3339(&d)),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(convert).collect::<Result<_>>()?),
        toml::Value::Table(t) => {
            let mut m = Map::new();
            for (k, v) in t {
                m.insert(k, convert(v)?);
            }
            Value::Object(m)
        }
    })
}

/// Go's `time.Time` JSON form (RFC 3339 with nanoseconds, trailing zeros trimmed).
fn rfc3339(d: &Datetime) -> String {
    let date = d
        .date
        .map(|x| format!("{:04}-{:02}-{:02}", x.year, x.month, x.day))
        .unwrap_or_else(|| "0000-01-01".to_string());
    let time = d
        .time
        .map(|t| {
            let mut s = format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
            if t.nanosecond > 0 {
                let frac = format!("{:09}", t.nanosecond);
                s.push('.');
                s.push_str(frac.trim_end_matches('0'));
            }
            s
        })
        .unwrap_or_else(|| "00:00:00".to_string());
    let zone = match d.offset {
        Some(toml::value::Offset::Custom { minutes }) if minutes != 0 => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let m = minutes.unsigned_abs();
            format!("{sign}{:02}:{:02}", m / 60, m % 60)
        }
        _ => "Z".to_string(),
    };
    format!("{date}T{time}{zone}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exact_ints_and_datetimes() {
        let v = parse(
            b"a = 9007199254740993\nb = 1979-05-27T07:32:00-08:00\nc = 1979-05-27\n[t]\nd = 1.5\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"a": 9007199254740993i64, "b": "1979-05-27T07:32:00-08:00",
                   "c": "1979-05-27T00:00:00Z", "t": {"d": 1.5}})
        );
        assert!(parse(b"a = \n").unwrap_err().to_string().contains("line 1"));
    }
}
