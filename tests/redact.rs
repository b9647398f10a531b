//! `--redact` (issue 27): no account id, key id or organization id of any fixture is left in
//! any byte of any output format, `--trace`, `--diff` or error line, and counts and exit
//! codes are the unredacted run's.

mod common;

use regex::Regex;
use regorun::output::FORMATS;
use std::collections::BTreeSet;

/// The identifiers in the inputs' bytes and names: twelve-digit account ids, key ids
/// (UUID and `mrk-`) and organization ids.
fn identifiers() -> BTreeSet<String> {
    let ids = Regex::new(
        r"[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32}|\bo-[a-z0-9]{10,32}\b",
    )
    .unwrap();
    let mut out = BTreeSet::new();
    let mut dirs = vec![common::root().join("fixtures")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = format!(
                "{}\n{}",
                path.display(),
                String::from_utf8_lossy(&std::fs::read(&path).unwrap())
            );
            for m in ids.find_iter(&text) {
                let s = m.as_str();
                if !s.bytes().all(|b| b.is_ascii_digit()) || s.len() == 12 {
                    out.insert(s.to_string());
                }
            }
        }
    }
    out
}

fn assert_clean(ids: &BTreeSet<String>, what: &str, text: &str) {
    for id in ids {
        assert!(!text.contains(id.as_str()), "{what}: {id} left in\n{text}");
    }
}

/// The failure, warning and success counts of a JSON report.
fn counts(json: &str) -> Vec<(usize, usize, usize)> {
    let records: serde_json::Value = serde_json::from_str(json).expect("json output");
    let n =
        |r: &serde_json::Value, k: &str| r.get(k).and_then(|v| v.as_array()).map_or(0, Vec::len);
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                n(r, "failures"),
                n(r, "warnings"),
                r["successes"].as_u64().unwrap_or(0) as usize,
            )
        })
        .collect()
}

#[test]
fn every_format_leaves_no_identifier_and_keeps_counts_and_exit_codes() {
    let ids = identifiers();
    assert!(ids.len() >= 5, "the fixtures name identifiers: {ids:?}");
    for format in FORMATS {
        // Every fixture; the broken ones become FAIL records.
        let args = vec![
            "test",
            "--no-color",
            "--keep-going",
            "-o",
            format,
            "fixtures",
        ];
        let plain = common::run_in(".", &args);
        let mut args = args;
        args.push("--redact");
        let redacted = common::run_in(".", &args);
        assert_eq!(redacted.code, plain.code, "{format}: {}", redacted.stderr);
        assert_clean(&ids, format, &redacted.stdout);
        assert_clean(&ids, format, &redacted.stderr);
        assert_eq!(
            redacted.stdout.lines().count(),
            plain.stdout.lines().count(),
            "{format}"
        );
        if *format == "json" {
            assert_eq!(counts(&redacted.stdout), counts(&plain.stdout));
        }
        if *format == "stdout" {
            assert_eq!(
                redacted.stdout.lines().last(),
                plain.stdout.lines().last(),
                "the summary line"
            );
        }
    }
}

/// `-o FORMAT=PATH` files are redacted as stdout is.
#[test]
fn output_files_are_redacted() {
    let ids = identifiers();
    let dir = tempfile::tempdir().unwrap();
    let targets: Vec<String> = FORMATS
        .iter()
        .map(|f| format!("{f}={}", dir.path().join(f).display()))
        .collect();
    let mut args = vec!["test", "--no-color", "--keep-going", "--redact", "fixtures"];
    for t in &targets {
        args.extend(["-o", t.as_str()]);
    }
    let run = common::run_in(".", &args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for f in FORMATS {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(!text.is_empty(), "{f}");
        assert_clean(&ids, f, &text);
    }
}

/// The owner account (`--data` here) is marked; a second account is not; the map file
/// gives the values back; trace and diff texts are redacted too.
#[test]
fn owner_map_trace_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("map.json");
    let run = common::run_in(
        ".",
        &[
            "test",
            "--no-color",
            "--data",
            "fixtures/kms/data/owner.json",
            "--redact",
            "--redact-map",
            map.to_str().unwrap(),
            "fixtures/kms/raw/cross-account-root.json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "WARN - fixtures/kms/raw/cross-account-root.json - main - Key policy, statement 1 (Sid \"Allow account <account-1>\"), allows kms:Decrypt, kms:DescribeKey to arn:aws:iam::<account-1>:root outside the owner account (<owner-account-1>); confirm this cross-account access is intended and limit it to the operations the other account needs.\n\n21 tests, 20 passed, 1 warning, 0 failures, 0 exceptions\n"
    );
    let table: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&map).unwrap()).unwrap();
    assert_eq!(table["<owner-account-1>"], "111122223333");
    assert_eq!(table["<account-1>"], "444455556666");

    let ids = identifiers();
    for extra in [&["--trace"][..], &["--diff"][..]] {
        let mut args = vec!["test", "--no-color", "--redact", "fixtures/kms/raw"];
        args.extend(extra);
        let run = common::run_in(".", &args);
        assert!(!run.stdout.is_empty() || !run.stderr.is_empty());
        assert_clean(&ids, extra[0], &run.stdout);
        assert_clean(&ids, extra[0], &run.stderr);
    }
}

/// An error line names the file through its placeholder; `--redact-map` alone is refused.
#[test]
fn error_lines_are_redacted() {
    let dir = common::scratch(&[("111122223333.json", "{\"Statement\": [")]);
    let run = common::run_at(dir.path(), &["test", "--redact", "111122223333.json"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "Error: running test: parse configurations: parser unmarshal: unmarshal json: unexpected end of JSON input, path: <account-1>.json\n"
    );
    let run = common::run_at(
        dir.path(),
        &["test", "--redact-map", "m.json", "111122223333.json"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "Error: --redact-map needs --redact\n");
}
