//! Go's `time.ParseDuration`, for duration flags that read as conftest's (pflag) do.

use std::time::Duration;

/// Parses `300ms`, `1.5h`, `2h45m`, `-0`... as Go does; negative durations are refused
/// (no regorun flag has a use for them). The error is Go's:
/// `time: invalid duration "x"` / `time: unknown unit "x" in duration "y"` /
/// `time: missing unit in duration "y"`.
pub fn parse(s: &str) -> Result<Duration, String> {
    let quoted = crate::base::gostr::quote(s);
    let invalid = || format!("time: invalid duration {quoted}");
    let mut rest = s;
    let negative = rest.starts_with('-');
    rest = rest.strip_prefix(['-', '+']).unwrap_or(rest);
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let nanos = match unit {
            "" => return Err(format!("time: missing unit in duration {quoted}")),
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            other => {
                return Err(format!(
                    "time: unknown unit {} in duration {quoted}",
                    crate::base::gostr::quote(other)
                ))
            }
        };
        let value: f64 = number.parse().map_err(|_| invalid())?;
        total += value * nanos;
    }
    // Go's limit: about 290 years.
    if total > i64::MAX as f64 {
        return Err(invalid());
    }
    if negative && total > 0.0 {
        return Err(format!("negative duration {quoted}"));
    }
    Ok(Duration::from_nanos(total as u64))
}

#[cfg(test)]
mod tests {
    use super::parse;
    use std::time::Duration;

    #[test]
    fn go_durations() {
        assert_eq!(parse("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("2h45m"), Ok(Duration::from_secs(2 * 3600 + 45 * 60)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("10µs"), Ok(Duration::from_micros(10)));
        assert_eq!(parse("x"), Err("time: invalid duration \"x\"".to_string()));
        assert_eq!(parse(""), Err("time: invalid duration \"\"".to_string()));
        assert_eq!(
            parse("10"),
            Err("time: missing unit in duration \"10\"".to_string())
        );
        assert_eq!(
            parse("3d"),
            Err("time: unknown unit \"d\" in duration \"3d\"".to_string())
        );
    }
}
