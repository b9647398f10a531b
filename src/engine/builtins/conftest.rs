//! conftest's custom built-ins, registered as regorus extensions: `parse_config`,
//! `parse_config_file` and `parse_combined_config_files`.

use crate::parser::Parser;
use crate::rego::policy::PolicyFile;
use anyhow::{anyhow, Result};
use regorus::{Engine, Value};
use std::path::{Path, PathBuf};

/// Registers the built-ins. Relative paths are tried against each policy file's directory
/// (conftest resolves them against the calling file's, which regorus does not expose) and
/// then the current directory.
pub fn register(engine: &mut Engine, files: &[PolicyFile]) -> Result<()> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for f in files {
        if let Some(parent) = Path::new(&f.path).parent() {
            let d = parent.to_path_buf();
            if !f.path.starts_with(crate::rego::policy::BUILTIN_PREFIX) && !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    engine
        .add_extension(
            "parse_config".into(),
            2,
            Box::new(|args: Vec<Value>| {
                let name = args[0].as_string()?.to_string();
                let text = args[1].as_string()?.to_string();
                let parser =
                    Parser::from_name(&name).ok_or_else(|| anyhow!("unknown parser: {name}"))?;
                crate::base::value::to_rego(parser.parse(text.as_bytes())?)
            }),
        )
        .map_err(|e| anyhow!("registering parse_config: {e}"))?;
    let file_dirs = dirs.clone();
    engine
        .add_extension(
            "parse_config_file".into(),
            1,
            Box::new(move |args: Vec<Value>| {
                let path = args[0].as_string()?.to_string();
                crate::base::value::to_rego(parse_file(&path, &file_dirs)?)
            }),
        )
        .map_err(|e| anyhow!("registering parse_config_file: {e}"))?;
    let combined_dirs = dirs;
    engine
        .add_extension(
            "parse_combined_config_files".into(),
            1,
            Box::new(move |args: Vec<Value>| {
                let mut out = Vec::new();
                let paths: Vec<String> = match &args[0] {
                    Value::Array(a) => a
                        .iter()
                        .map(|v| v.as_string().map(|s| s.to_string()))
                        .collect::<Result<_>>()?,
                    Value::Set(s) => s
                        .iter()
                        .map(|v| v.as_string().map(|s| s.to_string()))
                        .collect::<Result<_>>()?,
                    _ => {
                        return Err(anyhow!(
                            "parse_combined_config_files: expected an array of paths"
                        ))
                    }
                };
                for p in paths {
                    let v = parse_file(&p, &combined_dirs)?;
                    crate::parser::push_combined(&mut out, &p, v);
                }
                crate::base::value::to_rego(serde_json::Value::Array(out))
            }),
        )
        .map_err(|e| anyhow!("registering parse_combined_config_files: {e}"))?;
    Ok(())
}

fn parse_file(path: &str, dirs: &[PathBuf]) -> Result<serde_json::Value> {
    let p = Path::new(path);
    let resolved = if p.is_absolute() {
        p.to_path_buf()
    } else {
        dirs.iter()
            .map(|d| d.join(p))
            .find(|c| c.exists())
            .unwrap_or_else(|| p.to_path_buf())
    };
    let parser = Parser::for_path(path).map_err(|ext| anyhow!("unknown parser: {ext}"))?;
    let bytes = std::fs::read(&resolved)
        .map_err(|e| anyhow!("open {path}: {}", crate::base::fs::io_reason(&e)))?;
    parser.parse(&bytes)
}
