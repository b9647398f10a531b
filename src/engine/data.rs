//! `--data` documents: `.json`/`.yaml`/`.yml` files merged into `data`, placed under the
//! subdirectory path they were found in (spec section 6).

use crate::base::fs::io_reason;
use crate::parser::Parser;
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};
use std::path::Path;

/// One data document and the `data` path it is mounted at.
#[derive(Debug, Clone)]
pub struct DataDoc {
    /// The file it came from.
    pub file: String,
    /// Where it is mounted (`["exceptions"]` for `dir/exceptions/x.yaml`).
    pub mount: Vec<String>,
    /// The document (an object).
    pub value: Value,
}

/// Reads every data file under `paths`.
pub fn load(paths: &[String]) -> Result<Vec<DataDoc>> {
    let mut docs = Vec::new();
    for p in paths {
        let (prefix, path) = match p.split_once(':') {
            Some((pre, rest)) if !pre.is_empty() && !pre.contains('/') && pre.len() > 1 => {
                (pre.split('.').map(str::to_string).collect(), rest)
            }
            _ => (Vec::new(), p.as_str()),
        };
        let meta = std::fs::metadata(path).map_err(|e| {
            anyhow!(
                "1 error occurred during loading: stat {path}: {}",
                io_reason(&e)
            )
        })?;
        if meta.is_dir() {
            walk(Path::new(path), &prefix, &mut docs)?;
        } else if is_data_file(path) {
            docs.push(read(path, prefix)?);
        }
    }
    Ok(docs)
}

fn is_data_file(p: &str) -> bool {
    p.ends_with(".json") || p.ends_with(".yaml") || p.ends_with(".yml")
}

fn walk(dir: &Path, mount: &[String], docs: &mut Vec<DataDoc>) -> Result<()> {
    let entries = crate::base::fs::sorted_entries(dir).map_err(|e| {
        anyhow!(
            "1 error occurred during loading: {}: {}",
            dir.display(),
            io_reason(&e)
        )
    })?;
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            let mut sub = mount.to_vec();
            sub.push(entry.file_name().to_string_lossy().into_owned());
            walk(&path, &sub, docs)?;
        } else {
            let shown = path.to_string_lossy().into_owned();
            if is_data_file(&shown) {
                docs.push(read(&shown, mount.to_vec())?);
            }
        }
    }
    Ok(())
}

fn read(path: &str, mount: Vec<String>) -> Result<DataDoc> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow!("1 error occurred during loading: {path}: {}", io_reason(&e)))?;
    let parser = if path.ends_with(".json") {
        Parser::Json
    } else {
        Parser::Yaml
    };
    let mut value = parser
        .parse(&bytes)
        .map_err(|e| anyhow!("1 error occurred during loading: {path}: {e:#}"))?;
    // Only the first document of a multi-document YAML data file is used.
    if parser == Parser::Yaml {
        if let Value::Array(docs) = &value {
            if bytes.windows(5).any(|w| w == b"\n---\n") {
                value = docs.first().cloned().unwrap_or(Value::Null);
            }
        }
    }
    if !value.is_object() {
        bail!("1 error occurred during loading: {path}: document must be of type object");
    }
    Ok(DataDoc {
        file: path.to_string(),
        mount,
        value,
    })
}

/// Wraps a document in objects for its mount path.
pub fn mounted(doc: &DataDoc) -> Value {
    let mut v = doc.value.clone();
    for key in doc.mount.iter().rev() {
        let mut m = Map::new();
        m.insert(key.clone(), v);
        v = Value::Object(m);
    }
    v
}

/// The top-level names `docs` define under `data`.
pub fn roots(docs: &[DataDoc]) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for d in docs {
        match (d.mount.first(), &d.value) {
            (Some(m), _) => {
                out.insert(m.clone());
            }
            (None, Value::Object(o)) => {
                out.extend(o.keys().cloned());
            }
            _ => {}
        }
    }
    out
}
