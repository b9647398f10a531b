//! `regorun merge`: the JSON reports of `regorun test --shard K/N` runs combined into one
//! report in any format, with the totals and exit code of one unsharded run. Records are
//! ordered as a run over one directory walks it: namespaces in the order the reports give
//! them, files by their path, directory by directory, in byte order.

use super::check::{exit_code, fill_positions, shows_positions};
use super::{output_targets, Outcome};
use crate::base::result::{CheckResult, Location, Message, Totals};
use crate::cli::MergeArgs;
use crate::config::Config;
use crate::output::{render_format, OutputOptions};
use anyhow::{anyhow, bail, Result};
use serde_json::Value;

/// Runs `regorun merge`.
pub fn run_merge(args: MergeArgs, cfg: &Config) -> Result<Outcome> {
    let opts = OutputOptions::resolve(
        cfg,
        args.report.no_color,
        args.junit_hide_message,
        args.github_hide_passed,
    )?;
    let fail_on_warn = cfg.bool("fail-on-warn", args.report.fail_on_warn, false)?;
    let no_fail = cfg.bool("no-fail", args.report.no_fail, false)?;
    let outputs = output_targets(cfg.list("output", args.report.output, &["stdout"]))?;
    let mut results = Vec::new();
    for path in &args.reports {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("merge: read {path}: {}", crate::base::fs::io_reason(&e)))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| anyhow!("merge: {path} is not a JSON report: {e}"))?;
        results.extend(records(&doc).map_err(|e| anyhow!("merge: {path}: {e}"))?);
    }
    let mut namespaces: Vec<String> = Vec::new();
    for r in &results {
        if !namespaces.contains(&r.namespace) {
            namespaces.push(r.namespace.clone());
        }
    }
    let rank: std::collections::HashMap<&str, usize> = namespaces
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    // A directory walk's order: path components compared one by one.
    results.sort_by(|a, b| {
        rank[a.namespace.as_str()]
            .cmp(&rank[b.namespace.as_str()])
            .then_with(|| a.filename.split('/').cmp(b.filename.split('/')))
    });
    if outputs.iter().any(|o| shows_positions(&o.format)) {
        fill_positions(&mut results, None, None);
    }
    let code = exit_code(&Totals::of(&results), fail_on_warn, no_fail);
    let mut outcome = Outcome {
        exit_code: code,
        ..Default::default()
    };
    for target in &outputs {
        let text = render_format(&target.format, &results, &opts)?;
        match &target.path {
            Some(p) => outcome.files.push((p.clone(), text)),
            None => outcome.stdout.push_str(&text),
        }
    }
    Ok(outcome)
}

/// The records of one report (`null` is none).
fn records(doc: &Value) -> Result<Vec<CheckResult>> {
    let items = match doc {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => bail!("a JSON report is an array of records"),
    };
    items
        .iter()
        .map(|r| {
            let text = |k: &str| r.get(k).and_then(Value::as_str);
            let filename = text("filename").ok_or_else(|| anyhow!("a record has no filename"))?;
            let mut c = CheckResult::new(
                // conftest writes stdin's "-" as "".
                if filename.is_empty() { "-" } else { filename },
                text("namespace").unwrap_or_default(),
            );
            c.successes = r.get("successes").and_then(Value::as_u64).unwrap_or(0) as usize;
            c.skipped = messages(r.get("skipped"))?;
            c.warnings = messages(r.get("warnings"))?;
            c.failures = messages(r.get("failures"))?;
            c.exceptions = messages(r.get("exceptions"))?;
            Ok(c)
        })
        .collect()
}

fn messages(list: Option<&Value>) -> Result<Vec<Message>> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    let items = list
        .as_array()
        .ok_or_else(|| anyhow!("a message list is not an array"))?;
    items
        .iter()
        .map(|m| {
            let mut out = Message::plain(
                m.get("msg")
                    .and_then(Value::as_str)
                    .ok_or_else(|| anyhow!("a message has no msg"))?,
            );
            if let Some(loc) = m.get("loc") {
                out.loc = Some(Location {
                    file: loc
                        .get("file")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    line: loc.get("line").and_then(Value::as_i64).unwrap_or(0),
                });
            }
            if let Some(Value::Object(meta)) = m.get("metadata") {
                out.metadata = meta.clone();
            }
            Ok(out)
        })
        .collect()
}
