//! Checking one input, shared by the batch and streamed runs of `test`: reading and
//! parsing it, evaluating every selected namespace, reusing the results of identical
//! contents, and what a run's records mean for its exit code.

use super::settings::TestSettings;
use crate::base::fs::io_reason;
use crate::base::result::{CheckResult, Message, Totals};
use crate::base::value::to_rego;
use crate::engine::eval::PolicyEngine;
use crate::parser::discover::InputFile;
use crate::parser::Parser;
use crate::rego::policy::Namespace;
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

/// A parsed input, or why it could not be parsed.
type Parsed = std::result::Result<Value, String>;

/// Reads and parses one input; the error is conftest's message after `parse configurations: `.
pub fn parse_input(
    file: &InputFile,
    forced: Option<&str>,
    stdin: Option<&[u8]>,
    proto_file_dirs: &[String],
) -> Parsed {
    if let Some(problem) = &file.problem {
        return Err(problem.clone());
    }
    let parser = match forced {
        Some(name) => Parser::from_name(name)
            .ok_or_else(|| format!("new parser: unknown parser: {name}, path: {}", file.name))?,
        None => Parser::for_path(&file.name).map_err(|ext| {
            format!(
                "new parser: new: unknown parser: {ext}, path: {}",
                file.name
            )
        })?,
    };
    let owned;
    let bytes: &[u8] = match stdin {
        Some(b) if file.is_stdin() => b,
        _ => {
            owned = std::fs::read(&file.path)
                .map_err(|e| format!("read file: open {}: {}", file.name, io_reason(&e)))?;
            &owned
        }
    };
    let ctx = crate::parser::Context {
        path: (!file.is_stdin()).then_some(file.path.as_path()),
        proto_file_dirs,
    };
    parser
        .parse_with(bytes, &ctx)
        .map_err(|e| crate::parser::error_text(&e, &file.name))
}

/// The parser for an input: `--parser` when given, else the one its name calls for.
pub(super) fn parser_of(name: &str, forced: Option<&str>) -> Option<Parser> {
    match forced {
        Some(p) => Parser::from_name(p),
        None => Parser::for_path(name).ok(),
    }
}

/// Like [`parse_input`], but straight to the regorus value. Errors are `(is_parse, text)`
/// and read exactly as the two-step route's.
fn parse_input_rego(
    file: &InputFile,
    forced: Option<&str>,
    stdin: Option<&[u8]>,
    proto_file_dirs: &[String],
    read: Option<&[u8]>,
) -> std::result::Result<regorus::Value, (bool, String)> {
    let parser = parser_of(&file.name, forced);
    // JSON and YAML, the batch cases, go straight to a regorus value.
    if let (Some(p @ (Parser::Json | Parser::Yaml)), None) = (parser, &file.problem) {
        let bytes = match (stdin, read) {
            (Some(b), _) if file.is_stdin() => Some(std::borrow::Cow::Borrowed(b)),
            (_, Some(b)) => Some(std::borrow::Cow::Borrowed(b)),
            _ => std::fs::read(&file.path).ok().map(std::borrow::Cow::Owned),
        };
        if let Some(Ok(v)) = bytes.map(|b| p.parse_rego(&b)) {
            return Ok(v);
        }
    }
    // Everything else, and JSON that failed: the two-step route words errors as conftest.
    let value = parse_input(file, forced, stdin, proto_file_dirs).map_err(|e| (true, e))?;
    to_rego(value).map_err(|e| (false, format!("{e:#}")))
}

/// A file's bytes (stdin's from `stdin`), or `None` when it has a problem or cannot be read
/// (evaluation then reports it as usual).
fn read_whole(file: &InputFile, stdin: Option<&[u8]>) -> Option<Vec<u8>> {
    if file.problem.is_some() {
        return None;
    }
    match stdin {
        Some(b) if file.is_stdin() => Some(b.to_vec()),
        _ => std::fs::read(&file.path).ok(),
    }
}

/// The results of each distinct input content seen so far, shared by the workers. Keyed
/// by a hash of the parser and the bytes, and checked against the kept bytes, so that a
/// hash collision is a miss, never another file's results. Bounded (a batch can hold
/// millions of files): a full table starts again empty. A content being evaluated is
/// marked, so that a copy taken meanwhile by another worker (copies are often next to
/// each other in the walk) waits for its results instead of evaluating it again.
#[derive(Default)]
pub(super) struct Duplicates(std::sync::Mutex<DuplicateTable>, std::sync::Condvar);

/// A content seen: its parser, its bytes, its records.
type Seen = (Option<Parser>, Vec<u8>, Vec<CheckResult>);

#[derive(Default)]
struct DuplicateTable {
    entries: std::collections::HashMap<u64, Seen>,
    bytes: usize,
    /// Hashes of contents a worker is evaluating now.
    evaluating: std::collections::HashSet<u64>,
}

/// A worker's claim on evaluating a content: ends (and wakes the workers waiting for
/// it) when dropped, after the results are kept or the evaluation failed.
pub(super) struct Claim<'a>(&'a Duplicates, u64);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Ok(mut table) = self.0 .0.lock() {
            table.evaluating.remove(&self.1);
        }
        self.0 .1.notify_all();
    }
}

impl Duplicates {
    /// Bytes of content kept at once.
    const MAX_BYTES: usize = 4 << 20;

    fn hash(parser: Option<Parser>, bytes: &[u8]) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        parser.hash(&mut h);
        bytes.hash(&mut h);
        h.finish()
    }

    /// The records of the same content, named for `name` (waiting while another worker
    /// evaluates it); else this worker's claim to evaluate it (`None`: too big to keep).
    fn get(
        &self,
        hash: u64,
        parser: Option<Parser>,
        bytes: &[u8],
        name: &str,
    ) -> Result<Vec<CheckResult>, Option<Claim<'_>>> {
        let Ok(mut table) = self.0.lock() else {
            return Err(None);
        };
        loop {
            if let Some((seen_parser, seen_bytes, records)) = table.entries.get(&hash) {
                if *seen_parser == parser && seen_bytes.as_slice() == bytes {
                    return Ok(records
                        .iter()
                        .map(|r| CheckResult {
                            filename: name.to_string(),
                            ..r.clone()
                        })
                        .collect());
                }
            }
            if bytes.len() > Self::MAX_BYTES / 16 {
                return Err(None);
            }
            if table.evaluating.insert(hash) {
                return Err(Some(Claim(self, hash)));
            }
            table = match self.1.wait(table) {
                Ok(t) => t,
                Err(_) => return Err(None),
            };
        }
    }

    /// Keeps a content's records; the bytes are moved in, not copied.
    fn put(&self, hash: u64, parser: Option<Parser>, bytes: Vec<u8>, records: &[CheckResult]) {
        if bytes.len() > Self::MAX_BYTES / 16 {
            return;
        }
        if let Ok(mut table) = self.0.lock() {
            if table.bytes + bytes.len() > Self::MAX_BYTES {
                table.entries.clear();
                table.bytes = 0;
            }
            table.bytes += bytes.len();
            if let Some((_, old, _)) = table
                .entries
                .insert(hash, (parser, bytes, records.to_vec()))
            {
                table.bytes -= old.len();
            }
        }
    }
}

/// `data.conftest.file` for a path: `{name: basename(abs), dir: dirname(abs)}`.
fn file_info(name: &str, cwd: &std::path::Path) -> regorus::Value {
    let (base, dir) = match name {
        "-" | "Combined" => (name.to_string(), cwd.to_string_lossy().into_owned()),
        _ => {
            let abs = cwd.join(name);
            let base = abs
                .file_name()
                .map(|b| b.to_string_lossy().into_owned())
                .unwrap_or_default();
            let dir = abs
                .parent()
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default();
            (base, dir)
        }
    };
    let mut m = Map::new();
    m.insert("name".into(), Value::String(base));
    m.insert("dir".into(), Value::String(dir));
    to_rego(Value::Object(m)).unwrap_or(regorus::Value::Undefined)
}

/// A broken input reported as a failure under `--keep-going`.
pub(super) fn error_record(filename: &str, namespace: &str, id: &str, msg: String) -> CheckResult {
    let mut r = CheckResult::new(filename, namespace);
    let mut metadata = Map::new();
    metadata.insert("id".into(), Value::String(id.into()));
    r.failures.push(Message {
        msg,
        loc: None,
        pos: None,
        metadata,
    });
    r
}

/// Evaluates every namespace against one parsed file (array values: one document each).
/// `namespaces` pairs each selected name with its rules (`None`: not loaded).
pub(super) fn check_file(
    engine: &mut PolicyEngine,
    namespaces: &[(String, Option<Namespace>)],
    name: &str,
    value: regorus::Value,
    cwd: &std::path::Path,
) -> Result<Vec<CheckResult>> {
    let info = file_info(name, cwd);
    let docs: Vec<regorus::Value> = match value {
        regorus::Value::Array(items) => items.iter().cloned().collect(),
        other => vec![other],
    };
    let mut out = Vec::with_capacity(namespaces.len());
    for (ns_name, ns) in namespaces {
        let mut record = CheckResult::new(name, ns_name);
        if let Some(ns) = ns {
            for doc in &docs {
                // Values are reference-counted: this clone does not copy the document.
                record.absorb(engine.check_document(ns, doc.clone(), &info, name)?);
            }
        }
        out.push(record);
    }
    Ok(out)
}

/// [`check_file`] under `--timeout` on a thread of its own, watched from outside: the
/// engine's timer cannot stop a single built-in call that runs for minutes. A file still
/// running a little after its documents' time is up gets the timeout error; its thread is
/// abandoned (it ends with the process) and the worker takes a fresh engine.
fn check_file_watched(
    slot: &mut Option<PolicyEngine>,
    prototype: &PolicyEngine,
    namespaces: &[(String, Option<Namespace>)],
    name: &str,
    value: regorus::Value,
    cwd: &std::path::Path,
    limit: std::time::Duration,
) -> Result<Vec<CheckResult>> {
    // Time for the engine's own timer, which stops cleanly, to fire first.
    let grace = limit / 4 + std::time::Duration::from_millis(20);
    let docs = match &value {
        regorus::Value::Array(items) => items.len().max(1),
        _ => 1,
    };
    let budget = limit
        .saturating_mul(u32::try_from(docs * namespaces.len().max(1)).unwrap_or(u32::MAX))
        .saturating_add(grace);
    let mut engine = slot.take().unwrap_or_else(|| prototype.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    let (namespaces_owned, name_owned, cwd_owned) =
        (namespaces.to_vec(), name.to_string(), cwd.to_path_buf());
    std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            let out = check_file(
                &mut engine,
                &namespaces_owned,
                &name_owned,
                value,
                &cwd_owned,
            );
            // The watcher may have given up on this file.
            let _ = tx.send((out, engine));
        })
        .map_err(|e| anyhow!("evaluating {name}: starting a thread: {e}"))?;
    match rx.recv_timeout(budget) {
        Ok((out, engine)) => {
            *slot = Some(engine);
            out
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => bail!(
            "evaluating {name}: evaluation ran past the --timeout of {:?}",
            limit
        ),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            bail!("evaluating {name}: internal error: the evaluation thread stopped")
        }
    }
}

/// Whether a format writes the line a result's `metadata.path` names.
pub(super) fn shows_positions(format: &str) -> bool {
    matches!(format, "sarif" | "github" | "azuredevops" | "junit" | "tap")
}

/// Sets each message's `pos` from its `metadata.path` (a JSON pointer into its input):
/// each file with such a message is read again, once, and located in the syntax of its
/// parser. `stdin` is stdin's result name and text.
pub(super) fn fill_positions(
    results: &mut [CheckResult],
    stdin: Option<(&str, &str)>,
    forced: Option<&str>,
) {
    use crate::fix::position::{position, Syntax};
    let mut texts: std::collections::HashMap<String, Option<(String, Syntax)>> =
        std::collections::HashMap::new();
    for r in results.iter_mut() {
        let name = r.filename.clone();
        for m in r
            .failures
            .iter_mut()
            .chain(&mut r.warnings)
            .chain(&mut r.exceptions)
        {
            let Some(pointer) = m.metadata.get("path").and_then(Value::as_str) else {
                continue;
            };
            let source = texts.entry(name.clone()).or_insert_with(|| {
                let syntax = match parser_of(&name, forced)? {
                    Parser::Json => Syntax::Json,
                    Parser::Yaml => Syntax::Yaml,
                    Parser::Hcl2 => Syntax::Hcl,
                    _ => return None,
                };
                let text = match stdin {
                    Some((stdin_name, text)) if stdin_name == name => text.to_string(),
                    _ => std::fs::read_to_string(&name).ok()?,
                };
                Some((text, syntax))
            });
            if let Some((text, syntax)) = source {
                m.pos = position(text, *syntax, pointer);
            }
        }
    }
}

/// One input's records (one per namespace), or why it could not be evaluated:
/// `(is_parse_error, text)`.
pub(super) type FileResult = std::result::Result<Vec<CheckResult>, (bool, String)>;

/// What evaluating one input needs, shared by a run's workers.
pub(super) struct Checker<'a> {
    pub(super) s: &'a TestSettings,
    /// The loaded policies; each worker evaluates with its own clone.
    pub(super) engine: &'a PolicyEngine,
    /// Each selected namespace with its rules (`None`: not loaded).
    pub(super) selected: &'a [(String, Option<Namespace>)],
    pub(super) namespaces: &'a [String],
    pub(super) stdin: Option<&'a [u8]>,
    pub(super) cwd: &'a std::path::Path,
    /// Files with the same bytes give the same results when no policy reads the file
    /// name: each distinct content is evaluated once (traces are per file).
    pub(super) dedup: bool,
    pub(super) seen: Duplicates,
    pub(super) progress: Option<indicatif::ProgressBar>,
    /// Look up the input lines of findings (each worker for its own file).
    pub(super) positions: bool,
}

impl Checker<'_> {
    /// The name results give `f`.
    pub(super) fn display(&self, f: &InputFile) -> String {
        match (&self.s.stdin_filename, f.is_stdin()) {
            (Some(n), true) => n.clone(),
            _ => f.name.clone(),
        }
    }

    /// Reads, parses and evaluates `f` with the worker's engine in `eng`.
    pub(super) fn check(&self, eng: &mut Option<PolicyEngine>, f: &InputFile) -> FileResult {
        let s = self.s;
        let name = self.display(f);
        let bytes = self.dedup.then(|| read_whole(f, self.stdin)).flatten();
        let parser = parser_of(&f.name, s.parser.as_deref());
        let hash = bytes.as_deref().map(|b| Duplicates::hash(parser, b));
        let looked_up = hash
            .zip(bytes.as_deref())
            .map(|(h, b)| self.seen.get(h, parser, b, &name));
        let out = match looked_up {
            Some(Ok(hit)) => Ok(hit),
            claim => {
                // Held until the records are kept (or the evaluation failed).
                let _claim = claim.and_then(Result::err).flatten();
                let value = parse_input_rego(
                    f,
                    s.parser.as_deref(),
                    self.stdin,
                    &s.proto_file_dirs,
                    bytes.as_deref(),
                )?;
                let out = match s.engine.timeout {
                    None => check_file(
                        eng.get_or_insert_with(|| self.engine.clone()),
                        self.selected,
                        &name,
                        value,
                        self.cwd,
                    ),
                    Some(limit) => check_file_watched(
                        eng,
                        self.engine,
                        self.selected,
                        &name,
                        value,
                        self.cwd,
                        limit,
                    ),
                }
                .map_err(|e| (false, format!("{e:#}")));
                if let (Some(h), Some(b), Ok(records)) = (hash, bytes, &out) {
                    self.seen.put(h, parser, b, records);
                }
                out
            }
        };
        if let Some(p) = &self.progress {
            p.inc(1);
            // A streamed run's count is unknown: it shows once the run is long.
            if p.length().is_none() && p.position() == PROGRESS_MIN_FILES as u64 {
                p.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        }
        let mut records = out?;
        if self.positions {
            let stdin_text = self.stdin.map(String::from_utf8_lossy);
            fill_positions(
                &mut records,
                stdin_name(s).as_deref().zip(stdin_text.as_deref()),
                s.parser.as_deref(),
            );
        }
        Ok(records)
    }

    /// `f`'s records: its results, or with `--keep-going` its error as a failure in each
    /// namespace; without, the run's error.
    pub(super) fn records(&self, f: &InputFile, res: FileResult) -> Result<Vec<CheckResult>> {
        match res {
            Ok(records) => Ok(records),
            Err((is_parse, e)) if self.s.keep_going => {
                let id = if is_parse {
                    "parse-error"
                } else {
                    "eval-error"
                };
                let name = self.display(f);
                Ok(self
                    .namespaces
                    .iter()
                    .map(|ns| error_record(&name, ns, id, e.clone()))
                    .collect())
            }
            Err((true, e)) => bail!("running test: parse configurations: {e}"),
            Err((false, e)) => bail!("running test: {e}"),
        }
    }
}

/// The name stdin's results carry, when stdin is an input.
pub(super) fn stdin_name(s: &TestSettings) -> Option<String> {
    s.paths
        .iter()
        .any(|p| p == "-")
        .then(|| s.stdin_filename.clone().unwrap_or_else(|| "-".to_string()))
}

/// Files above which an interactive run shows progress.
pub(super) const PROGRESS_MIN_FILES: usize = 300;

/// The exit code of section 10.
pub fn exit_code(totals: &Totals, fail_on_warn: bool, no_fail: bool) -> i32 {
    if no_fail {
        return 0;
    }
    match (fail_on_warn, totals.failures > 0, totals.warnings > 0) {
        (true, true, _) => 2,
        (true, false, true) => 1,
        (false, true, _) => 1,
        _ => 0,
    }
}

/// Whether a record ran any rule.
pub(super) fn evaluated(r: &CheckResult) -> bool {
    r.successes > 0 || !r.failures.is_empty() || !r.warnings.is_empty() || !r.exceptions.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let t = |f, w| Totals {
            failures: f,
            warnings: w,
            ..Default::default()
        };
        assert_eq!(exit_code(&t(1, 0), false, false), 1);
        assert_eq!(exit_code(&t(0, 1), false, false), 0);
        assert_eq!(exit_code(&t(1, 1), true, false), 2);
        assert_eq!(exit_code(&t(0, 1), true, false), 1);
        assert_eq!(exit_code(&t(1, 1), true, true), 0);
    }
}
