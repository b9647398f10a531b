//! The RVM fast path: the queried rules compiled once to regorus bytecode and run on a
//! `RegoVM` per worker, about 2-4x faster than the tree-walking interpreter.
//!
//! It is only used where it gives the interpreter's answers: compilation fails (and the
//! interpreter is used) for `print`, `with`, extensions such as `parse_config` and the
//! `data.conftest.file` rule, and unsupported rule shapes; strict built-in errors keep
//! the interpreter because the RVM turns built-in errors into undefined. A VM error
//! while evaluating a document (such as the instruction cap) sends that document back to
//! the interpreter.

use crate::policy::Catalog;
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::Program;
use regorus::rvm::RegoVM;
use regorus::{Engine, Rc, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Set `REGORUN_RVM=0` to always use the interpreter (for comparisons and bisecting).
pub const DISABLE_ENV: &str = "REGORUN_RVM";

/// The package of the synthetic rules that gather a namespace's results.
const FAST_PACKAGE: &str = "__regorun_fast";

/// A compiled program shared by every worker.
pub struct FastProgram {
    program: Arc<Program>,
    data: Value,
    /// Namespace name → (entry point, queries in the order of its result array).
    namespaces: HashMap<String, (String, Vec<String>)>,
}

impl FastProgram {
    /// Compiles one entry point per namespace that evaluates its exception and every
    /// deny/warn/violation rule in a single run, so helper rules shared by the checks are
    /// computed once per document instead of once per rule. `None` when the RVM cannot
    /// run the policies exactly.
    pub fn build(engine: &Engine, catalog: &Catalog, strict_builtin_errors: bool) -> Option<Self> {
        if strict_builtin_errors || std::env::var(DISABLE_ENV).is_ok_and(|v| v == "0") {
            return None;
        }
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
        let key = cache_key(engine, &module, &entries);
        if let Some(program) = cache_load(&key) {
            let data = engine.get_data();
            let mut vm = RegoVM::new();
            vm.load_program(program.clone());
            if vm.set_data(data.clone()).is_ok() {
                return Some(FastProgram {
                    program,
                    data,
                    namespaces,
                });
            }
        }
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
        cache_store(&key, &program);
        Some(FastProgram {
            program,
            data,
            namespaces,
        })
    }

    /// A VM ready to evaluate documents.
    pub fn vm(self: &Arc<Self>) -> FastVm {
        let mut vm = RegoVM::new();
        vm.load_program(self.program.clone());
        // The default cap (25,000 instructions) fails on large documents; the
        // interpreter has no cap either.
        vm.set_max_instructions(usize::MAX);
        // Checked in `build`.
        let _ = vm.set_data(self.data.clone());
        FastVm {
            vm,
            program: self.clone(),
        }
    }
}

/// Set `REGORUN_RVM_CACHE=0` to compile the program on every run.
pub const CACHE_ENV: &str = "REGORUN_RVM_CACHE";

/// Identifies a compiled program: regorun and regorus versions, the generated entry
/// module, every loaded module's path, syntax and source, and the data documents. Two
/// independent 64-bit hashes keep accidental collisions out of reach.
fn cache_key(engine: &Engine, module: &str, entries: &[&str]) -> String {
    use std::hash::{Hash, Hasher};
    let mut engine = engine.clone();
    let mut parts: Vec<String> = vec![
        format!("regorun {}", env!("CARGO_PKG_VERSION")),
        "regorus 0.14.1".to_string(),
        module.to_string(),
        {
            // `entries` follows a HashMap's per-process order.
            let mut sorted = entries.to_vec();
            sorted.sort_unstable();
            sorted.join("\n")
        },
        engine.get_data().to_json_str().unwrap_or_default(),
    ];
    for m in engine.get_modules() {
        let src = &m.package.span.source;
        parts.push(format!(
            "{}\n{}\n{}",
            src.get_path(),
            m.rego_v1,
            src.get_contents()
        ));
    }
    let mut out = String::new();
    for seed in [0x5eed_u64, 0xfeed] {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut h);
        for p in &parts {
            p.hash(&mut h);
        }
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

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

/// A cached program for `key`; anything unreadable or incomplete counts as a miss.
fn cache_load(key: &str) -> Option<Arc<Program>> {
    let bytes = std::fs::read(cache_dir()?.join(format!("{key}.rvm"))).ok()?;
    match Program::deserialize_binary(&bytes).ok()? {
        regorus::rvm::program::DeserializationResult::Complete(p) if !p.needs_recompilation => {
            Some(Arc::new(p))
        }
        _ => None,
    }
}

/// Stores a program for later runs; failures are ignored (the cache is optional). The
/// file is written under a temporary name and renamed, so readers never see half of it.
fn cache_store(key: &str, program: &Program) {
    let Some(dir) = cache_dir() else { return };
    let Ok(bytes) = program.serialize_binary() else {
        return;
    };
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
    program: Arc<FastProgram>,
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
