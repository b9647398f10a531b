//! Jsonnet, evaluated by jrsonnet as conftest evaluates it with go-jsonnet: the file is an
//! anonymous snippet, imports are tried against the working directory and then the file's
//! directory (go-jsonnet's `FileImporter{JPaths: [dir]}`), and the JSON result is decoded
//! like any JSON input.

use anyhow::{anyhow, Result};
use jrsonnet_evaluator::manifest::JsonFormat;
use jrsonnet_evaluator::trace::{CompactFormat, PathResolver, TraceFormat};
use jrsonnet_evaluator::{
    AsPathLike, FileImportResolver, ImportResolver, SourcePath, SourceVirtual, State,
};
use serde_json::Value;
use std::path::Path;

/// Evaluates `bytes`; `path` is the file they came from, if any.
pub fn parse(bytes: &[u8], path: Option<&Path>) -> Result<Value> {
    let code = super::utf8(bytes)?;
    let name = path.map_or_else(String::new, |p| p.display().to_string());
    let dir = path
        .and_then(Path::parent)
        .map(|d| {
            if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            }
        })
        .map(Path::to_path_buf);
    if nesting(code) > super::MAX_DEPTH {
        return Err(anyhow!(
            "evaluate anonymous snippet: nesting deeper than {} levels",
            super::MAX_DEPTH
        ));
    }
    // jrsonnet's parser and evaluator recurse; a thread with a large stack keeps legal deep
    // documents from overflowing, and a panic on its internal invariants stays an error.
    let code = code.to_string();
    let worker = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || evaluate(&name, &code, dir))
        .map_err(|e| anyhow!("evaluate anonymous snippet: start evaluator: {e}"))?;
    let json = match worker.join() {
        Ok(r) => r?,
        Err(_) => {
            return Err(anyhow!(
                "evaluate anonymous snippet: internal evaluator error"
            ))
        }
    };
    super::json::parse(json.as_bytes()).map_err(|e| anyhow!("unmarshal json failed: {e:#}"))
}

/// The deepest bracket nesting outside strings and comments (an approximation: text
/// blocks count as code).
fn nesting(code: &str) -> usize {
    let b = code.as_bytes();
    let (mut i, mut depth, mut max) = (0, 0usize, 0);
    while i < b.len() {
        match b[i] {
            b'[' | b'{' | b'(' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' | b')' => depth = depth.saturating_sub(1),
            b'#' => skip_to(b, &mut i, b"\n"),
            b'/' if b.get(i + 1) == Some(&b'/') => skip_to(b, &mut i, b"\n"),
            b'/' if b.get(i + 1) == Some(&b'*') => skip_to(b, &mut i, b"*/"),
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    max
}

fn skip_to(b: &[u8], i: &mut usize, end: &[u8]) {
    while *i < b.len() && !b[*i..].starts_with(end) {
        *i += 1;
    }
}

fn evaluate(name: &str, code: &str, dir: Option<std::path::PathBuf>) -> Result<String> {
    let mut builder = State::builder();
    builder.import_resolver(Importer(FileImportResolver::new(dir.into_iter().collect())));
    builder.context_initializer(jrsonnet_stdlib::ContextInitializer::new(
        PathResolver::FileName,
    ));
    let state = builder.build();
    let _guard = state.try_enter();
    let format = CompactFormat {
        resolver: PathResolver::FileName,
        max_trace: 20,
        padding: 4,
    };
    let describe = |e: &jrsonnet_evaluator::Error| {
        let text = format.format(e).unwrap_or_else(|_| e.to_string());
        anyhow!(
            "evaluate anonymous snippet: {}",
            text.trim_end().replace("virtual:", "")
        )
    };
    let val = state
        .evaluate_snippet(name, code)
        .map_err(|e| describe(&e))?;
    val.manifest(JsonFormat::minify()).map_err(|e| describe(&e))
}

/// Resolves imports of the snippet itself as imports from the working directory, then the
/// library paths; imports from imported files resolve against those files.
#[derive(jrsonnet_gcmodule::Acyclic)]
struct Importer(FileImportResolver);

impl ImportResolver for Importer {
    fn resolve_from(
        &self,
        from: &SourcePath,
        path: &dyn AsPathLike,
    ) -> jrsonnet_evaluator::Result<SourcePath> {
        if from.downcast_ref::<SourceVirtual>().is_some() {
            self.0.resolve_from(&SourcePath::default(), path)
        } else {
            self.0.resolve_from(from, path)
        }
    }

    fn load_file_contents(&self, resolved: &SourcePath) -> jrsonnet_evaluator::Result<Vec<u8>> {
        self.0.load_file_contents(resolved)
    }
}
