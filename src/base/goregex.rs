//! Go's regular expressions (package `regexp`, RE2 syntax) on the `regex` crate. OPA's
//! regex built-ins use Go's package; the `regex` crate reads the same syntax with other
//! meanings: its `\d`, `\w`, `\s` and `\b` are Unicode-aware (Go's are ASCII), it lacks
//! `\Q...\E` and Go's repeat-count limit, it reads `[[a]]` as a nested class, and
//! regorus refuses any pattern over 100 KiB compiled (Go has no such limit).
//! [`translate`] rewrites a Go pattern into a `regex` pattern with Go's meaning, or gives
//! Go's parse error; [`split`] is Go's `Regexp.Split`.

use regex::{Regex, RegexBuilder};
use std::cell::RefCell;
use std::collections::HashMap;

/// Go's `\d`, `\s`, `\w` (ASCII), as class members.
const DIGIT: &str = "0-9";
const SPACE: &str = r"\t\n\f\r ";
const WORD: &str = "0-9A-Za-z_";

/// Go's limit on a repeat count and on nested counts multiplied (`(a{500}){500}`).
const MAX_REPEAT: u32 = 1000;

/// Go's limit on nesting (`expression nests too deeply`).
const MAX_DEPTH: usize = 1000;

/// The compiled size regorun allows one pattern. Go has no size limit but stops at
/// about 128 MiB of program; this bounds memory for hostile policies alike.
pub const SIZE_LIMIT: usize = 128 << 20;

/// Why a Go pattern gives no matcher.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Go refuses the pattern: its `error parsing regexp: ...` text.
    Invalid(String),
    /// Go accepts it, but it is over regorun's size or nesting limit.
    Limit(String),
}

/// One open group of the pattern being translated.
#[derive(Default)]
struct Group {
    /// The largest product of nested repeat counts inside it.
    inner: u32,
}

/// What a repetition operator would apply to.
#[derive(Clone, Copy, PartialEq)]
enum Last {
    /// Nothing (start, after `(` or `|`): Go's "missing argument".
    Nothing,
    /// An atom whose nested repeat counts multiply to this.
    Atom(u32),
    /// A repetition operator (Go refuses another one right after it).
    Repeat,
}

fn invalid(code: &str, text: &str) -> Error {
    Error::Invalid(format!("error parsing regexp: {code}: `{text}`"))
}

/// `c` outside a class, written so that the `regex` crate reads it as that character.
fn literal(out: &mut String, c: char) {
    if matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
    ) {
        out.push('\\');
    }
    out.push(c);
}

/// `c` inside a class: the `regex` crate reads `[` as a nested class and `&&`, `~~`,
/// `--` as set operations, which are plain characters in Go.
fn class_literal(out: &mut String, c: char) {
    if matches!(c, '\\' | '[' | ']' | '&' | '~' | '-') {
        out.push('\\');
    }
    out.push(c);
}

/// The pattern as a `regex` pattern with Go's meaning, or Go's parse error.
pub fn translate(go: &str) -> Result<String, Error> {
    let chars: Vec<char> = go.chars().collect();
    let mut out = String::with_capacity(go.len() + 8);
    let mut groups = vec![Group::default()];
    let mut last = Last::Nothing;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '(' => {
                let (opener, next) = group_opener(&chars, i)?;
                if groups.len() > MAX_DEPTH {
                    return Err(invalid("expression nests too deeply", go));
                }
                out.push_str(&opener);
                i = next;
                // `(?i)` alone sets flags and opens nothing.
                if opener.ends_with(')') {
                    last = Last::Nothing;
                    continue;
                }
                groups.push(Group::default());
                last = Last::Nothing;
                continue;
            }
            ')' => {
                if groups.len() == 1 {
                    return Err(invalid("unexpected )", go));
                }
                let g = groups.pop().unwrap_or_default();
                out.push(')');
                last = Last::Atom(g.inner.max(1));
            }
            '|' => {
                out.push('|');
                last = Last::Nothing;
            }
            '*' | '+' | '?' => {
                let lazy = chars.get(i + 1) == Some(&'?');
                let op: String = chars[i..i + 1 + usize::from(lazy)].iter().collect();
                repeat_after(last, &op, &chars, i)?;
                out.push_str(&op);
                i += op.chars().count();
                last = Last::Repeat;
                continue;
            }
            '{' => {
                if let Some((min, max, end)) = repeat_counts(&chars, i) {
                    let lazy = chars.get(end) == Some(&'?');
                    let op: String = chars[i..end + usize::from(lazy)].iter().collect();
                    let inner = repeat_after(last, &op, &chars, i)?;
                    if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                        return Err(invalid("invalid repeat count", &op));
                    }
                    let m = max.unwrap_or(min);
                    let product = if m == 0 { 1 } else { m.saturating_mul(inner) };
                    if m > 0 && product > MAX_REPEAT {
                        return Err(invalid("invalid repeat count", &op));
                    }
                    let top = groups.last_mut().expect("the outermost group stays");
                    top.inner = top.inner.max(product);
                    out.push_str(&op);
                    i = end + usize::from(lazy);
                    last = Last::Repeat;
                    continue;
                }
                out.push_str("\\{");
                last = Last::Atom(1);
            }
            '[' => {
                i = class(&chars, i, &mut out)?;
                last = Last::Atom(1);
                continue;
            }
            '\\' => {
                let (next, atom) = escape(&chars, i, &mut out, false)?;
                i = next;
                last = if atom { Last::Atom(1) } else { Last::Nothing };
                continue;
            }
            '.' | '^' | '$' => {
                out.push(c);
                last = Last::Atom(1);
            }
            c => {
                literal(&mut out, c);
                last = Last::Atom(1);
            }
        }
        i += 1;
    }
    if groups.len() > 1 {
        return Err(invalid("missing closing )", go));
    }
    Ok(out)
}

/// Checks that a repetition operator has something to repeat, as Go does, and gives the
/// product of the nested counts it repeats.
fn repeat_after(last: Last, op: &str, chars: &[char], at: usize) -> Result<u32, Error> {
    match last {
        Last::Atom(inner) => Ok(inner),
        Last::Nothing => Err(invalid("missing argument to repetition operator", op)),
        Last::Repeat => {
            // Go names the previous operator and this one together.
            let mut start = at;
            while start > 0 && matches!(chars[start - 1], '*' | '+' | '?' | '}') {
                start -= 1;
                if chars[start] == '}' {
                    while start > 0 && chars[start] != '{' {
                        start -= 1;
                    }
                }
            }
            let end = at + op.chars().count();
            let text: String = chars[start..end].iter().collect();
            Err(invalid("invalid nested repetition operator", &text))
        }
    }
}

/// `{n}`, `{n,}` or `{n,m}` at `at`: (min, max, index after `}`). Anything else is a
/// literal `{` in Go.
fn repeat_counts(chars: &[char], at: usize) -> Option<(u32, Option<u32>, usize)> {
    let mut i = at + 1;
    let number = |i: &mut usize| -> Option<u32> {
        let start = *i;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i == start {
            return None;
        }
        let text: String = chars[start..*i].iter().collect();
        // Go refuses counts over 1000 anyway; a huge one is "invalid repeat count".
        Some(text.parse::<u32>().unwrap_or(u32::MAX))
    };
    let min = number(&mut i)?;
    let max = if chars.get(i) == Some(&',') {
        i += 1;
        if chars.get(i) == Some(&'}') {
            None
        } else {
            Some(number(&mut i)?)
        }
    } else {
        Some(min)
    };
    (chars.get(i) == Some(&'}')).then_some((min, max, i + 1))
}

/// The text opening a group at `at` (`(`, `(?:`, `(?P<name>`, `(?<name>`, `(?flags)`,
/// `(?flags:`), checked against Go's syntax, and the index after it.
fn group_opener(chars: &[char], at: usize) -> Result<(String, usize), Error> {
    if chars.get(at + 1) != Some(&'?') {
        return Ok(("(".to_string(), at + 1));
    }
    let rest: String = chars[at..].iter().collect();
    let named = rest
        .strip_prefix("(?P<")
        .or_else(|| rest.strip_prefix("(?<"));
    if let Some(after) = named {
        let Some(end) = after.find('>') else {
            return Err(invalid("invalid named capture", &rest));
        };
        let name = &after[..end];
        let opener_len = rest.len() - after.len() + end + 1;
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(invalid("invalid named capture", &rest[..opener_len]));
        }
        let consumed = rest[..opener_len].chars().count();
        return Ok((format!("(?P<{name}>"), at + consumed));
    }
    // Flags: `(?imsU-imsU)` or `(?imsU-imsU:`.
    let mut i = at + 2;
    let mut seen_minus = false;
    let mut any = false;
    while let Some(&c) = chars.get(i) {
        match c {
            'i' | 'm' | 's' | 'U' => any = true,
            '-' if !seen_minus => seen_minus = true,
            ':' | ')' if any || (c == ':' && !seen_minus) => {
                let text: String = chars[at..=i].iter().collect();
                if seen_minus && chars[i - 1] == '-' {
                    break;
                }
                return Ok((text, i + 1));
            }
            _ => break,
        }
        i += 1;
    }
    let end = (i + 1).min(chars.len());
    let text: String = chars[at..end].iter().collect();
    Err(invalid("invalid or unsupported Perl syntax", &text))
}

/// A bracketed class at `at`, written to `out`; the index after its `]`.
fn class(chars: &[char], at: usize, out: &mut String) -> Result<usize, Error> {
    let mut i = at + 1;
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    // The previous member, when it is one character (a range may start at it).
    let mut prev: Option<char> = None;
    loop {
        let Some(&c) = chars.get(i) else {
            let text: String = chars[at..].iter().collect();
            return Err(invalid("missing closing ]", &text));
        };
        if c == ']' && !first {
            out.push(']');
            return Ok(i + 1);
        }
        first = false;
        // A POSIX class `[:alpha:]` (ASCII in both).
        if c == '[' && chars.get(i + 1) == Some(&':') {
            let rest: String = chars[i..].iter().collect();
            if let Some(end) = rest[2..].find(":]") {
                let name = &rest[2..2 + end];
                let known = [
                    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower",
                    "print", "punct", "space", "upper", "word", "xdigit",
                ];
                if known.contains(&name.trim_start_matches('^')) {
                    out.push_str(&rest[..end + 4]);
                    i += rest[..end + 4].chars().count();
                    prev = None;
                    continue;
                }
                return Err(invalid("invalid character class range", &rest[..end + 4]));
            }
        }
        // A range `a-z` (a `-` before `]` is a literal).
        if c == '-' && prev.is_some() && chars.get(i + 1).is_some_and(|&n| n != ']') {
            let lo = prev.unwrap_or('-');
            let (hi, next) = match chars[i + 1] {
                '\\' => {
                    let mut tmp = String::new();
                    let (next, _) = escape(chars, i + 1, &mut tmp, true)?;
                    match single_char(&tmp) {
                        Some(h) => (h, next),
                        None => {
                            let text: String = chars[i - 1..next].iter().collect();
                            return Err(invalid("invalid character class range", &text));
                        }
                    }
                }
                h => (h, i + 2),
            };
            if hi < lo {
                let text: String = chars[i - 1..next].iter().collect();
                return Err(invalid("invalid character class range", &text));
            }
            out.push('-');
            if chars[i + 1] == '\\' {
                // The escape as it is written for a class (`\x{FF}`, `\]`).
                escape(chars, i + 1, out, true)?;
            } else {
                class_literal(out, hi);
            }
            i = next;
            prev = None;
            continue;
        }
        if c == '\\' {
            let mut tmp = String::new();
            let (next, _) = escape(chars, i, &mut tmp, true)?;
            prev = single_char(&tmp);
            out.push_str(&tmp);
            i = next;
            continue;
        }
        // A literal `-` stays bare at either end, where both read it as itself.
        let at_edge = chars.get(i + 1) == Some(&']') || out.ends_with('[') || out.ends_with("[^");
        if c == '-' && at_edge {
            out.push('-');
        } else {
            class_literal(out, c);
        }
        prev = Some(c);
        i += 1;
    }
}

/// The character a one-character escape output stands for (`\-` is `-`, `a` is `a`).
fn single_char(text: &str) -> Option<char> {
    let mut it = text.chars();
    match (it.next(), it.next(), it.next()) {
        (Some(c), None, None) if c != '\\' => Some(c),
        (Some('\\'), Some(c), None) => match c {
            't' => Some('\t'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            'a' => Some('\u{7}'),
            c if !c.is_ascii_alphanumeric() => Some(c),
            _ => None,
        },
        _ => text
            .strip_prefix("\\x")
            .map(|h| h.trim_start_matches('{').trim_end_matches('}'))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32),
    }
}

/// An escape at `at`, written to `out` (inside a class when `in_class`): the index after
/// it, and whether it is something a repetition may follow.
fn escape(
    chars: &[char],
    at: usize,
    out: &mut String,
    in_class: bool,
) -> Result<(usize, bool), Error> {
    let Some(&c) = chars.get(at + 1) else {
        return Err(invalid("trailing backslash at end of expression", ""));
    };
    let perl = |out: &mut String, members: &str, negated: bool| {
        match (in_class, negated) {
            (true, false) => out.push_str(members),
            (true, true) => out.push_str(&format!("[^{members}]")),
            (false, false) => out.push_str(&format!("[{members}]")),
            (false, true) => out.push_str(&format!("[^{members}]")),
        };
    };
    let next = at + 2;
    match c {
        'd' | 'D' => perl(out, DIGIT, c == 'D'),
        's' | 'S' => perl(out, SPACE, c == 'S'),
        'w' | 'W' => perl(out, WORD, c == 'W'),
        'b' | 'B' | 'A' | 'z' if !in_class => {
            match c {
                'b' => out.push_str("(?-u:\\b)"),
                'B' => out.push_str("(?-u:\\B)"),
                _ => {
                    out.push('\\');
                    out.push(c);
                }
            }
            return Ok((next, true));
        }
        'Q' if !in_class => {
            let rest: String = chars[next..].iter().collect();
            let (quoted, after) = match rest.find("\\E") {
                Some(end) => (&rest[..end], next + rest[..end].chars().count() + 2),
                None => (rest.as_str(), chars.len()),
            };
            for q in quoted.chars() {
                literal(out, q);
            }
            return Ok((after, !quoted.is_empty()));
        }
        'p' | 'P' => {
            let (name, after) = if chars.get(next) == Some(&'{') {
                let rest: String = chars[next..].iter().collect();
                let Some(end) = rest.find('}') else {
                    return Err(invalid("invalid character class range", &rest));
                };
                (
                    rest[..=end].to_string(),
                    next + rest[..=end].chars().count(),
                )
            } else if let Some(&n) = chars.get(next) {
                (n.to_string(), next + 1)
            } else {
                return Err(invalid("invalid character class range", "\\p"));
            };
            out.push('\\');
            out.push(c);
            out.push_str(&name);
            return Ok((after, true));
        }
        'a' | 'f' | 't' | 'n' | 'r' | 'v' => {
            out.push('\\');
            out.push(c);
        }
        'x' => {
            let (text, after) = if chars.get(next) == Some(&'{') {
                let rest: String = chars[next..].iter().collect();
                match rest.find('}') {
                    Some(end) => (
                        rest[1..end].to_string(),
                        next + rest[..=end].chars().count(),
                    ),
                    None => return Err(invalid("invalid escape sequence", &rest)),
                }
            } else {
                let two: String = chars[next..(next + 2).min(chars.len())].iter().collect();
                (two, next + 2)
            };
            let value = u32::from_str_radix(&text, 16)
                .ok()
                .filter(|_| !text.is_empty());
            match value.and_then(char::from_u32) {
                // Both read `\x41` and `\x{41}` alike: kept as written.
                Some(_) => out.extend(&chars[at..after.min(chars.len())]),
                None => {
                    let end = after.min(chars.len());
                    let text: String = chars[at..end].iter().collect();
                    return Err(invalid("invalid escape sequence", &text));
                }
            }
            return Ok((after, true));
        }
        '0'..='7' => {
            // Go: `\0` and `\1`-`\7` followed by an octal digit are octal; `\1` alone
            // would be a back reference, which Go refuses.
            let octal = |k: usize| chars.get(k).is_some_and(|d| ('0'..='7').contains(d));
            if c != '0' && !octal(next) {
                let text: String = chars[at..next].iter().collect();
                return Err(invalid("invalid escape sequence", &text));
            }
            let mut end = next;
            while end < at + 4 && octal(end) {
                end += 1;
            }
            let digits: String = chars[at + 1..end].iter().collect();
            let value = u32::from_str_radix(&digits, 8).unwrap_or(0);
            let ch = char::from_u32(value).unwrap_or('\0');
            out.push_str(&format!("\\x{{{:X}}}", ch as u32));
            return Ok((end, true));
        }
        c if c.is_ascii() && !c.is_ascii_alphanumeric() && in_class => class_literal(out, c),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => literal(out, c),
        _ => {
            let text: String = chars[at..next].iter().collect();
            return Err(invalid("invalid escape sequence", &text));
        }
    }
    Ok((next, true))
}

/// The compiled matcher for a Go pattern, kept per thread for the next call.
pub fn compile(go: &str) -> Result<Regex, Error> {
    thread_local! {
        static CACHE: RefCell<HashMap<String, Result<Regex, Error>>> = RefCell::default();
    }
    if let Some(hit) = CACHE.with(|c| c.borrow().get(go).cloned()) {
        return hit;
    }
    let compiled = build(go);
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        // Bounded: a policy building patterns from input must not grow it forever.
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(go.to_string(), compiled.clone());
    });
    compiled
}

fn build(go: &str) -> Result<Regex, Error> {
    let pattern = translate(go)?;
    RegexBuilder::new(&pattern)
        .size_limit(SIZE_LIMIT)
        .nest_limit(MAX_DEPTH as u32)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => Error::Limit(format!(
                "the compiled pattern is over regorun's limit of {} MiB",
                limit >> 20
            )),
            // Go accepts it; saying so is better than a silent undefined.
            other => Error::Limit(format!(
                "the pattern is valid in Go but regorun's regex engine refuses it: {}",
                other.to_string().lines().last().unwrap_or_default().trim()
            )),
        })
}

/// Go's `Regexp.Split(s, -1)`; `empty_pattern` is whether the Go pattern was `""`.
pub fn split<'a>(re: &Regex, s: &'a str, empty_pattern: bool) -> Vec<&'a str> {
    if !empty_pattern && s.is_empty() {
        return vec![""];
    }
    let mut parts = Vec::new();
    let (mut begin, mut end) = (0, 0);
    for m in re.find_iter(s) {
        end = m.start();
        if m.end() != 0 {
            parts.push(&s[begin..end]);
        }
        begin = m.end();
    }
    if end != s.len() {
        parts.push(&s[begin..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(go: &str) -> String {
        translate(go).unwrap_or_else(|e| panic!("{go}: {e:?}"))
    }

    fn err(go: &str) -> String {
        match translate(go) {
            Err(Error::Invalid(e)) => e,
            other => panic!("{go}: {other:?}"),
        }
    }

    #[test]
    fn common_patterns_are_unchanged() {
        for p in [
            r"^arn:[^:]*:(iam|sts)::",
            r"\$\{[^}]*\}?",
            r"\[[^\]]*\]",
            r"(?i)kms",
            r"^[0-9]{12}$",
            r"^[a-z0-9-]+$",
            r"a.b*c+d?(e|f)",
        ] {
            assert_eq!(ok(p), p);
        }
    }

    #[test]
    fn perl_classes_and_boundaries_are_ascii() {
        assert_eq!(ok(r"^\d+$"), "^[0-9]+$");
        assert_eq!(ok(r"[\w.]"), "[0-9A-Za-z_.]");
        assert_eq!(ok(r"[^\S]"), r"[^[^\t\n\f\r ]]");
        assert_eq!(ok(r"\bx\B"), r"(?-u:\b)x(?-u:\B)");
        let re = compile(r"^\d+$").unwrap();
        assert!(!re.is_match("١٢٣"));
        assert!(re.is_match("123"));
        assert!(!compile(r"^\s$").unwrap().is_match("\u{b}"));
        assert!(compile(r"\bx").unwrap().is_match("éx"));
    }

    #[test]
    fn go_literals_are_literal() {
        assert_eq!(ok(r"\Qa.b\E+"), r"a\.b+");
        assert_eq!(ok("a{,5}"), r"a\{,5\}");
        assert_eq!(ok("[[a]"), r"[\[a]");
        assert_eq!(ok("[a&&b]"), r"[a\&\&b]");
        assert_eq!(ok(r"\<\>"), "<>");
        assert_eq!(ok(r"[^\x{0000}-\x{00FF}]\x41"), r"[^\x{0000}-\x{00FF}]\x41");
        assert_eq!(ok(r"\101\0"), r"\x{41}\x{0}");
        assert!(compile("[[a]]").unwrap().is_match("a]"));
    }

    #[test]
    fn go_errors() {
        assert_eq!(
            err("a{1001}"),
            "error parsing regexp: invalid repeat count: `{1001}`"
        );
        assert_eq!(
            err("(a{500}){500}"),
            "error parsing regexp: invalid repeat count: `{500}`"
        );
        assert_eq!(
            err("a**"),
            "error parsing regexp: invalid nested repetition operator: `**`"
        );
        assert_eq!(
            err("*a"),
            "error parsing regexp: missing argument to repetition operator: `*`"
        );
        assert_eq!(
            err(r"(a)\1"),
            r"error parsing regexp: invalid escape sequence: `\1`"
        );
        assert_eq!(
            err("a(?=b)"),
            "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"
        );
        assert_eq!(err("(a"), "error parsing regexp: missing closing ): `(a`");
        assert_eq!(err("a)"), "error parsing regexp: unexpected ): `a)`");
        assert_eq!(err("[a"), "error parsing regexp: missing closing ]: `[a`");
        assert_eq!(
            err("[z-a]"),
            "error parsing regexp: invalid character class range: `z-a`"
        );
        assert!(ok("(a{10}){100}").ends_with("{100}"));
    }

    #[test]
    fn a_pattern_over_regorus_limit_compiles() {
        let words: Vec<String> = (0..20_000).map(|i| format!("word{i:05}")).collect();
        let re = compile(&format!("^({})$", words.join("|"))).unwrap();
        assert!(re.is_match("word12345"));
        assert!(!re.is_match("word"));
    }

    #[test]
    fn split_is_gos() {
        let re = compile("a*").unwrap();
        assert_eq!(split(&re, "baaac", false), ["b", "c"]);
        assert_eq!(split(&compile("").unwrap(), "abc", true), ["a", "b", "c"]);
        assert_eq!(split(&compile(",").unwrap(), "a,b,", false), ["a", "b", ""]);
        assert_eq!(split(&compile(",").unwrap(), "", false), [""]);
    }
}
