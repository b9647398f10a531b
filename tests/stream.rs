//! Streamed output (issue 28): a `test` run writes records as inputs finish, yet every
//! format's bytes and the exit code equal those of a run that keeps all results until the
//! end. That run is still what `--redact` does (redaction needs every owner first); on
//! inputs with nothing to redact its output is the unredacted output, so it is the
//! reference here.

mod common;

use regorun::output::FORMATS;
use std::path::Path;

/// Two namespaces (the second one's records wait until the first one's are written),
/// warnings, failures, exceptions and prints.
const POLICY: &str = r#"package main

import rego.v1

deny contains msg if {
	input.n % 3 == 0
	msg := sprintf("item %v: this message is long enough that a few thousand inputs pass the bytes that a run holds in memory before it writes through to its destination", [input.name])
}

warn contains msg if {
	input.n % 5 == 0
	msg := sprintf("item %v is a multiple of five", [input.name])
}

deny_odd contains "odd" if input.n % 2 == 1

exception contains rules if {
	input.n % 4 == 1
	rules := ["odd"]
}
"#;

const EXTRA: &str = r#"package extra

import rego.v1

deny contains msg if {
	input.n % 7 == 0
	msg := sprintf("%v: a multiple of seven", [input.name])
}

warn contains "printed" if {
	input.n % 250 == 0
	print("looking at", input.name)
}
"#;

/// 4,000 inputs (JSON and YAML) under nested directories, in a fresh directory.
fn corpus() -> tempfile::TempDir {
    let dir = common::scratch(&[("policy/main.rego", POLICY), ("policy/extra.rego", EXTRA)]);
    for i in 0..4000 {
        let sub = dir.path().join(format!("in/group-{:02}", i % 13));
        std::fs::create_dir_all(&sub).unwrap();
        let (name, text) = if i % 6 == 0 {
            (
                format!("item-{i:05}.yaml"),
                format!("n: {i}\nname: item-{i}\n"),
            )
        } else {
            (
                format!("item-{i:05}.json"),
                format!("{{\"n\": {i}, \"name\": \"item-{i}\"}}"),
            )
        };
        std::fs::write(sub.join(name), text).unwrap();
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> common::Run {
    common::run_at(dir, args)
}

#[test]
fn every_format_writes_the_bytes_of_a_batch_run() {
    let dir = corpus();
    for &format in FORMATS {
        let batch = run(
            dir.path(),
            &[
                "test",
                "--no-color",
                "--redact",
                "--all-namespaces",
                "-o",
                format,
                "in",
            ],
        );
        assert_eq!(batch.code, 1, "{format}: {}", batch.stderr);
        for jobs in ["1", "3"] {
            let streamed = run(
                dir.path(),
                &[
                    "test",
                    "--no-color",
                    "--all-namespaces",
                    "--jobs",
                    jobs,
                    "-o",
                    format,
                    "in",
                ],
            );
            assert_eq!(streamed.code, batch.code, "{format} --jobs {jobs}");
            assert!(streamed.stdout == batch.stdout, "{format} --jobs {jobs}");
            assert_eq!(streamed.stderr, batch.stderr, "{format} --jobs {jobs}");
        }
        if format == "json" {
            // Past the bytes held in memory: the run wrote through.
            assert!(batch.stdout.len() > 1 << 20, "{}", batch.stdout.len());
        }
        if format == "stdout" {
            // The prints of both namespaces come first.
            assert!(
                batch.stdout.starts_with("PRNT "),
                "{}",
                &batch.stdout[..200]
            );
        }
    }
}

#[test]
fn files_and_a_second_stdout_format() {
    let dir = corpus();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let json = run(
        dir.path(),
        &["test", "--all-namespaces", "-o", "json", "in"],
    );
    let tap = run(dir.path(), &["test", "--all-namespaces", "-o", "tap", "in"]);
    let both = run(
        dir.path(),
        &[
            "test",
            "--all-namespaces",
            "-o",
            "junit=out/report.xml",
            "-o",
            "json",
            "-o",
            "tap",
            "-o",
            "json=out/report.json",
            "in",
        ],
    );
    assert_eq!(both.code, 1, "{}", both.stderr);
    assert!(both.stdout == format!("{}{}", json.stdout, tap.stdout));
    let file = std::fs::read_to_string(dir.path().join("out/report.json")).unwrap();
    assert!(file == json.stdout);
    let junit = run(
        dir.path(),
        &["test", "--all-namespaces", "-o", "junit", "in"],
    );
    let file = std::fs::read_to_string(dir.path().join("out/report.xml")).unwrap();
    assert!(file == junit.stdout);
    let names: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn quiet_writes_nothing_when_the_run_passes() {
    let dir = corpus();
    let quiet = run(
        dir.path(),
        &[
            "test",
            "--quiet",
            "--no-fail",
            "-o",
            "json=q.json",
            "-o",
            "json",
            "in",
        ],
    );
    assert_eq!((quiet.code, quiet.stdout.as_str()), (0, ""));
    assert!(!dir.path().join("q.json").exists());
    // Failing, --quiet prints everything.
    let loud = run(dir.path(), &["test", "-o", "json", "in"]);
    let failing = run(dir.path(), &["test", "--quiet", "-o", "json", "in"]);
    assert_eq!(failing.code, 1);
    assert!(failing.stdout == loud.stdout);
}

#[test]
fn an_error_after_output_began_leaves_no_partial_file() {
    let dir = corpus();
    std::fs::write(dir.path().join("in/zz-broken.json"), "{\"n\": ").unwrap();
    let out = run(
        dir.path(),
        &["test", "-o", "json=report.json", "-o", "github", "in"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("Error: running test: parse configurations: ")
            && out.stderr.contains("in/zz-broken.json")
            && out.stderr.lines().count() == 1,
        "{}",
        out.stderr
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("report"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // What was written before the error is whole records of the inputs before it.
    assert!(out.stdout.len() > 1 << 20);
    assert!(out
        .stdout
        .starts_with("::group::Testing \"in/group-00/item-00000.yaml\""));
    assert!(out.stdout.ends_with("::endgroup::\n"));
    // With --keep-going the broken input is a record and the run completes.
    let kept = run(dir.path(), &["test", "--keep-going", "-o", "json", "in"]);
    let records: serde_json::Value = serde_json::from_str(&kept.stdout).unwrap();
    assert_eq!(records.as_array().unwrap().len(), 4001);
}
