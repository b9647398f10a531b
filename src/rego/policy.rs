//! Policy loading: finding `.rego` files (on disk or in the embedded pack), compiling them
//! into one regorus engine, and discovering the namespaces and rules conftest would query.

use crate::base::fs::io_reason;
use anyhow::{anyhow, bail, Result};
use regorus::unstable::{Expr, Rule, RuleHead};
use regorus::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/embedded_policies.rs"));

/// Prefix naming an embedded pack in `--policy`.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// One policy file: the path shown in errors and prints, and its text.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// Path as conftest's loader would print it (or `builtin:kms/...`).
    pub path: String,
    /// Rego source.
    pub source: String,
}

/// `files` with the constructs OPA loads and regorus does not rewritten, lines kept
/// ([`crate::rego::compat`]), and references that iterate packages narrowed
/// ([`crate::rego::narrow`]; `data_roots` are the top-level names the data documents
/// define). The built-in pack needs none.
pub fn with_compat(
    mut files: Vec<PolicyFile>,
    rego_v0: bool,
    data_roots: &std::collections::BTreeSet<String>,
) -> Vec<PolicyFile> {
    {
        let mut views = sources_of(&mut files);
        crate::rego::metadata::rewrite_all(&mut views);
    }
    let sources: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.path.as_str(), f.source.as_str()))
        .collect();
    let functions = crate::rego::compat::Functions::of(&sources);
    let mut helpers = AppendedHelpers::default();
    for f in files.iter_mut() {
        if f.path.starts_with(BUILTIN_PREFIX) {
            continue;
        }
        if let Some(source) =
            crate::rego::compat::rewrite_with(&f.path, &f.source, rego_v0, &functions)
        {
            let lines = f.source.lines().count();
            f.source = helpers.once_per_package(source, lines);
        }
    }
    {
        let mut views = sources_of(&mut files);
        crate::rego::mocks::rewrite_all(&mut views, &functions, rego_v0);
        crate::rego::narrow::rewrite_all(&mut views, data_roots);
        crate::rego::narrow::join_split_functions(&mut views, &functions, rego_v0);
    }
    files
}

/// The helper functions the rewrites append after a file's last line (`__regorun_fmt_v`,
/// a routed built-in's function), kept in the first file of each package that needs
/// them: regorus evaluates every clause of a function in the module of its first
/// definition, so copies in two files of one package ran with the first file's tables
/// ("loop hoisting table out of bounds" in a large test file). A later file calls the
/// first file's copy, as any function of its package.
#[derive(Default)]
struct AppendedHelpers {
    /// Package text → helper names defined in an earlier file.
    defined: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
}

impl AppendedHelpers {
    /// `source` (a rewrite of a file of `lines` lines) without the appended helpers an
    /// earlier file of its package defines.
    fn once_per_package(&mut self, source: String, lines: usize) -> String {
        let Some(package) = source.lines().find_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("package ")
                .map(|p| p.split('#').next().unwrap_or("").trim().to_string())
        }) else {
            return source;
        };
        let helper_name = |line: &str| -> Option<String> {
            let rest = line.strip_prefix("__regorun_")?;
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
            rest[end..]
                .starts_with('(')
                .then(|| format!("__regorun_{}", &rest[..end]))
        };
        let earlier = self.defined.entry(package).or_default();
        let mut own = std::collections::BTreeSet::new();
        let mut out = String::with_capacity(source.len());
        for (i, line) in source.split_inclusive('\n').enumerate() {
            if i >= lines {
                if let Some(name) = helper_name(line) {
                    if earlier.contains(&name) {
                        continue;
                    }
                    own.insert(name);
                }
            }
            out.push_str(line);
        }
        earlier.extend(own);
        out
    }
}

/// Views of `files` for the rewrites that need every file at once.
fn sources_of(files: &mut [PolicyFile]) -> Vec<crate::rego::narrow::Source<'_>> {
    files
        .iter_mut()
        .map(|f| crate::rego::narrow::Source {
            builtin: f.path.starts_with(BUILTIN_PREFIX),
            path: &f.path,
            source: &mut f.source,
        })
        .collect()
}

/// Embedded packs by name (`kms` is `policy/kms/`).
pub fn builtin_pack(name: &str) -> Option<Vec<PolicyFile>> {
    let prefix = format!("{name}/");
    let files: Vec<PolicyFile> = EMBEDDED_POLICIES
        .iter()
        .filter(|(rel, _)| rel.starts_with(&prefix))
        .map(|(rel, src)| PolicyFile {
            path: format!("{BUILTIN_PREFIX}{rel}"),
            source: src.to_string(),
        })
        .collect();
    (!files.is_empty()).then_some(files)
}

/// Loads every `.rego` file under `paths` (directories recursively, lexical order).
pub fn load_files(paths: &[String]) -> Result<Vec<PolicyFile>> {
    let mut files = Vec::new();
    for p in paths {
        if let Some(name) = p.strip_prefix(BUILTIN_PREFIX) {
            files.extend(builtin_pack(name).ok_or_else(|| {
                anyhow!("load: 1 error occurred during loading: unknown built-in policy pack {name:?} (available: kms)")
            })?);
            continue;
        }
        let meta = std::fs::metadata(p).map_err(|e| {
            anyhow!(
                "load: 1 error occurred during loading: stat {p}: {}",
                io_reason(&e)
            )
        })?;
        if meta.is_dir() {
            walk(Path::new(p), &mut files)?;
        } else if p.ends_with(".rego") {
            files.push(read(Path::new(p))?);
        }
    }
    if files.is_empty() {
        bail!("no policies found in [{}]", paths.join(" "));
    }
    Ok(files)
}

fn read(path: &Path) -> Result<PolicyFile> {
    let shown = path.to_string_lossy().into_owned();
    let source = std::fs::read(path).map_err(|e| {
        anyhow!(
            "load: 1 error occurred during loading: {shown}: {}",
            io_reason(&e)
        )
    })?;
    let source = String::from_utf8(source).map_err(|_| {
        anyhow!("load: 1 error occurred during loading: {shown}: invalid UTF-8 in policy file")
    })?;
    Ok(PolicyFile {
        path: clean_path(&shown),
        source,
    })
}

fn walk(dir: &Path, files: &mut Vec<PolicyFile>) -> Result<()> {
    let entries = crate::base::fs::sorted_entries(dir).map_err(|e| {
        anyhow!(
            "load: 1 error occurred during loading: {}: {}",
            dir.display(),
            io_reason(&e)
        )
    })?;
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else if path.to_string_lossy().ends_with(".rego") {
            files.push(read(&path)?);
        }
    }
    Ok(())
}

/// `./policy/x.rego` → `policy/x.rego`, as OPA's loader reports walked files.
fn clean_path(p: &str) -> String {
    let mut s = p;
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.replace("//", "/")
}

/// Whether a rule name is a failure or a warning rule (conftest's regexes of spec 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleKind {
    /// `deny*` or `violation*`.
    Failure,
    /// `warn*`.
    Warning,
}

/// Classifies a simple rule name.
pub fn rule_kind(name: &str) -> Option<RuleKind> {
    let suffix_ok = |rest: &str| {
        rest.is_empty()
            || (rest.starts_with('_')
                && rest[1..]
                    .split('_')
                    .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric())))
    };
    for prefix in ["deny", "violation"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            if suffix_ok(rest) {
                return Some(RuleKind::Failure);
            }
        }
    }
    match name.strip_prefix("warn") {
        Some(rest) if suffix_ok(rest) => Some(RuleKind::Warning),
        _ => None,
    }
}

/// A rule name to query in a namespace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryRule {
    /// The simple rule name (`deny_image`).
    pub name: String,
    /// Failure or warning.
    pub kind: RuleKind,
    /// `data.<ns>.<name>`.
    pub query: String,
    /// The name exceptions refer to: the rule name minus `violation_`/`deny_`/`warn_`.
    pub exception_name: String,
}

/// Everything conftest evaluates in one namespace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Namespace {
    /// The package path without `data.`.
    pub name: String,
    /// Distinct rule names in discovery order.
    pub rules: Vec<QueryRule>,
    /// Number of matching rule definitions (conftest's `ruleCount`).
    pub rule_count: usize,
    /// Whether the namespace defines `exception`.
    pub has_exception: bool,
}

/// What the loaded modules declare: namespaces in load order with their rules.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// Every distinct package path (without `data.`), in load order.
    pub namespaces: Vec<String>,
    /// Rule details for each namespace.
    pub by_namespace: BTreeMap<String, Namespace>,
    /// Rules that use `if` without `contains` on a deny/warn ref head: (file, line).
    pub problematic_if: Option<(String, u32)>,
    /// Test rules `(file, package, name, line)` in file then source order.
    pub tests: Vec<TestRule>,
}

/// A `test_` or `todo_test_` rule, for `verify`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestRule {
    /// The file that defines it.
    pub file: String,
    /// Its package, without `data.`.
    pub package: String,
    /// The rule name.
    pub name: String,
}

fn package_path(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Var { span, .. } => Some(vec![span.text().to_string()]),
        Expr::RefDot { refr, field, .. } => {
            let mut p = package_path(refr)?;
            p.push(field.0.text().to_string());
            Some(p)
        }
        Expr::RefBrack { refr, index, .. } => {
            let mut p = package_path(refr)?;
            match index.as_ref() {
                Expr::String { value, .. } => p.push(value.as_string().ok()?.to_string()),
                _ => return None,
            }
            Some(p)
        }
        _ => None,
    }
}

/// The simple name of a rule head (`deny`), or the first term of a ref head (`deny.x`).
fn head_name(expr: &Expr) -> (String, bool) {
    match expr {
        Expr::Var { span, .. } => (span.text().to_string(), true),
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => (head_name(refr).0, false),
        other => (other.span().text().to_string(), false),
    }
}

/// The engine's parsed modules sorted by file path (conftest's rule order).
pub fn modules_by_path(
    engine: &mut Engine,
) -> Vec<regorus::unstable::Ref<regorus::unstable::Module>> {
    let mut modules: Vec<_> = engine
        .get_modules()
        .iter()
        .filter(|m| m.package.span.source.get_path() != crate::rego::rewrite::HELPER_PATH)
        .cloned()
        .collect();
    modules.sort_by(|a, b| {
        a.package
            .span
            .source
            .get_path()
            .cmp(b.package.span.source.get_path())
    });
    modules
}

/// The warning for a run that would test nothing: the selected namespaces have no `deny`,
/// `violation` or `warn` rule (or do not exist) while other loaded packages have some.
/// Names those packages and the flags that select them.
pub fn untested_namespaces_warning(
    catalog: &Catalog,
    selected: &[String],
    all: bool,
) -> Option<String> {
    let has_rules = |ns: &str| {
        catalog
            .by_namespace
            .get(ns)
            .is_some_and(|n| !n.rules.is_empty())
    };
    if all || selected.iter().any(|ns| has_rules(ns)) {
        return None;
    }
    let others: Vec<&str> = catalog
        .namespaces
        .iter()
        .map(String::as_str)
        .filter(|ns| has_rules(ns))
        .collect();
    if others.is_empty() {
        return None;
    }
    let missing: Vec<&str> = selected
        .iter()
        .map(String::as_str)
        .filter(|ns| !catalog.by_namespace.contains_key(*ns))
        .collect();
    let what = if missing.len() == selected.len() {
        format!("no loaded policy has package {}", missing.join(", "))
    } else {
        format!(
            "namespace {} has no deny, violation or warn rules",
            selected.join(", ")
        )
    };
    Some(format!(
        "WARN: nothing is tested: {what}; deny, violation or warn rules are in {}, or --all-namespaces",
        where_they_are(&others)
    ))
}

/// `package kms: use --namespace kms`, or for several packages each `--namespace` flag:
/// the tail of a nothing-is-tested warning.
pub fn where_they_are<S: AsRef<str>>(packages: &[S]) -> String {
    let names: Vec<&str> = packages.iter().map(AsRef::as_ref).collect();
    let flags: Vec<String> = names.iter().map(|p| format!("--namespace {p}")).collect();
    let noun = if names.len() == 1 {
        "package"
    } else {
        "packages"
    };
    format!("{noun} {}: use {}", names.join(", "), flags.join(" "))
}

/// Builds the catalog from an engine's parsed modules, files in path order.
pub fn catalog(engine: &mut Engine) -> Catalog {
    let mut cat = Catalog::default();
    let loaded: Vec<_> = engine.get_modules().to_vec();
    for m in &loaded {
        if m.package.span.source.get_path() == crate::rego::rewrite::HELPER_PATH {
            continue;
        }
        let Some(mut comps) = package_path(&m.package.refr) else {
            continue;
        };
        if comps.first().map(String::as_str) == Some("data") {
            comps.remove(0);
        }
        let ns = comps.join(".");
        if !cat.namespaces.contains(&ns) {
            cat.namespaces.push(ns);
        }
    }
    for m in &modules_by_path(engine) {
        let Some(mut comps) = package_path(&m.package.refr) else {
            continue;
        };
        if comps.first().map(String::as_str) == Some("data") {
            comps.remove(0);
        }
        let ns_name = comps.join(".");
        let file = m.package.span.source.get_path().clone();
        let ns = cat
            .by_namespace
            .entry(ns_name.clone())
            .or_insert_with(|| Namespace {
                name: ns_name.clone(),
                rules: Vec::new(),
                rule_count: 0,
                has_exception: false,
            });
        for rule in &m.policy {
            let (refr, implicit_true, line) = match rule.as_ref() {
                Rule::Spec { head, span, .. } => match head {
                    RuleHead::Compr { refr, assign, .. } => (refr, assign.is_none(), span.line),
                    RuleHead::Set { refr, .. } => (refr, false, span.line),
                    RuleHead::Func { refr, .. } => (refr, false, span.line),
                },
                Rule::Default { refr, span, .. } => (refr, false, span.line),
            };
            let (name, simple) = head_name(refr);
            if name == "exception" {
                ns.has_exception = true;
            }
            if simple && (name.starts_with("test_") || name.starts_with("todo_test_")) {
                cat.tests.push(TestRule {
                    file: file.clone(),
                    package: ns_name.clone(),
                    name: name.clone(),
                });
            }
            let Some(kind) = rule_kind(&name) else {
                continue;
            };
            if !simple {
                if implicit_true && cat.problematic_if.is_none() {
                    cat.problematic_if = Some((file.clone(), line));
                }
                continue;
            }
            ns.rule_count += 1;
            if !ns.rules.iter().any(|r| r.name.eq_ignore_ascii_case(&name)) {
                ns.rules.push(QueryRule {
                    query: format!("data.{ns_name}.{name}"),
                    exception_name: exception_name(&name),
                    name,
                    kind,
                });
            }
        }
    }
    cat
}

/// Strips one leading `violation_`, then `deny_`, then `warn_`; bare names become "".
fn exception_name(rule: &str) -> String {
    if matches!(rule, "deny" | "violation" | "warn") {
        return String::new();
    }
    let mut s = rule;
    for prefix in ["violation_", "deny_", "warn_"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
        }
    }
    s.to_string()
}

/// Go `path.Match` (used for `--namespace` globs): `*`, `?`, `[...]`; `.` is ordinary.
fn glob_match(pattern: &str, name: &str) -> Result<bool> {
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let p = glob::Pattern::new(pattern).map_err(|_| {
        anyhow!("filter namespaces: match pattern {pattern:?}: syntax error in pattern")
    })?;
    Ok(p.matches_with(name, opts))
}

/// The namespaces to evaluate, in order (spec 2.5).
pub fn select_namespaces(loaded: &[String], wanted: &[String], all: bool) -> Result<Vec<String>> {
    if all {
        let mut all = loaded.to_vec();
        all.sort();
        return Ok(all);
    }
    let is_glob = wanted.iter().any(|w| w.contains(['*', '?', '[']));
    if !is_glob {
        return Ok(wanted.to_vec());
    }
    let mut out = Vec::new();
    for ns in loaded {
        for w in wanted {
            if glob_match(w, ns)? && !out.contains(ns) {
                out.push(ns.clone());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_rule_names() {
        assert_eq!(rule_kind("deny"), Some(RuleKind::Failure));
        assert_eq!(rule_kind("deny_x_1"), Some(RuleKind::Failure));
        assert_eq!(rule_kind("violation_abc"), Some(RuleKind::Failure));
        assert_eq!(rule_kind("warn_a"), Some(RuleKind::Warning));
        assert_eq!(rule_kind("denyx"), None);
        assert_eq!(rule_kind("deny_"), None);
        assert_eq!(rule_kind("deny__x"), None);
        assert_eq!(rule_kind("deny-x"), None);
    }

    #[test]
    fn exception_names() {
        assert_eq!(exception_name("deny_run_as_root"), "run_as_root");
        assert_eq!(exception_name("violation_deny_x"), "x");
        assert_eq!(exception_name("warn"), "");
        assert_eq!(exception_name("warn_kms_x"), "kms_x");
    }
}
