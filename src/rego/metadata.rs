//! `rego.metadata.rule()` and `rego.metadata.chain()`. regorus has neither built-in and its
//! parser drops comments, so each call is replaced, within its line, by the literal value
//! OPA gives at that place, read from the `# METADATA` annotation blocks of every loaded
//! file: the enclosing rule's own annotations, its `document` annotations (on any rule of
//! the same name), its package's `package` annotations and the `subpackages` annotations of
//! the package and its parents, shaped as OPA returns them.

use crate::rego::compat::{lex, scope, statements, Tok};
use crate::rego::narrow::Source;
use regorus::unstable::TokenKind;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What the annotations of one package set say, by path.
#[derive(Default)]
struct Known {
    /// `document` scope: (package path + rule name) → annotations.
    document: BTreeMap<Vec<String>, Value>,
    /// `package` scope, by package path.
    package: BTreeMap<Vec<String>, Value>,
    /// `subpackages` scope, by package path.
    subpackages: BTreeMap<Vec<String>, Value>,
}

/// One file's annotation blocks: the first token index of the statement each applies to,
/// with its annotations.
type Blocks = Vec<(usize, Value)>;

/// Replaces the metadata calls in `files` (the built-in pack has none).
pub fn rewrite_all(files: &mut [Source]) {
    let calls = |f: &Source| !f.builtin && f.source.contains("rego.metadata.");
    if !files.iter().any(calls) {
        return;
    }
    let mut known = Known::default();
    let mut parsed = Vec::new();
    for f in files.iter() {
        if f.builtin || !f.source.contains("METADATA") && !calls(f) {
            parsed.push(None);
            continue;
        }
        let Some(toks) = lex(f.path, f.source) else {
            parsed.push(None);
            continue;
        };
        let stmts = statements(&toks);
        let package = scope(&toks, &stmts).map(|(p, _)| p).unwrap_or_default();
        let blocks = blocks(f.source, &toks, &stmts);
        for (start, ann) in &blocks {
            let at_package = toks[*start].text == "package";
            let path = if at_package {
                package.clone()
            } else {
                [package.clone(), rule_name(&toks, *start)].concat()
            };
            let table = match ann["scope"].as_str() {
                Some("document") => &mut known.document,
                Some("package") => &mut known.package,
                Some("subpackages") => &mut known.subpackages,
                _ => continue,
            };
            table.entry(path).or_insert_with(|| ann.clone());
        }
        parsed.push(Some((toks, stmts, package, blocks)));
    }
    for (f, parsed) in files.iter_mut().zip(parsed) {
        let Some((toks, stmts, package, blocks)) = parsed else {
            continue;
        };
        if !calls(f) {
            continue;
        }
        let mut edits = Vec::new();
        for i in 0..toks.len() {
            let Some((kind, end)) = call_at(&toks, i) else {
                continue;
            };
            let Some(&(start, _)) = stmts.iter().find(|&&(s, e)| s <= i && i <= e) else {
                continue;
            };
            let own = blocks
                .iter()
                .find(|(s, a)| *s == start && a["scope"] == "rule")
                .map(|(_, a)| a.clone());
            let path = [package.clone(), rule_name(&toks, start)].concat();
            let value = match kind {
                "rule" => own.unwrap_or_else(|| json!({})),
                _ => chain(&known, &package, path, own),
            };
            edits.push((toks[i].start, toks[end].end, value.to_string()));
        }
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (start, end, text) in edits {
            f.source.replace_range(start..end, &text);
        }
    }
}

/// `rego.metadata.rule()` or `rego.metadata.chain()` starting at token `i`: which, and
/// the index of its closing parenthesis.
fn call_at(toks: &[Tok], i: usize) -> Option<(&'static str, usize)> {
    let texts: Vec<&str> = toks
        .get(i..i + 7)?
        .iter()
        .map(|t| t.text.as_str())
        .collect();
    if i > 0 && toks[i - 1].text == "." {
        return None;
    }
    match texts.as_slice() {
        ["rego", ".", "metadata", ".", "rule", "(", ")"] => Some(("rule", i + 6)),
        ["rego", ".", "metadata", ".", "chain", "(", ")"] => Some(("chain", i + 6)),
        _ => None,
    }
}

/// OPA's chain: the rule (its annotations if any), its document annotations, its package's,
/// then the `subpackages` annotations from the package up to the root.
fn chain(known: &Known, package: &[String], path: Vec<String>, own: Option<Value>) -> Value {
    let entry = |path: &[String], ann: Option<&Value>| {
        let mut o = Map::new();
        o.insert("path".into(), json!(path));
        if let Some(a) = ann {
            o.insert("annotations".into(), a.clone());
        }
        Value::Object(o)
    };
    let mut out = vec![entry(&path, own.as_ref())];
    if let Some(doc) = known.document.get(&path) {
        out.push(entry(&path, Some(doc)));
    }
    if let Some(p) = known.package.get(package) {
        out.push(entry(package, Some(p)));
    }
    for n in (0..=package.len()).rev() {
        if let Some(s) = known.subpackages.get(&package[..n]) {
            out.push(entry(&package[..n], Some(s)));
        }
    }
    Value::Array(out)
}

/// The name of the rule whose statement starts at token `start`, as path parts
/// (`a.b := 1` is `["a", "b"]`).
fn rule_name(toks: &[Tok], start: usize) -> Vec<String> {
    let mut i = start;
    if toks[i].text == "default" {
        i += 1;
    }
    let mut out = Vec::new();
    while let Some(t) = toks.get(i) {
        if t.kind != TokenKind::Ident {
            break;
        }
        out.push(t.text.clone());
        if toks.get(i + 1).is_some_and(|d| d.text == ".") {
            i += 2;
        } else {
            break;
        }
    }
    out
}

/// The `# METADATA` blocks of a file with the statement each precedes.
fn blocks(source: &str, toks: &[Tok], stmts: &[(usize, usize)]) -> Blocks {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    let mut n = 0;
    while n < lines.len() {
        let is_header = lines[n]
            .trim_start()
            .strip_prefix('#')
            .is_some_and(|c| c.trim() == "METADATA");
        if !is_header {
            n += 1;
            continue;
        }
        let mut yaml = String::new();
        let mut end = n + 1;
        while let Some(text) = lines
            .get(end)
            .and_then(|l| l.trim_start().strip_prefix('#'))
        {
            yaml.push_str(text);
            yaml.push('\n');
            end += 1;
        }
        // 1-based line of the block's last comment line; the next statement below it.
        let last_line = end as u32;
        let target = stmts
            .iter()
            .map(|&(s, _)| s)
            .find(|&s| toks[s].line > last_line);
        if let Some(start) = target {
            let at_package = toks[start].text == "package";
            if let Some(ann) = annotations(&yaml, at_package) {
                out.push((start, ann));
            }
        }
        n = end;
    }
    out
}

/// A block's annotations as OPA returns them, or `None` when its YAML does not parse
/// (the call is then left to fail as an unknown function, never given a wrong value).
fn annotations(yaml: &str, at_package: bool) -> Option<Value> {
    let docs = yaml_rust2::YamlLoader::load_from_str(yaml).ok()?;
    let parsed = docs.into_iter().next().map_or(Some(Value::Null), json_of)?;
    let fields = match parsed {
        Value::Object(o) => o,
        Value::Null => Map::new(),
        _ => return None,
    };
    let mut out = Map::new();
    for (key, value) in fields {
        let value = match key.as_str() {
            "title" | "description" | "scope" | "custom" | "organizations" => value,
            "entrypoint" if value == Value::Bool(true) => value,
            "authors" => Value::Array(list(value)?.into_iter().map(author).collect()),
            "related_resources" => Value::Array(
                list(value)?
                    .into_iter()
                    .map(|r| match r {
                        Value::String(s) => json!({ "ref": s }),
                        other => other,
                    })
                    .collect(),
            ),
            "schemas" => Value::Array(list(value)?.into_iter().filter_map(schema).collect()),
            // OPA drops keys it does not know.
            _ => continue,
        };
        out.insert(key, value);
    }
    if !out.contains_key("scope") {
        let scope = if out.contains_key("entrypoint") {
            "document"
        } else if at_package {
            "package"
        } else {
            "rule"
        };
        out.insert("scope".into(), json!(scope));
    }
    Some(Value::Object(out))
}

/// A YAML node as JSON, with YAML 1.2's core types as OPA's YAML reader has them (`yes`
/// and `n` are strings).
fn json_of(node: yaml_rust2::Yaml) -> Option<Value> {
    use yaml_rust2::Yaml;
    Some(match node {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Integer(i) => json!(i),
        Yaml::Real(r) => json!(r.parse::<f64>().ok()?),
        Yaml::String(s) => Value::String(s),
        Yaml::Array(items) => Value::Array(items.into_iter().map(json_of).collect::<Option<_>>()?),
        Yaml::Hash(h) => {
            let mut o = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s,
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    Yaml::Real(r) => r,
                    _ => return None,
                };
                o.insert(key, json_of(v)?);
            }
            Value::Object(o)
        }
        // Aliases are resolved by the loader; anything else is not data.
        _ => return None,
    })
}

fn list(v: Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(items) => Some(items),
        _ => None,
    }
}

/// `Name <email>` as `{"name", "email"}`; a mapping as it is.
fn author(v: Value) -> Value {
    let Value::String(s) = v else {
        return v;
    };
    let s = s.trim();
    let mut o = Map::new();
    match s.strip_suffix('>').and_then(|r| r.rsplit_once('<')) {
        Some((name, email)) => {
            if !name.trim().is_empty() {
                o.insert("name".into(), json!(name.trim()));
            }
            o.insert("email".into(), json!(email));
        }
        None => {
            o.insert("name".into(), json!(s));
        }
    }
    Value::Object(o)
}

/// `- input.x: schema.y` as `{"path": ["input", "x"], "schema": ["schema", "y"]}`; an
/// inline schema as `"definition"`.
fn schema(v: Value) -> Option<Value> {
    let Value::Object(o) = v else {
        return None;
    };
    let (path, target) = o.into_iter().next()?;
    let parts = |s: &str| json!(s.split('.').collect::<Vec<_>>());
    Some(match target {
        Value::String(s) => json!({ "path": parts(&path), "schema": parts(&s) }),
        other => json!({ "path": parts(&path), "definition": other }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(files: &[(&str, &str)]) -> Vec<String> {
        let paths: Vec<String> = files.iter().map(|(p, _)| p.to_string()).collect();
        let mut sources: Vec<String> = files.iter().map(|(_, s)| s.to_string()).collect();
        let mut views: Vec<Source> = paths
            .iter()
            .zip(sources.iter_mut())
            .map(|(path, source)| Source {
                path,
                source,
                builtin: false,
            })
            .collect();
        rewrite_all(&mut views);
        sources
    }

    #[test]
    fn calls_become_literals_on_their_own_line() {
        let src = "package p\n\n# METADATA\n# title: T\n# custom:\n#   n: 1\nr := rego.metadata.rule()\n\ns := rego.metadata.chain()\n";
        let out = rewrite(&[("a.rego", src)]);
        assert_eq!(
            out[0],
            "package p\n\n# METADATA\n# title: T\n# custom:\n#   n: 1\nr := {\"custom\":{\"n\":1},\"scope\":\"rule\",\"title\":\"T\"}\n\ns := [{\"path\":[\"p\",\"s\"]}]\n"
        );
        assert_eq!(out[0].lines().count(), src.lines().count());
    }

    #[test]
    fn authors_resources_and_scopes_as_opa_shapes_them() {
        let ann = annotations(
            " authors:\n - Jane Doe <j@x.com>\n - Solo\n related_resources:\n - https://a\n entrypoint: true\n foo: 1\n",
            false,
        )
        .unwrap();
        assert_eq!(
            ann,
            json!({"authors": [{"name": "Jane Doe", "email": "j@x.com"}, {"name": "Solo"}],
                   "related_resources": [{"ref": "https://a"}], "entrypoint": true,
                   "scope": "document"})
        );
        assert_eq!(
            annotations(" title: t\n", true).unwrap()["scope"],
            "package"
        );
        assert_eq!(annotations(" - a\n", false), None);
    }
}
