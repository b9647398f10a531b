//! Go's `time.ParseDuration`, for duration flags that read as conftest's (pflag) do and for
//! OPA's `time.parse_duration_ns`.

use std::time::Duration;

/// Parses `300ms`, `1.5h`, `2h45m`, `-0`... for a flag: negative durations are refused (no
/// regorun flag has a use for them). Errors are Go's (see [`parse_nanos`]).
pub fn parse(s: &str) -> Result<Duration, String> {
    let nanos = parse_nanos(s)?;
    if nanos < 0 {
        return Err(format!("negative duration {}", quote(s)));
    }
    Ok(Duration::from_nanos(nanos.unsigned_abs()))
}

/// Go's `time.ParseDuration`, in nanoseconds, with its integer arithmetic and its errors:
/// `time: invalid duration "x"`, `time: unknown unit "x" in duration "y"`,
/// `time: missing unit in duration "y"`.
pub fn parse_nanos(orig: &str) -> Result<i64, String> {
    const LIMIT: u64 = 1 << 63;
    let invalid = || format!("time: invalid duration {}", quote(orig));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some((&c, rest)) = s.split_first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = rest;
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            let (frac, sc, rest) = leading_fraction(s);
            (f, scale, s) = (frac, sc, rest);
            post = before != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .iter()
            .position(|c| *c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let (u, rest) = s.split_at(unit_len);
        s = rest;
        let unit: u64 = match u {
            b"ns" => 1,
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000, // us, µs (U+00B5), μs (U+03BC)
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote_bytes(u),
                    quote(orig)
                ))
            }
        };
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            // Go converts with float64 here, truncating toward zero.
            v = v.saturating_add((f as f64 * (unit as f64 / scale)) as u64);
            if v > LIMIT {
                return Err(invalid());
            }
        }
        d = d.saturating_add(v);
        if d > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i128).wrapping_neg() as i64);
    }
    i64::try_from(d).map_err(|_| invalid())
}

/// Go's `leadingInt`: the leading digits as a number, `None` on overflow.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > 1 << 63 {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Go's `leadingFraction`: digits after the point, and their scale; digits beyond what
/// fits are ignored.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if !overflow {
            if x > ((1u64 << 63) - 1) / 10 {
                overflow = true;
            } else {
                let y = x * 10 + u64::from(s[i] - b'0');
                if y > 1 << 63 {
                    overflow = true;
                } else {
                    x = y;
                    scale *= 10.0;
                }
            }
        }
        i += 1;
    }
    (x, scale, &s[i..])
}

/// The `time` package's own quoting: like `strconv.Quote` for printable ASCII, but every
/// byte of a non-ASCII or control character becomes `\xNN`.
pub fn quote(s: &str) -> String {
    quote_bytes(s.as_bytes())
}

fn quote_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    for &c in b {
        if !(b' '..0x80).contains(&c) {
            out.push_str(&format!("\\x{c:02x}"));
        } else {
            if c == b'"' || c == b'\\' {
                out.push('\\');
            }
            out.push(char::from(c));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_nanos};
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
        assert_eq!(parse("-1s"), Err("negative duration \"-1s\"".to_string()));
    }

    #[test]
    fn go_nanos_and_errors() {
        assert_eq!(parse_nanos("-1.5h"), Ok(-5_400_000_000_000));
        assert_eq!(parse_nanos(".5s"), Ok(500_000_000));
        assert_eq!(parse_nanos("1h2m3s4ms5us6ns"), Ok(3_723_004_005_006));
        assert_eq!(parse_nanos("-9223372036854775808ns"), Ok(i64::MIN));
        assert_eq!(
            parse_nanos("9223372036854775808ns"),
            Err("time: invalid duration \"9223372036854775808ns\"".to_string())
        );
        // OPA's answer for the input that panics inside regorus 0.14.
        assert_eq!(
            parse_nanos("1h2é"),
            Err("time: unknown unit \"\\xc3\\xa9\" in duration \"1h2\\xc3\\xa9\"".to_string())
        );
        assert_eq!(
            parse_nanos("."),
            Err("time: invalid duration \".\"".to_string())
        );
    }
}
