//! `strings.*` replacements.

use super::{string_arg, Fault};
use crate::base::gofmt::Arg;
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

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of the `strings` built-ins regorus lacks.
pub const ALL: &[(&str, u8, Body)] = &[
    ("strings.render_template", 2, render_template),
    ("strings.split_n", 3, split_n),
];

/// OPA's `strings.split_n(text, delimiter, n)`: the first `n` pieces of the split, or for
/// a negative `n` the last `-n` (an empty delimiter splits between characters, as Go).
fn split_n(args: &[Value]) -> Result<Value, Fault> {
    let text = string_arg(args, 1)?;
    let delim = string_arg(args, 2)?;
    let n = super::numbers::integer(args, 3)?;
    let pieces: Vec<&str> = if delim.is_empty() {
        text.char_indices()
            .map(|(i, c)| &text[i..i + c.len_utf8()])
            .collect()
    } else {
        text.split(delim).collect()
    };
    let len = pieces.len() as i128;
    let kept = if n >= 0 {
        &pieces[..n.min(len) as usize]
    } else {
        &pieces[(len + n).max(0) as usize..]
    };
    Ok(Value::from(
        kept.iter().map(|p| Value::from(*p)).collect::<Vec<_>>(),
    ))
}

/// OPA's `strings.render_template`: Go's `text/template` (the subset in
/// [`crate::base::gotemplate`]) over the variables as JSON; a missing key is OPA 1.20's
/// `<undefined>`.
fn render_template(args: &[Value]) -> Result<Value, Fault> {
    let template = string_arg(args, 1)?;
    if !matches!(args[1], Value::Object(_)) {
        return Err(Fault::Opa(super::operand(2, "object", &args[1])));
    }
    let vars = crate::base::value::to_json(&args[1]);
    crate::base::gotemplate::render(template, &vars)
        .map(Value::from)
        .map_err(Fault::Opa)
}

/// OPA's `sprintf`: Go's `fmt.Sprintf` over OPA's conversion of the values (integers as
/// `int64` or `*big.Int`, other numbers as `float64`, strings as they are, anything else
/// as its Rego text). Formats whose only verbs are `%s`, `%v`, `%d` and `%%` stay
/// regorus's own, as the bytecode VM evaluates them, so that both evaluation paths agree.
pub fn sprintf(args: &[Value]) -> Result<Value, Fault> {
    let format = string_arg(args, 1)?;
    let Value::Array(values) = &args[1] else {
        return Err(Fault::Opa(super::operand(2, "array", &args[1])));
    };
    if plain_verbs(format) == Some(values.len()) {
        return super::native("sprintf", args).map_err(Fault::Opa);
    }
    let go_args: Vec<Arg> = values.iter().map(go_arg).collect();
    Ok(Value::from(crate::base::gofmt::sprintf(format, &go_args)))
}

/// A Rego value as OPA hands it to Go's `fmt`.
fn go_arg(v: &Value) -> Arg {
    match v {
        Value::Number(n) if n.is_integer() => match n.as_i64() {
            Some(i) => Arg::Int(i),
            None => Arg::Big(n.format_decimal()),
        },
        Value::Number(n) => Arg::Float(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Arg::Str(s.to_string()),
        other => Arg::Str(rego_text(other)),
    }
}

/// OPA's text of a value (`ast.Value.String()`): strings quoted, `set()` for an empty set.
fn rego_text(v: &Value) -> String {
    let join = |items: Vec<String>| items.join(", ");
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.format_decimal(),
        Value::String(s) => crate::base::gostr::quote(s),
        Value::Array(a) => format!("[{}]", join(a.iter().map(rego_text).collect())),
        Value::Set(s) if s.is_empty() => "set()".into(),
        Value::Set(s) => format!("{{{}}}", join(s.iter().map(rego_text).collect())),
        Value::Object(o) => format!(
            "{{{}}}",
            join(
                o.iter()
                    .map(|(k, v)| format!("{}: {}", rego_text(k), rego_text(v)))
                    .collect()
            )
        ),
        Value::Undefined => "undefined".into(),
    }
}

/// The number of values `format` takes when every verb is a bare `%s`, `%v`, `%d` or
/// `%%`: the formats regorus's own `sprintf` prints as Go does when given as many values
/// of the verbs' types.
pub fn plain_verbs(format: &str) -> Option<usize> {
    let mut chars = format.chars();
    let mut n = 0;
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('s' | 'v' | 'd') => n += 1,
                Some('%') => {}
                _ => return None,
            }
        }
    }
    Some(n)
}

/// Whether a `sprintf` call's argument text is a string literal of [`plain_verbs`] and
/// an array literal with as many elements (the call may stay on the bytecode VM).
pub fn plain_literal_format(rest: &str) -> bool {
    let rest = rest.trim_start();
    let (format, after) = if let Some(raw) = rest.strip_prefix('`') {
        match raw.split_once('`') {
            Some(parts) => (parts.0.to_string(), parts.1),
            None => return false,
        }
    } else if let Some(body) = rest.strip_prefix('"') {
        let mut literal = String::new();
        let mut end = None;
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    end = Some(i + 1);
                    break;
                }
                // An escaped character is never part of a verb that matters here.
                '\\' => {
                    chars.next();
                    literal.push(' ');
                }
                c => literal.push(c),
            }
        }
        match end {
            Some(e) => (literal, &body[e..]),
            None => return false,
        }
    } else {
        return false;
    };
    let Some(verbs) = plain_verbs(&format) else {
        return false;
    };
    let Some(array) = after.trim_start().strip_prefix(',').map(str::trim_start) else {
        return false;
    };
    array_len(array) == Some(verbs)
}

/// The number of top-level elements of the array literal `text` starts with.
fn array_len(text: &str) -> Option<usize> {
    let body = text.strip_prefix('[')?;
    let (mut depth, mut n, mut any, mut in_str, mut escaped) =
        (0usize, 0usize, false, false, false);
    for c in body.chars() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                any = true;
            }
            '[' | '{' | '(' => {
                depth += 1;
                any = true;
            }
            ']' if depth == 0 => return Some(if any { n + 1 } else { 0 }),
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => n += 1,
            c if !c.is_whitespace() => any = true,
            _ => {}
        }
    }
    None
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
