//! `with <built-in> as <mock>` for the built-ins regorus lacks and regorun adds (OPA's
//! `io.jwt.*`, `crypto.x509.*`, `net.cidr_merge`, ...). regorus looks a `with` target up
//! among its own built-ins and rules, so mocking one of these was "undefined rule".
//!
//! For each such built-in that some `with` mocks, its calls in every file go through a
//! dispatcher function appended after the last line of the file with its first mock:
//! the mock in force (a value, or one of the functions the policies mock it with) is
//! named by `with data.__regorun_mocks.<id> as {...}`, which regorus supports; with no
//! mock in force the dispatcher calls the built-in. Lines of the user's code are kept.

use crate::rego::compat::{
    data_ref, helper_params, helpers_take_if, lex, scope, statements, Functions, Tok, MISSING_ARITY,
};
use crate::rego::narrow::Source;
use regorus::unstable::TokenKind;
use std::collections::BTreeMap;

/// One mock: the file, the byte range of `NAME as TARGET` and what replaces it.
struct Mock {
    file: usize,
    start: usize,
    end: usize,
    builtin: &'static str,
    target: Target,
}

/// A mock's target: a function (its reference from anywhere) or a value (its text).
enum Target {
    Function(String),
    Value(String),
}

/// The dotted name starting at token `i` (`a.b.c`) and the index after it.
fn dotted(toks: &[Tok], i: usize) -> Option<(String, usize)> {
    let first = toks.get(i).filter(|t| t.kind == TokenKind::Ident)?;
    let mut name = first.text.clone();
    let mut j = i + 1;
    while toks.get(j).is_some_and(|t| t.text == ".")
        && toks.get(j + 1).is_some_and(|t| t.kind == TokenKind::Ident)
    {
        name.push('.');
        name.push_str(&toks[j + 1].text);
        j += 2;
    }
    Some((name, j))
}

/// The index after the term starting at token `i` (a literal, a bracketed term, or a
/// reference with dots and brackets).
fn term_end(toks: &[Tok], i: usize) -> Option<usize> {
    let close = |mut j: usize| -> Option<usize> {
        let mut depth = 0usize;
        while let Some(t) = toks.get(j) {
            match t.text.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(j + 1);
                    }
                }
                _ => {}
            }
            j += 1;
        }
        None
    };
    let t = toks.get(i)?;
    match t.text.as_str() {
        "(" | "[" | "{" => close(i),
        _ if t.kind == TokenKind::Ident => {
            let mut j = i + 1;
            loop {
                match toks.get(j).map(|t| t.text.as_str()) {
                    Some(".") if toks.get(j + 1).is_some_and(|t| t.kind == TokenKind::Ident) => {
                        j += 2
                    }
                    Some("[") => j = close(j)?,
                    // A call (`set()`, `f(x)`): its arguments belong to the term.
                    Some("(") => j = close(j)?,
                    _ => return Some(j),
                }
            }
        }
        _ => Some(i + 1),
    }
}

fn arity(name: &str) -> Option<usize> {
    MISSING_ARITY
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| *a)
}

fn id(name: &str) -> String {
    name.replace('.', "_")
}

/// Rewrites the mocks of added built-ins in `files` (see the module docs).
pub fn rewrite_all(files: &mut [Source], functions: &Functions, rego_v0: bool) {
    let candidate = |f: &Source| {
        !f.builtin
            && f.source.contains("with ")
            && MISSING_ARITY.iter().any(|(n, _)| f.source.contains(n))
    };
    if !files.iter().any(candidate) {
        return;
    }
    let lexed: Vec<Option<Vec<Tok>>> = files
        .iter()
        .map(|f| (!f.builtin).then(|| lex(f.path, f.source)).flatten())
        .collect();
    let mut packages: Vec<Vec<String>> = Vec::new();
    let mut mocks: Vec<Mock> = Vec::new();
    for (k, toks) in lexed.iter().enumerate() {
        let Some(toks) = toks else {
            packages.push(Vec::new());
            continue;
        };
        let stmts = statements(toks);
        let (package, aliases) = scope(toks, &stmts).unwrap_or_default();
        for i in 0..toks.len() {
            if toks[i].kind != TokenKind::Ident || toks[i].text != "with" {
                continue;
            }
            let Some((name, after)) = dotted(toks, i + 1) else {
                continue;
            };
            let Some(builtin) = MISSING_ARITY.iter().map(|(n, _)| *n).find(|n| *n == name) else {
                continue;
            };
            if toks.get(after).is_none_or(|t| t.text != "as") {
                continue;
            }
            let Some(end) = term_end(toks, after + 1) else {
                continue;
            };
            let text = &files[k].source[toks[after + 1].start..toks[end - 1].end];
            mocks.push(Mock {
                file: k,
                start: toks[i + 1].start,
                end: toks[end - 1].end,
                builtin,
                target: target(text, &package, &aliases, functions),
            });
        }
        packages.push(package);
    }
    if mocks.is_empty() {
        return;
    }
    // The mocked built-ins, each with its host file and its function targets in order.
    let mut hosts: BTreeMap<&str, (usize, Vec<String>)> = BTreeMap::new();
    for m in &mocks {
        let entry = hosts.entry(m.builtin).or_insert((m.file, Vec::new()));
        if let Target::Function(f) = &m.target {
            if !entry.1.contains(f) {
                entry.1.push(f.clone());
            }
        }
    }
    let mut edits: Vec<Vec<(usize, usize, String)>> = vec![Vec::new(); files.len()];
    for m in &mocks {
        let key = format!("data.__regorun_mocks.{}", id(m.builtin));
        let descriptor = match &m.target {
            Target::Function(f) => {
                let n = hosts[m.builtin].1.iter().position(|g| g == f).unwrap_or(0);
                format!("{{\"fn\": {n}}}")
            }
            Target::Value(v) => format!("{{\"value\": {v}}}"),
        };
        edits[m.file].push((m.start, m.end, format!("{key} as {descriptor}")));
    }
    for (k, toks) in lexed.iter().enumerate() {
        let Some(toks) = toks else { continue };
        for i in 0..toks.len() {
            if i > 0 && matches!(toks[i - 1].text.as_str(), "." | "with") {
                continue;
            }
            let Some((name, after)) = dotted(toks, i) else {
                continue;
            };
            let Some((&builtin, (host, _))) = hosts.get_key_value(name.as_str()) else {
                continue;
            };
            if toks.get(after).is_none_or(|t| t.text != "(") {
                continue;
            }
            let dispatcher = format!(
                "{}.__regorun_mock_{}",
                data_ref(&packages[*host]),
                id(builtin)
            );
            edits[k].push((toks[i].start, toks[after - 1].end, dispatcher));
        }
    }
    for (k, mut file_edits) in edits.into_iter().enumerate() {
        file_edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (start, end, text) in file_edits {
            files[k].source.replace_range(start..end, &text);
        }
    }
    for (builtin, (host, targets)) in hosts {
        let v1 = helpers_take_if(files[host].source, rego_v0);
        let text = dispatcher(builtin, &targets, v1);
        let source = &mut *files[host].source;
        if !source.ends_with('\n') {
            source.push('\n');
        }
        source.push_str(&text);
    }
}

/// A mock target as written in a file of `package`: a function reference made absolute,
/// or a value.
fn target(
    text: &str,
    package: &[String],
    aliases: &BTreeMap<String, Vec<String>>,
    functions: &Functions,
) -> Target {
    let is_ref = !text.is_empty()
        && text
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if !is_ref {
        return Target::Value(text.to_string());
    }
    let parts: Vec<String> = text.split('.').map(str::to_string).collect();
    let full: Vec<String> = match parts[0].as_str() {
        "data" => parts[1..].to_vec(),
        first if aliases.contains_key(first) => {
            [aliases[first].clone(), parts[1..].to_vec()].concat()
        }
        _ if parts.len() == 1 => [package.to_vec(), parts.clone()].concat(),
        _ => Vec::new(),
    };
    if !full.is_empty() && functions.arity(&full.join(".")).is_some() {
        return Target::Function(data_ref(&full));
    }
    if regorus::unstable::BUILTINS.contains_key(text) || arity(text).is_some() {
        return Target::Function(text.to_string());
    }
    Target::Value(text.to_string())
}

/// The dispatcher of `builtin`: the value mock, else the function mock in force, else the
/// built-in itself.
fn dispatcher(builtin: &str, targets: &[String], v1: bool) -> String {
    let id = id(builtin);
    let n = arity(builtin).unwrap_or(0);
    let params = helper_params(n);
    let kw = if v1 { " if" } else { "" };
    let mut out = format!(
        "__regorun_mock_{id}({params}) := __regorun_v{kw} {{\n\t__regorun_v := data.__regorun_mocks.{id}.value\n}}"
    );
    for (k, t) in targets.iter().enumerate() {
        out.push_str(&format!(
            " else := __regorun_v{kw} {{\n\tdata.__regorun_mocks.{id}.fn == {k}\n\t__regorun_v := {t}({params})\n}}"
        ));
    }
    out.push_str(&format!(
        " else := {builtin}({params}){kw} {{\n\ttrue\n}}\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mocks_route_calls_through_a_dispatcher() {
        let src = "package p\n\nimport rego.v1\n\nh(x) := crypto.x509.parse_certificates(x)\n\nfake(_) := [1]\n\ntest_a if {\n\th(\"c\") == [1] with crypto.x509.parse_certificates as fake\n}\n\ntest_b if {\n\th(\"c\") == 2 with crypto.x509.parse_certificates as 2\n}\n";
        let mut source = src.to_string();
        let mut files = vec![Source {
            path: "p.rego",
            source: &mut source,
            builtin: false,
        }];
        let functions = Functions::of(&[("p.rego", src)]);
        rewrite_all(&mut files, &functions, false);
        drop(files);
        let out = &source;
        assert!(out.contains("h(x) := data.p.__regorun_mock_crypto_x509_parse_certificates(x)"));
        assert!(
            out.contains("with data.__regorun_mocks.crypto_x509_parse_certificates as {\"fn\": 0}")
        );
        assert!(out.contains(
            "with data.__regorun_mocks.crypto_x509_parse_certificates as {\"value\": 2}"
        ));
        assert!(out.contains("__regorun_v := data.p.fake(__regorun_a0)"));
        // The user's lines keep their numbers.
        let line_of = |text: &str, needle: &str| text.lines().position(|l| l.contains(needle));
        assert_eq!(line_of(out, "test_b if"), line_of(src, "test_b if"));
        assert_eq!(line_of(out, "fake(_)"), line_of(src, "fake(_)"));
    }
}
