//! Evaluation: one prepared regorus engine built from the policies and data, cloned per
//! worker, queried the way conftest queries rules (spec section 7).

use crate::data::{self, DataDoc};
use crate::policy::{self, Catalog, Namespace, PolicyFile, RuleKind};
use crate::result::{CheckResult, Location, Message};
use anyhow::{anyhow, bail, Result};
use regorus::{Engine, Value};
use serde_json::Map;
use std::cell::RefCell;

/// The synthetic module that serves `data.conftest.file` from a per-document value, so the
/// prepared engine is never invalidated by per-file `add_data`.
const CONFTEST_FILE_MODULE: &str = "package conftest\n\nfile := __regorun_conftest_file(0)\n";
const CONFTEST_FILE_MODULE_PATH: &str = "<regorun:conftest.file>";
const CONFTEST_FILE_EXTENSION: &str = "__regorun_conftest_file";

thread_local! {
    static CURRENT_FILE: RefCell<Value> = RefCell::new(Value::Undefined);
}

/// How policies are compiled.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Parse policies as Rego v0.
    pub rego_v0: bool,
    /// Built-in errors abort evaluation.
    pub strict_builtin_errors: bool,
}

/// A compiled, prepared engine plus what it declares.
#[derive(Clone)]
pub struct PolicyEngine {
    engine: Engine,
    /// Namespaces and rules found in the policies.
    pub catalog: Catalog,
    serves_conftest_file: bool,
}

impl PolicyEngine {
    /// Compiles `files` and merges `data`; errors use conftest's wording.
    pub fn new(files: &[PolicyFile], data: &[DataDoc], opts: &EngineOptions) -> Result<Self> {
        let mut engine = Engine::new();
        engine.set_rego_v0(opts.rego_v0);
        engine.set_gather_prints(true);
        engine.set_strict_builtin_errors(opts.strict_builtin_errors);
        let mut errors = Vec::new();
        for f in files {
            if let Err(e) = engine.add_policy(f.path.clone(), f.source.clone()) {
                errors.push(format_rego_error(&f.path, &e.to_string()));
            }
        }
        if !errors.is_empty() {
            bail!(
                "loading policies: load: {} error{} occurred during loading: {}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                errors.join("\n")
            );
        }
        let serves_conftest_file = files.iter().any(|f| f.source.contains("conftest"));
        if serves_conftest_file {
            engine
                .add_extension(
                    CONFTEST_FILE_EXTENSION.to_string(),
                    1,
                    Box::new(|_args: Vec<Value>| {
                        Ok(CURRENT_FILE.with(|c| c.borrow().clone()))
                    }),
                )
                .map_err(|e| anyhow!("loading policies: {e}"))?;
            engine
                .add_policy(
                    CONFTEST_FILE_MODULE_PATH.to_string(),
                    CONFTEST_FILE_MODULE.to_string(),
                )
                .map_err(|e| anyhow!("loading policies: {e}"))?;
        }
        crate::builtins::register(&mut engine, files)?;
        for doc in data {
            let v = to_rego(&data::mounted(doc))?;
            engine.add_data(v).map_err(|_| {
                anyhow!(
                    "load documents: 1 error occurred during loading: {}: merge error",
                    doc.file
                )
            })?;
        }
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
        if let Some((file, line)) = &catalog.problematic_if {
            bail!("loading policies: rule is using 'if' keyword without 'contains' keyword: rule in {file} at line {line}");
        }
        let mut pe = PolicyEngine {
            engine,
            catalog,
            serves_conftest_file,
        };
        pe.prepare()?;
        Ok(pe)
    }

    /// Runs one evaluation so that clones share the analysed, scheduled policy.
    fn prepare(&mut self) -> Result<()> {
        self.engine.set_input(Value::new_object());
        let probe = self
            .catalog
            .by_namespace
            .values()
            .flat_map(|ns| ns.rules.first())
            .map(|r| r.query.clone())
            .next();
        if let Some(q) = probe {
            // Only the side effect matters; a rule failing on `{}` is not an error here.
            let _ = self.engine.eval_rule(q);
            let _ = self.engine.take_prints();
        }
        Ok(())
    }

    /// The underlying engine (for verify, coverage and other commands).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// Evaluates one namespace against one document.
    pub fn check_document(
        &mut self,
        ns: &Namespace,
        input: Value,
        file_info: &Value,
        filename: &str,
    ) -> Result<CheckResult> {
        if self.serves_conftest_file {
            CURRENT_FILE.with(|c| *c.borrow_mut() = file_info.clone());
        }
        self.engine.set_input(input);
        let mut result = CheckResult::new(filename, &ns.name);
        let excepted = if ns.has_exception {
            let q = format!("data.{}.exception", ns.name);
            let v = self
                .engine
                .eval_rule(q)
                .map_err(|e| anyhow!("query exception: {e}"))?;
            self.take_prints(&mut result);
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
            if hits > 0 {
                for _ in 0..hits {
                    result.exceptions.push(Message::plain(format!(
                        "data.{}.exception[_][_] == \"{}\"",
                        ns.name, rule.exception_name
                    )));
                }
                continue;
            }
            let value = self
                .engine
                .eval_rule(rule.query.clone())
                .map_err(|e| anyhow!("query rule: {e}"))?;
            self.take_prints(&mut result);
            let messages = messages_of(&value, &rule.query)?;
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
        let produced =
            result.failures.len() + result.warnings.len() + result.exceptions.len() + passes;
        result.successes = passes + ns.rule_count.saturating_sub(produced);
        Ok(result)
    }

    fn take_prints(&mut self, result: &mut CheckResult) {
        if let Ok(prints) = self.engine.take_prints() {
            result.prints.extend(prints);
        }
    }
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
                    metadata,
                });
            }
            Value::Object(obj) => {
                ignored_only = false;
                let msg = match obj.get(&Value::from("msg")) {
                    Some(Value::String(s)) => s.to_string(),
                    _ => bail!("query rule: new result: \"msg\" field must be present and a string"),
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
                out.push(Message { msg, loc, metadata });
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

/// A regorus value as JSON (sets become arrays; undefined becomes null).
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Undefined => serde_json::Value::Null,
        other => serde_json::to_value(other).unwrap_or(serde_json::Value::Null),
    }
}

/// A JSON document as a regorus value.
pub fn to_rego(v: &serde_json::Value) -> Result<Value> {
    use serde::Deserialize;
    Value::deserialize(v).map_err(|e| anyhow!("converting input: {e}"))
}

/// Turns a regorus parse/compile error into conftest's `<file>:<row>: rego_parse_error: <msg>`.
pub fn format_rego_error(path: &str, raw: &str) -> String {
    // regorus: "<file>:<line>:<col>: error: <msg>\n<source excerpt>"
    let first = raw.lines().next().unwrap_or(raw);
    let Some(rest) = first.strip_prefix(path).and_then(|r| r.strip_prefix(':')) else {
        return format!("{path}: rego_parse_error: {first}");
    };
    let mut parts = rest.splitn(3, ':');
    let line = parts.next().unwrap_or("0");
    let _col = parts.next();
    let msg = parts
        .next()
        .unwrap_or("")
        .trim()
        .trim_start_matches("error:")
        .trim();
    format!("{path}:{line}: rego_parse_error: {msg}")
}
