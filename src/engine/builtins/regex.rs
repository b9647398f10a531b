//! OPA's regex built-ins on Go's pattern syntax and semantics ([`crate::base::goregex`]):
//! regorus's read `\d`, `\w`, `\s`, `\b` as Unicode classes, split differently at empty
//! matches, lack `\Q...\E` and Go's repeat limits, and refuse patterns over 100 KiB.
//!
//! And `regex.globs_match`: whether two regexp-style globs (`.`, `[a-z]` sets, `\`
//! escapes, `*` and `+` after a token; anchored at both ends) match a common non-empty
//! string. OPA decides it with the Go package `glob-intersection` v0.2.0, whose greedy
//! matching is not a full automaton intersection; this follows the same steps so that
//! the answers, including its misses, are OPA's.

use super::{numbers, string_arg, Fault};
use crate::base::goregex;
use regorus::Value;
use std::collections::BTreeSet;

/// A built-in's body.
type Body = fn(&[Value]) -> Result<Value, Fault>;

/// Name, arity and body of each built-in of this namespace regorus lacks.
pub const ALL: &[(&str, u8, Body)] = &[("regex.globs_match", 2, globs_match)];

/// Rego v0's deprecated name of `regex.match`.
pub const V0: &[(&str, u8, Body)] = &[("re_match", 2, is_match)];

/// The compiled Go pattern of operand `pos` (its type already checked).
fn compiled(pattern: &str) -> Result<regex::Regex, Fault> {
    goregex::compile(pattern).map_err(|e| match e {
        goregex::Error::Invalid(e) => Fault::Opa(e),
        goregex::Error::Limit(e) => Fault::Limit(e),
    })
}

/// `regex.match(pattern, value)`.
pub fn is_match(args: &[Value]) -> Result<Value, Fault> {
    let (pattern, value) = (string_arg(args, 1)?, string_arg(args, 2)?);
    Ok(Value::from(compiled(pattern)?.is_match(value)))
}

/// `regex.is_valid(pattern)`: Go's parser decides, even where regorun could not compile it.
pub fn is_valid(args: &[Value]) -> Result<Value, Fault> {
    Ok(Value::from(match &args[0] {
        Value::String(p) => goregex::translate(p).is_ok(),
        _ => false,
    }))
}

/// The count operand of the `_n` built-ins: a negative count means every match.
fn count(args: &[Value], pos: usize) -> Result<usize, Fault> {
    let n = numbers::integer(args, pos)?;
    Ok(usize::try_from(n).unwrap_or(if n < 0 { usize::MAX } else { 0 }))
}

/// `regex.find_n(pattern, value, n)`.
pub fn find_n(args: &[Value]) -> Result<Value, Fault> {
    let (pattern, value) = (string_arg(args, 1)?, string_arg(args, 2)?);
    let n = count(args, 3)?;
    let re = compiled(pattern)?;
    Ok(Value::from(
        re.find_iter(value)
            .take(n)
            .map(|m| Value::from(m.as_str()))
            .collect::<Vec<_>>(),
    ))
}

/// `regex.find_all_string_submatch_n(pattern, value, n)`: a group that took no part is "".
pub fn find_all_string_submatch_n(args: &[Value]) -> Result<Value, Fault> {
    let (pattern, value) = (string_arg(args, 1)?, string_arg(args, 2)?);
    let n = count(args, 3)?;
    let re = compiled(pattern)?;
    Ok(Value::from(
        re.captures_iter(value)
            .take(n)
            .map(|c| {
                Value::from(
                    c.iter()
                        .map(|g| Value::from(g.map_or("", |g| g.as_str())))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// `regex.replace(s, pattern, value)`: Go's `ReplaceAllString` (`$1`, `${name}` expand).
pub fn replace(args: &[Value]) -> Result<Value, Fault> {
    let s = string_arg(args, 1)?;
    let (pattern, value) = (string_arg(args, 2)?, string_arg(args, 3)?);
    Ok(Value::from(
        compiled(pattern)?.replace_all(s, value).into_owned(),
    ))
}

/// `regex.split(pattern, value)`: Go's `Split`, which drops the empty piece before a
/// match at the start and after one at the end.
pub fn split(args: &[Value]) -> Result<Value, Fault> {
    let (pattern, value) = (string_arg(args, 1)?, string_arg(args, 2)?);
    let re = compiled(pattern)?;
    Ok(Value::from(
        goregex::split(&re, value, pattern.is_empty())
            .into_iter()
            .map(Value::from)
            .collect::<Vec<_>>(),
    ))
}

/// Whether argument `pos` (from 0) is a pattern literal that means the same to regorus's
/// `regex` crate as to Go, so the bytecode VM may keep regorus's version of the call.
fn plain_pattern_at(args: &[&str], pos: usize) -> bool {
    let Some(text) = args.get(pos) else {
        return false;
    };
    let Some(pattern) = super::literal_text(text) else {
        return false;
    };
    goregex::translate(&pattern).is_ok_and(|t| t == pattern)
}

/// [`plain_pattern_at`] for the first argument.
pub fn plain_first(args: &[&str]) -> bool {
    plain_pattern_at(args, 0)
}

/// [`plain_pattern_at`] for the second argument (`regex.replace`).
pub fn plain_second(args: &[&str]) -> bool {
    plain_pattern_at(args, 1)
}

fn globs_match(args: &[Value]) -> Result<Value, Fault> {
    let a = glob(string_arg(args, 1)?)?;
    let b = glob(string_arg(args, 2)?)?;
    let Some((a, b)) = trim(&a, &b) else {
        return Ok(Value::from(false));
    };
    Ok(Value::from(normal(a, b)))
}

#[derive(Clone, PartialEq)]
enum Kind {
    Char(char),
    Dot,
    Set(BTreeSet<char>),
}

#[derive(Clone, Copy, PartialEq)]
enum Flag {
    None,
    Plus,
    Star,
}

#[derive(Clone)]
struct Token {
    kind: Kind,
    flag: Flag,
}

/// Whether two tokens can match one common character (flags ignored).
fn matches(a: &Token, b: &Token) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Char(x), Kind::Char(y)) => x == y,
        (Kind::Char(c), Kind::Set(s)) | (Kind::Set(s), Kind::Char(c)) => s.contains(c),
        (Kind::Set(x), Kind::Set(y)) => !x.is_disjoint(y),
        // A dot matches anything, even an empty set, as in the Go package.
        _ => true,
    }
}

/// The package's error text: the input, the rune position, the reason.
fn invalid(input: &[char], pos: usize, reason: &str) -> Fault {
    let text: String = input.iter().collect();
    Fault::Opa(format!(
        "input:{text}, pos:{pos}, {reason}: the input provided is invalid"
    ))
}

/// The next rune at `i`: (index after it, rune, escaped), `None` at the end.
fn rune(input: &[char], i: usize) -> Result<Option<(usize, char, bool)>, Fault> {
    match input.get(i) {
        None => Ok(None),
        Some('\\') => match input.get(i + 1) {
            Some(&c) => Ok(Some((i + 2, c, true))),
            None => Err(invalid(input, i, "input ends with a \\ (escape) character")),
        },
        Some(&c) => Ok(Some((i + 1, c, false))),
    }
}

/// Tokens of a glob, with repeated flagged tokens merged (`a*a+` is `a+`).
fn glob(text: &str) -> Result<Vec<Token>, Fault> {
    let input: Vec<char> = text.chars().collect();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    while let Some((next, c, escaped)) = rune(&input, i)? {
        i = next;
        let kind = match c {
            '.' if !escaped => Kind::Dot,
            ']' if !escaped => {
                return Err(invalid(&input, i, "set-close ']' with no preceding '['"))
            }
            '[' if !escaped => {
                let (next, set) = set(&input, i)?;
                i = next;
                Kind::Set(set)
            }
            '+' | '*' if !escaped => {
                return Err(invalid(
                    &input,
                    i,
                    &format!("flag '{c}' must be preceded by a non-flag"),
                ))
            }
            c => Kind::Char(c),
        };
        let mut flag = Flag::None;
        if let Some((next, c, false)) = rune(&input, i)? {
            if c == '+' || c == '*' {
                flag = if c == '+' { Flag::Plus } else { Flag::Star };
                i = next;
            }
        }
        let token = Token { kind, flag };
        match tokens.last_mut() {
            Some(last)
                if flag != Flag::None && last.flag != Flag::None && last.kind == token.kind =>
            {
                if flag == Flag::Plus {
                    last.flag = Flag::Plus;
                }
            }
            _ => tokens.push(token),
        }
    }
    Ok(tokens)
}

/// The characters of a `[...]` set that starts at `i` (after `[`), and the index after `]`.
fn set(input: &[char], mut i: usize) -> Result<(usize, BTreeSet<char>), Fault> {
    let mut out = BTreeSet::new();
    let mut prev: Option<char> = None;
    while let Some((next, c, escaped)) = rune(input, i)? {
        i = next;
        match c {
            ']' if !escaped => return Ok((i, out)),
            '-' if !escaped => {
                let Some(from) = prev else {
                    return Err(invalid(
                        input,
                        i,
                        "range character '-' must be preceded by a Unicode character",
                    ));
                };
                if i + 1 >= input.len() {
                    return Err(invalid(
                        input,
                        i,
                        "range character '-' must be followed by a Unicode character",
                    ));
                }
                let Some((next, to, escaped)) = rune(input, i)? else {
                    unreachable!("a rune follows, checked above");
                };
                i = next;
                if !escaped && (to == ']' || to == '-') {
                    return Err(invalid(
                        input,
                        i,
                        "range character '-' cannot be followed by a special symbol",
                    ));
                }
                if to < from {
                    return Err(invalid(
                        input,
                        i,
                        &format!("range is out of order: '{to}' comes before '{from}' in Unicode"),
                    ));
                }
                out.extend(from..=to);
                prev = None;
            }
            c => {
                out.insert(c);
                prev = Some(c);
            }
        }
    }
    Err(invalid(input, i, "found [ without matching ]"))
}

/// Both globs without their common unflagged prefix and suffix (one token of each kept),
/// or `None` when those differ.
fn trim<'a>(a: &'a [Token], b: &'a [Token]) -> Option<(&'a [Token], &'a [Token])> {
    let plain = |t: &Token| t.flag == Flag::None;
    let mut l = 0;
    while l < a.len() && l < b.len() && plain(&a[l]) && plain(&b[l]) {
        if !matches(&a[l], &b[l]) {
            return None;
        }
        l += 1;
    }
    l = l.saturating_sub(1);
    // Indices one past the last kept token, counting down as signed positions would.
    let (mut r1, mut r2) = (a.len() as isize - 1, b.len() as isize - 1);
    let l_i = l as isize;
    while r1 >= 0
        && r1 >= l_i
        && r2 >= 0
        && r2 >= l_i
        && plain(&a[r1 as usize])
        && plain(&b[r2 as usize])
    {
        if !matches(&a[r1 as usize], &b[r2 as usize]) {
            return None;
        }
        r1 -= 1;
        r2 -= 1;
    }
    if r1 < a.len() as isize - 1 {
        r1 += 1;
        r2 += 1;
    }
    let end = |r: isize| (r + 1).max(0) as usize;
    Some((
        a.get(l..end(r1).max(l)).unwrap_or_default(),
        b.get(l..end(r2).max(l)).unwrap_or_default(),
    ))
}

/// Token by token while neither is flagged; a flagged one hands over to [`special`].
fn normal(a: &[Token], b: &[Token]) -> bool {
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i].flag == Flag::None && b[i].flag == Flag::None {
            if !matches(&a[i], &b[i]) {
                return false;
            }
        } else {
            return special(&a[i..], &b[i..]);
        }
        i += 1;
    }
    i == a.len() && i == b.len()
}

fn special(a: &[Token], b: &[Token]) -> bool {
    match (a[0].flag, b[0].flag) {
        (Flag::Plus, _) => plus(a, b),
        (Flag::Star, _) => star(a, b),
        (_, Flag::Plus) => plus(b, a),
        (_, Flag::Star) => star(b, a),
        _ => false,
    }
}

/// `plussed[0]` takes at least one token of `other`.
fn plus(plussed: &[Token], other: &[Token]) -> bool {
    // Go indexes other[0] here; an empty rest is no match rather than its panic.
    let Some(first) = other.first() else {
        return false;
    };
    if !matches(&plussed[0], first) {
        return false;
    }
    star(plussed, &other[1..]) || (first.flag != Flag::None && normal(&plussed[1..], other))
}

/// `starred[0]` takes tokens of `other` until the rest of both match.
fn star(starred: &[Token], other: &[Token]) -> bool {
    let next = starred.get(1);
    for (i, t) in other.iter().enumerate() {
        if next.is_some_and(|n| matches(t, n)) && normal(&starred[1..], &other[i..]) {
            return true;
        }
        if !matches(t, &starred[0]) {
            return false;
        }
    }
    next.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(a: &str, b: &str) -> Result<Value, Fault> {
        globs_match(&[Value::from(a), Value::from(b)])
    }

    /// Answers and errors as OPA 1.20 gave them (the OPA peer).
    #[test]
    fn intersects_as_opa() {
        let t = Ok(Value::from(true));
        let f = Ok(Value::from(false));
        for (a, b, want) in [
            ("a.a.", ".b.b", &t),
            ("[a-z]+", "[0-9]*", &f),
            ("[a-c]+", "[b-d]+", &t),
            ("abc", "abd", &f),
            ("a*", "b*", &f),
            ("[ab]+c", "[bc]+", &t),
            (".*", "x", &t),
            ("a\\.b", "a.b", &t),
            ("a\\.b", "axb", &f),
        ] {
            assert_eq!(&call(a, b), want, "{a} {b}");
        }
        assert_eq!(
            call("a++", "a"),
            Err(Fault::Opa(
                "input:a++, pos:3, flag '+' must be preceded by a non-flag: the input provided is invalid".into()
            ))
        );
        assert_eq!(
            call("[a-", "a"),
            Err(Fault::Opa(
                "input:[a-, pos:3, range character '-' must be followed by a Unicode character: the input provided is invalid".into()
            ))
        );
    }
}
