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
    // jrsonnet panics on a few internal invariants; a bad input must stay an error.
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| evaluate(&name, code, dir)));
    let json = match result {
        Ok(r) => r?,
        Err(_) => {
            return Err(anyhow!(
                "evaluate anonymous snippet: internal evaluator error"
            ))
        }
    };
    super::json::parse(json.as_bytes()).map_err(|e| anyhow!("unmarshal json failed: {e:#}"))
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
