//! Rewrites that need every loaded file.
//!
//! **References that iterate packages and then read one rule of each**
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
//!
//! **A function defined in several files of one package.** regorus evaluates every
//! clause in the module of the first definition, so a clause from another file reads
//! that module's tables ("loop hoisting table out of bounds", wrong imports). The
//! clauses of each later file are renamed (`__regorun_fn1_f`), and the first file gets,
//! after its last line, `f(a1, a2) := v if v := __regorun_fn1_f(a1, a2)`: each clause
//! again runs in its own module, with the same values and conflicts.

use crate::rego::compat::{
    data_ref, helper_params, helpers_take_if, lex, scope, statements, Functions, Tok,
};
use regorus::unstable::TokenKind;
use std::collections::{BTreeMap, BTreeSet};

/// A loaded policy file as these rewrites see it.
pub struct Source<'a> {
    /// Its path.
    pub path: &'a str,
    /// Its text, rewritten in place.
    pub source: &'a mut String,
    /// A file of the built-in pack: read for the index, never rewritten.
    pub builtin: bool,
}

/// The rules appended for the references of one file are named with this prefix.
const SEL: &str = "__regorun_sel_";

/// Rewrites every file's package-iterating references; `data_roots` are the top-level
/// names the data documents define.
pub fn rewrite_all(files: &mut [Source], data_roots: &BTreeSet<String>) {
    if !files.iter().any(|f| f.source.contains("data")) {
        return;
    }
    let lexed: Vec<Option<Vec<Tok>>> = files.iter().map(|f| lex(f.path, f.source)).collect();
    // Package path → names of its rules.
    let mut packages: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    for toks in lexed.iter().flatten() {
        let stmts = statements(toks);
        let Some((package, _)) = scope(toks, &stmts) else {
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
        if f.builtin {
            continue;
        }
        if let Some(source) = rewrite(f.source, &toks, &packages, &mocked) {
            *f.source = source;
        }
    }
}

/// Renames the clauses of functions split across files, and appends the delegating
/// clauses to the first file (see the module documentation).
pub fn join_split_functions(files: &mut [Source], functions: &Functions, rego_v0: bool) {
    let lexed: Vec<Option<Vec<Tok>>> = files.iter().map(|f| lex(f.path, f.source)).collect();
    let mut renames: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
    let mut appended: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut n = 0usize;
    for (name, def) in functions.iter() {
        let in_files = &def.files;
        let arity = def.arity;
        if in_files.len() < 2 || def.default || in_files.iter().any(|&k| files[k].builtin) {
            continue;
        }
        let name = &name.to_string();
        for &k in &in_files[1..] {
            n += 1;
            let renamed = format!("__regorun_fn{n}_{name}");
            let args = helper_params(arity);
            let first = in_files[0];
            let v1 = helpers_take_if(files[first].source, rego_v0);
            appended.entry(first).or_default().push(if v1 {
                format!("{name}({args}) := __regorun_r if __regorun_r := {renamed}({args})")
            } else {
                format!("{name}({args}) = __regorun_r {{ __regorun_r := {renamed}({args}) }}")
            });
            renames.entry(k).or_default().push((name.clone(), renamed));
        }
    }
    for (k, f) in files.iter_mut().enumerate() {
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        if let (Some(list), Some(toks)) = (renames.get(&k), &lexed[k]) {
            for (name, renamed) in list {
                // Heads: the statement's first token, and heads repeated after `}`.
                let stmts = statements(toks);
                for &(s, e) in &stmts[1..] {
                    let at = s + usize::from(toks[s].text == "default");
                    if toks[at].text != *name {
                        continue;
                    }
                    let mut depth = 0usize;
                    for i in at..=e {
                        let t = &toks[i];
                        let head = t.text == *name
                            && t.kind == TokenKind::Ident
                            && depth == 0
                            && (i == at || toks[i - 1].text == "}")
                            && toks.get(i + 1).is_some_and(|n| n.text == "(");
                        if head {
                            edits.push((t.start, t.end, renamed.clone()));
                        }
                        if t.kind == TokenKind::Symbol {
                            match t.text.as_str() {
                                "(" | "[" | "{" => depth += 1,
                                ")" | "]" | "}" => depth = depth.saturating_sub(1),
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
        if edits.is_empty() && !appended.contains_key(&k) {
            continue;
        }
        for (start, end, text) in edits.into_iter().rev() {
            f.source.replace_range(start..end, &text);
        }
        if let Some(lines) = appended.get(&k) {
            if !f.source.ends_with('\n') {
                f.source.push('\n');
            }
            for l in lines {
                f.source.push_str(l);
                f.source.push('\n');
            }
        }
    }
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
                let path = data_ref(&[q.as_slice(), std::slice::from_ref(&rule)].concat());
                format!(
                    "{{{}: __regorun_v | __regorun_v := {path}}}",
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

    #[test]
    fn functions_split_across_files_delegate_from_the_first() {
        let mut fs = files(&[
            ("a.rego", "package f\n\ng(_, _) {\n  true\n}\n"),
            (
                "b.rego",
                "package f\n\ng(r, ids) {\n  x := r[_]\n} {\n  g(1, 2)\n}\nh(x) := x\n",
            ),
        ]);
        let sources: Vec<(&str, &str)> = fs.iter().map(|(p, s)| (p.as_str(), s.as_str())).collect();
        let functions = Functions::of(&sources);
        join_split_functions(&mut views(&mut fs), &functions, true);
        assert_eq!(
            fs[0].1,
            "package f\n\ng(_, _) {\n  true\n}\ng(__regorun_a0, __regorun_a1) = __regorun_r { __regorun_r := __regorun_fn1_g(__regorun_a0, __regorun_a1) }\n"
        );
        assert_eq!(
            fs[1].1,
            "package f\n\n__regorun_fn1_g(r, ids) {\n  x := r[_]\n} {\n  g(1, 2)\n}\nh(x) := x\n"
        );
    }

    fn files(sources: &[(&str, &str)]) -> Vec<(String, String)> {
        sources
            .iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect()
    }

    fn views(fs: &mut [(String, String)]) -> Vec<Source<'_>> {
        fs.iter_mut()
            .map(|(p, s)| Source {
                path: p,
                source: s,
                builtin: false,
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
        rewrite_all(&mut views(&mut fs), &BTreeSet::new());
        assert_eq!(
            fs[0].1,
            "package lib\n\nreport := [p | __regorun_sel_0[p]]\n__regorun_sel_0 := object.union_n([{\"a\": __regorun_v | __regorun_v := data.rules.a.resource_type}])\n"
        );
        assert_eq!(fs[1].1, "package rules.a\n\nresource_type := \"x\"\n");
        // A package at `rules` itself, or data under `rules`: left as it is.
        let mut fs = files(&[
            (
                "lib.rego",
                "package lib\n\nreport := [p | data.rules[p].resource_type]\n",
            ),
            ("r.rego", "package rules\n\nx := 1\n"),
        ]);
        rewrite_all(&mut views(&mut fs), &BTreeSet::new());
        assert!(fs[0].1.ends_with("data.rules[p].resource_type]\n"));
        let mut fs = files(&[("lib.rego", "package lib\n\nr := [p | data.rules[p].t]\n")]);
        rewrite_all(&mut views(&mut fs), &BTreeSet::from(["rules".to_string()]));
        assert!(fs[0].1.ends_with("data.rules[p].t]\n"));
        let mut fs = files(&[
            ("lib.rego", "package lib\n\nr := [p | data.rules[p].t]\n"),
            (
                "t.rego",
                "package t\n\nx := data.lib.r with data.rules as {}\n",
            ),
        ]);
        rewrite_all(&mut views(&mut fs), &BTreeSet::new());
        assert!(fs[0].1.ends_with("data.rules[p].t]\n"));
    }
}
