//! Input parsers: choosing one from a path or a name (conftest's `parser.New*`) and turning
//! bytes into the JSON document a policy sees as `input`; [`discover`] finds the input
//! files. Imports `base` only.

mod cyclonedx;
pub mod discover;
mod dockerfile;
mod dotenv;
mod edn;
mod hcl1;
mod hcl2;
mod hocon;
mod ignore;
mod ini;
mod json;
mod jsonc;
mod jsonnet;
mod nginx;
mod properties;
mod spdx;
mod textproto;
mod toml;
mod unavailable;
mod vcl;
mod xml;
mod yaml;

pub use yaml::allowed_char as yaml_allowed_char;
pub use yaml::first_document as yaml_first_document;
pub use yaml::plain_is_string as yaml_plain_is_string;

use anyhow::{anyhow, Result};
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
        self.parse_file(bytes, None)
    }

    /// Like [`Parser::parse`], for bytes read from `path` (parsers that resolve imports,
    /// such as jsonnet, resolve them against the file's directory).
    pub fn parse_file(self, bytes: &[u8], path: Option<&Path>) -> Result<Value> {
        self.parse_with(
            bytes,
            &Context {
                path,
                ..Context::default()
            },
        )
    }

    /// Like [`Parser::parse`], with everything a parser may need beyond the bytes.
    pub fn parse_with(self, bytes: &[u8], ctx: &Context) -> Result<Value> {
        match self {
            Parser::Jsonnet => jsonnet::parse(bytes, ctx.path),
            Parser::Textproto => textproto::parse(bytes, ctx.proto_file_dirs),
            Parser::CycloneDx => cyclonedx::parse(bytes),
            Parser::Json => json::parse(bytes),
            Parser::Yaml => yaml::parse(bytes),
            Parser::Hcl2 => hcl2::parse(bytes),
            Parser::Dockerfile => dockerfile::parse(bytes),
            Parser::Dotenv => dotenv::parse(bytes),
            Parser::Ignore => ignore::parse(bytes),
            Parser::Ini => ini::parse(bytes),
            Parser::Jsonc => jsonc::parse(bytes),
            Parser::Properties => properties::parse(bytes),
            Parser::Toml => toml::parse(bytes),
            Parser::Xml => xml::parse(bytes),
            Parser::Edn => edn::parse(bytes),
            Parser::Nginx => nginx::parse(bytes),
            Parser::Hcl1 => hcl1::parse(bytes),
            Parser::Hocon => hocon::parse(bytes),
            Parser::Spdx => spdx::parse(bytes),
            Parser::Vcl => vcl::parse(bytes),
            Parser::Cue | Parser::Groovy => unavailable::parse(self.name()),
        }
    }
}

/// What a parser may need beyond the bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The file the bytes came from (jsonnet resolves imports against its directory).
    pub path: Option<&'a Path>,
    /// `--proto-file-dirs`: where textproto finds its message types.
    pub proto_file_dirs: &'a [String],
}

/// A failure conftest reports while creating the parser (`new parser: …`), not while
/// parsing (`parser unmarshal: …`), e.g. a broken `.proto` file.
#[derive(Debug)]
pub struct NewParserError(pub String);

impl std::fmt::Display for NewParserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NewParserError {}

/// conftest's text for a parse failure of `path` (everything after `parse configurations: `).
pub fn error_text(e: &anyhow::Error, path: &str) -> String {
    match e.downcast_ref::<NewParserError>() {
        Some(n) => format!("new parser: {n}, path: {path}"),
        None => format!(
            "parser unmarshal: {}, path: {path}",
            one_line(&format!("{e:#}"))
        ),
    }
}

/// A parser's error on one line: the first line, with the first line of detail after it
/// (jsonnet's stack trace has up to 200), and control characters from the input escaped
/// (an ini or .env error quotes the offending line as it is).
pub fn one_line(msg: &str) -> String {
    let mut lines = msg.trim_end().lines();
    let mut out = lines.next().unwrap_or_default().trim_end().to_string();
    if let Some(detail) = lines.map(str::trim).find(|l| !l.is_empty()) {
        if out.ends_with(':') {
            out.push_str(&format!(" {detail}"));
        } else {
            out.push_str(&format!(" ({detail})"));
        }
    }
    out.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\x{:02x}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl Parser {
    /// Like [`Parser::parse`], but gives the regorus value directly (JSON skips the
    /// `serde_json::Value` step, which is most of the per-file cost besides evaluation).
    pub fn parse_rego(self, bytes: &[u8]) -> Result<regorus::Value> {
        match self {
            Parser::Json => json::parse_rego(bytes),
            Parser::Yaml => yaml::parse_rego(bytes),
            other => crate::base::value::to_rego(other.parse(bytes)?),
        }
    }
}

/// Decodes UTF-8 text, naming the first invalid byte offset.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes)
        .map_err(|e| anyhow!("invalid UTF-8 at byte offset {}", e.valid_up_to()))
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Go's `fmt.Sprintf("%v", f)` for a float64: shortest digits, exponent form when the
/// decimal exponent is < -4 or >= 6 (`1e+06`, `123456`, `1.5`, `1e-05`).
pub(crate) fn go_fmt_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let e = format!("{:e}", f);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{}", f)
}

/// Go `strconv.ParseFloat(s, 64)`: decimal and hex-float syntax, `inf`/`infinity`/`nan`
/// in any case, `_` only between digits after a base prefix; out-of-range is an error.
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        return (body.len() == s.len()).then_some(f64::NAN);
    }
    if let Some(hex) = lower.strip_prefix("0x") {
        return parse_hex_float(hex).map(|f| if s.starts_with('-') { -f } else { f });
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    let int = digits(&mut i);
    let mut frac = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        frac = digits(&mut i);
    }
    if int + frac == 0 {
        return None;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

fn parse_hex_float(h: &str) -> Option<f64> {
    let (mant, exp) = h.split_once('p')?;
    let exp: i32 = exp.parse().ok()?;
    let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
    if ip.is_empty() && fp.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in ip.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in fp.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let f = v * 2f64.powi(exp);
    f.is_finite().then_some(f)
}

/// The deepest nesting any parser accepts, as Go's JSON scanner (`exceeded max depth`).
pub const MAX_DEPTH: usize = 10_000;

/// Appends a file's parsed value to a combined document (one entry per array item).
pub fn push_combined(out: &mut Vec<Value>, path: &str, value: Value) {
    let entry = |contents: Value| {
        let mut m = serde_json::Map::new();
        m.insert("path".into(), Value::String(path.to_string()));
        m.insert("contents".into(), contents);
        Value::Object(m)
    };
    match value {
        Value::Array(items) => out.extend(items.into_iter().map(entry)),
        other => out.push(entry(other)),
    }
}

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
        assert_eq!(Parser::for_path("varnish/Default.VCL"), Ok(Parser::Vcl));
        assert_eq!(Parser::for_path("policy.txt"), Err("txt".to_string()));
        assert_eq!(Parser::for_path("Makefile"), Err(String::new()));
        assert_eq!(Parser::for_path("x.yml.bak"), Err("bak".to_string()));
    }
}
