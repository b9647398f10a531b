//! `numbers.*` replacements: regorus 0.14 divides by a zero step and allocates a range
//! before checking its size.

use super::{operand, Fault};
use regorus::Value;

/// The most elements a range may have: OPA has no limit (it allocates until memory runs
/// out); regorun refuses with an error instead.
pub const MAX_RANGE: i128 = 10_000_000;

/// `numbers.range(a, b)`: the integers from `a` to `b`, both included, either way.
pub fn range(args: &[Value]) -> Result<Value, Fault> {
    let a = integer(args, 1)?;
    let b = integer(args, 2)?;
    build(a, b, 1)
}

/// `numbers.range_step(a, b, step)`: from `a` towards `b` by `step` (positive), with `b`
/// only if a step lands on it.
pub fn range_step(args: &[Value]) -> Result<Value, Fault> {
    let a = integer(args, 1)?;
    let b = integer(args, 2)?;
    let step = integer(args, 3)?;
    if step <= 0 {
        return Err(Fault::Opa(
            "numbers.range_step: step must be a positive integer".to_string(),
        ));
    }
    build(a, b, step)
}

fn build(a: i128, b: i128, step: i128) -> Result<Value, Fault> {
    let len = (a - b).abs() / step + 1;
    if len > MAX_RANGE {
        return Err(Fault::Limit(format!(
            "a range of {len} numbers is over regorun's limit of {MAX_RANGE} (OPA would run out of memory)"
        )));
    }
    let dir = if b < a { -step } else { step };
    let items = (0..len)
        .map(|i| Value::from(a + i * dir))
        .collect::<Vec<_>>();
    Ok(Value::from(items))
}

/// Whether the argument texts are integer literals giving a range within [`MAX_RANGE`]
/// (and a positive step), which regorus's version builds correctly.
pub fn small_literal(args: &[&str]) -> bool {
    let Some(n) = args
        .iter()
        .map(|a| a.parse::<i64>().ok().map(i128::from))
        .collect::<Option<Vec<_>>>()
    else {
        return false;
    };
    match n.as_slice() {
        [a, b] => (a - b).abs() < MAX_RANGE,
        [a, b, step] => *step > 0 && (a - b).abs() / step < MAX_RANGE,
        _ => false,
    }
}

/// An integer operand (OPA's `BigIntOperand`).
pub(super) fn integer(args: &[Value], pos: usize) -> Result<i128, String> {
    match &args[pos - 1] {
        Value::Number(n) if n.is_integer() => n
            .as_i128()
            .ok_or_else(|| format!("operand {pos} must be integer number but got big number")),
        Value::Number(_) => Err(format!(
            "operand {pos} must be integer number but got floating-point number"
        )),
        other => Err(operand(pos, "number", other)),
    }
}

/// OPA's `floor`: the number truncated, less one when the truncated value is negative and
/// the number is not whole (so a number between -1 and 0 is 0, as OPA gives).
pub fn floor(args: &[Value]) -> Result<Value, Fault> {
    rounded(args, |t| if t < 0.0 { t - 1.0 } else { t })
}

/// OPA's `ceil`: the number truncated, plus one when the truncated value is not negative
/// and the number is not whole (a number between -1 and 0 is 1, as OPA gives).
pub fn ceil(args: &[Value]) -> Result<Value, Fault> {
    rounded(args, |t| if t >= 0.0 { t + 1.0 } else { t })
}

/// A whole number as it is, else `adjust` of it truncated.
fn rounded(args: &[Value], adjust: fn(f64) -> f64) -> Result<Value, Fault> {
    let Value::Number(n) = &args[0] else {
        return Err(operand(1, "number", &args[0]).into());
    };
    if n.is_integer() {
        return Ok(args[0].clone());
    }
    let x = n.as_f64().unwrap_or(f64::NAN);
    let whole = adjust(x.trunc());
    Ok(match whole as i64 {
        i if i as f64 == whole => Value::from(i),
        _ => Value::from(whole),
    })
}

/// OPA's `format_int(number, base)`: OPA's operand errors, and a number between -1 and 0
/// is `"0"` (regorus printed `"-0"`); the digits are regorus's.
pub fn format_int(args: &[Value]) -> Result<Value, Fault> {
    let Value::Number(n) = &args[0] else {
        return Err(operand(1, "number", &args[0]).into());
    };
    let base_ok = matches!(&args[1], Value::Number(b) if [2.0, 8.0, 10.0, 16.0].contains(&b.as_f64().unwrap_or(0.0)));
    if !base_ok {
        return Err(Fault::Opa("operand 2 must be one of {2, 8, 10, 16}".into()));
    }
    if n.as_f64().is_some_and(|x| x > -1.0 && x < 0.0) {
        return Ok(Value::from("0"));
    }
    super::native("format_int", args).map_err(Fault::Opa)
}

/// OPA's `to_number`: a string is read by Go's `strconv.ParseFloat` (a `+` sign, `.5`, `5.`,
/// leading zeros, `_` between digits, hexadecimal `0x1p-2`; no spaces, which regorus's JSON
/// reader skipped), and the infinities and NaN are refused.
pub fn to_number(args: &[Value]) -> Result<Value, Fault> {
    let text = match &args[0] {
        Value::Null | Value::Bool(false) => return Ok(Value::from(0u64)),
        Value::Bool(true) => return Ok(Value::from(1u64)),
        Value::Number(_) => return Ok(args[0].clone()),
        Value::String(s) => s.as_ref(),
        other => {
            return Err(operand(1, "one of {null, boolean, number, string}", other).into());
        }
    };
    let bare = text.trim_start_matches(['+', '-']).to_ascii_lowercase();
    if text.len() - bare.len() <= 1 && matches!(bare.as_str(), "inf" | "infinity" | "nan") {
        return Err(operand(1, "valid number string", &args[0]).into());
    }
    let failed = |why: &str| {
        let quoted = crate::base::gostr::quote(text);
        Fault::Opa(format!("strconv.ParseFloat: parsing {quoted}: {why}"))
    };
    let (json, float) = match go_decimal(text) {
        Some(json) => {
            let float = json.parse::<f64>().map_err(|_| failed("invalid syntax"))?;
            (Some(json), float)
        }
        None => (
            None,
            go_hex_float(text).ok_or_else(|| failed("invalid syntax"))?,
        ),
    };
    if float.is_infinite() {
        return Err(failed("value out of range"));
    }
    match json {
        // regorus's reading of the JSON text, as its own `to_number` (big integers kept).
        Some(json) => Value::from_json_str(&json).map_err(|_| failed("invalid syntax")),
        None => Ok(Value::from(float)),
    }
}

/// A decimal number in Go's `ParseFloat` syntax as JSON text (`+.5e1_0` is `0.5e10`), or
/// `None` when it is not one.
fn go_decimal(text: &str) -> Option<String> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => ("-", &text[1..]),
        b'+' => ("", &text[1..]),
        _ => ("", text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    // Underscores only between digits (Go's underscoreOK).
    let digits = |d: &str| {
        d.split('_')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let int_ok = int.is_empty() || digits(int);
    let frac_ok = frac.is_none_or(|f| f.is_empty() || digits(f));
    let has_digit = !int.is_empty() || frac.is_some_and(|f| !f.is_empty());
    if !int_ok || !frac_ok || !has_digit {
        return None;
    }
    let mut json = String::from(sign);
    let int = int.replace('_', "");
    let int = int.trim_start_matches('0');
    json.push_str(if int.is_empty() { "0" } else { int });
    if let Some(f) = frac.filter(|f| !f.is_empty()) {
        json.push('.');
        json.push_str(&f.replace('_', ""));
    }
    if let Some(e) = exponent {
        let digits_part = e.strip_prefix(['+', '-']).unwrap_or(e);
        if !digits(digits_part) {
            return None;
        }
        json.push('e');
        json.push_str(&e.replace('_', ""));
    }
    Some(json)
}

/// A hexadecimal float in Go's syntax (`0x1.8p3`, the `p` exponent required).
fn go_hex_float(text: &str) -> Option<f64> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest
        .strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))?;
    let (mantissa, exponent) = rest.split_once(['p', 'P'])?;
    let mantissa = mantissa.replace('_', "");
    let (int, frac) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in int.chars().chain(frac.chars()) {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let exp: i32 = exponent.replace('_', "").parse().ok()?;
    let value = value * 2f64.powi(exp - 4 * frac.len() as i32);
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: i64) -> Value {
        Value::from(v)
    }

    fn list(v: &[i64]) -> Value {
        Value::from(v.iter().map(|x| n(*x)).collect::<Vec<_>>())
    }

    #[test]
    fn ranges_like_opa() {
        assert_eq!(range(&[n(3), n(-1)]), Ok(list(&[3, 2, 1, 0, -1])));
        assert_eq!(range(&[n(1), n(1)]), Ok(list(&[1])));
        assert_eq!(range_step(&[n(10), n(0), n(3)]), Ok(list(&[10, 7, 4, 1])));
        assert_eq!(range_step(&[n(0), n(10), n(5)]), Ok(list(&[0, 5, 10])));
        assert_eq!(
            range_step(&[n(0), n(10), n(0)]),
            Err(Fault::Opa(
                "numbers.range_step: step must be a positive integer".to_string()
            ))
        );
        assert_eq!(
            range(&[n(i64::MAX), n(i64::MAX - 1)]),
            Ok(list(&[i64::MAX, i64::MAX - 1]))
        );
        assert!(matches!(
            range(&[n(i64::MAX), n(-1)]),
            Err(Fault::Limit(e)) if e.contains("over regorun's limit")
        ));
        assert_eq!(
            range(&[Value::from(1.5), n(3)]),
            Err(Fault::Opa(
                "operand 1 must be integer number but got floating-point number".to_string()
            ))
        );
    }

    /// Go's `ParseFloat` syntax, as JSON text for regorus's reader.
    #[test]
    fn go_decimals_become_json() {
        for (go, json) in [
            ("+1", "1"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-00012", "-12"),
            ("1_000.2_5e+0_1", "1000.25e+01"),
            ("0", "0"),
            ("1E2", "1e2"),
        ] {
            assert_eq!(go_decimal(go).as_deref(), Some(json), "{go}");
        }
        for bad in [
            "", ".", "e5", "_1", "1_", "1__0", "1_.5", "1e", "1e_5", " 1", "0x10",
        ] {
            assert_eq!(go_decimal(bad), None, "{bad}");
        }
        assert_eq!(go_hex_float("0x1.8p1"), Some(3.0));
        assert_eq!(go_hex_float("-0x10p-4"), Some(-1.0));
        assert_eq!(go_hex_float("0x10"), None);
    }
}
