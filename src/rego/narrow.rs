//! References that iterate packages and then read one rule of each
//! (`data.rules[p].resource_type`, common in rule libraries). OPA reads only the
//! `resource_type` rules; regorus evaluates every rule of every package below
//! `data.rules`, so a test in one of those packages that reaches such a reference stops
//! with "recursion detected", and the package being evaluated is left out.
//!
//! Such a reference becomes `__regorun_sel_N[p]`, a rule appended after the file's last
//! line (no line moves) that reads each candidate rule by its static path, which regorus
//! evaluates alone:
//! `__regorun_sel_N := object.union_n([{"a": v | v := data.rules.a.resource_type}, …])`.
//! Only when nothing else can be at `data.rules[p]`: no package at or above `rules`, no
//! data document under its root, no `with data.rules as …` (or `with data`) anywhere.

use crate::rego::compat::{lex, statements, Tok};
use crate::rego::policy::PolicyFile;
use regorus::unstable::TokenKind;
use std::collections::{BTreeMap, BTreeSet};

/// The rules appended for the references of one file are named with this prefix.
const SEL: &str = "__regorun_sel_";

/// Rewrites every file's package-iterating references; `data_roots` are the top-level
/// names the data documents define.
pub fn rewrite_all(files: &mut [PolicyFile], data_roots: &BTreeSet<String>) {
    if !files.iter().any(|f| f.source.contains("data")) {
        return;
    }
    let lexed: Vec<Option<Vec<Tok>>> = files.iter().map(|f| lex(&f.path, &f.source)).collect();
    // Package path → names of its rules.
    let mut packages: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    for toks in lexed.iter().flatten() {
        let stmts = statements(toks);
        let Some(package) = stmts.first().and_then(|&(s, e)| package_path(&toks[s..=e])) else {
            continue;
        };
        let names = packages.entry(package).or_default();
        for &(s, _) in &stmts[1..] {
            let first = &toks[s];
            let name = match first.text.as_str() {
                "import" | "package" => None,
                "default" => toks.get(s + 1),
                _ => Some(first),
            };
            if let Some(n) = name.filter(|n| n.kind == TokenKind::Ident) {
                names.insert(n.text.clone());
            }
        }
    }
    // Roots some `with data.<root>` (or `with data`) replaces: the packages below such a
    // root are then not known when the reference is evaluated.
    let mut mocked: BTreeSet<String> = data_roots.clone();
    for toks in lexed.iter().flatten() {
        for w in toks.windows(4) {
            if w[0].text == "with" && w[1].text == "data" {
                match (w[2].text.as_str(), &w[3].kind) {
                    (".", TokenKind::Ident) => {
                        mocked.insert(w[3].text.clone());
                    }
                    ("[", TokenKind::String) => {
                        mocked.insert(w[3].text.clone());
                    }
                    // Everything.
                    _ => return,
                }
            }
        }
    }
    for (f, toks) in files.iter_mut().zip(lexed) {
        let Some(toks) = toks else { continue };
        if f.path.starts_with(crate::rego::policy::BUILTIN_PREFIX) {
            continue;
        }
        if let Some(source) = rewrite(&f.source, &toks, &packages, &mocked) {
            f.source = source;
        }
    }
}

/// `package a.b` → `["a", "b"]`.
fn package_path(stmt: &[Tok]) -> Option<Vec<String>> {
    if stmt.first()?.text != "package" {
        return None;
    }
    let mut out = Vec::new();
    for t in &stmt[1..] {
        match t.kind {
            TokenKind::Ident => out.push(t.text.clone()),
            TokenKind::String => out.push(t.text.clone()),
            _ => {}
        }
    }
    let out = match out.first().map(String::as_str) {
        Some("data") => out[1..].to_vec(),
        _ => out,
    };
    Some(out)
}

/// A reference `data.P[v].R…` starting at token `i`: (prefix P, index of `v`, rule R,
/// index of the last token of `.R`).
fn iterating_ref(toks: &[Tok], i: usize) -> Option<(Vec<String>, usize, String, usize)> {
    let mut prefix = Vec::new();
    let mut j = i + 1;
    loop {
        let t = toks.get(j)?;
        match t.text.as_str() {
            "." => {
                let n = toks.get(j + 1).filter(|n| n.kind == TokenKind::Ident)?;
                prefix.push(n.text.clone());
                j += 2;
            }
            "[" => {
                let inner = toks.get(j + 1)?;
                if toks.get(j + 2)?.text != "]" {
                    return None;
                }
                match inner.kind {
                    TokenKind::String => {
                        prefix.push(inner.text.clone());
                        j += 3;
                    }
                    TokenKind::Ident if !prefix.is_empty() => {
                        let var = j + 1;
                        let after = j + 3;
                        return match toks.get(after).map(|t| t.text.as_str()) {
                            Some(".") => {
                                let r =
                                    toks.get(after + 1).filter(|r| r.kind == TokenKind::Ident)?;
                                Some((prefix, var, r.text.clone(), after + 1))
                            }
                            Some("[") => {
                                let r = toks
                                    .get(after + 1)
                                    .filter(|r| r.kind == TokenKind::String)?;
                                (toks.get(after + 2)?.text == "]")
                                    .then(|| (prefix, var, r.text.clone(), after + 2))
                            }
                            _ => None,
                        };
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
}

fn rewrite(
    source: &str,
    toks: &[Tok],
    packages: &BTreeMap<Vec<String>, BTreeSet<String>>,
    other_roots: &BTreeSet<String>,
) -> Option<String> {
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut rules: Vec<String> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let starts =
            t.kind == TokenKind::Ident && t.text == "data" && (i == 0 || toks[i - 1].text != ".");
        if !starts {
            continue;
        }
        let Some((prefix, var, rule, last)) = iterating_ref(toks, i) else {
            continue;
        };
        // Anything else that could be at `data.P[v]`: a package at or above P, a deeper
        // package named like the rule, a data document, a `with` replacement.
        let n = prefix.len();
        let other = packages.keys().any(|q| {
            (q.len() <= n && prefix.starts_with(q))
                || (q.len() > n + 1 && q.starts_with(&prefix) && q[n + 1] == rule)
        }) || other_roots.contains(&prefix[0]);
        if other {
            continue;
        }
        let parts: Vec<String> = packages
            .iter()
            .filter(|(q, names)| {
                q.len() == n + 1 && q.starts_with(&prefix) && names.contains(&rule)
            })
            .map(|(q, _)| {
                let path: String = q
                    .iter()
                    .chain(std::iter::once(&rule))
                    .map(|c| {
                        let ident = c
                            .chars()
                            .next()
                            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                            && c.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                        if ident {
                            format!(".{c}")
                        } else {
                            format!("[{}]", serde_json::to_string(c).unwrap_or_default())
                        }
                    })
                    .collect();
                format!(
                    "{{{}: __regorun_v | __regorun_v := data{path}}}",
                    serde_json::to_string(&q[n]).unwrap_or_default()
                )
            })
            .collect();
        let name = format!("{SEL}{}", rules.len());
        rules.push(format!("{name} := object.union_n([{}])", parts.join(", ")));
        let v = &toks[var].text;
        edits.push((t.start, toks[last].end, format!("{name}[{v}]")));
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = source.to_string();
    for (start, end, text) in edits.into_iter().rev() {
        out.replace_range(start..end, &text);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    for r in rules {
        out.push_str(&r);
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(sources: &[(&str, &str)]) -> Vec<PolicyFile> {
        sources
            .iter()
            .map(|(p, s)| PolicyFile {
                path: p.to_string(),
                source: s.to_string(),
            })
            .collect()
    }

    #[test]
    fn package_iteration_reads_one_rule_per_package() {
        let mut fs = files(&[
            (
                "lib.rego",
                "package lib\n\nreport := [p | data.rules[p].resource_type]\n",
            ),
            ("a.rego", "package rules.a\n\nresource_type := \"x\"\n"),
            ("b.rego", "package rules.b\n\nallow := true\n"),
        ]);
        rewrite_all(&mut fs, &BTreeSet::new());
        assert_eq!(
            fs[0].source,
            "package lib\n\nreport := [p | __regorun_sel_0[p]]\n__regorun_sel_0 := object.union_n([{\"a\": __regorun_v | __regorun_v := data.rules.a.resource_type}])\n"
        );
        assert_eq!(fs[1].source, "package rules.a\n\nresource_type := \"x\"\n");
        // A package at `rules` itself, or data under `rules`: left as it is.
        let mut fs = files(&[
            (
                "lib.rego",
                "package lib\n\nreport := [p | data.rules[p].resource_type]\n",
            ),
            ("r.rego", "package rules\n\nx := 1\n"),
        ]);
        rewrite_all(&mut fs, &BTreeSet::new());
        assert!(fs[0].source.ends_with("data.rules[p].resource_type]\n"));
        let mut fs = files(&[("lib.rego", "package lib\n\nr := [p | data.rules[p].t]\n")]);
        rewrite_all(&mut fs, &BTreeSet::from(["rules".to_string()]));
        assert!(fs[0].source.ends_with("data.rules[p].t]\n"));
        let mut fs = files(&[
            ("lib.rego", "package lib\n\nr := [p | data.rules[p].t]\n"),
            (
                "t.rego",
                "package t\n\nx := data.lib.r with data.rules as {}\n",
            ),
        ]);
        rewrite_all(&mut fs, &BTreeSet::new());
        assert!(fs[0].source.ends_with("data.rules[p].t]\n"));
    }
}
