//! The RVM fast path: the queried rules compiled once to regorus bytecode and run on a
//! `RegoVM` per worker, about 2-4x faster than the tree-walking interpreter.
//!
//! It is only used where it gives the interpreter's answers: compilation fails (and the
//! interpreter is used) for `print`, `with`, extensions such as `parse_config` and the
//! `data.conftest.file` rule, and unsupported rule shapes; strict built-in errors keep
//! the interpreter because the RVM turns built-in errors into undefined. A VM error
//! while evaluating a document (such as the instruction cap) sends that document back to
//! the interpreter.

use crate::engine::data::DataDoc;
use crate::rego::policy::{Catalog, PolicyFile};
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::Program;
use regorus::rvm::RegoVM;
use regorus::{Engine, Rc, Value};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Set `REGORUN_RVM=0` to always use the interpreter (for comparisons and bisecting).
pub const DISABLE_ENV: &str = "REGORUN_RVM";

/// The package of the synthetic rules that gather a namespace's results.
const FAST_PACKAGE: &str = "__regorun_fast";

/// Work units between clock reads under `--timeout`: often enough to stop within a few
/// milliseconds, rare enough to cost nothing measurable.
pub const TIMER_CHECK_INTERVAL: std::num::NonZeroU32 = match std::num::NonZeroU32::new(64) {
    Some(n) => n,
    None => std::num::NonZeroU32::MIN,
};

/// A compiled program for every worker.
pub struct FastProgram {
    /// The serialized program, from which each concurrent worker gets a copy of its own:
    /// VMs sharing one program (and its literal values) bump the same reference counts
    /// on every rule call, and on two cores that contention cost 1.6x the wall time.
    image: Vec<u8>,
    /// Copies (program, data) not in use by a VM; the first is the compiled original.
    spare: Mutex<Vec<(Arc<Program>, Value)>>,
    /// The data documents, deep-copied for each new copy of the program.
    data: Value,
    /// Namespace name → (entry point, queries in the order of its result array).
    namespaces: HashMap<String, (String, Vec<String>)>,
}

impl FastProgram {
    /// Whether the environment forbids the fast path (`REGORUN_RVM=0`).
    pub fn disabled_by_env() -> bool {
        std::env::var(DISABLE_ENV).is_ok_and(|v| v == "0")
    }

    /// Compiles one entry point per namespace that evaluates its exception and every
    /// deny/warn/violation rule in a single run, so helper rules shared by the checks are
    /// computed once per document instead of once per rule. `None` when the RVM cannot
    /// run the policies exactly. With a `cache_key` the program and `catalog` are stored
    /// for later runs.
    pub fn build(engine: &Engine, catalog: &Catalog, cache_key: Option<&str>) -> Option<Self> {
        let mut module = format!("package {FAST_PACKAGE}\n\n");
        let mut namespaces = HashMap::new();
        for (i, ns) in catalog.by_namespace.values().enumerate() {
            let mut queries: Vec<String> = Vec::new();
            if ns.has_exception {
                queries.push(format!("data.{}.exception", ns.name));
            }
            queries.extend(ns.rules.iter().map(|r| r.query.clone()));
            // `[x | x := r]` is `[]` when r is undefined and `[value]` otherwise, so one
            // array keeps "undefined" apart from "empty set" for every rule.
            let items: Vec<String> = queries.iter().map(|q| format!("[x | x := {q}]")).collect();
            module.push_str(&format!("ns_{i} := [{}]\n", items.join(", ")));
            namespaces.insert(
                ns.name.clone(),
                (format!("data.{FAST_PACKAGE}.ns_{i}"), queries),
            );
        }
        let entries: Vec<&str> = namespaces.values().map(|(e, _)| e.as_str()).collect();
        let first = *entries.first()?;
        // A clone, so the prepared engine that interpreter workers clone stays untouched.
        let mut probe = engine.clone();
        probe
            .add_policy(format!("<regorun:{FAST_PACKAGE}>"), module)
            .ok()?;
        let policy = probe.compile_with_entrypoint(&Rc::from(first)).ok()?;
        let program = Compiler::compile_from_policy(&policy, &entries).ok()?;
        let data = probe.get_data();
        // Rule/data conflicts are left to the interpreter to report.
        let mut vm = RegoVM::new();
        vm.load_program(program.clone());
        vm.set_data(data.clone()).ok()?;
        let image = program.serialize_binary().ok()?;
        let fast = FastProgram {
            image,
            spare: Mutex::new(vec![(program, data.clone())]),
            data,
            namespaces,
        };
        if let Some(key) = cache_key {
            cache_store(key, &fast, catalog);
        }
        Some(fast)
    }

    /// The program and rule catalog stored under `key`, if any. `data` gives the merged
    /// data documents (`None` if they do not merge: the interpreter reports that).
    pub fn from_cache(key: &str, data: impl FnOnce() -> Option<Value>) -> Option<(Self, Catalog)> {
        let (image, meta) = cache_load(key)?;
        let program = deserialize(&image)?;
        let data = data()?;
        let mut vm = RegoVM::new();
        vm.load_program(program.clone());
        vm.set_data(data.clone()).ok()?;
        let fast = FastProgram {
            image,
            spare: Mutex::new(vec![(program, data.clone())]),
            data,
            namespaces: meta.namespaces,
        };
        Some((fast, meta.catalog))
    }

    /// A VM ready to evaluate documents.
    pub fn vm(self: &Arc<Self>) -> Option<FastVm> {
        let spare = self.spare.lock().ok().and_then(|mut s| s.pop());
        let (program, data) = match spare {
            Some(copy) => copy,
            None => {
                let program = deserialize(&self.image)?;
                // Data documents come from JSON/YAML, so JSON copies them exactly.
                let data = Value::from_json_str(&self.data.to_json_str().ok()?).ok()?;
                (program, data)
            }
        };
        let mut vm = RegoVM::new();
        vm.load_program(program.clone());
        // The default cap (25,000 instructions) fails on large documents; the
        // interpreter has no cap either.
        vm.set_max_instructions(usize::MAX);
        // Checked in `build`.
        let _ = vm.set_data(data.clone());
        Some(FastVm {
            vm,
            copy: Some((program, data)),
            program: self.clone(),
        })
    }
}

/// Set `REGORUN_RVM_CACHE=0` to compile the program on every run.
pub const CACHE_ENV: &str = "REGORUN_RVM_CACHE";

/// Identifies a compiled program by what it is compiled from, so that a cache hit needs
/// no policy parsing: the SHA-256 (hex) of this regorun's version, the regorus version,
/// this executable (path, size, modification time: a rebuilt regorun never reads an
/// older build's entry), the Rego version, every policy file's path and source in load
/// order, and the data documents. Every field is length-prefixed, so no two different
/// source sets hash the same bytes.
pub fn source_key(files: &[PolicyFile], data: &[DataDoc], rego_v0: bool) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(CACHE_MAGIC);
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(b"regorus 0.14.1");
    let exe = std::env::current_exe().ok();
    field(format!("{exe:?}").as_bytes());
    let stamp = exe
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| (m.len(), m.modified().ok()));
    field(format!("{stamp:?}").as_bytes());
    field(&[u8::from(rego_v0)]);
    field(&(files.len() as u64).to_le_bytes());
    for f in files {
        field(f.path.as_bytes());
        field(f.source.as_bytes());
    }
    field(&(data.len() as u64).to_le_bytes());
    for d in data {
        field(d.file.as_bytes());
        field(format!("{:?}", d.mount).as_bytes());
        field(d.value.to_string().as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What is stored beside a compiled program.
#[derive(Serialize, Deserialize)]
struct CacheMeta {
    catalog: Catalog,
    namespaces: HashMap<String, (String, Vec<String>)>,
}

/// Starts every cache file; a different format version is a miss.
const CACHE_MAGIC: &[u8] = b"regorun-rvm-cache 3\n";

/// Entries beyond these bounds are evicted, oldest (by modification time) first; a
/// program bigger than the whole budget is not stored.
const CACHE_MAX_ENTRIES: usize = 64;
const CACHE_MAX_BYTES: u64 = 64 << 20;

/// `$XDG_CACHE_HOME/regorun/rvm` or `$HOME/.cache/regorun/rvm`, created with mode 0700.
///
/// The cache is only an optimisation, so every doubt means "no cache", silently: a
/// relative `XDG_CACHE_HOME` (invalid per the XDG spec) falls back to `$HOME/.cache`, a
/// relative or missing `HOME` disables the cache, and so does a `regorun` or `rvm`
/// directory that is a symlink, not owned by the current user, or writable by group or
/// others. `None` also when `REGORUN_RVM_CACHE=0`.
#[cfg(unix)]
fn cache_dir(create: bool) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    use std::path::PathBuf;
    if std::env::var(CACHE_ENV).is_ok_and(|v| v == "0") {
        return None;
    }
    let absolute = |v: Option<std::ffi::OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    let base = absolute(std::env::var_os("XDG_CACHE_HOME"))
        .or_else(|| Some(absolute(std::env::var_os("HOME"))?.join(".cache")))?;
    let dir = base.join("regorun").join("rvm");
    if create {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .ok()?;
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    for d in [dir.parent()?, &dir] {
        let m = std::fs::symlink_metadata(d).ok()?;
        if !m.file_type().is_dir() || m.uid() != uid || m.mode() & 0o022 != 0 {
            return None;
        }
    }
    Some(dir)
}

#[cfg(not(unix))]
fn cache_dir(_create: bool) -> Option<std::path::PathBuf> {
    None
}

/// A program from its serialized image; `None` if it is incomplete or stale.
fn deserialize(image: &[u8]) -> Option<Arc<Program>> {
    match Program::deserialize_binary(image).ok()? {
        regorus::rvm::program::DeserializationResult::Complete(p) if !p.needs_recompilation => {
            Some(Arc::new(p))
        }
        _ => None,
    }
}

/// The SHA-256 that seals an entry: of its key and everything after the seal.
fn seal(key: &[u8], body: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(key);
    h.update(body);
    h.finalize().into()
}

/// A cached program image for `key`; anything else (another key, a broken seal, a
/// truncated or older-format file, a file that is not a regular file of this user)
/// counts as a miss, and the next store replaces it.
/// Layout: magic, key (64 hex digits), seal (32 bytes), metadata length (u64 LE),
/// metadata JSON, program.
#[cfg(unix)]
fn cache_load(key: &str) -> Option<(Vec<u8>, CacheMeta)> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let path = cache_dir(false)?.join(format!("{key}.rvm"));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let m = file.metadata().ok()?;
    // SAFETY: as in `cache_dir`.
    if !m.file_type().is_file()
        || m.uid() != unsafe { libc::geteuid() }
        || m.len() > CACHE_MAX_BYTES
    {
        return None;
    }
    let mut bytes = Vec::with_capacity(m.len() as usize);
    file.read_to_end(&mut bytes).ok()?;
    let rest = bytes.strip_prefix(CACHE_MAGIC)?;
    let rest = rest.strip_prefix(key.as_bytes())?;
    let (sealed, body) = rest.split_first_chunk::<32>()?;
    if *sealed != seal(key.as_bytes(), body) {
        return None;
    }
    let (len, rest) = body.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    let (meta, program) = rest.split_at_checked(len)?;
    let meta: CacheMeta = serde_json::from_slice(meta).ok()?;
    // Recently used entries are the last to be evicted.
    let _ = file.set_modified(std::time::SystemTime::now());
    Some((program.to_vec(), meta))
}

#[cfg(not(unix))]
fn cache_load(_key: &str) -> Option<(Vec<u8>, CacheMeta)> {
    None
}

/// Stores a program for later runs; failures are ignored (the cache is optional). The
/// file is created exclusively (so a planted symlink is not followed) under a unique
/// temporary name and renamed, so readers never see half of it; then the oldest entries
/// beyond the size bounds are evicted.
#[cfg(unix)]
fn cache_store(key: &str, fast: &FastProgram, catalog: &Catalog) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let meta = CacheMeta {
        catalog: catalog.clone(),
        namespaces: fast.namespaces.clone(),
    };
    let Ok(meta) = serde_json::to_vec(&meta) else {
        return;
    };
    let mut body = (meta.len() as u64).to_le_bytes().to_vec();
    body.extend_from_slice(&meta);
    body.extend_from_slice(&fast.image);
    let mut bytes = CACHE_MAGIC.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    bytes.extend_from_slice(&seal(key.as_bytes(), &body));
    bytes.extend_from_slice(&body);
    if bytes.len() as u64 > CACHE_MAX_BYTES {
        return;
    }
    let Some(dir) = cache_dir(true) else { return };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(
        "{key}.{}.{}.{nanos}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&bytes));
    if written.is_err() || std::fs::rename(&tmp, dir.join(format!("{key}.rvm"))).is_err() {
        let _ = std::fs::remove_file(&tmp);
        return;
    }
    evict(&dir);
}

#[cfg(not(unix))]
fn cache_store(_key: &str, _fast: &FastProgram, _catalog: &Catalog) {}

/// Removes the oldest entries until at most `CACHE_MAX_ENTRIES` of at most
/// `CACHE_MAX_BYTES` in all remain.
fn evict(dir: &std::path::Path) {
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = list
        .filter_map(|e| {
            let e = e.ok()?;
            let m = e.metadata().ok()?;
            let is_entry = e.file_name().to_str()?.ends_with(".rvm");
            (is_entry && m.is_file()).then(|| (m.modified().ok(), m.len(), e.path()))
        })
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut total = 0u64;
    for (i, (_, len, path)) in entries.iter().enumerate() {
        total = total.saturating_add(*len);
        if i >= CACHE_MAX_ENTRIES || total > CACHE_MAX_BYTES {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// One worker's VM.
pub struct FastVm {
    vm: RegoVM,
    /// This VM's copy of the program and data, handed back for reuse when it is dropped.
    copy: Option<(Arc<Program>, Value)>,
    program: Arc<FastProgram>,
}

impl Drop for FastVm {
    fn drop(&mut self) {
        if let (Some(copy), Ok(mut spare)) = (self.copy.take(), self.program.spare.lock()) {
            spare.push(copy);
        }
    }
}

impl FastVm {
    /// Bounds the next evaluations' running time (`None`: no bound).
    pub fn set_time_limit(&mut self, limit: Option<std::time::Duration>) {
        let config = limit.map(|limit| regorus::utils::limits::ExecutionTimerConfig {
            limit,
            check_interval: TIMER_CHECK_INTERVAL,
        });
        self.vm.set_execution_timer_config(config);
    }

    /// The value of every exception and rule query of `namespace` for `input`
    /// (`Undefined` when a rule is undefined), or `None` to ask the interpreter.
    pub fn eval_namespace(
        &mut self,
        namespace: &str,
        input: Value,
    ) -> Option<Vec<(String, Value)>> {
        let (entry, queries) = self.program.namespaces.get(namespace)?;
        self.vm.set_input(input);
        let all = self.vm.execute_entry_point_by_name(entry).ok()?;
        let Value::Array(items) = all else {
            return None;
        };
        if items.len() != queries.len() {
            return None;
        }
        let mut out = Vec::with_capacity(queries.len());
        for (q, item) in queries.iter().zip(items.iter()) {
            let value = match item {
                Value::Array(a) if a.is_empty() => Value::Undefined,
                Value::Array(a) if a.len() == 1 => a[0].clone(),
                _ => return None,
            };
            out.push((q.clone(), value));
        }
        Some(out)
    }
}
