//! The `test` command: settings resolution, the parse → load → evaluate pipeline, and the
//! exit code (conftest `runner/test.go`).

use crate::base::fs::io_reason;
use crate::base::redact::Redactor;
use crate::base::result::{CheckResult, Message, Totals};
use crate::base::value::to_rego;
use crate::cli::TestArgs;
use crate::commands::{output_targets, rego_v0, Outcome, OutputTarget};
use crate::config::Config;
use crate::engine::data;
use crate::engine::eval::{EngineOptions, PolicyEngine};
use crate::output::{render_format, OutputOptions};
use crate::parser::discover::{self, InputFile};
use crate::parser::push_combined;
use crate::parser::Parser;
use crate::rego::policy::select_namespaces;
use crate::rego::policy::{self, Namespace};
use anyhow::{anyhow, bail, Result};
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::io::Read;

/// Fully resolved settings of `regorun test`.
#[derive(Debug, Clone)]
pub struct TestSettings {
    /// Inputs as given.
    pub paths: Vec<String>,
    /// Policy paths (`builtin:kms` for the embedded pack).
    pub policy: Vec<String>,
    /// Namespaces or globs.
    pub namespaces: Vec<String>,
    /// Evaluate every namespace.
    pub all_namespaces: bool,
    /// Data paths.
    pub data: Vec<String>,
    /// One combined input.
    pub combine: bool,
    /// Forced parser name.
    pub parser: Option<String>,
    /// Directories searched for `.proto` files (textproto message types).
    pub proto_file_dirs: Vec<String>,
    /// Output targets, in order.
    pub outputs: Vec<OutputTarget>,
    /// Exit 1 on warnings, 2 on failures.
    pub fail_on_warn: bool,
    /// Exit 0 unless an error occurs.
    pub no_fail: bool,
    /// Formatter options.
    pub output_options: OutputOptions,
    /// Print nothing when the exit code is 0.
    pub quiet: bool,
    /// Regex of walked paths to skip.
    pub ignore: Option<String>,
    /// Engine options.
    pub engine: EngineOptions,
    /// Report broken inputs as failures and go on.
    pub keep_going: bool,
    /// Worker threads (0 = all cores).
    pub jobs: usize,
    /// Name for stdin.
    pub stdin_filename: Option<String>,
    /// `--trace`: trace text on stderr (and instead of the stdout format's output).
    pub trace: bool,
    /// `--fail-on-empty`: an input for which no rule was evaluated fails the run.
    pub fail_on_empty: bool,
    /// `--diff`: print the corrected inputs as diffs instead of the results.
    pub diff: bool,
    /// `--fix`: write the corrected inputs, then report what remains.
    pub fix: bool,
    /// `--redact`: placeholders for AWS identifiers in every output.
    pub redact: bool,
    /// `--redact-map`: where to write the placeholder table.
    pub redact_map: Option<String>,
    /// `--shard K/N`: (K - 1, N).
    pub shard: Option<(u64, u64)>,
}

/// `--shard K/N` as (K - 1, N); empty is every input.
fn shard(value: &str) -> Result<Option<(u64, u64)>> {
    if value.is_empty() {
        return Ok(None);
    }
    let parsed = value
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((k, n)) if k >= 1 && k <= n => Ok(Some((k - 1, n))),
        _ => bail!(
            "invalid argument {} for \"--shard\" flag: want K/N with 1 <= K <= N",
            crate::base::gostr::quote(value)
        ),
    }
}

/// Which of `n` shards an input belongs to: a hash of its path that every machine and
/// every regorun version computes alike (SHA-256, first eight bytes).
fn shard_of(path: &str, n: u64) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(path.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % n
}

/// `--timeout`: empty or zero is no limit; otherwise pflag's wording for a bad duration.
fn timeout(value: &str) -> Result<Option<std::time::Duration>> {
    if value.is_empty() {
        return Ok(None);
    }
    let d = crate::base::godur::parse(value).map_err(|e| {
        anyhow!(
            "invalid argument {} for \"--timeout\" flag: {e}",
            crate::base::gostr::quote(value)
        )
    })?;
    Ok((!d.is_zero()).then_some(d))
}

/// The built-in pack is used when no policy path is configured and `./policy` is absent.
pub const DEFAULT_BUILTIN: &str = "builtin:kms";

impl TestSettings {
    /// Applies conftest's precedence to the flags, environment and config file.
    pub fn resolve(args: TestArgs, cfg: &Config) -> Result<TestSettings> {
        let unsupported = [
            (
                "update",
                args.update.as_ref().is_some_and(|v| !v.is_empty()) || cfg.is_set("update"),
            ),
            (
                "capabilities",
                args.capabilities.as_ref().is_some_and(|v| !v.is_empty()),
            ),
        ];
        if let Some((flag, _)) = unsupported.iter().find(|(_, set)| *set) {
            bail!("the --{flag} flag is not supported by this build of regorun");
        }
        let policy_configured = args.policy.is_some() || cfg.is_set("policy");
        let mut policy = cfg.list("policy", args.policy, &["policy"]);
        if !policy_configured && !std::path::Path::new("policy").exists() {
            policy = vec![DEFAULT_BUILTIN.to_string()];
        }
        let outputs = output_targets(cfg.list("output", args.report.output, &["stdout"]))?;
        let rego_v0 = rego_v0(&cfg.string("rego-version", args.rego_version, "v1"))
            .map_err(|e| anyhow!("running test: load: loading policies: {e}"))?;
        let parser = Some(cfg.string("parser", args.parser, "")).filter(|p| !p.is_empty());
        Ok(TestSettings {
            paths: args.paths,
            policy,
            namespaces: cfg.list("namespace", args.namespace, &["main"]),
            all_namespaces: cfg.bool("all-namespaces", args.all_namespaces, false)?,
            data: cfg.list("data", args.data, &[]),
            combine: cfg.bool("combine", args.combine, false)?,
            parser,
            // `--proto-file-dirs ""` is an empty list, as pflag reads it.
            proto_file_dirs: cfg
                .list("proto-file-dirs", args.proto_file_dirs, &[])
                .into_iter()
                .filter(|d| !d.is_empty())
                .collect(),
            outputs,
            fail_on_warn: cfg.bool("fail-on-warn", args.report.fail_on_warn, false)?,
            no_fail: cfg.bool("no-fail", args.report.no_fail, false)?,
            output_options: OutputOptions {
                suppress_exceptions: cfg.bool(
                    "suppress-exceptions",
                    args.suppress_exceptions,
                    false,
                )?,
                ..OutputOptions::resolve(
                    cfg,
                    args.report.no_color,
                    args.junit_hide_message,
                    args.github_hide_passed,
                )?
            },
            quiet: cfg.bool("quiet", args.quiet, false)?,
            ignore: Some(cfg.string("ignore", args.ignore, "")).filter(|s| !s.is_empty()),
            engine: EngineOptions {
                rego_v0,
                strict_builtin_errors: cfg.bool(
                    "show-builtin-errors",
                    args.show_builtin_errors,
                    false,
                )?,
                strict: cfg.bool("strict", args.strict, false)?,
                interpreter_only: crate::engine::fast::FastProgram::disabled_by_env(),
                timeout: timeout(&cfg.string("timeout", args.timeout, ""))?,
            },
            keep_going: cfg.bool("keep-going", args.keep_going, false)?,
            jobs: args.jobs.unwrap_or(0),
            stdin_filename: Some(cfg.string("stdin-filename", args.stdin_filename, ""))
                .filter(|s| !s.is_empty()),
            trace: cfg.bool("trace", args.trace, false)?,
            fail_on_empty: cfg.bool("fail-on-empty", args.fail_on_empty, false)?,
            diff: cfg.bool("diff", args.diff, false)?,
            fix: cfg.bool("fix", args.fix, false)?,
            shard: shard(&cfg.string("shard", args.shard, ""))?,
            redact: cfg.bool("redact", args.redact, false)?,
            redact_map: Some(cfg.string("redact-map", args.redact_map, ""))
                .filter(|s| !s.is_empty()),
        })
    }
}

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

/// Like [`parse_input`], but straight to the regorus value. Errors are `(is_parse, text)`
/// and read exactly as the two-step route's.
/// The parser for an input: `--parser` when given, else the one its name calls for.
fn parser_of(name: &str, forced: Option<&str>) -> Option<Parser> {
    match forced {
        Some(p) => Parser::from_name(p),
        None => Parser::for_path(name).ok(),
    }
}

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

/// Standard input's bytes when `wanted` (stdin is one of the inputs).
fn read_stdin(wanted: bool) -> Result<Option<Vec<u8>>> {
    if !wanted {
        return Ok(None);
    }
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| anyhow!("running test: parse configurations: read standard input: {e}"))?;
    Ok(Some(buf))
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
fn error_record(filename: &str, namespace: &str, id: &str, msg: String) -> CheckResult {
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
fn check_file(
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

/// Runs `regorun test` and renders its output.
pub fn run_test(s: &TestSettings) -> Result<Outcome> {
    if !s.redact {
        if s.redact_map.is_some() {
            bail!("--redact-map needs --redact");
        }
        return run(s, None);
    }
    let mut redactor = Redactor::default();
    let result = run(s, Some(&mut redactor));
    // The map file is written even when the run stops with an error, whose line it explains.
    match result {
        Ok(mut outcome) => {
            // Results were redacted before rendering; this covers the text made around
            // them (diffs, notes, warnings), where a second pass changes nothing.
            outcome.stderr = redactor.text(&outcome.stderr);
            if s.diff {
                outcome.stdout = redactor.text(&outcome.stdout);
            }
            if let Some(path) = &s.redact_map {
                outcome.files.push((path.clone(), redactor.table_json()));
            }
            Ok(outcome)
        }
        Err(e) => {
            let text = redactor.text(&format!("{e:#}"));
            if let Some(path) = &s.redact_map {
                if let Err(w) = std::fs::write(path, redactor.table_json()) {
                    bail!("{text} (and write --redact-map {path}: {})", io_reason(&w));
                }
            }
            Err(anyhow!("{text}"))
        }
    }
}

/// The owner accounts results name in a top-level `owner` metadata key (the built-in pack
/// gives each finding's key owner there when it knows it).
fn owners(results: &[CheckResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| r.failures.iter().chain(&r.warnings).chain(&r.exceptions))
        .filter_map(|m| m.metadata.get("owner")?.as_str().map(str::to_string))
        .collect()
}

/// Every text of `results` redacted: file names, messages, metadata, `_loc` files,
/// prints and traces.
fn redact_results(r: &mut Redactor, results: &[CheckResult]) -> Vec<CheckResult> {
    let mut out = results.to_vec();
    for c in &mut out {
        c.filename = r.text(&c.filename);
        for m in c
            .failures
            .iter_mut()
            .chain(&mut c.warnings)
            .chain(&mut c.exceptions)
            .chain(&mut c.skipped)
        {
            m.msg = r.text(&m.msg);
            let mut metadata = Value::Object(std::mem::take(&mut m.metadata));
            r.value(&mut metadata);
            if let Value::Object(map) = metadata {
                m.metadata = map;
            }
            if let Some(loc) = &mut m.loc {
                loc.file = r.text(&loc.file);
            }
        }
        for p in &mut c.prints {
            *p = r.text(p);
        }
        for t in &mut c.traces {
            for line in &mut t.lines {
                *line = r.text(line);
            }
        }
    }
    out
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

/// `regorun test`, redacting through `redactor` when given.
fn run(s: &TestSettings, redactor: Option<&mut Redactor>) -> Result<Outcome> {
    if s.fix && s.paths.iter().any(|p| p == "-") {
        bail!("--fix cannot correct stdin: give the file's path");
    }
    let shard = s.shard;
    let in_shard = move |name: &str| shard.is_none_or(|(k, n)| shard_of(name, n) == k);
    let walk_error = |e: anyhow::Error| anyhow!("running test: parse files: {e:#}");
    let mut walk = discover::Discovery::new(&s.paths, s.ignore.as_deref(), s.keep_going)
        .filter(move |f| f.as_ref().map_or(true, |f| in_shard(&f.name)))
        .peekable();
    let streamed = super::stream::streams(s) && redactor.is_none();
    // A batch run walks everything first, as conftest does; a streamed run walks while
    // it evaluates.
    let files: Option<Vec<InputFile>> = match streamed {
        true => None,
        false => Some(walk.by_ref().collect::<Result<_>>().map_err(walk_error)?),
    };
    if let Some(Err(e)) = walk.next_if(Result::is_err) {
        return Err(walk_error(e));
    }
    if let Some(p) = &s.parser {
        if Parser::from_name(p).is_none() {
            let first = match &files {
                Some(files) => files.first(),
                None => walk.peek().and_then(|f| f.as_ref().ok()),
            };
            let first = first.map(|f| f.name.as_str()).unwrap_or("");
            bail!("running test: parse configurations: new parser: unknown parser: {p}, path: {first}");
        }
    }
    let stdin = read_stdin(s.paths.iter().any(|p| p == "-") && in_shard("-"))?;
    let display = |f: &InputFile| -> String {
        match (&s.stdin_filename, f.is_stdin()) {
            (Some(n), true) => n.clone(),
            _ => f.name.clone(),
        }
    };

    let mut engine = match load_engine(s) {
        Ok(e) => e,
        Err(load_err) => {
            let files = match files {
                Some(files) => files,
                None => walk.collect::<Result<_>>().map_err(walk_error)?,
            };
            // conftest parses every input before loading policies: its parse errors win.
            if !s.keep_going {
                for f in &files {
                    if let Err(e) =
                        parse_input(f, s.parser.as_deref(), stdin.as_deref(), &s.proto_file_dirs)
                    {
                        bail!("running test: parse configurations: {e}");
                    }
                }
            }
            return Err(load_err);
        }
    };
    engine
        .set_trace(s.trace)
        .map_err(|e| anyhow!("running test: {e:#}"))?;
    let namespaces = select_namespaces(&engine.catalog.namespaces, &s.namespaces, s.all_namespaces)
        .map_err(|e| anyhow!("running test: {e:#}"))?;
    // Looked up once rather than per file.
    let selected: Vec<(String, Option<Namespace>)> = namespaces
        .iter()
        .map(|n| (n.clone(), engine.catalog.by_namespace.get(n).cloned()))
        .collect();
    let warning = crate::rego::policy::untested_namespaces_warning(
        &engine.catalog,
        &namespaces,
        s.all_namespaces,
    );
    let cwd = std::env::current_dir().unwrap_or_default();

    // `files`: how many inputs a batch run has; `None` for a streamed run.
    let make_checker = |files: Option<usize>| Checker {
        s,
        engine: &engine,
        selected: &selected,
        namespaces: &namespaces,
        stdin: stdin.as_deref(),
        cwd: &cwd,
        dedup: !s.trace && !engine.reads_file_name(),
        seen: Duplicates::default(),
        progress: progress_bar(s, files),
        // A streamed run's workers look up lines for their own file; a batch run looks
        // them up once at the end.
        positions: files.is_none() && s.outputs.iter().any(|o| shows_positions(&o.format)),
    };
    if streamed {
        let checker = make_checker(None);
        let (outcome, untested) =
            super::stream::run(s, &checker, walk.map(|f| f.map_err(walk_error)))?;
        return Ok(around(s, outcome, warning, untested.as_deref()));
    }
    let files = files.unwrap_or_default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.jobs)
        // Deeply nested inputs recurse in conversion and evaluation.
        .stack_size(256 * 1024 * 1024)
        .build()
        .map_err(|e| anyhow!("starting worker threads: {e}"))?;

    let mut results: Vec<CheckResult> = if s.combine {
        let mut combined = Vec::new();
        let mut sorted: Vec<&InputFile> = files.iter().collect();
        sorted.sort_by_key(|f| display(f));
        let mut broken = Vec::new();
        for f in sorted {
            match parse_input(f, s.parser.as_deref(), stdin.as_deref(), &s.proto_file_dirs) {
                Ok(v) => push_combined(&mut combined, &display(f), v),
                Err(e) if s.keep_going => broken.push((display(f), e)),
                Err(e) => bail!("running test: parse configurations: {e}"),
            }
        }
        let mut engine = engine;
        let mut out = pool
            .install(|| {
                let value = to_rego(Value::Array(vec![Value::Array(combined)]))?;
                check_file(&mut engine, &selected, "Combined", value, &cwd)
            })
            .map_err(|e| anyhow!("running test: check combined: check: {e:#}"))?;
        for (name, e) in broken {
            for ns in &namespaces {
                out.push(error_record(&name, ns, "parse-error", e.clone()));
            }
        }
        out
    } else {
        let checker = make_checker(Some(files.len()));
        let per_file: Vec<FileResult> = pool.install(|| {
            files
                .par_iter()
                .map_init(|| None, |eng, f| checker.check(eng, f))
                .collect()
        });
        if let Some(p) = &checker.progress {
            p.finish_and_clear();
        }
        // Records are namespace-major: every file for namespace 1, then namespace 2, ...
        let mut by_ns: Vec<Vec<CheckResult>> = vec![Vec::new(); namespaces.len()];
        for (f, res) in files.iter().zip(per_file) {
            for (i, r) in checker.records(f, res)?.into_iter().enumerate() {
                by_ns[i].push(r);
            }
        }
        by_ns.into_iter().flatten().collect()
    };

    if !s.combine && s.outputs.iter().any(|o| shows_positions(&o.format)) {
        let stdin_text = stdin.as_deref().map(String::from_utf8_lossy);
        fill_positions(
            &mut results,
            stdin_name(s).as_deref().zip(stdin_text.as_deref()),
            s.parser.as_deref(),
        );
    }
    if s.fix {
        return fix_and_rerun(s, &results, redactor);
    }
    let mut outcome = match redactor {
        Some(r) => {
            r.add_owners(owners(&results));
            render(s, &redact_results(r, &results))?
        }
        None => render(s, &results)?,
    };
    if s.diff {
        let (diffs, notes) = fix_diffs(s, &results);
        outcome.stdout = diffs;
        outcome.files.clear();
        outcome.stderr.push_str(&notes);
    }
    Ok(around(s, outcome, warning, first_untested(&results)))
}

/// A run's outcome with the text around its output: the untested-namespace `warning`
/// first and, with `--fail-on-empty`, the error for `untested`, the first input no rule
/// was evaluated for.
fn around(
    s: &TestSettings,
    mut outcome: Outcome,
    warning: Option<String>,
    untested: Option<&str>,
) -> Outcome {
    if let Some(w) = warning {
        outcome.stderr.insert_str(0, &format!("{w}\n"));
    }
    if let (true, Some(name)) = (s.fail_on_empty, untested) {
        outcome.stderr.push_str(&format!(
            "Error: no rule was evaluated for {name} (--fail-on-empty)\n"
        ));
        outcome.exit_code = 1;
    }
    outcome
}

/// An input corrected by its findings' fixes.
struct Correction {
    name: String,
    old: String,
    new: String,
    /// For a Terraform plan, which is not written: each changed resource's address and
    /// corrected policy.
    plan: Option<Vec<(String, String)>>,
}

/// Every input whose findings carry fixes, corrected (changed ones only), with what could
/// not be applied as `regorun: fix:` lines. The form of each file is its parser's.
fn corrections(
    results: &[CheckResult],
    stdin: Option<&str>,
    forced: Option<&str>,
) -> (Vec<Correction>, String) {
    // Per file: the messages and their fixes, in result order.
    let mut by_file: Vec<(&str, Vec<&str>, Vec<crate::fix::Fix>)> = Vec::new();
    let mut notes = String::new();
    for r in results {
        for m in r.failures.iter().chain(&r.warnings) {
            let Some(fix) = crate::fix::fix_of(&m.metadata) else {
                continue;
            };
            match fix {
                Ok(f) => match by_file.iter_mut().find(|(name, _, _)| *name == r.filename) {
                    Some((_, msgs, fixes)) => {
                        msgs.push(&m.msg);
                        fixes.push(f);
                    }
                    None => by_file.push((&r.filename, vec![&m.msg], vec![f])),
                },
                Err(e) => notes.push_str(&format!(
                    "regorun: fix: {}: skipped the fix of \"{}\": {e}\n",
                    r.filename, m.msg
                )),
            }
        }
    }
    let mut out = Vec::new();
    for (name, msgs, fixes) in by_file {
        if Some(name) == stdin || name == "Combined" {
            notes.push_str(&format!(
                "regorun: fix: {name}: not a file that can be corrected (stdin or a combined input)\n"
            ));
            continue;
        }
        let text = match std::fs::read_to_string(name) {
            Ok(t) => t,
            Err(e) => {
                notes.push_str(&format!(
                    "regorun: fix: {name}: not corrected: {}\n",
                    io_reason(&e)
                ));
                continue;
            }
        };
        let parser = parser_of(name, forced);
        let read_yaml = |t: &str| Parser::Yaml.parse(t.as_bytes());
        let read_hcl = |t: &str| Parser::Hcl2.parse(t.as_bytes());
        let form = match parser {
            Some(Parser::Json) => crate::fix::Form::Json,
            Some(Parser::Yaml) => crate::fix::Form::Yaml(&read_yaml),
            Some(Parser::Hcl2) => crate::fix::Form::Hcl(&read_hcl),
            _ => {
                notes.push_str(&format!(
                    "regorun: fix: {name}: not corrected: fixes are written to JSON, YAML and Terraform files only\n"
                ));
                continue;
            }
        };
        match crate::fix::apply(&text, &fixes, form) {
            Ok(applied) => {
                for (i, why) in &applied.skipped {
                    notes.push_str(&format!(
                        "regorun: fix: {name}: skipped the fix of \"{}\": {why}\n",
                        msgs[*i]
                    ));
                }
                if applied.text != text {
                    let plan = matches!(form, crate::fix::Form::Json)
                        .then(|| crate::fix::plan_policies(&text, &applied.text))
                        .flatten();
                    out.push(Correction {
                        name: name.to_string(),
                        old: text,
                        new: applied.text,
                        plan,
                    });
                }
            }
            Err(e) => notes.push_str(&format!("regorun: fix: {name}: not corrected: {e:#}\n")),
        }
    }
    (out, notes)
}

/// The name stdin's results carry, when stdin is an input.
fn stdin_name(s: &TestSettings) -> Option<String> {
    s.paths
        .iter()
        .any(|p| p == "-")
        .then(|| s.stdin_filename.clone().unwrap_or_else(|| "-".to_string()))
}

/// `--diff`: the corrections as unified diffs (stdout) and what could not be applied
/// (stderr). The exit code stays the findings'.
fn fix_diffs(s: &TestSettings, results: &[CheckResult]) -> (String, String) {
    let (fixed, notes) = corrections(results, stdin_name(s).as_deref(), s.parser.as_deref());
    let diffs = fixed
        .iter()
        .map(|c| match &c.plan {
            Some(policies) => policies
                .iter()
                .map(|(address, policy)| {
                    format!(
                        "# {}: a Terraform plan is not written back; set the policy of {address} in its configuration to:\n{policy}",
                        c.name
                    )
                })
                .collect(),
            None => crate::fix::unified_diff(&c.name, &c.old, &c.new),
        })
        .collect();
    (diffs, notes)
}

/// `--fix`: writes the corrected inputs (atomically, permissions kept), then evaluates
/// again and reports what remains, after a `regorun: fixed FILE` line per written file.
fn fix_and_rerun(
    s: &TestSettings,
    results: &[CheckResult],
    redactor: Option<&mut Redactor>,
) -> Result<Outcome> {
    // --fix refuses stdin up front.
    let (fixed, mut notes) = corrections(results, None, s.parser.as_deref());
    for c in &fixed {
        if let Some(policies) = &c.plan {
            let addresses: Vec<&str> = policies.iter().map(|p| p.0.as_str()).collect();
            notes.push_str(&format!(
                "regorun: fix: {}: a Terraform plan is not written back; change the policy of {} in its configuration (--diff prints it corrected)\n",
                c.name,
                addresses.join(", ")
            ));
            continue;
        }
        crate::base::fs::write_atomic(std::path::Path::new(&c.name), c.new.as_bytes())
            .map_err(|e| anyhow!("writing {}: {}", c.name, io_reason(&e)))?;
        notes.push_str(&format!("regorun: fixed {}\n", c.name));
    }
    let mut again = s.clone();
    again.fix = false;
    let mut outcome = run(&again, redactor)?;
    outcome.stderr.insert_str(0, &notes);
    Ok(outcome)
}

/// Files above which an interactive run shows progress.
const PROGRESS_MIN_FILES: usize = 300;

/// A progress bar on stderr for long interactive runs; never in pipes or with `--quiet`.
/// `files`: how many inputs there are, or `None` while the walk goes on (a streamed run
/// counts files evaluated).
fn progress_bar(s: &TestSettings, files: Option<usize>) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if s.quiet || files.is_some_and(|n| n <= PROGRESS_MIN_FILES) || !std::io::stderr().is_terminal()
    {
        return None;
    }
    let target = match files {
        Some(_) => indicatif::ProgressDrawTarget::stderr(),
        None => indicatif::ProgressDrawTarget::hidden(),
    };
    let bar = indicatif::ProgressBar::with_draw_target(files.map(|n| n as u64), target);
    let template = match files {
        Some(_) => "{bar:40} {pos}/{len} files, {per_sec}, eta {eta}",
        None => "{pos} files, {per_sec}",
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    Some(bar)
}

fn load_engine(s: &TestSettings) -> Result<PolicyEngine> {
    let files = policy::load_files(&s.policy)
        .map_err(|e| anyhow!("running test: load: loading policies: {e:#}"))?;
    let data =
        data::load(&s.data).map_err(|e| anyhow!("running test: load: load documents: {e:#}"))?;
    PolicyEngine::new(&files, &data, &s.engine).map_err(|e| anyhow!("running test: load: {e:#}"))
}

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

/// The first input for which no rule was evaluated in any namespace.
fn first_untested(results: &[CheckResult]) -> Option<&str> {
    let mut tested: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
    let mut order = Vec::new();
    for r in results {
        let any = evaluated(r);
        let e = tested.entry(r.filename.as_str()).or_insert_with(|| {
            order.push(r.filename.as_str());
            false
        });
        *e |= any;
    }
    order.into_iter().find(|f| !tested[f])
}

fn render(s: &TestSettings, results: &[CheckResult]) -> Result<Outcome> {
    let totals = Totals::of(results);
    let code = exit_code(&totals, s.fail_on_warn, s.no_fail);
    let mut outcome = Outcome {
        exit_code: code,
        ..Default::default()
    };
    if s.quiet && code == 0 {
        return Ok(outcome);
    }
    let trace = s
        .trace
        .then(|| crate::engine::trace::render(results, s.output_options.color));
    if let Some(t) = &trace {
        outcome.stderr.push_str(t);
    }
    for target in &s.outputs {
        let text = match &trace {
            Some(t) if target.format == "stdout" => t.clone(),
            _ => render_format(&target.format, results, &s.output_options)?,
        };
        match &target.path {
            Some(p) => outcome.files.push((p.clone(), text)),
            None => outcome.stdout.push_str(&text),
        }
    }
    Ok(outcome)
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

    #[test]
    fn namespace_globs() {
        let loaded = vec![
            "main".to_string(),
            "main.gke".to_string(),
            "other".to_string(),
        ];
        assert_eq!(
            select_namespaces(&loaded, &["main.*".into()], false).unwrap(),
            vec!["main.gke"]
        );
        assert_eq!(
            select_namespaces(&loaded, &["*".into(), "nothere".into()], false).unwrap(),
            loaded
        );
        assert_eq!(
            select_namespaces(&loaded, &["nothere".into()], false).unwrap(),
            vec!["nothere"]
        );
        assert!(select_namespaces(&loaded, &["[".into()], false).is_err());
    }
}
