//! Evaluation: one prepared regorus engine built from the policies and data, cloned per
//! worker, queried the way conftest queries rules (spec section 7).

use crate::base::result::{CheckResult, Location, Message};
use crate::base::value::{to_json, to_rego};
use crate::engine::data::{self, DataDoc};
use crate::engine::fast::{FastProgram, FastVm, TIMER_CHECK_INTERVAL};
use crate::engine::trace::Step;
use crate::rego::diagnostic::{format_eval_error, format_rego_error};
use crate::rego::policy::{self, Catalog, Namespace, PolicyFile, RuleKind};
use anyhow::{anyhow, bail, Result};
use regorus::{Engine, Value};
use serde_json::Map;
use std::cell::RefCell;
use std::sync::{Arc, Mutex};

/// The synthetic module that serves `data.conftest.file` from a per-document value, so the
/// prepared engine is never invalidated by per-file `add_data`.
const CONFTEST_FILE_MODULE: &str = "package conftest\n\nfile := __regorun_conftest_file(0)\n";
const CONFTEST_FILE_MODULE_PATH: &str = "<regorun:conftest.file>";
const CONFTEST_FILE_EXTENSION: &str = "__regorun_conftest_file";

thread_local! {
    static CURRENT_FILE: RefCell<Value> = const { RefCell::new(Value::Undefined) };
}

/// How policies are compiled.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Parse policies as Rego v0.
    pub rego_v0: bool,
    /// Built-in errors abort evaluation.
    pub strict_builtin_errors: bool,
    /// OPA strict mode: unused assignments and arguments are compile errors.
    pub strict: bool,
    /// Never use the RVM fast path (`REGORUN_RVM=0`).
    pub interpreter_only: bool,
    /// `--timeout`: the longest one document's evaluation may run.
    pub timeout: Option<std::time::Duration>,
}

impl EngineOptions {
    /// Whether the RVM fast path may evaluate documents: not when asked for the
    /// interpreter, nor with strict built-in errors (the RVM turns them into undefined).
    pub fn fast_path(&self) -> bool {
        !self.interpreter_only && !self.strict_builtin_errors
    }
}

/// What an engine is built from, kept so that a run served from the program cache can
/// still build the interpreter when a document needs it.
struct Recipe {
    files: Vec<PolicyFile>,
    data: Vec<DataDoc>,
    opts: EngineOptions,
    /// `files` after the load-time rewrites, made once and only when something parses
    /// them (a run served from the cache needs none).
    sources: std::sync::OnceLock<Vec<PolicyFile>>,
}

impl Recipe {
    fn sources(&self) -> &[PolicyFile] {
        self.sources.get_or_init(|| {
            let roots = crate::engine::data::roots(&self.data);
            policy::with_compat(self.files.clone(), self.opts.rego_v0, &roots)
        })
    }
}

/// A compiled, prepared engine plus what it declares.
pub struct PolicyEngine {
    /// This worker's interpreter; `None` until first needed when the cached program
    /// answered everything so far.
    engine: Option<Engine>,
    /// The prepared interpreter workers clone, built at most once per run.
    prototype: Arc<Mutex<Option<Engine>>>,
    recipe: Arc<Recipe>,
    /// Namespaces and rules found in the policies.
    pub catalog: Catalog,
    serves_conftest_file: bool,
    /// The RVM program, when it evaluates these policies exactly.
    fast: Option<Arc<FastProgram>>,
    /// This worker's VM, made on first use.
    vm: Option<FastVm>,
    /// `--trace`: record a [`crate::base::result::QueryTrace`] per query into the results.
    trace: bool,
    /// Some policy calls `print`.
    calls_print: bool,
    /// The string checks of the replaced built-ins the VM may call
    /// ([`crate::engine::builtins::vm_string_checks`]): a document holding a string one
    /// picks out goes to the interpreter.
    vm_strings: Vec<crate::engine::builtins::StringCheck>,
}

impl Clone for PolicyEngine {
    /// Cheap: the prepared engine and the program are shared; the clone makes its own VM.
    fn clone(&self) -> Self {
        PolicyEngine {
            engine: self.engine.clone(),
            prototype: self.prototype.clone(),
            recipe: self.recipe.clone(),
            catalog: self.catalog.clone(),
            serves_conftest_file: self.serves_conftest_file,
            fast: self.fast.clone(),
            vm: None,
            trace: self.trace,
            calls_print: self.calls_print,
            vm_strings: self.vm_strings.clone(),
        }
    }
}

/// What the policies' tokens tell, from one lexer pass: whether any policy can refer to
/// `data.conftest.file` (a `conftest` name or `"conftest"` key in its code, comments and
/// other strings aside, or `data` read other than through a dotted name: `data[k]`,
/// `walk(data, ...)`), and whether any calls `print`. A file that does not lex counts
/// for both.
fn lexed_facts(files: &[PolicyFile]) -> (bool, bool) {
    use regorus::unstable::TokenKind;
    let (mut conftest_file, mut print) = (false, false);
    for f in files {
        let Some(toks) = crate::rego::compat::lex(&f.path, &f.source) else {
            return (true, true);
        };
        for (i, t) in toks.iter().enumerate() {
            conftest_file |= match t.kind {
                TokenKind::Ident if t.text == "conftest" => true,
                TokenKind::String | TokenKind::RawString => t.text == "conftest",
                TokenKind::Ident if t.text == "data" => {
                    // The root document (not a field `x.data`) other than as `data.name`.
                    let field = i > 0 && toks[i - 1].text == ".";
                    !field && toks.get(i + 1).is_none_or(|n| n.text != ".")
                }
                _ => false,
            };
            print |= t.kind == TokenKind::Ident
                && t.text == "print"
                && toks.get(i + 1).is_some_and(|n| n.text == "(");
        }
    }
    (conftest_file, print)
}

/// Whether a string in `v` (a value or an object key) is one of `checks` picks out.
fn holds_string(v: &Value, checks: &[crate::engine::builtins::StringCheck]) -> bool {
    match v {
        _ if checks.is_empty() => false,
        Value::String(s) => checks.iter().any(|c| (c.document)(s)),
        Value::Array(a) => a.iter().any(|x| holds_string(x, checks)),
        Value::Set(a) => a.iter().any(|x| holds_string(x, checks)),
        Value::Object(o) => o
            .iter()
            .any(|(k, x)| holds_string(k, checks) || holds_string(x, checks)),
        _ => false,
    }
}

/// Compiles `files` (already through the load-time rewrites, [`Recipe::sources`]) and
/// merges `data` into a fresh engine; errors use conftest's wording.
/// With `rewrite`, sources get the rewrites that make the interpreter give OPA's answers
/// (the bytecode VM gives them without). `conftest_file`: the first of [`lexed_facts`] of the
/// policies, decided once per run.
fn build_engine(
    files: &[PolicyFile],
    originals: &[PolicyFile],
    data: &[DataDoc],
    opts: &EngineOptions,
    rewrite: bool,
    conftest_file: bool,
) -> Result<Engine> {
    let mut engine = crate::rego::limits::engine();
    engine.set_rego_v0(opts.rego_v0);
    engine.set_gather_prints(true);
    engine.set_strict_builtin_errors(opts.strict_builtin_errors);
    let mut errors = Vec::new();
    let mut rewritten = false;
    for f in files {
        // The rewritten source when there is one; a rewrite that does not load is dropped,
        // so that errors always quote the user's source.
        if let Some(source) = rewrite
            .then(|| {
                crate::rego::rewrite::for_interpreter(
                    &f.path,
                    &f.source,
                    opts.rego_v0,
                    !opts.strict_builtin_errors,
                )
            })
            .flatten()
        {
            if engine.add_policy(f.path.clone(), source).is_ok() {
                rewritten = true;
                continue;
            }
        }
        if let Err(e) = engine.add_policy(f.path.clone(), f.source.clone()) {
            let original = originals.iter().find(|o| o.path == f.path);
            let original = original.map(|o| o.source.as_str());
            errors.push(format_rego_error(&f.path, &e.to_string(), original));
        }
    }
    if !errors.is_empty() {
        let hint = (!opts.rego_v0)
            .then(|| crate::rego::diagnostic::v0_hint(&errors))
            .flatten()
            .map(|h| format!("\n{h}"))
            .unwrap_or_default();
        bail!(
            "loading policies: load: {} error{} occurred during loading: {}{hint}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join("\n")
        );
    }
    if rewritten {
        engine
            .add_policy(
                crate::rego::rewrite::HELPER_PATH.to_string(),
                crate::rego::rewrite::HELPER_MODULE.to_string(),
            )
            .map_err(|e| anyhow!("loading policies: {e}"))?;
    }
    if conftest_file {
        engine
            .add_extension(
                CONFTEST_FILE_EXTENSION.to_string(),
                1,
                Box::new(|_args: Vec<Value>| Ok(CURRENT_FILE.with(|c| c.borrow().clone()))),
            )
            .map_err(|e| anyhow!("loading policies: {e}"))?;
        engine
            .add_policy(
                CONFTEST_FILE_MODULE_PATH.to_string(),
                CONFTEST_FILE_MODULE.to_string(),
            )
            .map_err(|e| anyhow!("loading policies: {e}"))?;
    }
    crate::engine::builtins::register(
        &mut engine,
        files,
        opts.strict_builtin_errors,
        opts.rego_v0,
    )?;
    add_data(&mut engine, data)?;
    Ok(engine)
}

/// OPA's compile-error report: `get compiler: 1 error occurred: <e>` or
/// `get compiler: N errors occurred:` and one error a line.
fn compile_errors(errors: &[String]) -> Result<()> {
    match errors {
        [] => Ok(()),
        [one] => bail!("loading policies: get compiler: 1 error occurred: {one}"),
        many => bail!(
            "loading policies: get compiler: {} errors occurred:\n{}",
            many.len(),
            many.join("\n")
        ),
    }
}

fn add_data(engine: &mut Engine, data: &[DataDoc]) -> Result<()> {
    for doc in data {
        let v = to_rego(data::mounted(doc))?;
        engine.add_data(v).map_err(|_| {
            anyhow!(
                "load documents: 1 error occurred during loading: {}: merge error",
                doc.file
            )
        })?;
    }
    Ok(())
}

/// Runs one evaluation so that clones share the analysed, scheduled policy.
fn prepare(engine: &mut Engine, catalog: &Catalog) {
    engine.set_input(Value::new_object());
    let probe = catalog
        .by_namespace
        .values()
        .flat_map(|ns| ns.rules.first())
        .map(|r| r.query.clone())
        .next();
    if let Some(q) = probe {
        // Only the side effect matters; a rule failing (or panicking) on `{}` is not an
        // error here: the documents' own evaluations report it.
        let _ = crate::engine::guard::catch(|| {
            let _ = engine.eval_rule(q);
            let _ = engine.take_prints();
        });
    }
}

impl PolicyEngine {
    /// Compiles `files` and merges `data`; errors use conftest's wording.
    ///
    /// When the compiled program for exactly these sources, data and options is in the
    /// cache, nothing is parsed: the program and rule catalog come from the cache and the
    /// interpreter is only built if a document needs it.
    pub fn new(files: &[PolicyFile], data: &[DataDoc], opts: &EngineOptions) -> Result<Self> {
        Self::new_guarded(files, data, opts, false)
    }

    /// [`PolicyEngine::new`] for `files` that already went through
    /// [`policy::with_compat`] (`verify` reads its tests from them): not rewritten again.
    pub fn new_rewritten(
        files: &[PolicyFile],
        data: &[DataDoc],
        opts: &EngineOptions,
    ) -> Result<Self> {
        Self::new_guarded(files, data, opts, true)
    }

    fn new_guarded(
        files: &[PolicyFile],
        data: &[DataDoc],
        opts: &EngineOptions,
        rewritten: bool,
    ) -> Result<Self> {
        if let Some((file, line, n)) = crate::rego::limits::overlong_chain(
            files.iter().map(|f| (f.path.as_str(), f.source.as_str())),
        ) {
            bail!(
                "loading policies: {file}:{line}: an expression chaining {n} or more operators is more than regorus evaluates without running out of stack (at most {}; OPA loads it): split it into smaller rules",
                crate::rego::limits::MAX_CHAIN
            );
        }
        crate::engine::guard::catch(|| Self::new_unguarded(files, data, opts, rewritten)).unwrap_or_else(
            |panic| match crate::rego::limits::overlong_line(
                files.iter().map(|f| (f.path.as_str(), f.source.as_str())),
            ) {
                // regorus 0.14 panics formatting a parse message past column 65,535.
                Some((file, line, chars)) if panic.starts_with("Formatting argument out of range") => bail!(
                    "loading policies: {file}:{line}: line is {chars} characters long, and regorus fails on it past column {} (OPA loads it): split the line, or move long values into a --data document",
                    crate::rego::limits::MAX_LINE_CHARS
                ),
                _ => bail!("loading policies: internal error in the Rego engine: {panic}"),
            },
        )
    }

    fn new_unguarded(
        files: &[PolicyFile],
        data: &[DataDoc],
        opts: &EngineOptions,
        rewritten: bool,
    ) -> Result<Self> {
        let sources = std::sync::OnceLock::new();
        if rewritten {
            let _ = sources.set(files.to_vec());
        }
        // Built-ins whose regorus versions differ from OPA's only on some strings keep the
        // VM for documents without them, and the whole run when the policies or the data
        // hold one goes to the interpreter.
        let vm_strings = if opts.fast_path() {
            crate::engine::builtins::vm_string_checks(files)
        } else {
            Vec::new()
        };
        let local;
        let opts = if !vm_strings.is_empty()
            && (files
                .iter()
                .any(|f| vm_strings.iter().any(|c| (c.source)(&f.source)))
                || data
                    .iter()
                    .any(|d| to_rego(d.value.clone()).is_ok_and(|v| holds_string(&v, &vm_strings))))
        {
            local = EngineOptions {
                interpreter_only: true,
                ..opts.clone()
            };
            &local
        } else {
            opts
        };
        let recipe = Arc::new(Recipe {
            files: files.to_vec(),
            data: data.to_vec(),
            opts: opts.clone(),
            sources,
        });
        let (serves_conftest_file, calls_print) = lexed_facts(files);
        let key = (!opts.strict && opts.fast_path())
            .then(|| crate::engine::fast::source_key(files, data, opts.rego_v0));
        if let Some(key) = &key {
            if let Some((fast, catalog)) = FastProgram::from_cache(key, || {
                let mut engine = crate::rego::limits::engine();
                add_data(&mut engine, data).ok()?;
                Some(engine.get_data())
            }) {
                return Ok(PolicyEngine {
                    engine: None,
                    prototype: Arc::default(),
                    recipe,
                    catalog,
                    serves_conftest_file,
                    fast: Some(Arc::new(fast)),
                    vm: None,
                    trace: false,
                    calls_print,
                    vm_strings,
                });
            }
        }
        let parsed = Arc::clone(&recipe);
        let files = parsed.sources();
        // After the rewrites, which read deep JSON literals as JSON text.
        if let Some((file, line, depth)) = crate::rego::limits::overdeep_nesting(
            files.iter().map(|f| (f.path.as_str(), f.source.as_str())),
        ) {
            bail!(
                "loading policies: {file}:{line}: brackets nested {depth} levels deep are more than regorus parses in reasonable time (its parser takes twice as long for each level; at most {}; OPA loads it): move the value into a --data document, or build it in steps",
                crate::rego::limits::MAX_NESTING
            );
        }
        let mut engine = build_engine(
            files,
            &parsed.files,
            data,
            opts,
            false,
            serves_conftest_file,
        )?;
        let mut catalog = policy::catalog(&mut engine);
        if serves_conftest_file {
            let own = catalog.namespaces.iter().position(|n| n == "conftest");
            let user_has_conftest = files.iter().any(|f| {
                f.source
                    .lines()
                    .any(|l| l.trim_start().starts_with("package conftest"))
            });
            if let (Some(i), false) = (own, user_has_conftest) {
                catalog.namespaces.remove(i);
                catalog.by_namespace.remove("conftest");
            }
        }
        // OPA's compiler rejects these; regorus would overflow its stack or pick a value.
        let graph = crate::rego::deps::Graph::build(&policy::modules_by_path(&mut engine));
        let mut errors = graph.recursion_errors();
        // OPA's type checker refuses calls of unknown functions at load time; regorus would
        // only fail when (and if) the rule runs, so an unevaluated typo passed silently.
        // Also calls with a literal argument of a kind the built-in refuses (`upper(1)`).
        errors.extend(graph.call_errors(
            |name| crate::engine::builtins::arity(name, opts.rego_v0),
            crate::engine::builtins::signature,
        ));
        errors.extend(graph.default_errors());
        if !data.is_empty() {
            errors.extend(graph.data_conflicts(&engine.get_data()));
        }
        if opts.strict {
            errors.extend(
                crate::rego::strict::check(&mut engine)
                    .iter()
                    .map(|e| e.to_string()),
            );
        }
        compile_errors(&errors)?;
        for note in graph.notes() {
            eprintln!("regorun: warning: {note}");
        }
        if let Some((file, line)) = &catalog.problematic_if {
            bail!("loading policies: rule is using 'if' keyword without 'contains' keyword: rule in {file} at line {line}");
        }
        // The RVM does not raise conflicts between definitions, nor see the built-ins
        // regorun replaces, and gets some rule heads wrong: only the interpreter
        // evaluates policies that need any of these.
        // A cached program would skip the notes.
        let key = key.filter(|_| graph.notes().is_empty());
        let fast = if opts.fast_path()
            && !graph.may_conflict()
            && graph.vm_unsafe().is_none()
            && !crate::engine::builtins::calls_replaced(files)
        {
            // A compiler panic only costs the fast path.
            crate::engine::guard::catch(|| FastProgram::build(&engine, &catalog, key.as_deref()))
                .ok()
                .flatten()
                .map(Arc::new)
        } else {
            None
        };
        // The interpreter needs the rewritten sources; with the fast path it only serves
        // rare fallbacks and is built when first needed. Deciding costs a lexing, not the
        // rewrites themselves, which `build_engine` makes once when it builds it.
        let needs_rewrite = files.iter().any(|f| {
            crate::rego::rewrite::may_rewrite_for_interpreter(
                &f.path,
                &f.source,
                !opts.strict_builtin_errors,
            )
        });
        let engine = match (needs_rewrite, fast.is_some()) {
            (true, true) => None,
            (true, false) => Some(build_engine(
                files,
                &parsed.files,
                data,
                opts,
                true,
                serves_conftest_file,
            )?),
            (false, _) => Some(engine),
        };
        let mut engine = engine;
        // A worker's engine prepares itself on first use with the fast path; preparing
        // here would cost every run ~2 ms.
        if let (Some(engine), None) = (engine.as_mut(), &fast) {
            prepare(engine, &catalog);
        }
        Ok(PolicyEngine {
            engine,
            prototype: Arc::default(),
            recipe,
            catalog,
            serves_conftest_file,
            fast,
            vm: None,
            trace: false,
            calls_print,
            vm_strings,
        })
    }

    /// The interpreter, built (once per run, then cloned) if the cache made it unnecessary
    /// so far.
    pub fn engine_mut(&mut self) -> Result<&mut Engine> {
        if self.engine.is_none() {
            // A worker that panicked while holding the lock left no half-built prototype:
            // it is only stored once complete.
            let mut shared = self
                .prototype
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if shared.is_none() {
                let r = &self.recipe;
                let mut engine = build_engine(
                    r.sources(),
                    &r.files,
                    &r.data,
                    &r.opts,
                    true,
                    self.serves_conftest_file,
                )?;
                prepare(&mut engine, &self.catalog);
                *shared = Some(engine);
            }
            self.engine = shared.clone();
        }
        self.engine
            .as_mut()
            .ok_or_else(|| anyhow!("loading policies: no engine"))
    }

    /// Whether a result can depend on the input's file name (`data.conftest.file`): when
    /// not, two files with the same bytes (and parser) give the same results.
    pub fn reads_file_name(&self) -> bool {
        self.serves_conftest_file
    }

    /// Whether results may carry `print()` lines (from the policies' tokens).
    pub fn may_print(&self) -> bool {
        self.calls_print
    }

    /// Whether documents go through the RVM fast path.
    pub fn uses_fast_path(&self) -> bool {
        self.fast.is_some()
    }

    /// Evaluates everything with the interpreter from now on (tracing, coverage, tests).
    /// Call it before cloning workers so that they share the prepared engine.
    pub fn disable_fast_path(&mut self) -> Result<()> {
        if self.fast.take().is_some() {
            // An engine built now is prepared already.
            let built = self.engine.is_some();
            let catalog = self.catalog.clone();
            let engine = self.engine_mut()?;
            if built {
                prepare(engine, &catalog);
            }
        }
        self.vm = None;
        Ok(())
    }

    /// Turns `--trace` recording on: the interpreter evaluates everything, and regorus line
    /// coverage lists the lines each query evaluated.
    pub fn set_trace(&mut self, on: bool) -> Result<()> {
        if on {
            self.disable_fast_path()?;
        }
        self.trace = on;
        if on || self.engine.is_some() {
            self.engine_mut()?.set_enable_coverage(on);
        }
        Ok(())
    }

    /// Evaluates one namespace against one document. A panic inside the engine is an
    /// error for this document; the worker's engine and VM are rebuilt for the next one.
    pub fn check_document(
        &mut self,
        ns: &Namespace,
        input: Value,
        file_info: &Value,
        filename: &str,
    ) -> Result<CheckResult> {
        match crate::engine::guard::catch(|| {
            self.check_document_unguarded(ns, input, file_info, filename)
        }) {
            Ok(result) => result,
            Err(panic) => {
                self.engine = None;
                self.vm = None;
                bail!("evaluating {filename}: internal error in the Rego engine: {panic}")
            }
        }
    }

    fn check_document_unguarded(
        &mut self,
        ns: &Namespace,
        input: Value,
        file_info: &Value,
        filename: &str,
    ) -> Result<CheckResult> {
        let limit = self.recipe.opts.timeout;
        let deadline = limit.map(|l| std::time::Instant::now() + l);
        let timed_out = || {
            anyhow!(
                "evaluating {filename}: evaluation ran past the --timeout of {:?}",
                limit.unwrap_or_default()
            )
        };
        let vm_strings = &self.vm_strings;
        if let Some(fast) = self
            .fast
            .as_ref()
            .filter(|_| !holds_string(&input, vm_strings))
        {
            if self.vm.is_none() {
                self.vm = fast.vm();
            }
            // On any VM error, panic or odd result the interpreter gives the authoritative
            // answer: it has the replacements of the built-ins that panic in regorus.
            let vm = &mut self.vm;
            let values = crate::engine::guard::catch(|| {
                vm.as_mut().and_then(|vm| {
                    vm.set_time_limit(limit);
                    vm.eval_namespace(&ns.name, input.clone())
                })
            })
            .unwrap_or_else(|_| {
                // A VM that panicked may be half-updated.
                *vm = None;
                None
            });
            if values.is_none() && deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Err(timed_out());
            }
            if let Some(values) = values {
                let lookup = |q: &str| match values.iter().find(|(k, _)| k == q) {
                    Some((_, v)) => Ok(v.clone()),
                    None => Err("not compiled"),
                };
                if let Ok(result) = check_with(ns, filename, lookup, |_, _| {}) {
                    return Ok(result);
                }
            }
        }
        if self.serves_conftest_file {
            CURRENT_FILE.with(|c| *c.borrow_mut() = file_info.clone());
        }
        // With the user's sources, whose lines the trace shows.
        let mut tracer = self.trace.then(|| {
            (
                crate::engine::trace::DocumentTracer::new(&input),
                self.recipe.clone(),
            )
        });
        let trace = self.trace;
        let engine = self.engine_mut()?;
        if trace {
            engine.clear_coverage_data();
        }
        engine.set_input(input);
        let engine = std::cell::RefCell::new(engine);
        check_with(
            ns,
            filename,
            |q| {
                let mut engine = engine.borrow_mut();
                if let Some(deadline) = deadline {
                    // One budget for the whole document, across its queries.
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Err(timed_out());
                    }
                    engine.set_execution_timer_config(
                        regorus::utils::limits::ExecutionTimerConfig {
                            limit: left,
                            check_interval: TIMER_CHECK_INTERVAL,
                        },
                    );
                }
                engine.eval_rule(q.to_string()).map_err(|e| {
                    let raw = e.to_string();
                    if deadline.is_some() && raw.contains("execution exceeded time limit") {
                        timed_out()
                    } else if q.ends_with(".exception") {
                        anyhow!("query exception: {}", format_eval_error(&e.to_string()))
                    } else {
                        anyhow!(
                            "query rule: check: query rule: {}",
                            format_eval_error(&e.to_string())
                        )
                    }
                })
            },
            |result, step| {
                let before = result.prints.len();
                if let Step::ExceptionEvaluated { .. } | Step::RuleEvaluated { .. } = step {
                    if let Ok(prints) = engine.borrow_mut().take_prints() {
                        result.prints.extend(prints);
                    }
                }
                if let Some((t, recipe)) = tracer.as_mut() {
                    t.observe(
                        &mut engine.borrow_mut(),
                        &recipe.files,
                        result,
                        before,
                        &step,
                    );
                }
            },
        )
    }
}

/// conftest's per-document evaluation (spec 7): the exception rule once, then every rule
/// not excepted, counting successes. `eval` queries one rule; `after` sees each step.
fn check_with<E: std::fmt::Display>(
    ns: &Namespace,
    filename: &str,
    mut eval: impl FnMut(&str) -> std::result::Result<Value, E>,
    mut after: impl FnMut(&mut CheckResult, Step),
) -> Result<CheckResult> {
    let mut result = CheckResult::new(filename, &ns.name);
    let excepted = if ns.has_exception {
        let q = format!("data.{}.exception", ns.name);
        let v = eval(&q).map_err(|e| anyhow!("{e}"))?;
        after(
            &mut result,
            Step::ExceptionEvaluated {
                query: &q,
                value: &v,
            },
        );
        exception_names(&v)
    } else {
        Vec::new()
    };
    let mut passes = 0usize;
    for rule in &ns.rules {
        let hits = excepted
            .iter()
            .filter(|n| **n == rule.exception_name)
            .count();
        after(
            &mut result,
            Step::ExceptionChecked {
                query: format!(
                    "data.{}.exception[_][_] == \"{}\"",
                    ns.name, rule.exception_name
                ),
                hits,
            },
        );
        if hits > 0 {
            for _ in 0..hits {
                result.exceptions.push(Message::plain(format!(
                    "data.{}.exception[_][_] == \"{}\"",
                    ns.name, rule.exception_name
                )));
            }
            continue;
        }
        let value = eval(&rule.query).map_err(|e| anyhow!("{e}"))?;
        let messages = messages_of(&value, &rule.query)?;
        after(
            &mut result,
            Step::RuleEvaluated {
                rule,
                value: &value,
                messages: &messages,
            },
        );
        match messages {
            None => {}
            Some(list) if list.is_empty() => passes += 1,
            Some(list) => {
                for m in list {
                    if m.msg.is_empty() {
                        passes += 1;
                    } else if rule.kind == RuleKind::Failure {
                        result.failures.push(m);
                    } else {
                        result.warnings.push(m);
                    }
                }
            }
        }
    }
    let produced = result.failures.len() + result.warnings.len() + result.exceptions.len() + passes;
    result.successes = passes + ns.rule_count.saturating_sub(produced);
    Ok(result)
}

/// Strings inside the inner collections of an `exception` value (`exception[_][_]`).
fn exception_names(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for outer in elements(v) {
        for inner in elements(&outer) {
            if let Value::String(s) = inner {
                out.push(s.to_string());
            }
        }
    }
    out
}

fn elements(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.iter().cloned().collect(),
        Value::Set(s) => s.iter().cloned().collect(),
        Value::Object(o) => o.values().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Messages of a rule value: `None` when undefined, an empty list for a pass.
fn messages_of(v: &Value, query: &str) -> Result<Option<Vec<Message>>> {
    let items: Vec<Value> = match v {
        Value::Undefined => return Ok(None),
        Value::Set(s) => s.iter().cloned().collect(),
        Value::Array(a) => a.iter().cloned().collect(),
        // Booleans, strings, numbers and objects count as one pass.
        _ => return Ok(Some(Vec::new())),
    };
    let mut out = Vec::new();
    let mut ignored_only = !items.is_empty();
    for item in items {
        match item {
            Value::String(s) => {
                ignored_only = false;
                let mut metadata = Map::new();
                metadata.insert("query".into(), serde_json::Value::String(query.into()));
                out.push(Message {
                    msg: s.to_string(),
                    loc: None,
                    pos: None,
                    metadata,
                });
            }
            Value::Object(obj) => {
                ignored_only = false;
                let msg = match obj.get(&Value::from("msg")) {
                    Some(Value::String(s)) => s.to_string(),
                    _ => bail!("query rule: check: query rule: new result: \"msg\" field must be present and a string"),
                };
                let mut metadata = Map::new();
                let mut loc = None;
                for (k, val) in obj.iter() {
                    let key = match k {
                        Value::String(s) => s.to_string(),
                        other => other.to_string(),
                    };
                    if key == "msg" {
                        continue;
                    }
                    if key == "_loc" {
                        loc = location(val);
                        continue;
                    }
                    metadata.insert(key, to_json(val));
                }
                metadata.insert("query".into(), serde_json::Value::String(query.into()));
                out.push(Message {
                    msg,
                    loc,
                    pos: None,
                    metadata,
                });
            }
            _ => {}
        }
    }
    // A set of only ignored element types behaves as an empty set (one pass).
    if ignored_only {
        return Ok(Some(Vec::new()));
    }
    Ok(Some(out))
}

fn location(v: &Value) -> Option<Location> {
    let Value::Object(o) = v else {
        return None;
    };
    let file = match o.get(&Value::from("file")) {
        Some(Value::String(s)) => Some(s.to_string()),
        _ => None,
    };
    let line = match o.get(&Value::from("line")) {
        Some(Value::Number(n)) => n.as_i64(),
        _ => None,
    };
    if file.is_none() && line.is_none() {
        return None;
    }
    Some(Location {
        file: file.unwrap_or_default(),
        line: line.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`lexed_facts`] of one policy with body `src`.
    fn facts(src: &str) -> (bool, bool) {
        lexed_facts(&[PolicyFile {
            path: "p.rego".into(),
            source: format!("package main\n{src}\n"),
        }])
    }

    #[test]
    fn finds_print_calls() {
        let prints = |src: &str| facts(src).1;
        assert!(prints("x if print(\"a\")"));
        assert!(prints("x if {\n\tprint(input)\n}"));
        assert!(!prints("# print(x)\nx := \"print(\""));
        assert!(!prints("x := fingerprint(1)"));
    }

    #[test]
    fn finds_every_way_to_read_the_file_name() {
        let reads = |src: &str| facts(src).0;
        for src in [
            "x := data.conftest.file.name",
            "import data.conftest",
            "x := data[\"conftest\"]",
            "x := object.get(data, [\"conftest\", \"file\"], 0)",
            "x := data[k]",
            "x if walk(data, [p, v])",
            "import data",
        ] {
            assert!(reads(src), "{src}");
        }
        for src in [
            "# conftest reads this\nx := 1",
            "x := \"what conftest does\"",
            "x := data.lib.kms.rules",
            "x := input.data",
            "x := input.data[0]",
        ] {
            assert!(!reads(src), "{src}");
        }
    }

    const RAW: &str = "\n--> bad/v0.rego:3:13\n  |\n3 |   msg := foo(1)\n  |             ^\nerror: could not find function foo";

    #[test]
    fn diagnostics_are_reworded() {
        assert_eq!(
            format_eval_error(RAW),
            "bad/v0.rego:3: could not find function foo"
        );
        assert_eq!(
            format_rego_error("bad/v0.rego", RAW, None),
            "bad/v0.rego:3: rego_parse_error: could not find function foo\n\t  msg := foo(1)\n\t            ^"
        );
    }
}
