//! The `test` command: the parse → load → evaluate pipeline of a batch run, `--combine`,
//! `--fix`/`--diff`, redaction, and how a run ends (conftest `runner/test.go`).

use super::check::{
    check_file, error_record, evaluated, exit_code, fill_positions, parse_input, parser_of,
    shows_positions, stdin_name, Checker, Duplicates, FileResult, PROGRESS_MIN_FILES,
};
pub use super::settings::TestSettings;
use crate::base::fs::io_reason;
use crate::base::redact::Redactor;
use crate::base::result::{CheckResult, Totals};
use crate::base::value::to_rego;
use crate::commands::Outcome;
use crate::engine::data;
use crate::engine::eval::PolicyEngine;
use crate::output::render_format;
use crate::parser::discover::{self, InputFile};
use crate::parser::push_combined;
use crate::parser::Parser;
use crate::rego::policy::{self, select_namespaces, Namespace};
use anyhow::{anyhow, bail, Result};
use rayon::prelude::*;
use serde_json::Value;
use std::io::Read;

/// Which of `n` shards an input belongs to: a hash of its path that every machine and
/// every regorun version computes alike (SHA-256, first eight bytes).
fn shard_of(path: &str, n: u64) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(path.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % n
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
