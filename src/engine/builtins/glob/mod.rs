//! `glob.match` as OPA has it: gobwas/glob's syntax, compiler and matchers, whose
//! quirks OPA's answers carry (regorus 0.14 goes through globset, which differs on
//! ranges, `?` over non-ASCII characters, `:` among the delimiters and more).
//! `glob.quote_meta` escapes every character gobwas/glob gives a meaning (regorus
//! escaped `*` alone).

mod compile;
mod matcher;
mod syntax;

use super::{operand, Fault};
use regorus::Value;
use std::collections::HashMap;
use std::rc::Rc;

/// Most nodes a pattern may have: gobwas's compiler tries every run of neighbouring
/// parts, a cost that grows with the cube of their number (about a second here at this
/// size; OPA took 0.3 s for 2,000 `*`, over 100 s for 20,000).
const MAX_NODES: usize = 1_200;

/// Compiled patterns kept per thread, as OPA keeps up to 100.
const CACHE_SIZE: usize = 100;

/// A compiled pattern, or gobwas's error for it.
type Compiled = Rc<Result<matcher::Matcher, String>>;

thread_local! {
    static CACHE: std::cell::RefCell<HashMap<(String, Vec<char>), Compiled>> = Default::default();
}

/// `glob.match(pattern, delimiters, match)`: `null` delimiters are none, an empty array
/// is `["."]`.
pub fn matches(args: &[Value]) -> Result<Value, Fault> {
    let pattern = super::string_arg(args, 1)?;
    let delimiters: Vec<char> = match &args[1] {
        Value::Null => Vec::new(),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                let Value::String(d) = item else {
                    return Err(element_error(item, "string"));
                };
                let mut chars = d.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => out.push(c),
                    _ => return Err(element_error(item, "rune")),
                }
            }
            if out.is_empty() {
                out.push('.');
            }
            out
        }
        other => return Err(Fault::Opa(operand(2, "one of {array, null}", other))),
    };
    let value = super::string_arg(args, 3)?;
    let glob = compiled(pattern, delimiters)?;
    match glob.as_ref() {
        Ok(m) => m
            .matches(value.as_bytes())
            .map(Value::Bool)
            .map_err(|_| Fault::Opa(PANIC.to_string())),
        Err(e) => Err(Fault::Opa(e.clone())),
    }
}

/// What Go reports when gobwas slices out of range (OPA's answer is an error).
const PANIC: &str = "runtime error: slice bounds out of range";

fn element_error(got: &Value, want: &str) -> Fault {
    Fault::Opa(format!(
        "operand 2 must be array of {want} but got array containing {}",
        super::type_name(got)
    ))
}

/// The compiled pattern, from the cache when it was compiled before.
fn compiled(pattern: &str, delimiters: Vec<char>) -> Result<Compiled, Fault> {
    let key = (pattern.to_string(), delimiters);
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(hit);
    }
    let tree = match syntax::parse(pattern) {
        Ok(tree) => tree,
        Err(e) => return Ok(Rc::new(Err(e))),
    };
    if nodes(&tree) > MAX_NODES {
        return Err(Fault::Limit(format!(
            "a pattern of more than {MAX_NODES} parts (wildcards, ranges, alternatives and texts) is more than regorun compiles (OPA's compiler takes minutes for such patterns)"
        )));
    }
    let glob = Rc::new(compile::compile(&tree, &key.1).map_err(|_| PANIC.to_string()));
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(key, Rc::clone(&glob));
    });
    Ok(glob)
}

/// The number of nodes in a parsed pattern.
fn nodes(tree: &syntax::Node) -> usize {
    match tree {
        syntax::Node::Pattern(ch) | syntax::Node::AnyOf(ch) => {
            1 + ch.iter().map(nodes).sum::<usize>()
        }
        _ => 1,
    }
}

/// Whether regorus's `glob.match` (which the bytecode VM calls) may differ from OPA's for
/// this pattern: any syntax beyond `*` (`**`, `?`, ranges, alternatives, escapes) or a
/// NUL, which regorus uses internally. A document or data holding one goes to the
/// interpreter.
pub fn vm_pattern(s: &str) -> bool {
    s.contains("**") || s.contains(['?', '[', ']', '{', '}', '\\', '\0'])
}

/// A policy text that may hold a pattern regorus's `glob.match` gets wrong, read
/// narrowly because policies hold regular expressions and messages full of brackets:
/// `**`, the usual way to cross delimiters.
pub fn vm_source(s: &str) -> bool {
    s.contains("**")
}

/// Whether the VM may make this call with regorus's version: delimiters written as
/// `null` or a list of plain one-character strings (regorus mishandles `:` and
/// non-ASCII ones), and a literal pattern without syntax beyond `*`; with `null`, a
/// literal pattern whose `*`, if any, is its first or last character only.
pub fn vm_call(args: &[&str]) -> bool {
    // Not three arguments: a comment's words (the scan is textual); a real call of
    // another arity does not load.
    let [pattern, delimiters, _] = args else {
        return true;
    };
    let plain_delimiter = |d: &str| {
        let d = d.trim();
        d.len() == 3
            && d.starts_with('"')
            && d.ends_with('"')
            && d.as_bytes()[1].is_ascii_alphanumeric()
            || matches!(d, "\".\"" | "\"/\"" | "\"-\"" | "\"_\"")
    };
    let delimiters = delimiters.trim();
    let literal = pattern.starts_with('"') || pattern.starts_with('`');
    let text = pattern.trim_matches(['"', '`']);
    if delimiters == "null" {
        // Without delimiters `*` is gobwas's super-wildcard, and text on both sides of
        // one becomes its prefix-and-suffix matcher, which lets them overlap: OPA
        // matches `a*a` with `a`, regorus does not. Patterns from documents likewise.
        let inner = text.trim_start_matches('*').trim_end_matches('*');
        return literal && !vm_pattern(text) && !inner.contains('*');
    }
    let plain = delimiters
        .strip_prefix('[')
        .and_then(|d| d.strip_suffix(']'))
        .is_some_and(|d| d.trim().is_empty() || d.split(',').all(plain_delimiter));
    plain && !(literal && vm_pattern(text))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(pattern: &str, delimiters: &[&str], value: &str) -> Result<Value, Fault> {
        let delimiters: Vec<Value> = delimiters.iter().map(|d| Value::from(*d)).collect();
        matches(&[
            Value::from(pattern),
            Value::from(delimiters),
            Value::from(value),
        ])
    }

    /// With `null` delimiters the VM keeps only patterns whose `*` is at an end: text on
    /// both sides may overlap in gobwas, and a document's pattern could hold any.
    #[test]
    fn vm_keeps_null_delimiters_for_stars_at_an_end_only() {
        assert!(vm_call(&[r#""*a*""#, "null", "x"]));
        assert!(vm_call(&[r#""a*""#, "null", "x"]));
        assert!(vm_call(&[r#""abc""#, "null", "x"]));
        assert!(!vm_call(&[r#""a*a""#, "null", "x"]));
        assert!(!vm_call(&["c[0]", "null", "x"]));
        assert!(vm_call(&["c[0]", "[]", "x"]));
        assert!(vm_call(&[r#""a*a""#, r#"["."]"#, "x"]));
    }

    /// gobwas's compiler quirks, as the OPA peer answers them.
    #[test]
    fn optimised_matchers_keep_gobwas_quirks() {
        // `ab**b` is a prefix and a suffix that may overlap.
        assert_eq!(glob("ab**b", &[], "ab"), Ok(Value::Bool(true)));
        // A lone `?` matches the empty string; in a row it needs a character.
        assert_eq!(glob("?", &[], ""), Ok(Value::Bool(true)));
        assert_eq!(glob("a?", &[], "a"), Ok(Value::Bool(false)));
        // `a{,}` slices out of range in Go.
        assert_eq!(glob("a{,}", &[], "a"), Err(Fault::Opa(PANIC.to_string())));
        assert_eq!(glob("a{,}", &[], "ab"), Ok(Value::Bool(false)));
    }

    #[test]
    fn ranges_are_one_range_or_one_list() {
        let err = |e: &str| Err(Fault::Opa(e.to_string()));
        assert_eq!(
            glob("[a-z0-9]", &[], "a"),
            err("expected close range character")
        );
        assert_eq!(glob("[]", &[], "a"), err("could not parse range"));
        assert_eq!(glob("[a-]", &[], "-"), err("unexpected end of input"));
        assert_eq!(glob("[!a-c]x", &[], "dx"), Ok(Value::Bool(true)));
    }

    #[test]
    fn long_patterns_are_a_limit() {
        let long = "a?".repeat(MAX_NODES);
        assert!(matches!(glob(&long, &[], "x"), Err(Fault::Limit(_))));
    }
}
