//! The RVM fast path: the queried rules compiled once to regorus bytecode and run on a
//! `RegoVM` per worker, about 2-4x faster than the tree-walking interpreter.
//!
//! It is only used where it gives the interpreter's answers: compilation fails (and the
//! interpreter is used) for `print`, `with`, extensions such as `parse_config` and the
//! `data.conftest.file` rule, and unsupported rule shapes; strict built-in errors keep
//! the interpreter because the RVM turns built-in errors into undefined. A VM error
//! while evaluating a document (such as the instruction cap) sends that document back to
//! the interpreter.

use crate::data::DataDoc;
use crate::policy::{Catalog, PolicyFile};
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
    /// Whether the fast path may be used at all: not with strict built-in errors (the RVM
    /// turns built-in errors into undefined) nor when `REGORUN_RVM=0`.
    pub fn enabled(strict_builtin_errors: bool) -> bool {
        !strict_builtin_errors && !std::env::var(DISABLE_ENV).is_ok_and(|v| v == "0")
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
/// no policy parsing: this executable (path, size, modification time: a rebuilt regorun
/// never reads an older build's entry), the regorus version, the Rego version, every
/// policy file's path and source in load order, and the data documents. Two independent
/// 64-bit hashes keep accidental collisions out of reach.
pub fn source_key(files: &[PolicyFile], data: &[DataDoc], rego_v0: bool) -> String {
    use std::hash::{Hash, Hasher};
    let exe = std::env::current_exe().ok();
    let exe_stamp = exe
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| (m.len(), m.modified().ok()));
    let mut out = String::new();
    for seed in [0x5eed_u64, 0xfeed] {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        "regorus 0.14.1".hash(&mut h);
        exe.hash(&mut h);
        exe_stamp.hash(&mut h);
        rego_v0.hash(&mut h);
        files.len().hash(&mut h);
        for f in files {
            f.path.hash(&mut h);
            f.source.hash(&mut h);
        }
        data.len().hash(&mut h);
        for d in data {
            d.file.hash(&mut h);
            d.mount.hash(&mut h);
            d.value.to_string().hash(&mut h);
        }
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// What is stored beside a compiled program.
#[derive(Serialize, Deserialize)]
struct CacheMeta {
    catalog: Catalog,
    namespaces: HashMap<String, (String, Vec<String>)>,
}

/// Starts every cache file; a different format version is a miss.
const CACHE_MAGIC: &[u8] = b"regorun-rvm-cache 2\n";

/// `$XDG_CACHE_HOME/regorun/rvm` or `~/.cache/regorun/rvm`; `None` when disabled.
fn cache_dir() -> Option<std::path::PathBuf> {
    if std::env::var(CACHE_ENV).is_ok_and(|v| v == "0") {
        return None;
    }
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(d) if !d.is_empty() => std::path::PathBuf::from(d),
        _ => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("regorun").join("rvm"))
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

/// A cached program image for `key`; anything unreadable counts as a miss.
/// Layout: magic, metadata length (u64 LE), metadata JSON, program.
fn cache_load(key: &str) -> Option<(Vec<u8>, CacheMeta)> {
    let bytes = std::fs::read(cache_dir()?.join(format!("{key}.rvm"))).ok()?;
    let rest = bytes.strip_prefix(CACHE_MAGIC)?;
    let (len, rest) = rest.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    let (meta, program) = rest.split_at_checked(len)?;
    let meta: CacheMeta = serde_json::from_slice(meta).ok()?;
    Some((program.to_vec(), meta))
}

/// Stores a program for later runs; failures are ignored (the cache is optional). The
/// file is written under a temporary name and renamed, so readers never see half of it.
fn cache_store(key: &str, fast: &FastProgram, catalog: &Catalog) {
    let Some(dir) = cache_dir() else { return };
    let program = &fast.image;
    let meta = CacheMeta {
        catalog: catalog.clone(),
        namespaces: fast.namespaces.clone(),
    };
    let Ok(meta) = serde_json::to_vec(&meta) else {
        return;
    };
    let mut bytes = CACHE_MAGIC.to_vec();
    bytes.extend_from_slice(&(meta.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&meta);
    bytes.extend_from_slice(program);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let tmp = dir.join(format!("{key}.{}.tmp", std::process::id()));
    if std::fs::write(&tmp, bytes).is_ok()
        && std::fs::rename(&tmp, dir.join(format!("{key}.rvm"))).is_err()
    {
        let _ = std::fs::remove_file(&tmp);
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
