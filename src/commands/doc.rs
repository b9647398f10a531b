//! The `doc` command: Markdown documentation from `# METADATA` annotations (spec 13.2).
//!
//! regorus has no `rego.metadata.*` and keeps no annotations, so the YAML comment blocks are
//! read from the source text: a `# METADATA` line starts a block, the following `#` lines are
//! its YAML, and the block belongs to the next `package` line (package annotation) or rule.

use crate::cli::DocArgs;
use crate::commands::Outcome;
use crate::parser::Parser;
use crate::rego::diagnostic::format_rego_error;
use crate::rego::policy::{self, PolicyFile};
use anyhow::{anyhow, bail, Result};
use serde_json::Value;

/// One annotation: where it applies and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// Package path plus rule name, without `data.` (`foo.bar.p`).
    pub path: Vec<String>,
    /// `title`.
    pub title: String,
    /// `description`.
    pub description: String,
    /// `related_resources`: (ref, description).
    pub related: Vec<(String, String)>,
}

/// Runs `regorun doc`.
pub fn run_doc(args: &DocArgs) -> Result<Outcome> {
    if args.paths.iter().all(|p| p.is_empty()) {
        bail!("missing required arguments");
    }
    if args.template.as_deref().is_some_and(|t| !t.is_empty()) {
        bail!("the --template flag is not supported by this build of regorun");
    }
    for path in &args.paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow!("stat {path}: {}", crate::base::fs::io_reason(&e)))?;
        if !meta.is_dir() {
            bail!("{path} is not a directory");
        }
        let name = std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..")
            .unwrap_or_else(|| "policy".to_string());
        let out_path = std::path::Path::new(&args.out_dir).join(format!("{name}.md"));
        let text = generate(path).map_err(|e| anyhow!("generating document: {e:#}"))?;
        std::fs::write(&out_path, text).map_err(|e| {
            anyhow!(
                "opening {} for writing output: {}",
                out_path.display(),
                crate::base::fs::io_reason(&e)
            )
        })?;
    }
    Ok(Outcome::default())
}

/// The Markdown for one directory.
pub fn generate(dir: &str) -> Result<String> {
    let files: Vec<PolicyFile> = match policy::load_files(&[dir.to_string()]) {
        Ok(f) => f,
        Err(e) if e.to_string().starts_with("no policies found") => Vec::new(),
        Err(e) => return Err(anyhow!("parse rego annotations: filter rego files: {e:#}")),
    };
    let files: Vec<PolicyFile> = files
        .into_iter()
        .filter(|f| !f.path.ends_with("_test.rego"))
        .collect();
    // Compile check, as conftest does before reading annotations, of the sources as
    // rewritten for loading (conftest's doc reads v1 Rego); annotations are read from the
    // user's own text.
    let mut engine = crate::rego::limits::engine();
    let mut errors = Vec::new();
    for f in &policy::with_compat(files.clone(), false, &Default::default()) {
        if let Err(e) = engine.add_policy(f.path.clone(), f.source.clone()) {
            let original = files.iter().find(|o| o.path == f.path);
            let original = original.map(|o| o.source.as_str());
            errors.push(format_rego_error(&f.path, &e.to_string(), original));
        }
    }
    if !errors.is_empty() {
        bail!(
            "parse rego annotations: filter rego files: {} error{} occurred during loading: {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join("\n")
        );
    }
    let mut all = Vec::new();
    for f in &files {
        all.extend(annotations(&f.source).map_err(|e| anyhow!("{}: {e:#}", f.path))?);
    }
    if all.is_empty() {
        bail!("no annotations found");
    }
    // Stable sort by path: a package comes before its rules and subpackages.
    all.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(render(&all))
}

/// Reads the `# METADATA` blocks of one file.
pub fn annotations(source: &str) -> Result<Vec<Annotation>> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    let mut package: Vec<String> = Vec::new();
    let mut pending: Vec<Value> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line == "# METADATA" {
            let mut yaml = String::new();
            i += 1;
            while i < lines.len() {
                let l = lines[i].trim_start();
                let Some(rest) = l.strip_prefix('#') else {
                    break;
                };
                yaml.push_str(rest.strip_prefix(' ').unwrap_or(rest));
                yaml.push('\n');
                i += 1;
            }
            let value = Parser::Yaml
                .parse(yaml.as_bytes())
                .map_err(|e| anyhow!("invalid METADATA block: {e:#}"))?;
            let value = match value {
                Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
                other => other,
            };
            pending.push(value);
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            i += 1;
            continue;
        }
        if let Some(rest) = line.strip_prefix("package ") {
            package = rest
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .split('.')
                .map(str::to_string)
                .collect();
            if package.first().map(String::as_str) == Some("data") {
                package.remove(0);
            }
            for v in pending.drain(..) {
                out.push(annotation(package.clone(), &v));
            }
        } else if !pending.is_empty() {
            let name: String = line
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let is_keyword = matches!(name.as_str(), "import" | "default");
            let name = if name == "default" {
                line.trim_start_matches("default")
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            } else {
                name
            };
            if !(is_keyword && name == "import") {
                let mut path = package.clone();
                path.push(name);
                for v in pending.drain(..) {
                    out.push(annotation(path.clone(), &v));
                }
            } else {
                pending.clear();
            }
        }
        i += 1;
    }
    Ok(out)
}

fn annotation(path: Vec<String>, v: &Value) -> Annotation {
    let text = |k: &str| match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let related = match v.get("related_resources") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => (s.clone(), String::new()),
                other => (
                    other
                        .get("ref")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    other
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                ),
            })
            .collect(),
        _ => Vec::new(),
    };
    Annotation {
        path,
        title: text("title"),
        description: text("description"),
        related,
    }
}

/// conftest's default template; heading depth follows the path depth relative to the first
/// annotation and never jumps more than one level.
pub fn render(all: &[Annotation]) -> String {
    let mut out = String::new();
    let mut current = 0usize;
    let mut offset = 0usize;
    for (i, a) in all.iter().enumerate() {
        let mut depth = a.path.len().saturating_sub(offset);
        if i == 0 && depth > 1 {
            // Later entries count from the first annotation's parent.
            offset = depth - 1;
        }
        if depth > current + 1 {
            depth = current + 1;
        }
        current = depth;
        out.push_str(&format!(
            "{} {} - {}\n\n{}\n",
            "#".repeat(depth),
            a.path.join("."),
            a.title,
            a.description
        ));
        if !a.related.is_empty() {
            out.push_str("\nRelated Resources:\n");
            for (r, d) in &a.related {
                if d.is_empty() {
                    out.push_str(&format!("\n* {r}"));
                } else {
                    out.push_str(&format!("\n* [{d}]({r})"));
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_blocks() {
        let src = "# METADATA\n# title: P\n# description: the package\npackage foo.bar\n\n# METADATA\n# title: R\n# related_resources:\n# - ref: https://x\n#   description: X\n# - https://y\ndeny contains msg if { false }\n";
        let a = annotations(src).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].path, vec!["foo", "bar"]);
        assert_eq!(a[1].path, vec!["foo", "bar", "deny"]);
        assert_eq!(
            a[1].related,
            vec![
                ("https://x".into(), "X".into()),
                ("https://y".into(), String::new())
            ]
        );
    }
}
