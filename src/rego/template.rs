//! Template strings (`$"hello {input.name}"`, `` $`raw {x}` ``, OPA 1.12+), which the
//! regorus 0.14 lexer rejects, rewritten before lexing into a call of the
//! [`TEMPLATE_FN`] built-in on the same lines: literal parts stay strings (`\{` becomes
//! `{`), and each `{expression}` becomes `[__regorun_t | __regorun_t := (expression)]`,
//! so that an undefined expression reaches the built-in as `[]` and renders as
//! `<undefined>`, as in OPA.

/// The built-in that renders a rewritten template string.
pub const TEMPLATE_FN: &str = "__regorun_template";

/// `source` with every template string rewritten, or `None` when it has none (or one that
/// does not end: the lexer then reports it where it starts).
pub fn rewrite(source: &str) -> Option<String> {
    if !source.contains("$\"") && !source.contains("$`") {
        return None;
    }
    let b = source.as_bytes();
    let mut out = String::with_capacity(source.len() + 64);
    let mut i = 0;
    let mut copied = 0;
    let mut changed = false;
    while i < b.len() {
        match b[i] {
            b'#' => i = skip_comment(b, i),
            b'"' | b'`' => i = skip_string(b, i)?,
            b'$' if matches!(b.get(i + 1), Some(b'"' | b'`')) => {
                let (end, text) = template(source, i + 1)?;
                out.push_str(&source[copied..i]);
                out.push_str(&text);
                copied = end;
                i = end;
                changed = true;
            }
            _ => i += 1,
        }
    }
    out.push_str(&source[copied..]);
    changed.then_some(out)
}

/// The index after the comment starting at `i` (its newline stays).
pub(crate) fn skip_comment(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |n| i + n)
}

/// The index after the string starting at `i` (`"` with escapes, or raw `` ` ``).
pub(crate) fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let quote = b[i];
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' if quote == b'"' => j += 2,
            b'\n' if quote == b'"' => return None,
            c if c == quote => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// The template string whose quote is at `q`: the index after it and its rewrite.
fn template(source: &str, q: usize) -> Option<(usize, String)> {
    let b = source.as_bytes();
    let quote = b[q];
    let mut parts: Vec<String> = Vec::new();
    let mut lit = String::new();
    let close_lit = |lit: &mut String, parts: &mut Vec<String>| {
        if !lit.is_empty() {
            let q = char::from(quote);
            parts.push(format!("{q}{lit}{q}"));
            lit.clear();
        }
    };
    let mut j = q + 1;
    loop {
        let c = *b.get(j)?;
        match c {
            b'\\' if b.get(j + 1) == Some(&b'{') => {
                lit.push('{');
                j += 2;
            }
            b'\\' if quote == b'"' => {
                // An escape stays as written: the literal is a string of the same kind.
                let next = source.get(j + 1..)?.chars().next()?;
                lit.push('\\');
                lit.push(next);
                j += 1 + next.len_utf8();
            }
            b'\n' if quote == b'"' => return None,
            b'{' => {
                close_lit(&mut lit, &mut parts);
                let end = expression_end(b, j + 1)?;
                let expr = &source[j + 1..end];
                // A template string inside the expression is rewritten too.
                let expr = rewrite(expr).unwrap_or_else(|| expr.to_string());
                parts.push(format!(
                    "[__regorun_t | __regorun_t := ({})]",
                    expr.trim_matches(' ')
                ));
                j = end + 1;
            }
            c if c == quote => {
                close_lit(&mut lit, &mut parts);
                return Some((j + 1, format!("{TEMPLATE_FN}([{}])", parts.join(", "))));
            }
            _ => {
                let ch = source.get(j..)?.chars().next()?;
                lit.push(ch);
                j += ch.len_utf8();
            }
        }
    }
}

/// The index of the `}` that ends the expression starting at `i`.
fn expression_end(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' | b'`' => {
                i = skip_string(b, i)?;
                continue;
            }
            b'$' if matches!(b.get(i + 1), Some(b'"' | b'`')) => {
                i = skip_template(b, i + 1)?;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' => depth = depth.checked_sub(1)?,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index after the template string whose quote is at `q`.
fn skip_template(b: &[u8], q: usize) -> Option<usize> {
    let quote = b[q];
    let mut j = q + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'{' => j = expression_end(b, j + 1)? + 1,
            c if c == quote => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// How OPA renders one interpolated value: a string as it is, anything else as Rego
/// source (`{"a": [1, "x"]}`, `{1, 2}`, `set()`).
pub fn render(v: &regorus::Value) -> String {
    match v {
        regorus::Value::String(s) => s.to_string(),
        other => term(other),
    }
}

fn term(v: &regorus::Value) -> String {
    use regorus::Value;
    match v {
        Value::String(s) => serde_json::to_string(s.as_ref()).unwrap_or_default(),
        Value::Array(a) => format!("[{}]", a.iter().map(term).collect::<Vec<_>>().join(", ")),
        Value::Set(s) if s.is_empty() => "set()".to_string(),
        Value::Set(s) => format!("{{{}}}", s.iter().map(term).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", term(k), term(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Undefined => "<undefined>".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_strings_become_calls_on_the_same_lines() {
        assert_eq!(
            rewrite("x := $\"a {input.n} \\{b} \\\"c\\\"\"\n").as_deref(),
            Some(
                "x := __regorun_template([\"a \", [__regorun_t | __regorun_t := (input.n)], \" {b} \\\"c\\\"\"])\n"
            )
        );
        assert_eq!(
            rewrite("x := $`r {f({\"k\": \"}\"})}\nz`").as_deref(),
            Some(
                "x := __regorun_template([`r `, [__regorun_t | __regorun_t := (f({\"k\": \"}\"}))], `\nz`])"
            )
        );
        // Inside strings and comments, and an unterminated one: nothing to do.
        assert_eq!(rewrite("x := \"$\\\"{a}\" # $\"{b}\"\n"), None);
        assert_eq!(rewrite("x := $\"{a\n"), None);
    }

    #[test]
    fn values_render_as_opa_does() {
        let v =
            regorus::Value::from_json_str(r#"{"k": "v", "a": [1, "x", 1.5, null, true]}"#).unwrap();
        assert_eq!(render(&v), r#"{"a": [1, "x", 1.5, null, true], "k": "v"}"#);
        assert_eq!(render(&regorus::Value::from("s")), "s");
        assert_eq!(render(&regorus::Value::new_set()), "set()");
    }
}
