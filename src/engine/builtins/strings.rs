//! `strings.*` replacements.

use super::{string_arg, Fault};
use regorus::Value;

/// Go's `strings.Count`, as OPA: non-overlapping occurrences; an empty substring counts
/// the places between characters (characters + 1). regorus 0.14 counts overlapping
/// windows and panics on an empty substring.
pub fn count(args: &[Value]) -> Result<Value, Fault> {
    let s = string_arg(args, 1)?;
    let sub = string_arg(args, 2)?;
    let n = if sub.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(sub).count()
    };
    Ok(Value::from(n))
}

/// Whether the argument texts are `(anything, "c")` with `c` one plain character.
pub fn one_char_literal(args: &[&str]) -> bool {
    match args {
        [_, lit] => lit
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .is_some_and(|c| c.chars().count() == 1 && c != "\\"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str, sub: &str) -> Result<Value, Fault> {
        count(&[Value::from(s), Value::from(sub)])
    }

    #[test]
    fn counts_like_go() {
        assert_eq!(c("abc", ""), Ok(Value::from(4usize)));
        assert_eq!(c("héllo", ""), Ok(Value::from(6usize)));
        assert_eq!(c("11111", "11"), Ok(Value::from(2usize)));
        assert_eq!(c("cheese", "e"), Ok(Value::from(3usize)));
        assert_eq!(
            count(&[Value::from(1u64), Value::from("")]),
            Err(Fault::Opa(
                "operand 1 must be string but got number".to_string()
            ))
        );
    }
}
