//! What the text of a built-in call's arguments shows of their types, for the load-time
//! type errors OPA's type checker gives literals of a kind a parameter refuses
//! ([`super::deps::Graph::call_errors`]): literals (scalars, and arrays, objects with string
//! keys and sets of literals, with OPA's type text), comprehensions (their kind) and `input`
//! references (`any`).

use regorus::unstable::TokenKind;

/// A token of a rule: kind, text, absolute line.
pub type Tok = (TokenKind, String, u32);

/// The kinds of literal OPA's type checker tells apart, as bits in this order.
pub const KINDS: [&str; 7] = [
    "string", "number", "boolean", "null", "array", "object", "set",
];

/// What the text of a call's argument shows of its type.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgType {
    /// The literal's [`KINDS`] bit; 0 for any kind (an `input` reference) or unknown.
    pub kind: u8,
    /// OPA's text for its type (`array<number, string>`, `any`), when the text shows it.
    pub text: Option<String>,
}

fn kind_bit(kind: &str) -> u8 {
    KINDS.iter().position(|k| *k == kind).map_or(0, |i| 1 << i)
}

/// The types of the arguments of the call whose `(` is at `open`, in a rule whose tokens
/// are `toks`: a variable the rule assigns a literal once (`x := 1`) has the literal's type,
/// as OPA's checker infers it.
pub fn argument_types(toks: &[Tok], open: usize) -> Vec<ArgType> {
    let Some(close) = closing_of(toks, open) else {
        return Vec::new();
    };
    split_top(&toks[open + 1..close], ",")
        .into_iter()
        .map(|arg| match arg {
            [v] if v.0 == TokenKind::Ident => assigned_literal(toks, &v.1)
                .map(literal_type)
                .unwrap_or_else(|| literal_type(arg)),
            _ => literal_type(arg),
        })
        .collect()
}

/// The literal a rule assigns `var` with `:=`, when it does so exactly once and the
/// literal is the whole value (`x := "a"`, `x := [1, 2]`, not `x := 1 + y`).
fn assigned_literal<'a>(toks: &'a [Tok], var: &str) -> Option<&'a [Tok]> {
    let mut found = None;
    for (k, t) in toks.iter().enumerate() {
        let assigns = t.0 == TokenKind::Ident
            && t.1 == var
            && toks
                .get(k + 1)
                .is_some_and(|n| n.0 == TokenKind::Symbol && n.1 == ":=")
            && (k == 0 || toks[k - 1].1 != ".");
        if !assigns {
            continue;
        }
        if found.is_some() {
            return None;
        }
        let start = k + 2;
        let first = toks.get(start)?;
        let end = match (&first.0, first.1.as_str()) {
            (TokenKind::Symbol, "[" | "{") => closing_of(toks, start)?,
            (TokenKind::Symbol, "-") => start + 1,
            _ => start,
        };
        // The value ends there: the statement's next token is on a later line or a `;`/`}`.
        let ends = toks.get(end + 1).is_none_or(|n| {
            n.2 > toks[end].2 || n.0 == TokenKind::Symbol && matches!(n.1.as_str(), ";" | "}")
        });
        if !ends {
            return None;
        }
        found = Some(&toks[start..=end]);
    }
    found
}

/// The index of the bracket closing the one at `open`.
pub fn closing_of(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if t.0 == TokenKind::Symbol {
            match t.1.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(k);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// `toks` split at `sep` outside brackets (a trailing separator ends nothing).
fn split_top<'a>(toks: &'a [Tok], sep: &str) -> Vec<&'a [Tok]> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (k, t) in toks.iter().enumerate() {
        if t.0 != TokenKind::Symbol {
            continue;
        }
        match t.1.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            x if x == sep && depth == 0 => {
                out.push(&toks[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    if start < toks.len() {
        out.push(&toks[start..]);
    }
    out
}

/// OPA's order of types in a union (`any<number, string>`): null, boolean, number, string.
fn scalar_rank(text: &str) -> Option<usize> {
    ["null", "boolean", "number", "string"]
        .iter()
        .position(|t| *t == text)
}

/// What the text of one argument shows of its type: literals (scalars, and arrays,
/// objects with string keys and sets of literals), comprehensions (kind only) and
/// `input` references (`any`).
fn literal_type(arg: &[Tok]) -> ArgType {
    let known = |kind: &str, text: Option<String>| ArgType {
        kind: kind_bit(kind),
        text,
    };
    let unknown = ArgType {
        kind: 0,
        text: None,
    };
    let is = |k: usize, kind: TokenKind, text: &str| {
        arg.get(k).is_some_and(|t| t.0 == kind && t.1 == text)
    };
    match arg {
        [] => return unknown,
        [t] => {
            return match (&t.0, t.1.as_str()) {
                (TokenKind::String | TokenKind::RawString, _) => {
                    known("string", Some("string".into()))
                }
                (TokenKind::Number, _) => known("number", Some("number".into())),
                (TokenKind::Ident, "true" | "false") => known("boolean", Some("boolean".into())),
                (TokenKind::Ident, "null") => known("null", Some("null".into())),
                _ => unknown,
            }
        }
        [m, n] if m.0 == TokenKind::Symbol && m.1 == "-" && n.0 == TokenKind::Number => {
            return known("number", Some("number".into()))
        }
        _ => {}
    }
    if arg.len() == 3 && is(0, TokenKind::Ident, "set") && is(1, TokenKind::Symbol, "(") {
        return known("set", Some("set[any]".into()));
    }
    if arg[0].0 == TokenKind::Ident && arg[0].1 == "input" {
        // A plain reference: `.name` and `[...]` steps only.
        let mut k = 1;
        while k < arg.len() {
            match arg[k].1.as_str() {
                "." if arg.get(k + 1).is_some_and(|t| t.0 == TokenKind::Ident) => k += 2,
                "[" => match closing_of(arg, k) {
                    Some(c) => k = c + 1,
                    None => return unknown,
                },
                _ => return unknown,
            }
        }
        return ArgType {
            kind: 0,
            text: Some("any".into()),
        };
    }
    let open = arg[0].1.as_str();
    if arg[0].0 != TokenKind::Symbol
        || !matches!(open, "[" | "{")
        || closing_of(arg, 0) != Some(arg.len() - 1)
    {
        return unknown;
    }
    let inner = &arg[1..arg.len() - 1];
    let comprehension = split_top(inner, "|").len() > 1;
    let texts = |parts: Vec<&[Tok]>| -> Option<Vec<String>> {
        parts.into_iter().map(|p| literal_type(p).text).collect()
    };
    if open == "[" {
        let text = if comprehension {
            None
        } else if inner.is_empty() {
            Some("array[any]".to_string())
        } else {
            texts(split_top(inner, ",")).map(|t| format!("array<{}>", t.join(", ")))
        };
        return known("array", text);
    }
    if inner.is_empty() {
        return known("object", Some("object[any: any]".into()));
    }
    // `{k: v ...}` is an object; a `:` before any `|` decides.
    let before_bar = split_top(inner, "|")[0];
    let object = split_top(before_bar, ":").len() > 1;
    if comprehension {
        return known(if object { "object" } else { "set" }, None);
    }
    if object {
        let mut props: Vec<(String, String)> = Vec::new();
        for entry in split_top(inner, ",") {
            let kv = split_top(entry, ":");
            let key = match kv.first() {
                // The token's text is what is between the quotes.
                Some([k]) if k.0 == TokenKind::String => {
                    serde_json::from_str::<String>(&format!("\"{}\"", k.1)).ok()
                }
                _ => None,
            };
            let value = kv.get(1).and_then(|v| literal_type(v).text);
            match (key, value, kv.len()) {
                (Some(k), Some(v), 2) => props.push((k, v)),
                _ => return known("object", None),
            }
        }
        props.sort();
        let body: Vec<String> = props.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        return known("object", Some(format!("object<{}>", body.join(", "))));
    }
    let text = texts(split_top(inner, ",")).and_then(|mut t| {
        t.sort_by_key(|x| scalar_rank(x));
        t.dedup();
        match t.as_slice() {
            [one] => Some(format!("set[{one}]")),
            many if many.iter().all(|x| scalar_rank(x).is_some()) => {
                Some(format!("set[any<{}>]", many.join(", ")))
            }
            _ => None,
        }
    });
    known("set", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(text: &str) -> ArgType {
        let toks: Vec<Tok> = crate::rego::compat::lex_prefix("t.rego", text)
            .0
            .into_iter()
            .map(|t| (t.kind, t.text, t.line))
            .collect();
        literal_type(&toks)
    }

    #[test]
    fn literal_types_in_opas_words() {
        let text = |t: &str| arg(t).text;
        assert_eq!(text(r#""a""#).as_deref(), Some("string"));
        assert_eq!(text("-1.5").as_deref(), Some("number"));
        assert_eq!(text("null").as_deref(), Some("null"));
        assert_eq!(text("[]").as_deref(), Some("array[any]"));
        assert_eq!(
            text(r#"[1, "a"]"#).as_deref(),
            Some("array<number, string>")
        );
        assert_eq!(text("{}").as_deref(), Some("object[any: any]"));
        assert_eq!(
            text(r#"{"b": 1, "a": [true]}"#).as_deref(),
            Some("object<a: array<boolean>, b: number>")
        );
        assert_eq!(text("set()").as_deref(), Some("set[any]"));
        assert_eq!(
            text(r#"{1, "x", 2}"#).as_deref(),
            Some("set[any<number, string>]")
        );
        assert_eq!(text("input.a[0].b").as_deref(), Some("any"));
        // Only OPA's inference knows these: kind known or not, no text.
        assert_eq!(
            arg("[x | x := 1]"),
            ArgType {
                kind: 1 << 4,
                text: None
            }
        );
        assert_eq!(
            arg("{x | x := 1}"),
            ArgType {
                kind: 1 << 6,
                text: None
            }
        );
        assert_eq!(
            arg("input.a + 1"),
            ArgType {
                kind: 0,
                text: None
            }
        );
        assert_eq!(
            arg("x"),
            ArgType {
                kind: 0,
                text: None
            }
        );
    }

    #[test]
    fn variables_assigned_a_literal_once_have_its_type() {
        let types = |src: &str| -> Vec<Option<String>> {
            let toks: Vec<Tok> = crate::rego::compat::lex_prefix("t.rego", src)
                .0
                .into_iter()
                .map(|t| (t.kind, t.text, t.line))
                .collect();
            let open = toks.iter().rposition(|t| t.1 == "(").unwrap();
            argument_types(&toks, open)
                .into_iter()
                .map(|a| a.text)
                .collect()
        };
        assert_eq!(
            types("p if {\n\tx := [1]\n\ty := \"a\"; z := 1 + 2\n\tf(x, y, z)\n}"),
            vec![Some("array<number>".into()), Some("string".into()), None]
        );
        // Assigned twice (in two bodies): not known here.
        assert_eq!(
            types("p if {\n\tx := 1\n} else := 2 if {\n\tx := \"a\"\n\tf(x)\n}"),
            vec![None]
        );
    }
}
