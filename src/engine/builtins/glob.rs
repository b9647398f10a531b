//! `glob.match` made safe: regorus 0.14 compiles every `*` into its regular expression and
//! panics when the expression grows past the regex size limit. `glob.quote_meta` escapes
//! every character gobwas/glob gives a meaning (regorus escaped `*` alone).

use super::{native, Fault};
use regorus::Value;

/// `glob.match(pattern, delimiters, match)`. A run of two or more `*` matches exactly what
/// `**` matches, so runs are shortened before regorus compiles the pattern; a pattern that
/// still does not compile is a built-in error.
pub fn matches(args: &[Value]) -> Result<Value, Fault> {
    let mut args = args.to_vec();
    if let Value::String(p) = &args[0] {
        if p.contains("***") {
            args[0] = Value::from(collapse_stars(p));
        }
    }
    native("glob.match", &args).map_err(|e| {
        Fault::Opa({
            // The regex error quotes the whole expression; keep the message short.
            let short: String = e.chars().take(200).collect();
            if short.len() < e.len() {
                format!("{short}...")
            } else {
                short
            }
        })
    })
}

/// `glob.quote_meta(pattern)`: `*`, `?`, `[`, `]`, `{`, `}` and `\` escaped with `\`.
pub fn quote_meta(args: &[Value]) -> Result<Value, Fault> {
    let pattern = super::string_arg(args, 1)?;
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(Value::from(out))
}

/// Every run of two or more `*` becomes `**` (an escaped `\*` is left alone).
fn collapse_stars(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut stars = 0;
    let mut escaped = false;
    for c in p.chars() {
        if c == '*' && !escaped {
            stars += 1;
            continue;
        }
        out.push_str(&"*".repeat(stars.min(2)));
        stars = 0;
        escaped = c == '\\' && !escaped;
        out.push(c);
    }
    out.push_str(&"*".repeat(stars.min(2)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_runs_collapse() {
        assert_eq!(collapse_stars("a***b*c\\***"), "a**b*c\\***");
        assert_eq!(collapse_stars("****"), "**");
        let long = "*".repeat(200_000);
        let r = matches(&[
            Value::from(long.as_str()),
            Value::from(Vec::<Value>::new()),
            Value::from("x"),
        ]);
        assert_eq!(r, Ok(Value::Bool(true)));
    }
}
