//! Fixture table for the built-in KMS pack: every row of
//! `fixtures/kms/expected.tsv` is run through `regorun test <path> -o json
//! --no-color -p policy/kms <extra args>` from the repo root, and the ids of
//! failures and warnings and the exit code are compared with the row.

use assert_cmd::Command;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const TABLE: &str = "fixtures/kms/expected.tsv";

struct Row {
    line: usize,
    path: String,
    deny: String,
    warn: String,
    exit: i32,
    args: Vec<String>,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(repo_root().join(TABLE)).expect("read expected.tsv");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "{TABLE}:{}: expected 5 TAB-separated columns", i + 1);
        out.push(Row {
            line: i + 1,
            path: cols[0].to_string(),
            deny: cols[1].to_string(),
            warn: cols[2].to_string(),
            exit: cols[3].parse().expect("exit code"),
            args: if cols[4] == "-" {
                vec![]
            } else {
                cols[4].split_whitespace().map(String::from).collect()
            },
        });
    }
    out
}

/// Sorted, comma-joined ids, or "-" when there are none (the table's form).
fn joined(ids: BTreeSet<String>) -> String {
    if ids.is_empty() {
        "-".to_string()
    } else {
        ids.into_iter().collect::<Vec<_>>().join(",")
    }
}

fn ids(records: &serde_json::Value, key: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rec in records.as_array().into_iter().flatten() {
        for msg in rec.get(key).and_then(|v| v.as_array()).into_iter().flatten() {
            let id = msg
                .pointer("/metadata/id")
                .and_then(|v| v.as_str())
                .unwrap_or("<no metadata.id>");
            out.insert(id.to_string());
        }
    }
    out
}

#[test]
fn kms_fixture_table() {
    let rows = rows();
    assert!(rows.len() >= 40, "expected at least 40 fixture rows, found {}", rows.len());
    let mut problems = Vec::new();
    for row in &rows {
        let mut cmd = Command::cargo_bin("regorun").expect("regorun binary");
        cmd.current_dir(repo_root())
            .args(["test", &row.path, "-o", "json", "--no-color", "-p", "policy/kms"])
            .args(&row.args);
        let out = cmd.output().expect("run regorun");
        let code = out.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let (deny, warn) = if stdout.trim().is_empty() {
            ("-".to_string(), "-".to_string())
        } else {
            match serde_json::from_str::<serde_json::Value>(&stdout) {
                Ok(v) => (joined(ids(&v, "failures")), joined(ids(&v, "warnings"))),
                Err(e) => {
                    problems.push(format!(
                        "{TABLE}:{} {}: output is not JSON ({e}): {}",
                        row.line,
                        row.path,
                        stdout.chars().take(300).collect::<String>()
                    ));
                    continue;
                }
            }
        };
        if deny != row.deny || warn != row.warn || code != row.exit {
            problems.push(format!(
                "{TABLE}:{} {} {:?}: expected deny={} warn={} exit={}, got deny={} warn={} exit={}{}",
                row.line,
                row.path,
                row.args,
                row.deny,
                row.warn,
                row.exit,
                deny,
                warn,
                code,
                if out.stderr.is_empty() {
                    String::new()
                } else {
                    format!(" stderr: {}", String::from_utf8_lossy(&out.stderr).trim())
                }
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} rows differ:\n{}",
        problems.len(),
        rows.len(),
        problems.join("\n")
    );
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read fixtures dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_kms_fixture_is_in_the_table() {
    let root = repo_root();
    let listed: BTreeSet<String> = rows().into_iter().map(|r| r.path).collect();
    let mut files = Vec::new();
    files_under(&root.join("fixtures/kms"), &mut files);
    let mut missing: Vec<String> = files
        .iter()
        .map(|p| p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"))
        // data/ holds --data documents referenced by rows, not inputs.
        .filter(|p| p != TABLE && !p.starts_with("fixtures/kms/data/"))
        .filter(|p| !listed.contains(p))
        .collect();
    missing.sort();
    assert!(missing.is_empty(), "fixtures missing from {TABLE}:\n{}", missing.join("\n"));
    for path in &listed {
        assert!(root.join(path).is_file(), "{TABLE} lists {path}, which does not exist");
    }
}
