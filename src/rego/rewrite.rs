//! Line-preserving source rewrites that make regorus give OPA's answers where its
//! interpreter differs.
//!
//! `some x in c` where `c` is not a collection (a string, a number) is undefined in OPA
//! and on regorus's bytecode VM, but stops regorus's interpreter with an error. Every
//! `some .. in` collection is wrapped in [`WRAPPER`], a function of the [`HELPER_MODULE`]
//! that passes collections through and turns anything else into `[]` (no iteration, so the
//! literal is undefined). Only text on the same line is inserted: line numbers in errors,
//! coverage and traces stay the user's.

use crate::rego::compat::{lex, Tok};
use regorus::unstable::TokenKind;

/// The helper module's path (internal: never listed, traced or queried).
pub const HELPER_PATH: &str = "<regorun:rewrite>";

/// The helper module, valid under `--rego-version v0` and v1.
pub const HELPER_MODULE: &str = "package __regorun\n\nimport rego.v1\n\niter(x) := x if {\n\tis_array(x)\n} else := x if {\n\tis_set(x)\n} else := x if {\n\tis_object(x)\n} else := []\n";

/// What goes before a wrapped collection (and `)` after it).
pub const WRAPPER: &str = "data.__regorun.iter(";

/// `source` with every `some .. in` collection wrapped, or `None` when there is none (or
/// the source does not lex: loading reports that).
pub fn some_in(file: &str, source: &str) -> Option<String> {
    let toks = lex(file, source)?;
    let mut inserts: Vec<(usize, &str)> = Vec::new();
    for i in 0..toks.len() {
        if toks[i].kind != TokenKind::Ident || toks[i].text != "some" {
            continue;
        }
        let Some(k) = in_keyword(&toks, i) else {
            continue;
        };
        let Some(end) = collection_end(&toks, k + 1) else {
            continue;
        };
        inserts.push((toks[k + 1].start, WRAPPER));
        inserts.push((toks[end].end, ")"));
    }
    if inserts.is_empty() {
        return None;
    }
    // From the end, so that earlier offsets stay valid.
    inserts.sort_by_key(|i| std::cmp::Reverse(i.0));
    let mut out = source.to_string();
    for (at, text) in inserts {
        out.insert_str(at, text);
    }
    Some(out)
}

/// The `in` of the `some` at `i`, if this `some` iterates (`some x in c`,
/// `some k, v in c`) rather than declaring (`some x`).
fn in_keyword(toks: &[Tok], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    for j in i + 1..toks.len() {
        let t = &toks[j];
        // Brackets inside string literals are text, not structure.
        let symbol = t.kind == TokenKind::Symbol;
        match t.text.as_str() {
            "(" | "[" | "{" if symbol => depth += 1,
            ")" | "]" | "}" if symbol && depth == 0 => return None,
            ")" | "]" | "}" if symbol => depth -= 1,
            ";" | "|" if symbol && depth == 0 => return None,
            "in" if depth == 0 && t.kind == TokenKind::Ident => return Some(j),
            _ if depth == 0 && t.line != toks[j - 1].line => return None,
            _ => {}
        }
    }
    None
}

/// The last token of the collection expression starting at `first`: it ends before a
/// statement separator, `with`, a closing bracket it did not open, or a new line.
fn collection_end(toks: &[Tok], first: usize) -> Option<usize> {
    toks.get(first)?;
    let mut depth = 0usize;
    let mut last = first;
    for j in first..toks.len() {
        let t = &toks[j];
        let symbol = t.kind == TokenKind::Symbol;
        if depth == 0 && j > first {
            let ends = (symbol && matches!(t.text.as_str(), ";" | "," | "|" | ")" | "]" | "}"))
                || (t.kind == TokenKind::Ident && t.text == "with")
                || t.line != toks[j - 1].line;
            if ends {
                break;
            }
        }
        match t.text.as_str() {
            "(" | "[" | "{" if symbol => depth += 1,
            ")" | "]" | "}" if symbol => depth = depth.checked_sub(1)?,
            _ => {}
        }
        last = j;
    }
    (depth == 0).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(s: &str) -> String {
        some_in("p.rego", s).unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn wraps_every_iterating_some() {
        assert_eq!(
            rw("p if {\n\tsome c in input.name\n\tc == \"q\"\n}\n"),
            "p if {\n\tsome c in data.__regorun.iter(input.name)\n\tc == \"q\"\n}\n"
        );
        assert_eq!(
            rw("x := [v | some k, v in f(input)[\"a\"]; k > 1]"),
            "x := [v | some k, v in data.__regorun.iter(f(input)[\"a\"]); k > 1]"
        );
        assert_eq!(
            rw("p if some x in [y | some y in ys]"),
            "p if some x in data.__regorun.iter([y | some y in data.__regorun.iter(ys)])"
        );
        assert_eq!(
            rw("p if { some x in xs with input as 1 }"),
            "p if { some x in data.__regorun.iter(xs) with input as 1 }"
        );
        assert_eq!(
            rw("p if {\n\tsome x\n\tx in xs\n}\n"),
            "p if {\n\tsome x\n\tx in xs\n}\n"
        );
        assert_eq!(some_in("p.rego", "p if { some x; x := 1 }"), None);
        // A string literal is wrapped whole, quotes and brackets inside it included.
        assert_eq!(
            rw("p if { some c in \"a(b\"; c == \"a\" }"),
            "p if { some c in data.__regorun.iter(\"a(b\"); c == \"a\" }"
        );
    }
}
