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
}
