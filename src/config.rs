//! Configuration sources, as conftest's viper set-up: an explicit flag beats a `CONFTEST_*`
//! environment variable, which beats the config file, which beats the flag default.

use crate::base::gostr::parse_go_bool;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Config file names searched in the current directory, in order; the first found wins.
/// `regorun.toml` is searched first so a regorun-specific file overrides a shared one.
pub const CONFIG_FILES: &[&str] = &[
    "regorun.toml",
    "conftest.json",
    "conftest.toml",
    "conftest.yaml",
    "conftest.yml",
];

/// Key → value from the config file (keys lower-cased) plus access to the environment.
#[derive(Debug, Default, Clone)]
pub struct Config {
    file: HashMap<String, Value>,
    env: HashMap<String, String>,
}

impl Config {
    /// Reads the config file (`explicit`, `CONFTEST_CONFIG_FILE`, or the first of
    /// [`CONFIG_FILES`] in the current directory) and snapshots `CONFTEST_*` variables.
    pub fn load(explicit: Option<&str>) -> Result<Config> {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("CONFTEST_"))
            .collect();
        let chosen = explicit
            .map(str::to_string)
            .or_else(|| env.get("CONFTEST_CONFIG_FILE").cloned())
            .filter(|s| !s.is_empty());
        let file = match chosen {
            Some(path) => read_config_file(&path)
                .map_err(|e| anyhow!("read in config: error reading config: {e:#}"))?,
            None => match CONFIG_FILES.iter().find(|f| Path::new(f).is_file()) {
                Some(found) => read_config_file(found)
                    .map_err(|e| anyhow!("read in config: error reading config: {e:#}"))?,
                None => HashMap::new(),
            },
        };
        Ok(Config { file, env })
    }

    /// A config from explicit parts (used by tests).
    pub fn from_parts(file: HashMap<String, Value>, env: HashMap<String, String>) -> Config {
        Config { file, env }
    }

    fn env_value(&self, key: &str) -> Option<&String> {
        self.env.get(&format!(
            "CONFTEST_{}",
            key.to_uppercase().replace('-', "_")
        ))
    }

    /// Whether the key is set by the environment or the config file.
    pub fn is_set(&self, key: &str) -> bool {
        self.env_value(key).is_some() || self.file.contains_key(key)
    }

    /// A boolean setting.
    pub fn bool(&self, key: &str, flag: Option<bool>, default: bool) -> Result<bool> {
        if let Some(v) = flag {
            return Ok(v);
        }
        if let Some(v) = self.env_value(key) {
            return parse_go_bool(v).map_err(|e| anyhow!("{key}: {e}"));
        }
        match self.file.get(key) {
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => parse_go_bool(s).map_err(|e| anyhow!("{key}: {e}")),
            Some(other) => bail!("{key}: cannot use {other} as a boolean"),
            None => Ok(default),
        }
    }

    /// A string setting.
    pub fn string(&self, key: &str, flag: Option<String>, default: &str) -> String {
        if let Some(v) = flag {
            return v;
        }
        if let Some(v) = self.env_value(key) {
            return v.clone();
        }
        match self.file.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => default.to_string(),
            Some(other) => other.to_string(),
        }
    }

    /// A list setting; strings from the environment or the file are split on `,`.
    pub fn list(&self, key: &str, flag: Option<Vec<String>>, default: &[&str]) -> Vec<String> {
        if let Some(v) = flag {
            return v;
        }
        if let Some(v) = self.env_value(key) {
            return split_list(v);
        }
        match self.file.get(key) {
            Some(Value::String(s)) => split_list(s),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            Some(other) => vec![other.to_string()],
            None => default.iter().map(|s| s.to_string()).collect(),
        }
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::to_string).collect()
}

fn read_config_file(path: &str) -> Result<HashMap<String, Value>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("open {path}: {}", crate::base::fs::io_reason(&e)))?;
    let ext = Path::new(path)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let value: Value = match ext.as_str() {
        "toml" => {
            let t: toml::Value = toml::from_str(&text).with_context(|| path.to_string())?;
            serde_json::to_value(t)?
        }
        "json" => serde_json::from_str(&text).with_context(|| path.to_string())?,
        "yaml" | "yml" => crate::parser::Parser::Yaml
            .parse(text.as_bytes())
            .with_context(|| path.to_string())?,
        other => bail!("Unsupported Config Type {other:?}"),
    };
    let Value::Object(map) = value else {
        bail!("{path}: the config must be a table of settings");
    };
    Ok(map
        .into_iter()
        .map(|(k, v)| (k.to_lowercase(), v))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn precedence_flag_env_file_default() {
        let file = HashMap::from([("output".to_string(), json!("json"))]);
        let env = HashMap::from([("CONFTEST_OUTPUT".to_string(), "tap".to_string())]);
        let both = Config::from_parts(file.clone(), env);
        assert_eq!(
            both.string("output", Some("table".into()), "stdout"),
            "table"
        );
        assert_eq!(both.string("output", None, "stdout"), "tap");
        let file_only = Config::from_parts(file, HashMap::new());
        assert_eq!(file_only.string("output", None, "stdout"), "json");
        assert_eq!(Config::default().string("output", None, "stdout"), "stdout");
    }

    #[test]
    fn lists_and_bools() {
        let env = HashMap::from([
            ("CONFTEST_POLICY".to_string(), "a,b".to_string()),
            ("CONFTEST_FAIL_ON_WARN".to_string(), "T".to_string()),
        ]);
        let c = Config::from_parts(HashMap::new(), env);
        assert_eq!(c.list("policy", None, &["policy"]), vec!["a", "b"]);
        assert!(c.bool("fail-on-warn", None, false).unwrap());
        assert!(parse_go_bool("yes").is_err());
    }
}
