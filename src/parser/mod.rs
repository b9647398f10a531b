//! Input parsers: choosing one from a path or a name (conftest's `parser.New*`) and turning
//! bytes into the JSON document a policy sees as `input`.

mod json;
mod yaml;

use anyhow::{anyhow, bail, Result};
use serde_json::Value;
use std::path::Path;

/// Every parser name conftest accepts for `--parser`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parser {
    Cue,
    CycloneDx,
    Dockerfile,
    Dotenv,
    Edn,
    Groovy,
    Hcl1,
    Hcl2,
    Hocon,
    Ignore,
    Ini,
    Json,
    Jsonc,
    Jsonnet,
    Nginx,
    Properties,
    Spdx,
    Textproto,
    Toml,
    Vcl,
    Xml,
    Yaml,
}

impl Parser {
    /// Looks a parser up by its `--parser` name (case-sensitive, as conftest).
    pub fn from_name(name: &str) -> Option<Parser> {
        Some(match name {
            "cue" => Parser::Cue,
            "cyclonedx" => Parser::CycloneDx,
            "dockerfile" => Parser::Dockerfile,
            "dotenv" => Parser::Dotenv,
            "edn" => Parser::Edn,
            "groovy" => Parser::Groovy,
            "hcl1" => Parser::Hcl1,
            "hcl2" => Parser::Hcl2,
            "hocon" => Parser::Hocon,
            "ignore" => Parser::Ignore,
            "ini" => Parser::Ini,
            "json" => Parser::Json,
            "jsonc" => Parser::Jsonc,
            "jsonnet" => Parser::Jsonnet,
            "nginx" => Parser::Nginx,
            "properties" => Parser::Properties,
            "spdx" => Parser::Spdx,
            "textproto" => Parser::Textproto,
            "toml" => Parser::Toml,
            "vcl" => Parser::Vcl,
            "xml" => Parser::Xml,
            "yaml" => Parser::Yaml,
            _ => return None,
        })
    }

    /// The parser's `--parser` name.
    pub fn name(self) -> &'static str {
        match self {
            Parser::Cue => "cue",
            Parser::CycloneDx => "cyclonedx",
            Parser::Dockerfile => "dockerfile",
            Parser::Dotenv => "dotenv",
            Parser::Edn => "edn",
            Parser::Groovy => "groovy",
            Parser::Hcl1 => "hcl1",
            Parser::Hcl2 => "hcl2",
            Parser::Hocon => "hocon",
            Parser::Ignore => "ignore",
            Parser::Ini => "ini",
            Parser::Json => "json",
            Parser::Jsonc => "jsonc",
            Parser::Jsonnet => "jsonnet",
            Parser::Nginx => "nginx",
            Parser::Properties => "properties",
            Parser::Spdx => "spdx",
            Parser::Textproto => "textproto",
            Parser::Toml => "toml",
            Parser::Vcl => "vcl",
            Parser::Xml => "xml",
            Parser::Yaml => "yaml",
        }
    }

    /// Chooses a parser from a file path as conftest does (spec 4.1). The error carries the
    /// extension conftest names in `unknown parser: <ext>`.
    pub fn for_path(path: &str) -> std::result::Result<Parser, String> {
        if path == "-" {
            return Ok(Parser::Yaml);
        }
        let base = Path::new(path)
            .file_name()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        // Go's filepath.Ext: from the last dot of the base name, dot dropped.
        let ext = base.rfind('.').map(|i| &base[i + 1..]).unwrap_or("");
        let ext = ext.to_string();
        if base == "dockerfile" || base.starts_with("dockerfile.") || ext == "dockerfile" {
            return Ok(Parser::Dockerfile);
        }
        match ext.as_str() {
            "yml" | "yaml" => return Ok(Parser::Yaml),
            "hcl" | "tf" | "tfvars" => return Ok(Parser::Hcl2),
            "gitignore" | "dockerignore" => return Ok(Parser::Ignore),
            _ => {}
        }
        if base == ".env" || base.starts_with(".env.") || ext == "env" {
            return Ok(Parser::Dotenv);
        }
        if base == "nginx.conf" {
            return Ok(Parser::Nginx);
        }
        if base == "jenkinsfile" || base.starts_with("jenkinsfile.") {
            return Ok(Parser::Groovy);
        }
        if ext == "textproto" || ext == "textpb" {
            return Ok(Parser::Textproto);
        }
        const BY_EXTENSION: &[&str] = &[
            "toml",
            "cue",
            "ini",
            "hocon",
            "hcl1",
            "json",
            "jsonc",
            "jsonnet",
            "nginx",
            "edn",
            "vcl",
            "xml",
            "ignore",
            "properties",
            "spdx",
            "cyclonedx",
            "dotenv",
            "groovy",
        ];
        match Parser::from_name(&ext) {
            Some(p) if BY_EXTENSION.contains(&ext.as_str()) => Ok(p),
            _ => Err(ext),
        }
    }

    /// Parses `bytes` into the value conftest hands to policies. An array value means a
    /// multi-document file (each element is evaluated on its own).
    pub fn parse(self, bytes: &[u8]) -> Result<Value> {
        match self {
            Parser::Json => json::parse(bytes),
            Parser::Yaml => yaml::parse(bytes),
            other => bail!(
                "the {} parser is not available in this build of regorun",
                other.name()
            ),
        }
    }
}

impl Parser {
    /// Like [`Parser::parse`], but gives the regorus value directly (JSON skips the
    /// `serde_json::Value` step, which is most of the per-file cost besides evaluation).
    pub fn parse_rego(self, bytes: &[u8]) -> Result<regorus::Value> {
        match self {
            Parser::Json => json::parse_rego(bytes),
            other => crate::eval::to_rego(&other.parse(bytes)?),
        }
    }
}

/// Decodes UTF-8 text, naming the first invalid byte offset.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes)
        .map_err(|e| anyhow!("invalid UTF-8 at byte offset {}", e.valid_up_to()))
}

/// The deepest nesting any parser accepts, as Go's JSON scanner (`exceeded max depth`).
pub const MAX_DEPTH: usize = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_parsers_like_conftest() {
        assert_eq!(
            Parser::for_path("a/Dockerfile.yaml"),
            Ok(Parser::Dockerfile)
        );
        assert_eq!(Parser::for_path("x.YML"), Ok(Parser::Yaml));
        assert_eq!(Parser::for_path("main.tf"), Ok(Parser::Hcl2));
        assert_eq!(Parser::for_path(".gitignore"), Ok(Parser::Ignore));
        assert_eq!(Parser::for_path(".env.prod"), Ok(Parser::Dotenv));
        assert_eq!(Parser::for_path("-"), Ok(Parser::Yaml));
        assert_eq!(Parser::for_path("policy.txt"), Err("txt".to_string()));
        assert_eq!(Parser::for_path("Makefile"), Err(String::new()));
        assert_eq!(Parser::for_path("x.yml.bak"), Err("bak".to_string()));
    }
}
