//! `time.*` replacements: regorus 0.14 slices strings inside a multi-byte character when
//! it reads durations and layouts.

use super::{native, string_arg, Fault};
use regorus::Value;

/// `time.parse_duration_ns`: Go's `time.ParseDuration`, with Go's errors.
pub fn parse_duration_ns(args: &[Value]) -> Result<Value, Fault> {
    let s = string_arg(args, 1)?;
    crate::base::godur::parse_nanos(s)
        .map(Value::from)
        .map_err(Fault::Opa)
}

/// `time.parse_ns(layout, value)`: regorus's parser, made safe. A non-ASCII layout or value
/// (where it can panic) that it cannot read is reported in Go's words.
pub fn parse_ns(args: &[Value]) -> Result<Value, Fault> {
    let layout = string_arg(args, 1)?;
    let value = string_arg(args, 2)?;
    native("time.parse_ns", args).map_err(|e| {
        Fault::Opa(if layout.is_ascii() && value.is_ascii() {
            e
        } else {
            let q = crate::base::godur::quote;
            format!(
                "parsing time {} as {}: cannot parse {} as {}",
                q(value),
                q(layout),
                q(value),
                q(layout)
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_layouts_never_panic() {
        assert_eq!(
            parse_duration_ns(&[Value::from("1h2é")]),
            Err(Fault::Opa(
                "time: unknown unit \"\\xc3\\xa9\" in duration \"1h2\\xc3\\xa9\"".to_string()
            ))
        );
        assert_eq!(
            parse_duration_ns(&[Value::from("1m")]),
            Ok(Value::from(60_000_000_000i64))
        );
        assert_eq!(
            parse_ns(&[Value::from("é"), Value::from("x")]),
            Err(Fault::Opa(
                "parsing time \"x\" as \"\\xc3\\xa9\": cannot parse \"x\" as \"\\xc3\\xa9\""
                    .to_string()
            ))
        );
        assert_eq!(
            parse_ns(&[Value::from("2006-01-02"), Value::from("2020-01-02")]),
            Ok(Value::from(1_577_923_200_000_000_000i64))
        );
    }
}
