//! `regorun parse <file>...`: prints the documents conftest's parsers produce (spec 12).

use crate::base::gojson::{self, Indent};
use crate::cli::ParseArgs;
use crate::commands::Outcome;
use crate::parser::Parser;
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Runs `parse` with the flags already resolved (`parser`, `combine`).
pub fn run(
    args: &ParseArgs,
    parser: Option<&str>,
    combine: bool,
    proto_file_dirs: &[String],
) -> Result<Outcome> {
    let paths: Vec<&String> = args.paths.iter().collect();
    if paths.is_empty() {
        bail!("must supply path to at least one file");
    }
    let mut stdin: Option<Vec<u8>> = None;
    // Keyed by path as given; a path named twice is parsed twice but printed once.
    let mut parsed: BTreeMap<String, Value> = BTreeMap::new();
    for path in paths {
        let value = parse_one(path, parser, &mut stdin, proto_file_dirs)
            .map_err(|e| anyhow!("parse configurations: {e}"))?;
        parsed.insert(path.clone(), value);
    }
    let stdout = if combine {
        let mut combined = Vec::new();
        for (path, value) in parsed {
            crate::parser::push_combined(&mut combined, &path, value);
        }
        format!(
            "{}\n\n",
            gojson::to_string(&Value::Array(combined), Indent::Pretty("\t"))
        )
    } else if parsed.len() == 1 {
        let value = parsed.into_values().next().unwrap_or(Value::Null);
        format!("{}\n", gojson::to_string(&value, Indent::Pretty("  ")))
    } else {
        let map: Map<String, Value> = parsed.into_iter().collect();
        format!(
            "{}\n",
            gojson::to_string(&Value::Object(map), Indent::Pretty("  "))
        )
    };
    Ok(Outcome {
        stdout,
        ..Default::default()
    })
}

/// Parses one path the way conftest's `parseConfigurations` does, returning its error text
/// (everything after `parse configurations: `).
fn parse_one(
    path: &str,
    forced: Option<&str>,
    stdin: &mut Option<Vec<u8>>,
    proto_file_dirs: &[String],
) -> std::result::Result<Value, String> {
    let parser = match forced {
        Some(name) => Parser::from_name(name)
            .ok_or_else(|| format!("new parser: unknown parser: {name}, path: {path}"))?,
        None => Parser::for_path(path)
            .map_err(|ext| format!("new parser: new: unknown parser: {ext}, path: {path}"))?,
    };
    let bytes = if path == "-" {
        if stdin.is_none() {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(|e| {
                format!("get configuration content: read standard in: {e}, path: {path}")
            })?;
            *stdin = Some(buf);
        }
        stdin.clone().unwrap_or_default()
    } else {
        read_file(path)
            .map_err(|e| format!("get configuration content: open file: {e}, path: {path}"))?
    };
    let ctx = crate::parser::Context {
        path: (path != "-").then(|| Path::new(path)),
        proto_file_dirs,
    };
    parser
        .parse_with(&bytes, &ctx)
        .map_err(|e| crate::parser::error_text(&e, path))
}

/// `os.ReadFile(filepath.Abs(path))` with Go's error wording.
fn read_file(path: &str) -> std::result::Result<Vec<u8>, String> {
    let abs = std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| Path::new(path).to_path_buf());
    let shown = clean_abs(&abs);
    if abs.is_dir() {
        return Err(format!("read {shown}: is a directory"));
    }
    std::fs::read(&abs).map_err(|e| format!("open {shown}: {}", crate::base::fs::io_reason(&e)))
}

/// An absolute path cleaned like Go's `filepath.Abs` (`.` and `..` resolved lexically).
fn clean_abs(p: &Path) -> String {
    use std::path::Component;
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    format!("/{}", parts.join("/"))
}
