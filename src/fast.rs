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
