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

/// OPA's `upper`: Go's `strings.ToUpper`, each character's simple (one-character)
/// mapping. Rust's full mapping expands `ß` to `SS` and `ﬁ` to `FI`, which Go keeps.
pub fn upper(args: &[Value]) -> Result<Value, Fault> {
    let s = string_arg(args, 1)?;
    Ok(Value::from(s.chars().map(simple_upper).collect::<String>()))
}

/// OPA's `lower`: Go's `strings.ToLower`, each character on its own: `İ` is `i` (Rust
/// `i̇`) and a word-final `Σ` is `σ` (Rust's context-sensitive `ς`).
pub fn lower(args: &[Value]) -> Result<Value, Fault> {
    let s = string_arg(args, 1)?;
    Ok(Value::from(s.chars().map(simple_lower).collect::<String>()))
}

/// Whether the text holds a character whose simple case mapping (Go's) differs from its
/// full one (Rust's, which regorus's `upper`/`lower` use): one that expands, or `Σ`.
pub fn case_mappings_differ(s: &str) -> bool {
    !s.is_ascii()
        && s.chars().any(|c| {
            !c.is_ascii()
                && (c == '\u{3A3}'
                    || c.to_uppercase().nth(1).is_some()
                    || c.to_lowercase().nth(1).is_some())
        })
}

/// A character's simple uppercase mapping (Unicode's `UnicodeData.txt`, which Go's
/// `unicode.ToUpper` reads): the full mapping where it is one character; of the
/// characters whose full mapping expands, only the Greek ones with ypogegrammeni have a
/// simple one (to the prosgegrammeni form), the others keep themselves.
fn simple_upper(c: char) -> char {
    let mut full = c.to_uppercase();
    match (full.next(), full.next()) {
        (Some(u), None) => u,
        _ => match c {
            '\u{1F80}'..='\u{1F87}' | '\u{1F90}'..='\u{1F97}' | '\u{1FA0}'..='\u{1FA7}' => {
                char::from_u32(c as u32 + 8).unwrap_or(c)
            }
            '\u{1FB3}' => '\u{1FBC}',
            '\u{1FC3}' => '\u{1FCC}',
            '\u{1FF3}' => '\u{1FFC}',
            _ => c,
        },
    }
}

/// A character's simple lowercase mapping: only `İ` expands in the full one.
fn simple_lower(c: char) -> char {
    let mut full = c.to_lowercase();
    match (full.next(), full.next()) {
        (Some(l), None) => l,
        _ if c == '\u{130}' => 'i',
        _ => c,
    }
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
    // regorus prints an empty set as `{}`, and a set's elements in its own order, which
    // differs from OPA's when objects and sets meet.
    if plain_verbs(format) == Some(values.len())
        && !values.iter().any(holds_empty_set)
        && !super::order::holds_both(&values.iter().collect::<Vec<_>>())
    {
        return super::native("sprintf", args).map_err(Fault::Opa);
    }
    let go_args: Vec<Arg> = values.iter().map(go_arg).collect();
    Ok(Value::from(crate::base::gofmt::sprintf(format, &go_args)))
}

/// Whether a value is or holds an empty set.
fn holds_empty_set(v: &Value) -> bool {
    match v {
        Value::Set(s) => s.is_empty() || s.iter().any(holds_empty_set),
        Value::Array(a) => a.iter().any(holds_empty_set),
        Value::Object(o) => o
            .iter()
            .any(|(k, v)| holds_empty_set(k) || holds_empty_set(v)),
        _ => false,
    }
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

/// OPA's text of a value (`ast.Value.String()`): strings quoted, `set()` for an empty set,
/// set elements and object keys in OPA's order (objects before sets).
fn rego_text(v: &Value) -> String {
    let join = |items: Vec<String>| items.join(", ");
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.format_decimal(),
        Value::String(s) => crate::base::gostr::quote(s),
        Value::Array(a) => format!("[{}]", join(a.iter().map(rego_text).collect())),
        Value::Set(s) if s.is_empty() => "set()".into(),
        Value::Set(s) => format!(
            "{{{}}}",
            join(
                super::order::sorted(s.iter())
                    .into_iter()
                    .map(rego_text)
                    .collect()
            )
        ),
        Value::Object(o) => {
            let mut entries: Vec<_> = o.iter().collect();
            entries.sort_by(|a, b| super::order::opa_cmp(a.0, b.0));
            let texts = entries
                .into_iter()
                .map(|(k, v)| format!("{}: {}", rego_text(k), rego_text(v)));
            format!("{{{}}}", join(texts.collect()))
        }
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

/// OPA's `strings.replace_n(patterns, text)`: Go's `strings.NewReplacer` over the pairs in
/// key order, so every replacement is made at once on the original text: at each place
/// the first key (in order) that starts there wins, and replaced text is never searched
/// again. regorus replaces one key after the other, so `{"a": "b", "b": "a"}` turned
/// `"ab"` into `"aa"` where OPA gives `"ba"`. An empty key matches at every place but
/// right after its own match (Go's rule); places are characters, not bytes.
pub fn replace_n(args: &[Value]) -> Result<Value, Fault> {
    let Value::Object(patterns) = &args[0] else {
        return Err(super::operand(1, "object", &args[0]).into());
    };
    let text = string_arg(args, 2)?;
    let mut pairs = Vec::with_capacity(patterns.len());
    // A regorus object iterates in key order, as OPA sorts the keys.
    for (k, v) in patterns.iter() {
        let (Value::String(k), Value::String(v)) = (k, v) else {
            let which = if matches!(k, Value::String(_)) {
                "value"
            } else {
                "key"
            };
            return Err(Fault::Opa(format!(
                "operand 1 non-string {which} found in pattern object"
            )));
        };
        pairs.push((k.as_ref(), v.as_ref()));
    }
    Ok(Value::from(go_replace(text, &pairs)))
}

/// Go's generic `Replacer`: left to right, the first pair whose key starts at the place.
fn go_replace(text: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut i, mut prev_empty) = (0, false);
    loop {
        let rest = &text[i..];
        let hit = pairs
            .iter()
            .find(|(k, _)| rest.starts_with(k) && !(k.is_empty() && prev_empty));
        prev_empty = matches!(hit, Some((k, _)) if k.is_empty());
        match hit {
            Some((k, v)) => {
                out.push_str(v);
                i += k.len();
            }
            None => match rest.chars().next() {
                Some(c) => {
                    out.push(c);
                    i += c.len_utf8();
                }
                None => break,
            },
        }
    }
    out
}

/// Whether the bytecode VM may keep regorus's one-key-after-the-other `strings.replace_n`
/// for a call: its patterns are an object literal whose keys are non-empty, never
/// overlap (no key holds another or ends with another's start), and whose values
/// (literals, or constants `resolve` gives) can form no key with the text around them.
/// Then both ways make the same replacements (the pack's `${AWS::...}` pseudo-parameters).
pub fn replace_n_vm_safe(args: &[&str], resolve: &super::Resolve<'_>) -> bool {
    let Some(entries) = args.first().and_then(|a| super::literal_items(a, '{', '}')) else {
        return false;
    };
    let mut pairs = Vec::new();
    for entry in entries.iter().filter(|e| !e.is_empty()) {
        let Some((k, v)) = split_entry(entry) else {
            return false;
        };
        let literal = |t: &str| super::literal_text(t);
        let Some(v) = literal(v).or_else(|| resolve(v).and_then(|c| literal(&c))) else {
            return false;
        };
        pairs.push((k, v));
    }
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    let apart = |a: &str, b: &str| {
        !a.contains(b)
            && !b.contains(a)
            && (1..b.len()).all(|n| !b.is_char_boundary(n) || !a.ends_with(&b[..n]))
    };
    let keys_apart = keys
        .iter()
        .enumerate()
        .all(|(i, a)| !a.is_empty() && keys.iter().skip(i + 1).all(|b| apart(a, b) && apart(b, a)));
    keys_apart
        && pairs.iter().all(|(_, v)| {
            keys.iter()
                .all(|k| !v.is_empty() && apart(v, k) && apart(k, v))
        })
}

/// A `"key": value` entry's key (a string literal) and value text.
fn split_entry(entry: &str) -> Option<(String, &str)> {
    let mut escaped = false;
    let close = entry.strip_prefix('"')?.find(|c| {
        let end = c == '"' && !escaped;
        escaped = c == '\\' && !escaped;
        end
    })?;
    let key: String = serde_json::from_str(&entry[..close + 2]).ok()?;
    let value = entry[close + 2..].trim_start().strip_prefix(':')?.trim();
    Some((key, value))
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

    fn safe(args: &[&str]) -> bool {
        replace_n_vm_safe(args, &|name| {
            (name == "owner").then(|| "\"(owner)\"".to_string())
        })
    }

    /// The VM keeps regorus's `strings.replace_n` only where replacing one key after the
    /// other cannot differ from Go's all-at-once (the pack's pseudo-parameters).
    #[test]
    fn replace_n_on_the_vm_only_where_the_order_cannot_matter() {
        let pack = r#"{"${AWS::Partition}": "aws", "${AWS::AccountId}": owner, "${AWS::URLSuffix}": "amazonaws.com"}"#;
        assert!(safe(&[pack, "s"]));
        assert!(safe(&[r#"{"a\"b": "x"}"#, "s"]));
        for unsafe_patterns in [
            r#"{"a": "b", "b": "a"}"#,      // a value is a later key
            r#"{"ab": "x", "b": "y"}"#,     // one key holds another
            r#"{"ab": "x", "bc": "y"}"#,    // keys overlap
            r#"{"${A}": "$", "{A}": "y"}"#, // a value starts a key
            r#"{"${A}": "", "x": "y"}"#,    // an empty value joins its neighbours
            r#"{"": "x"}"#,                 // an empty key
            r#"{"${A}": other}"#,           // a value that is not a known literal
            "patterns",                     // not a literal object
        ] {
            assert!(!safe(&[unsafe_patterns, "s"]), "{unsafe_patterns}");
        }
    }

    fn replaced(pairs: &[(&str, &str)], text: &str) -> String {
        go_replace(text, pairs)
    }

    /// Go's `strings.NewReplacer`: all at once, the first key in order at each place,
    /// an empty key everywhere but right after its own match.
    #[test]
    fn replaces_all_at_once_as_go() {
        assert_eq!(replaced(&[("a", "b"), ("b", "a")], "ab"), "ba");
        assert_eq!(replaced(&[("a", "1"), ("ab", "2")], "ab"), "1b");
        assert_eq!(replaced(&[("aa", "x")], "aaaaa"), "xxa");
        assert_eq!(
            replaced(&[("", "-"), ("ab", "1"), ("b", "2")], "abcab"),
            "-1-c-1-"
        );
        assert_eq!(replaced(&[("", "-")], ""), "-");
        let object = Value::from_json_str(r#"{"a": 1}"#).unwrap();
        assert_eq!(
            replace_n(&[object, Value::from("a")]),
            Err(Fault::Opa(
                "operand 1 non-string value found in pattern object".to_string()
            ))
        );
    }

    /// Go's simple case mappings, one character for one.
    #[test]
    fn cases_map_one_character_for_one() {
        let up = |s: &str| upper(&[Value::from(s)]).unwrap();
        let low = |s: &str| lower(&[Value::from(s)]).unwrap();
        assert_eq!(up("aßﬁŉ"), Value::from("Aßﬁŉ"));
        assert_eq!(
            up("\u{1F80}\u{1FB3}\u{1FB2}"),
            Value::from("\u{1F88}\u{1FBC}\u{1FB2}")
        );
        assert_eq!(low("İΑΣ ǅ"), Value::from("iασ ǆ"));
        assert!(case_mappings_differ("Key ß") && case_mappings_differ("ΟΔΟΣ"));
        assert!(!case_mappings_differ("Ключ é ǅ") && !case_mappings_differ("plain"));
    }
}
