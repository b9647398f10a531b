//! `units.*` replacements: regorus 0.14 writes a decimal exponent out digit by digit, so
//! `units.parse("1e1000000000")` runs for minutes inside one built-in call, where no
//! `--timeout` can stop it. OPA refuses exponents of more than six digits first.

use super::{native, Fault};
use regorus::Value;

/// OPA's limit on the digits of a scientific-notation exponent.
const MAX_EXPONENT_DIGITS: usize = 6;

/// `units.parse`: OPA's exponent check, then regorus's version.
pub fn parse(args: &[Value]) -> Result<Value, Fault> {
    guarded("units.parse", args)
}

/// `units.parse_bytes`: OPA's exponent check, then regorus's version.
pub fn parse_bytes(args: &[Value]) -> Result<Value, Fault> {
    guarded("units.parse_bytes", args)
}

fn guarded(name: &str, args: &[Value]) -> Result<Value, Fault> {
    if let Value::String(s) = &args[0] {
        // OPA drops every quote and refuses spaces before it looks at the exponent.
        let s = s.replace('"', "");
        if !s.contains(' ') && exponent_too_large(&s) {
            return Err(Fault::Opa(format!("{name}: exponent too large")));
        }
    }
    // regorus words its errors its own way (or gives no value for an unknown unit); OPA's
    // tell which part was wrong.
    match (native(name, args), &args[0]) {
        (Ok(Value::Undefined) | Err(_), Value::String(s)) => Err(Fault::Opa(opa_error(name, s))),
        (result, _) => result.map_err(Fault::Opa),
    }
}

/// The units OPA's `units.parse_bytes` knows (after lowercasing).
const BYTE_UNITS: [&str; 25] = [
    "", "kb", "k", "kib", "ki", "mb", "m", "mib", "mi", "gb", "g", "gib", "gi", "tb", "t", "tib",
    "ti", "pb", "p", "pib", "pi", "eb", "e", "eib", "ei",
];

/// The units OPA's `units.parse` knows (after lowercasing all but the first letter).
const UNITS: [&str; 25] = [
    "m", "", "k", "K", "ki", "Ki", "M", "mi", "Mi", "g", "G", "gi", "Gi", "t", "T", "ti", "Ti",
    "p", "P", "pi", "Pi", "e", "E", "ei", "Ei",
];

/// OPA's error for a text its `units.parse` (or `units.parse_bytes`) cannot read, from
/// its checks in their order: spaces, no number, an unknown unit, a number it cannot read.
fn opa_error(name: &str, raw: &str) -> String {
    let bytes = name == "units.parse_bytes";
    let s = if bytes {
        raw.to_lowercase().replace('"', "")
    } else {
        raw.replace('"', "")
    };
    let what = if bytes { "byte amount" } else { "amount" };
    if s.contains(' ') {
        return format!("{name}: spaces not allowed in resource strings");
    }
    let (num, unit) = s.split_at(number_end(&s));
    if num.is_empty() {
        return format!("{name}: no {what} provided");
    }
    let unit = if bytes {
        unit.to_string()
    } else {
        // OPA lowercases all but a unit's first letter (`m` is milli, `M` mega).
        let mut chars = unit.chars();
        chars
            .next()
            .into_iter()
            .chain(chars.flat_map(char::to_lowercase))
            .collect()
    };
    let known: &[&str] = if bytes { &BYTE_UNITS } else { &UNITS };
    if !known.contains(&unit.as_str()) {
        let prefix = if bytes { "byte unit" } else { "unit" };
        return format!("{name}: {prefix} {unit} not recognized");
    }
    format!("{name}: could not parse {what} to a number")
}

/// Where the number at the start of `s` ends, as OPA's `extractNumAndUnit` scans it.
fn number_end(s: &str) -> usize {
    scan_number(s).0
}

/// Whether the number at the start of `s` has an exponent of more than
/// [`MAX_EXPONENT_DIGITS`] digits, scanned as OPA scans it: the number runs over digits,
/// `.`, signs and an `e` followed by a digit or sign.
fn exponent_too_large(s: &str) -> bool {
    scan_number(s).1
}

/// OPA's `extractNumAndUnit` scan of the number at the start of `s`: where it ends, and
/// whether an exponent of more than [`MAX_EXPONENT_DIGITS`] digits stopped the scan.
fn scan_number(s: &str) -> (usize, bool) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
            return (i, false);
        }
        if matches!(c, b'e' | b'E') {
            match b.get(i + 1) {
                Some(n) if n.is_ascii_digit() => {}
                Some(b'+' | b'-') => i += 1,
                _ => return (i, false),
            }
            let digits = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
            if digits > MAX_EXPONENT_DIGITS {
                return (i, true);
            }
        }
        i += 1;
    }
    (b.len(), false)
}

/// Whether the argument text is a string literal without an over-long exponent, which
/// regorus's version (on the bytecode VM) handles quickly.
pub fn short_literal(args: &[&str]) -> bool {
    match args {
        [lit] => lit
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .is_some_and(|l| !l.contains('\\') && !exponent_too_large(l)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_as_opa_counts_them() {
        assert!(!exponent_too_large("1e999999"));
        assert!(exponent_too_large("1e1000000"));
        assert!(exponent_too_large("2.5E-1000000Ki"));
        assert!(exponent_too_large("1e+0000000"));
        assert!(!exponent_too_large("10Ki"));
        assert!(!exponent_too_large("1e"));
        assert!(!exponent_too_large("1ei"));
        assert!(!exponent_too_large("G1e10000000"));
    }

    #[test]
    fn errors_are_worded_as_opas() {
        let err = |name: &str, s: &str| match guarded(name, &[Value::from(s)]) {
            Err(Fault::Opa(e)) => e,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(err("units.parse", "G"), "units.parse: no amount provided");
        assert_eq!(
            err("units.parse", "1 G"),
            "units.parse: spaces not allowed in resource strings"
        );
        assert_eq!(
            err("units.parse", "1xB"),
            "units.parse: unit xb not recognized"
        );
        assert_eq!(
            err("units.parse", "1..2G"),
            "units.parse: could not parse amount to a number"
        );
        assert_eq!(
            err("units.parse_bytes", "KB"),
            "units.parse_bytes: no byte amount provided"
        );
        assert_eq!(
            err("units.parse_bytes", "1XB"),
            "units.parse_bytes: byte unit xb not recognized"
        );
        assert_eq!(
            err("units.parse_bytes", "1.2.3KB"),
            "units.parse_bytes: could not parse byte amount to a number"
        );
    }

    #[test]
    fn values_and_errors() {
        let v = parse(&[Value::from("10Ki")]).unwrap();
        assert_eq!(v, Value::from(10240));
        assert_eq!(
            parse(&[Value::from("1e1000000000")]),
            Err(Fault::Opa("units.parse: exponent too large".into()))
        );
        assert_eq!(
            parse_bytes(&[Value::from("\"1e10000000KB\"")]),
            Err(Fault::Opa("units.parse_bytes: exponent too large".into()))
        );
        assert_eq!(
            parse_bytes(&[Value::from("2KiB")]).unwrap(),
            Value::from(2048)
        );
    }

    #[test]
    fn literals_the_vm_may_keep() {
        assert!(short_literal(&["\"10Ki\""]));
        assert!(!short_literal(&["\"1e10000000\""]));
        assert!(!short_literal(&["input.size"]));
    }
}
