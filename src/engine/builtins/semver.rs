//! `semver.is_valid` and `semver.compare` as OPA reads versions (its copy of CoreOS's
//! go-semver): a leading `v` is dropped, numbers are Go integers (`01` and `+1` are read,
//! as Go's `ParseInt` reads them), pre-release and build parts are dot-separated
//! `[0-9A-Za-z-]` identifiers. regorus refused `v1.0.0` and `01.0.0`.

use super::{operand, Fault};
use regorus::Value;
use std::cmp::Ordering;

/// A parsed version: the three numbers and the pre-release part (build metadata does not
/// take part in comparisons).
struct Version {
    numbers: [i64; 3],
    pre: String,
}

fn identifiers_ok(part: &str) -> bool {
    part.is_empty()
        || part
            .split('.')
            .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Go's `strconv.ParseInt(s, 10, 64)`.
fn go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse(text: &str) -> Option<Version> {
    let text = text.strip_prefix('v').unwrap_or(text);
    let (rest, build) = text.split_once('+').unwrap_or((text, ""));
    let (core, pre) = rest.split_once('-').unwrap_or((rest, ""));
    let parts: Vec<&str> = core.splitn(3, '.').collect();
    if parts.len() != 3 || !identifiers_ok(pre) || !identifiers_ok(build) {
        return None;
    }
    let mut numbers = [0; 3];
    for (n, part) in numbers.iter_mut().zip(parts) {
        *n = go_int(part)?;
    }
    Some(Version {
        numbers,
        pre: pre.to_string(),
    })
}

/// Pre-release precedence: none is greater than any; numeric identifiers are lower than
/// others; more identifiers win when the shared ones are equal.
fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (mut xs, mut ys) = (a.split('.'), b.split('.'));
    loop {
        let (x, y) = match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => (x, y),
        };
        let order = match (go_int(x), go_int(y)) {
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(i), Some(j)) => i.cmp(&j).then(x.cmp(y)),
            (None, None) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
}

/// `semver.is_valid(version)`: false for a value that is not a string.
pub fn is_valid(args: &[Value]) -> Result<Value, Fault> {
    let valid = matches!(&args[0], Value::String(s) if parse(s).is_some());
    Ok(Value::from(valid))
}

/// `semver.compare(a, b)`: -1, 0 or 1.
pub fn compare(args: &[Value]) -> Result<Value, Fault> {
    let mut versions = Vec::with_capacity(2);
    for (i, arg) in args.iter().enumerate() {
        let Value::String(s) = arg else {
            return Err(Fault::Opa(operand(i + 1, "string", arg)));
        };
        let v = parse(s).ok_or_else(|| {
            Fault::Opa(format!(
                "operand {}: string {} is not a valid SemVer",
                i + 1,
                crate::base::gostr::quote(s)
            ))
        })?;
        versions.push(v);
    }
    let (a, b) = (&versions[0], &versions[1]);
    let order = a
        .numbers
        .cmp(&b.numbers)
        .then_with(|| compare_pre(&a.pre, &b.pre));
    Ok(Value::from(order as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OPA peer's answers (an empty pre-release, `1.0.0-`, is valid there too).
    #[test]
    fn versions_read_as_opa_reads_them() {
        for ok in [
            "1.0.0",
            "v1.0.0",
            "01.0.0",
            "v1.0.0-rc.1+b",
            "1.0.0+build.1",
        ] {
            assert!(parse(ok).is_some(), "{ok}");
        }
        for bad in ["V1.0.0", "1.0", " 1.0.0", "1.0.0-a..b", "x.y.z"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert_eq!(compare_pre("alpha.1", "alpha.beta"), Ordering::Less);
        assert_eq!(compare_pre("", "rc"), Ordering::Greater);
    }
}
