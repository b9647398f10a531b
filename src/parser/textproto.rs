//! Protocol Buffers text format, as conftest reads it: the message type comes from a
//! `# proto-message: <full.Name>` comment, the types from the `.proto` files under
//! `--proto-file-dirs` (compiled by protox), and the result is protojson with proto field
//! names (64-bit integers as strings, enums as names, unset fields omitted).

use super::NewParserError;
use anyhow::{anyhow, bail, Result};
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Parses `bytes` against the message types found under `dirs`.
pub fn parse(bytes: &[u8], dirs: &[String]) -> Result<Value> {
    // conftest loads the protos when it creates the parser, before reading the file.
    let pool = if dirs.is_empty() {
        DescriptorPool::new()
    } else {
        load(dirs)?
    };
    let text = super::utf8(bytes).map_err(|e| anyhow!("unmarshal textproto: {e}"))?;
    let ty = message_type(text).ok_or_else(|| {
        anyhow!("extract proto message type: file does not contain necessary proto-message comment")
    })?;
    // Go registers only top-level messages of each file in its type registry.
    let desc = pool
        .get_message_by_name(&ty)
        .filter(|m| m.parent_message().is_none())
        .ok_or_else(|| anyhow!("look up message type {ty:?}: proto: not found"))?;
    // prost-reflect's parser, printer and drop recurse per message level.
    if nesting(text) > MAX_BRACES {
        bail!("unmarshal JSON: unmarshal json: invalid character '{{' exceeded max depth");
    }
    let msg = DynamicMessage::parse_text_format(desc, text)
        .map_err(|e| anyhow!("unmarshal textproto: {e}"))?;
    let opts = SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(true)
        .skip_default_fields(true);
    // Written as text so floats keep their 32-bit shortest form, as protojson prints them.
    let mut out = serde_json::Serializer::new(Vec::new());
    msg.serialize_with_options(&mut out, &opts)
        .map_err(|e| anyhow!("marshal JSON: {e}"))?;
    super::json::parse(&out.into_inner()).map_err(|e| anyhow!("unmarshal JSON: {e:#}"))
}

/// The deepest `{`/`<` nesting parsed. A message level is at least one JSON level in the
/// protojson that conftest decodes with its 10,000-level limit, and even the wordiest
/// well-known types (`Struct`, `Value`, `Any`) take at most 4 braces per JSON level, so
/// anything deeper fails there anyway, with this error for plain nested messages.
const MAX_BRACES: usize = 4 * super::MAX_DEPTH;

/// The deepest message nesting in `text`: `{`/`<` outside strings and `#` comments.
fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    let mut comment = false;
    for &b in text.as_bytes() {
        if comment {
            comment = b != b'\n';
        } else if let Some(q) = quote {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'\n') => quote = None,
                (false, b) if b == q => quote = None,
                _ => {}
            }
        } else {
            match b {
                b'#' => comment = true,
                b'"' | b'\'' => quote = Some(b),
                b'{' | b'<' => {
                    depth += 1;
                    max = max.max(depth);
                }
                b'}' | b'>' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    max
}

/// The first `# proto-message: <name>` comment's name (conftest's line regex).
fn message_type(text: &str) -> Option<String> {
    let re = regex::Regex::new(r"#\s+proto-message:\s+([a-zA-Z0-9\.]+)").ok()?;
    text.split('\n')
        .find_map(|line| re.captures(line).map(|c| c[1].to_string()))
}

/// Compiles every `*.proto` file under `dirs` (imports resolve against the dirs).
fn load(dirs: &[String]) -> Result<DescriptorPool> {
    let mut files: Vec<(PathBuf, PathBuf)> = Vec::new();
    for dir in dirs {
        if let Err(e) = std::fs::symlink_metadata(dir) {
            return Err(NewParserError(format!(
                "find proto files: walk dir {dir:?}: lstat {dir}: {}",
                crate::base::fs::io_reason(&e)
            ))
            .into());
        }
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry
                .map_err(|e| NewParserError(format!("find proto files: walk dir {dir:?}: {e}")))?;
            if entry.file_type().is_dir()
                || !entry.file_name().to_string_lossy().ends_with(".proto")
            {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(dir)
                .unwrap_or(entry.path())
                .to_path_buf();
            files.push((entry.path().to_path_buf(), rel));
        }
    }
    if files.is_empty() {
        return Ok(DescriptorPool::new());
    }
    let fail = |e: &protox::Error| {
        let cause = match e.file() {
            Some(f) => format!("load proto file {f}: parse proto: {e}"),
            None => e.to_string(),
        };
        NewParserError(format!("load protos: load messages from files: {cause}"))
    };
    let mut compiler = protox::Compiler::new(dirs.iter().map(Path::new)).map_err(|e| fail(&e))?;
    compiler.include_imports(true);
    for (_, rel) in &files {
        compiler.open_file(rel).map_err(|e| fail(&e))?;
    }
    Ok(compiler.descriptor_pool())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_message_comment() {
        assert_eq!(
            message_type("a: 1\n# proto-message: pkg.Msg\n").as_deref(),
            Some("pkg.Msg")
        );
        assert_eq!(message_type("#proto-message: pkg.Msg\n"), None);
    }

    #[test]
    fn counts_message_nesting_outside_strings_and_comments() {
        assert_eq!(nesting("a { b < c {} > }"), 3);
        assert_eq!(nesting("s: \"{{{\" t: '<<\\'{' # {{{{\nm {}"), 1);
        assert_eq!(nesting("a: \"x\\\"{\"\n"), 0);
    }
}
