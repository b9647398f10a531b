//! The `verify` command: runs the Rego unit tests (`test_*` rules) of the loaded policies,
//! like conftest's `verify` (OPA's tester) — spec section 11 — plus line coverage
//! (`--coverage`, `--coverage-threshold`, conftest issue #518) and `--trace`.

use crate::base::result::{CheckResult, Message};
use crate::cli::VerifyArgs;
use crate::commands::{Outcome, OutputTarget};
use crate::config::Config;
use crate::engine::data;
use crate::engine::eval::{EngineOptions, PolicyEngine};
use crate::engine::trace::{self, EvalLine, TraceBuilder};
use crate::output::render_format;
use crate::output::OutputOptions;
use crate::rego::policy::select_namespaces;
use crate::rego::policy::{self, PolicyFile};
use anyhow::{anyhow, bail, Result};
use regorus::unstable::{Expr, Rule, RuleHead};
use regorus::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Fully resolved settings of `regorun verify`.
#[derive(Debug, Clone)]
pub struct VerifySettings {
    /// Policy paths.
    pub policy: Vec<String>,
    /// Data paths.
    pub data: Vec<String>,
    /// Output targets.
    pub outputs: Vec<OutputTarget>,
    /// Formatter options (`show_skipped` is always on).
    pub output_options: OutputOptions,
    /// Print nothing when every test passes.
    pub quiet: bool,
    /// `--trace`.
    pub trace: bool,
    /// `--report full|notes|fails` (anything else: off).
    pub report: Option<ReportMode>,
    /// Packages (or globs) whose tests run; empty = all.
    pub namespaces: Vec<String>,
    /// Engine options.
    pub engine: EngineOptions,
    /// Print line coverage of the non-test policy files.
    pub coverage: bool,
    /// Fail when total coverage is below this percentage.
    pub coverage_threshold: Option<f64>,
}

/// What `--report` shows in the failure details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportMode {
    /// Everything regorun can trace.
    Full,
    /// `trace()` notes (regorus does not expose them: none are shown).
    Notes,
    /// Failure events.
    Fails,
}

impl VerifySettings {
    /// Applies conftest's precedence (flag > env > config file > default).
    pub fn resolve(args: VerifyArgs, cfg: &Config) -> Result<VerifySettings> {
        let unsupported = [
            (
                "capabilities",
                args.capabilities.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            (
                "proto-file-dirs",
                args.proto_file_dirs.as_ref().is_some_and(|v| !v.is_empty()),
            ),
        ];
        if let Some((flag, _)) = unsupported.iter().find(|(_, set)| *set) {
            bail!("the --{flag} flag is not supported by this build of regorun");
        }
        let outputs =
            crate::commands::output_targets(cfg.list("output", args.output, &["stdout"]))?;
        let rego_v0 =
            crate::commands::rego_v0(&cfg.string("rego-version", args.rego_version, "v1"))
                .map_err(|e| {
                    anyhow::anyhow!("running verification: load: loading policies: {e}")
                })?;
        let var_values = cfg.bool("var-values", args.var_values, false)?;
        let mut report = cfg.string("report", args.report, "");
        if report.is_empty() && var_values {
            report = "fails".to_string();
        }
        let report = match report.as_str() {
            "full" => Some(ReportMode::Full),
            "notes" => Some(ReportMode::Notes),
            "fails" => Some(ReportMode::Fails),
            _ => None,
        };
        let threshold = match args.coverage_threshold {
            Some(t) => Some(t),
            None if cfg.is_set("coverage-threshold") => {
                let raw = cfg.string("coverage-threshold", None, "");
                Some(raw.trim().parse::<f64>().map_err(|_| {
                    anyhow!(
                        "invalid argument {raw:?} for \"--coverage-threshold\" flag: not a number"
                    )
                })?)
            }
            None => None,
        };
        Ok(VerifySettings {
            policy: cfg.list("policy", args.policy, &["policy"]),
            data: cfg.list("data", args.data, &[]),
            outputs,
            output_options: OutputOptions {
                show_skipped: true,
                ..OutputOptions::resolve(
                    cfg,
                    args.no_color,
                    args.junit_hide_message,
                    args.github_hide_passed,
                )?
            },
            quiet: cfg.bool("quiet", args.quiet, false)?,
            trace: cfg.bool("trace", args.trace, false)?,
            report,
            namespaces: cfg
                .list("namespace", args.namespace, &[])
                .into_iter()
                .filter(|n| !n.is_empty())
                .collect(),
            engine: EngineOptions {
                rego_v0,
                strict_builtin_errors: cfg.bool(
                    "show-builtin-errors",
                    args.show_builtin_errors,
                    false,
                )?,
                strict: cfg.bool("strict", args.strict, false)?,
                interpreter_only: crate::engine::fast::FastProgram::disabled_by_env(),
                timeout: None,
            },
            coverage: cfg.bool("coverage", args.coverage, false)? || threshold.is_some(),
            coverage_threshold: threshold,
        })
    }
}

/// A test rule found in the policies.
#[derive(Debug, Clone)]
struct TestDef {
    file: String,
    package: String,
    /// The name shown (`test_x`, or `test_x#01` for the second definition).
    name: String,
    /// The rule name to query (renamed for duplicates).
    rule: String,
    line: u32,
    /// Byte range of the head name in the source, for renaming duplicates.
    start: usize,
    end: usize,
    skip: bool,
}

/// Outcome of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pass,
    Fail,
    Skip,
}

#[derive(Debug)]
struct TestRun {
    def: TestDef,
    status: Status,
    duration: Duration,
    prints: Vec<String>,
    value: Value,
    lines: Vec<EvalLine>,
}

/// Package of a module without `data.`.
fn package_of(refr: &Expr) -> String {
    let text = refr.span().text().trim();
    text.strip_prefix("data.").unwrap_or(text).to_string()
}

/// Finds the test rules (`test_*`, `todo_test_*`) in file order then source order, and
/// numbers duplicates within a package like OPA (`#01`, `#02`).
fn find_tests(files: &[PolicyFile], rego_v0: bool) -> Option<Vec<TestDef>> {
    let mut engine = crate::rego::limits::engine();
    engine.set_rego_v0(rego_v0);
    for f in files {
        engine.add_policy(f.path.clone(), f.source.clone()).ok()?;
    }
    let modules = crate::rego::policy::modules_by_path(&mut engine);
    let mut tests: Vec<TestDef> = Vec::new();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in &modules {
        let package = package_of(&m.package.refr);
        let file = m.package.span.source.get_path().clone();
        for rule in &m.policy {
            let Rule::Spec {
                head: RuleHead::Compr { refr, .. },
                span,
                ..
            } = rule.as_ref()
            else {
                continue;
            };
            let Expr::Var {
                span: name_span, ..
            } = refr.as_ref()
            else {
                continue;
            };
            let name = name_span.text().to_string();
            let skip = name.starts_with("todo_test_");
            if !skip && !name.starts_with("test_") {
                continue;
            }
            let n = seen.entry((package.clone(), name.clone())).or_insert(0);
            let (shown, queried) = if *n == 0 {
                (name.clone(), name.clone())
            } else {
                (
                    format!("{name}#{:02}", *n),
                    format!("{name}__regorun_dup{:02}", *n),
                )
            };
            *n += 1;
            tests.push(TestDef {
                file: file.clone(),
                package: package.clone(),
                name: shown,
                rule: queried,
                line: span.line,
                start: name_span.start as usize,
                end: name_span.end as usize,
                skip,
            });
        }
    }
    Some(tests)
}

/// Renames the second and later definitions of a test so each runs on its own.
fn rename_duplicates(files: &[PolicyFile], tests: &[TestDef]) -> Vec<PolicyFile> {
    files
        .iter()
        .map(|f| {
            let mut edits: Vec<&TestDef> = tests
                .iter()
                .filter(|t| t.file == f.path && t.rule != t.name)
                .collect();
            edits.sort_by_key(|t| std::cmp::Reverse(t.start));
            let mut source = f.source.clone();
            for t in edits {
                if t.end <= source.len()
                    && source.is_char_boundary(t.start)
                    && source.is_char_boundary(t.end)
                {
                    source.replace_range(t.start..t.end, &t.rule);
                }
            }
            PolicyFile {
                path: f.path.clone(),
                source,
            }
        })
        .collect()
}

/// Runs `regorun verify`.
pub fn run_verify(s: &VerifySettings) -> Result<Outcome> {
    let files = policy::load_files(&s.policy)
        .map_err(|e| anyhow!("running verification: load: loading policies: {e:#}"))?;
    let data = data::load(&s.data)
        .map_err(|e| anyhow!("running verification: load: load documents: {e:#}"))?;
    let originals = files.clone();
    let files = policy::with_compat(files, s.engine.rego_v0, &data::roots(&data));
    let mut tests = find_tests(&files, s.engine.rego_v0).unwrap_or_default();
    let files = if tests.iter().any(|t| t.rule != t.name) {
        rename_duplicates(&files, &tests)
    } else {
        files
    };
    let mut pe = PolicyEngine::new_rewritten(&files, &data, &s.engine)
        .map_err(|e| anyhow!("running verification: load: {e:#}"))?;

    // The warning for a --namespace that selects none of the test rules.
    let mut untested: Option<String> = None;
    if !s.namespaces.is_empty() {
        let mut packages: Vec<String> = Vec::new();
        for t in &tests {
            if !packages.contains(&t.package) {
                packages.push(t.package.clone());
            }
        }
        let selected = select_namespaces(&packages, &s.namespaces, false)
            .map_err(|e| anyhow!("running verification: {e:#}"))?;
        tests.retain(|t| selected.contains(&t.package));
        if tests.is_empty() && !packages.is_empty() {
            untested = Some(format!(
                "WARN: nothing is tested: namespace {} has no test rules; they are in {}, or leave --namespace out\n",
                s.namespaces.join(", "),
                policy::where_they_are(&packages)
            ));
        }
    }

    let track_lines = s.trace || s.coverage || s.report.is_some();
    let engine = pe
        .engine_mut()
        .map_err(|e| anyhow!("running verification: load: {e:#}"))?;
    engine.set_input(Value::Undefined);
    // OPA's default per-test timeout.
    if let Some(check_interval) = std::num::NonZeroU32::new(1024) {
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: Duration::from_secs(5),
            check_interval,
        });
    }
    if track_lines {
        engine.set_enable_coverage(true);
        engine.clear_coverage_data();
    }
    let _ = engine.take_prints();
    let mut runs = Vec::with_capacity(tests.len());
    for def in tests {
        if def.skip {
            runs.push(TestRun {
                def,
                status: Status::Skip,
                duration: Duration::ZERO,
                prints: Vec::new(),
                value: Value::Undefined,
                lines: Vec::new(),
            });
            continue;
        }
        let query = format!("data.{}.{}", def.package, def.rule);
        let started = Instant::now();
        let value = crate::engine::guard::catch(|| engine.eval_rule(query))
            .map_err(|panic| {
                anyhow!(
                    "running verification: run test: {}: {}: internal error in the Rego engine: {panic}",
                    def.file,
                    def.name
                )
            })?
            .map_err(|e| {
                anyhow!(
                    "running verification: run test: {}",
                    eval_error(&e.to_string())
                )
            })?;
        let duration = started.elapsed();
        let prints = engine.take_prints().unwrap_or_default();
        let lines = if track_lines {
            trace::take_evaluated_lines(engine, &originals)
        } else {
            Vec::new()
        };
        let status = if value == Value::Bool(true) {
            Status::Pass
        } else {
            Status::Fail
        };
        runs.push(TestRun {
            def,
            status,
            duration,
            prints,
            value,
            lines,
        });
    }

    let records: Vec<CheckResult> = runs.iter().map(|r| record(r, s.trace)).collect();
    let failed = runs.iter().any(|r| r.status == Status::Fail);
    let mut outcome = Outcome {
        exit_code: i32::from(failed),
        stderr: untested.unwrap_or_default(),
        ..Default::default()
    };
    if files
        .iter()
        .all(|f| f.path.starts_with(policy::BUILTIN_PREFIX))
        && runs.is_empty()
    {
        outcome.stderr.push_str(
            "regorun: the built-in policy pack is embedded without its _test.rego files: no tests to run (use -p <dir> with the pack's sources)\n",
        );
    }

    let coverage = if s.coverage {
        Some(
            coverage_report(&mut pe, &files, &runs)
                .map_err(|e| anyhow!("running verification: {e:#}"))?,
        )
    } else {
        None
    };
    let below = match (&coverage, s.coverage_threshold) {
        (Some(c), Some(t)) if c.percent() < t => Some(t),
        _ => None,
    };
    if below.is_some() {
        outcome.exit_code = 1;
    }

    if s.quiet && outcome.exit_code == 0 {
        return Ok(outcome);
    }
    let trace_text = s
        .trace
        .then(|| trace::render(&records, s.output_options.color));
    if let Some(t) = &trace_text {
        outcome.stderr.push_str(t);
    }
    let mut stdout_used = false;
    if let Some(mode) = s.report {
        if s.outputs
            .iter()
            .any(|o| o.format != "stdout" || o.path.is_some())
        {
            bail!("report flag is supported with stdout only");
        }
        outcome.stdout.push_str(&report(&runs, mode));
        stdout_used = true;
    } else {
        for target in &s.outputs {
            let text = match &trace_text {
                Some(t) if target.format == "stdout" => t.clone(),
                _ => render_format(&target.format, &records, &s.output_options)?,
            };
            match &target.path {
                Some(p) => outcome.files.push((p.clone(), text)),
                None => {
                    stdout_used |= target.format == "stdout";
                    outcome.stdout.push_str(&text);
                }
            }
        }
    }
    if let Some(c) = &coverage {
        let text = c.render();
        // Keep machine-readable stdout formats intact: coverage goes to stderr then.
        if stdout_used {
            outcome.stdout.push_str(&text);
        } else {
            outcome.stderr.push_str(&text);
        }
    }
    if let (Some(t), Some(c)) = (below, &coverage) {
        outcome.stderr.push_str(&format!(
            "Error: coverage {:.1}% is below the --coverage-threshold of {t}%\n",
            c.percent()
        ));
    }
    Ok(outcome)
}

/// `<file>:<line>: eval_error: <msg>` from a regorus runtime error, like OPA's errors;
/// conflicts are OPA's `eval_conflict_error` texts.
fn eval_error(raw: &str) -> String {
    match crate::rego::diagnostic::parse_diagnostic(raw) {
        Some(d) => {
            let message = crate::rego::diagnostic::opa_wording(&d);
            let code = if message.starts_with("eval_") {
                ""
            } else {
                "eval_error: "
            };
            format!("{}:{}: {code}{message}", d.file, d.line)
        }
        None => raw.trim().to_string(),
    }
}

/// One conftest record per test.
fn record(r: &TestRun, with_trace: bool) -> CheckResult {
    let mut rec = CheckResult::new(r.def.file.clone(), "");
    let msg = format!("data.{}.{}", r.def.package, r.def.name);
    match r.status {
        Status::Pass => rec.successes = 1,
        Status::Fail => rec.failures.push(Message::plain(msg.clone())),
        Status::Skip => rec.skipped.push(Message::plain(msg.clone())),
    }
    if with_trace {
        let outcome = match r.status {
            Status::Pass => format!("PASS ({})", go_duration(r.duration)),
            Status::Fail => format!("FAIL ({})", go_duration(r.duration)),
            Status::Skip => "SKIPPED".to_string(),
        };
        let mut b = TraceBuilder::enter(&msg, None);
        if r.status != Status::Skip {
            b = b.evaluated(&r.lines).prints(&r.prints).exit(&msg, &r.value);
        }
        rec.traces
            .push(b.finish(r.def.name.clone(), r.status != Status::Fail, &outcome));
    }
    rec
}

/// Go's `time.Duration.String()` for durations under a minute.
pub fn go_duration(d: Duration) -> String {
    let n = d.as_nanos();
    let frac = |whole: u128, rem: u128, digits: usize| -> String {
        let mut f = format!("{rem:0digits$}");
        while f.ends_with('0') {
            f.pop();
        }
        if f.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{f}")
        }
    };
    match n {
        0 => "0s".to_string(),
        n if n < 1_000 => format!("{n}ns"),
        n if n < 1_000_000 => format!("{}µs", frac(n / 1_000, n % 1_000, 3)),
        n if n < 1_000_000_000 => format!("{}ms", frac(n / 1_000_000, n % 1_000_000, 6)),
        n => format!("{}s", frac(n / 1_000_000_000, n % 1_000_000_000, 9)),
    }
}

/// OPA's verbose `opa test` report (PrettyReporter with Verbose and FailureLine on).
fn report(runs: &[TestRun], mode: ReportMode) -> String {
    let mut out = String::new();
    let hl = "-".repeat(80);
    let (mut pass, mut fail, mut skip) = (0usize, 0usize, 0usize);
    let mut last_file = String::new();
    for r in runs {
        match r.status {
            Status::Pass => pass += 1,
            Status::Fail => fail += 1,
            Status::Skip => skip += 1,
        }
        if !last_file.is_empty() && last_file != r.def.file {
            out.push('\n');
        }
        out.push_str(&format!("{}:{}:\n", r.def.file, r.def.line));
        last_file = r.def.file.clone();
        out.push_str(&test_line(r));
        out.push('\n');
        if !r.prints.is_empty() {
            out.push('\n');
            let text = r.prints.join("\n");
            for l in text.trim().lines() {
                out.push_str(&format!("  {l}\n"));
            }
            out.push('\n');
        }
    }
    if fail > 0 {
        out.push_str(&format!("{hl}\nFAILURES\n{hl}\n"));
        for r in runs.iter().filter(|r| r.status == Status::Fail) {
            out.push_str(&test_line(r));
            out.push('\n');
            out.push('\n');
            if mode == ReportMode::Full {
                let t = record(r, true);
                for q in &t.traces {
                    for l in &q.lines {
                        out.push_str(&format!("  {l}\n"));
                    }
                }
            }
            out.push('\n');
            // The failing line: the last line evaluated in the test's own file.
            if mode != ReportMode::Notes {
                if let Some((file, line, text)) = r
                    .lines
                    .iter()
                    .filter(|(f, l, _)| *f == r.def.file && *l >= r.def.line)
                    .max_by_key(|(_, l, _)| *l)
                {
                    out.push_str(&format!("  {file}:{line}:\n    {text}\n\n"));
                }
            }
            out.push('\n');
        }
    }
    if !runs.is_empty() {
        out.push_str(&hl);
        out.push('\n');
    }
    let total = pass + fail + skip;
    if pass > 0 {
        out.push_str(&format!("PASS: {pass}/{total}\n"));
    }
    if fail > 0 {
        out.push_str(&format!("FAIL: {fail}/{total}\n"));
    }
    if skip > 0 {
        out.push_str(&format!("SKIPPED: {skip}/{total}\n"));
    }
    out
}

fn test_line(r: &TestRun) -> String {
    let name = format!("data.{}.{}", r.def.package, r.def.name);
    match r.status {
        Status::Pass => format!("{name}: PASS ({})", go_duration(r.duration)),
        Status::Fail => format!("{name}: FAIL ({})", go_duration(r.duration)),
        Status::Skip => format!("{name}: SKIPPED"),
    }
}

/// Line coverage of the policy files (tests excluded).
#[derive(Debug, Default)]
pub struct Coverage {
    /// Per file: (path, covered lines, total lines), in path order.
    pub files: Vec<(String, usize, usize)>,
}

impl Coverage {
    /// Total covered / total lines.
    pub fn totals(&self) -> (usize, usize) {
        self.files
            .iter()
            .fold((0, 0), |(c, t), (_, fc, ft)| (c + fc, t + ft))
    }

    /// Total coverage in percent (100 when there is nothing to cover).
    pub fn percent(&self) -> f64 {
        let (c, t) = self.totals();
        percent(c, t)
    }

    /// `Coverage:` then `path: NN.N% (c/t lines)` per file and a `total:` line.
    pub fn render(&self) -> String {
        let mut out = String::from("\nCoverage:\n");
        for (path, c, t) in &self.files {
            out.push_str(&format!(
                "{path}: {:.1}% ({c}/{t} lines)\n",
                percent(*c, *t)
            ));
        }
        let (c, t) = self.totals();
        out.push_str(&format!("total: {:.1}% ({c}/{t} lines)\n", percent(c, t)));
        out
    }
}

fn percent(c: usize, t: usize) -> f64 {
    if t == 0 {
        100.0
    } else {
        c as f64 * 100.0 / t as f64
    }
}

fn is_test_file(path: &str) -> bool {
    path.ends_with("_test.rego")
}

/// Merges the per-test covered lines and finds every file's coverable lines.
fn coverage_report(
    pe: &mut PolicyEngine,
    files: &[PolicyFile],
    runs: &[TestRun],
) -> Result<Coverage> {
    let mut covered: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for r in runs {
        for (f, l, _) in &r.lines {
            covered.entry(f.clone()).or_default().insert(*l);
        }
    }
    // Coverable lines do not depend on what ran: evaluate each package once on a clone so
    // regorus reports every module (it leaves out modules it never entered).
    let mut probe = pe.clone();
    let engine = probe.engine_mut()?;
    engine.set_enable_coverage(true);
    engine.clear_coverage_data();
    let mut packages = BTreeSet::new();
    for m in engine.get_modules().iter() {
        let path = m.package.span.source.get_path();
        if !trace::is_internal(path) && !is_test_file(path) {
            packages.insert(package_of(&m.package.refr));
        }
    }
    for p in packages {
        let _ = engine.eval_query(format!("data.{p}"), false);
    }
    let _ = engine.take_prints();
    let mut coverable: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    if let Ok(report) = engine.get_coverage_report() {
        for f in report.files {
            let all: BTreeSet<u32> = f.covered.union(&f.not_covered).copied().collect();
            coverable.insert(f.path, all);
        }
    }
    let mut out = Coverage::default();
    let mut paths: Vec<&str> = files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| !is_test_file(p) && !trace::is_internal(p))
        .collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        // Lines past the user's last are helpers the load-time rewrites appended.
        let last = files.iter().find(|f| f.path == path).map_or(0, |f| {
            let lines: Vec<&str> = f.source.lines().collect();
            let helpers = lines
                .iter()
                .rev()
                .take_while(|l| l.starts_with("__regorun_"))
                .count();
            (lines.len() - helpers) as u32
        });
        let all: BTreeSet<u32> = coverable
            .get(path)
            .map(|c| c.range(..=last).copied().collect())
            .unwrap_or_default();
        let hit = covered
            .get(path)
            .map(|c| c.intersection(&all).count())
            .unwrap_or(0);
        out.files.push((path.to_string(), hit, all.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(Duration::from_nanos(0)), "0s");
        assert_eq!(go_duration(Duration::from_nanos(512)), "512ns");
        assert_eq!(go_duration(Duration::from_nanos(1_500)), "1.5µs");
        assert_eq!(go_duration(Duration::from_nanos(1_234_567)), "1.234567ms");
        assert_eq!(go_duration(Duration::from_millis(2)), "2ms");
        assert_eq!(go_duration(Duration::from_millis(1_500)), "1.5s");
    }

    #[test]
    fn coverage_lines() {
        let c = Coverage {
            files: vec![("a.rego".into(), 3, 4), ("b.rego".into(), 0, 0)],
        };
        assert_eq!(
            c.render(),
            "\nCoverage:\na.rego: 75.0% (3/4 lines)\nb.rego: 100.0% (0/0 lines)\ntotal: 75.0% (3/4 lines)\n"
        );
    }
}
