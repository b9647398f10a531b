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
/// (where it can panic) that it cannot read is reported in Go's words. A zone abbreviation
/// (layout `MST`) is Go's: regorus gives the US ones (`EST`, `PST`...) their offsets, Go
/// the local zone's offset when the local zone uses the abbreviation, else none (`15:04
/// PST` is 15:04 UTC on a machine in UTC). The abbreviation is read as `UTC`, then the
/// local offset applied; a numeric zone in the layout sets the offset instead, as in Go.
pub fn parse_ns(args: &[Value]) -> Result<Value, Fault> {
    let layout = string_arg(args, 1)?;
    let value = string_arg(args, 2)?;
    use crate::base::gotime::{abbreviation_offset, zone_abbreviation, Abbreviation};
    let q = crate::base::godur::quote;
    match zone_abbreviation(layout, value) {
        Some(Abbreviation::NotCapitals(at)) => {
            return Err(Fault::Opa(format!(
                "parsing time {} as {}: cannot parse {} as \"MST\"",
                q(value),
                q(layout),
                q(&value[at..])
            )))
        }
        Some(Abbreviation::At(start, end, numeric)) => {
            let as_utc = format!("{}UTC{}", &value[..start], &value[end..]);
            let parsed = native("time.parse_ns", &[args[0].clone(), Value::from(as_utc)]);
            if let Ok(Value::Number(n)) = parsed {
                if let Some(ns) = n.as_i128().filter(|_| n.is_integer()) {
                    if numeric {
                        return Ok(Value::from(ns));
                    }
                    let wall = i64::try_from(ns.div_euclid(1_000_000_000)).unwrap_or(0);
                    let offset = abbreviation_offset(&value[start..end], wall);
                    return Ok(Value::from(ns - i128::from(offset) * 1_000_000_000));
                }
            }
        }
        None => {}
    }
    native("time.parse_ns", args).map_err(|e| {
        Fault::Opa(if layout.is_ascii() && value.is_ascii() {
            e
        } else {
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

/// Whether regorus's `time.parse_ns` may differ from Go's on this string: a layout with a
/// zone abbreviation ([`parse_ns`]); documents, data or policies holding one go to the
/// interpreter.
pub fn zone_layout(s: &str) -> bool {
    s.contains("MST")
}

/// `time.add_date(ns, years, months, days)`: Go's `Time.AddDate` in UTC, which
/// normalises an overflowing day (January 31 plus one month is March 2 or 3), as OPA does.
/// regorus clamps the day to the month's last instead. `[ns, tz]` operands are regorus's.
pub fn add_date(args: &[Value]) -> Result<Value, Fault> {
    use chrono::{Datelike, NaiveDate};
    if matches!(args[0], Value::Array(_)) {
        return native("time.add_date", args).map_err(Fault::Opa);
    }
    let int = |pos| super::numbers::integer(args, pos).map_err(Fault::Opa);
    let (ns, years, months, days) = (int(1)?, int(2)?, int(3)?, int(4)?);
    let out_of_range = || Fault::Opa("time outside of valid range".to_string());
    const DAY: i128 = 86_400_000_000_000;
    let (day, clock) = (ns.div_euclid(DAY), ns.rem_euclid(DAY));
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or_else(out_of_range)?;
    let date_at = |days: i128| {
        i64::try_from(days)
            .ok()
            .and_then(chrono::TimeDelta::try_days)
            .and_then(|d| epoch.checked_add_signed(d))
            .ok_or_else(out_of_range)
    };
    let date = date_at(day)?;
    // Go's time.Date: months carry into years, then the day counts from the 1st.
    let total = i128::from(date.year()) * 12 + i128::from(date.month0()) + years * 12 + months;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    if !(1677..=2262).contains(&year) {
        return Err(out_of_range());
    }
    let first = NaiveDate::from_ymd_opt(year as i32, month, 1).ok_or_else(out_of_range)?;
    let offset = i128::from(date.day0()) + days;
    let first_day = i128::from((first - epoch).num_days());
    let result = first_day + offset;
    let year_of = date_at(result)?.year();
    if !(1677..=2262).contains(&year_of) {
        return Err(out_of_range());
    }
    // Go's UnixNano wraps outside int64 (the year check above is OPA's).
    Ok(Value::from((result * DAY + clock) as i64))
}

/// `time.format`: Go's `Time.Format` (zone abbreviations such as `EST` for `MST`, the
/// `-07`/`Z07` offsets, `Jan`/`Mon` only before a non-lowercase letter, a lone `5` without
/// the fraction), where regorus printed `-05:00`, nothing, `Nove` and `20.123456789`.
pub fn format(args: &[Value]) -> Result<Value, Fault> {
    let want = "either number (ns) or [number (ns), string (tz)]";
    let (ns, tz, layout) = match &args[0] {
        Value::Array(a) if !a.is_empty() => {
            let text = |i: usize| match a.get(i) {
                None => Ok(""),
                Some(Value::String(s)) => Ok(s.as_ref()),
                Some(other) => Err(Fault::Opa(super::operand(1, "string", other))),
            };
            (&a[0], text(1)?, text(2)?)
        }
        n @ Value::Number(_) => (n, "", ""),
        other => return Err(Fault::Opa(super::operand(1, want, other))),
    };
    let Value::Number(n) = ns else {
        return Err(Fault::Opa(super::operand(1, "number", ns)));
    };
    let ns = n
        .as_i64()
        .filter(|_| n.is_integer())
        .ok_or_else(|| Fault::Opa("timestamp too big".to_string()))?;
    crate::base::gotime::format(ns, tz, layout)
        .map(Value::from)
        .map_err(Fault::Opa)
}

/// Whether regorus's `time.format` gives Go's text for a call (its argument's text): a
/// number, or an array literal whose zone and layout are literals for which regorus prints
/// what Go prints at a few sample times.
pub fn format_vm_safe(args: &[&str]) -> bool {
    let [arg] = args else {
        return false;
    };
    if !arg.starts_with('[') {
        // A number (or a name: a timestamp, as policies use it).
        return !arg.starts_with('{') && !arg.starts_with('"') && !arg.starts_with('`');
    }
    let Some(parts) = super::literal_items(arg, '[', ']') else {
        return false;
    };
    let literal = |t: &String| super::literal_text(t);
    let (tz, layout) = match parts.as_slice() {
        [_] => (String::new(), String::new()),
        [_, tz] => match literal(tz) {
            Some(tz) => (tz, String::new()),
            None => return false,
        },
        [_, tz, layout] => match (literal(tz), literal(layout)) {
            (Some(tz), Some(layout)) => (tz, layout),
            _ => return false,
        },
        _ => return false,
    };
    [
        1_700_000_000_123_456_789_i64,
        1_690_000_000_000_000_000,
        -86_399_999_999_999,
    ]
    .iter()
    .all(|&ns| {
        let mut items = vec![Value::from(ns), Value::from(tz.as_str())];
        if !layout.is_empty() {
            items.push(Value::from(layout.as_str()));
        }
        let call = [Value::from(items)];
        matches!(
            (native("time.format", &call), format(&call)),
            (Ok(a), Ok(b)) if a == b
        )
    })
}

/// `time.parse_rfc3339_ns`: Go's `time.Parse(time.RFC3339, ...)`. regorus's accepted a
/// space or `t` for the `T`, a lowercase `z` and a 60th second, and refused a `,` fraction
/// and a one-digit hour. On the bytecode VM, calls go through a Rego function that checks
/// the text first ([`crate::rego::compat`]'s routed calls).
pub fn parse_rfc3339_ns(args: &[Value]) -> Result<Value, Fault> {
    let value = string_arg(args, 1)?;
    let ns = crate::base::gotime::parse_rfc3339(value).map_err(Fault::Opa)?;
    i64::try_from(ns)
        .map(Value::from)
        .map_err(|_| Fault::Opa("time outside of valid range".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values OPA 1.20 gives (the OPA peer).
    #[test]
    fn dates_overflow_as_in_go() {
        let add = |ns: i64, y: i64, m: i64, d: i64| {
            add_date(&[
                Value::from(ns),
                Value::from(y),
                Value::from(m),
                Value::from(d),
            ])
        };
        // 2020-01-31T10:20:30.5Z + 1 month: March 2.
        assert_eq!(
            add(1_580_466_030_500_000_000, 0, 1, 0),
            Ok(Value::from(1_583_144_430_500_000_000i64))
        );
        // 2021-01-31 + 1 month: March 3.
        assert_eq!(
            add(1_612_051_200_000_000_000, 0, 1, 0),
            Ok(Value::from(1_614_729_600_000_000_000i64))
        );
        // 2020-02-29 + 1 year: 2021-03-01.
        assert_eq!(
            add(1_582_934_400_000_000_000, 1, 0, 0),
            Ok(Value::from(1_614_556_800_000_000_000i64))
        );
        // 2020-12-31T23:59:59Z + 1 day.
        assert_eq!(
            add(1_609_459_199_000_000_000, 0, 0, 1),
            Ok(Value::from(1_609_545_599_000_000_000i64))
        );
        // 2020-03-31 - 1 month: March 2.
        assert_eq!(
            add(1_585_612_800_000_000_000, 0, -1, 0),
            Ok(Value::from(1_583_107_200_000_000_000i64))
        );
        // 2020-01-15 + 25 months - 400 days.
        assert_eq!(
            add(1_579_046_400_000_000_000, 0, 25, -400),
            Ok(Value::from(1_610_323_200_000_000_000i64))
        );
        assert_eq!(add(-1, 0, 0, 0), Ok(Value::from(-1i64)));
        let range = Err(Fault::Opa("time outside of valid range".to_string()));
        assert_eq!(add(0, 500, 0, 0), range);
        assert_eq!(add(0, -300, 0, 0), range);
        assert_eq!(
            add_date(&[
                Value::from(0),
                Value::from(0),
                Value::from(0),
                Value::from(1.5)
            ]),
            Err(Fault::Opa(
                "operand 4 must be integer number but got floating-point number".to_string()
            ))
        );
    }

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
