//! `--trace` on `test` and `verify`: stderr always, stdout only for the stdout format.

mod common;

use assert_cmd::Command;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/verify").join(name)
}

/// Runs `regorun ARGS` in a fixture dir (CONFTEST_* variables removed).
fn run(dir: &str, args: &[&str]) -> (String, String, i32) {
    let r = common::run_in(&format!("tests/fixtures/verify/{dir}"), args);
    (r.stdout, r.stderr, r.code)
}

const DEPLOYMENT_TRACE: &str = r#"file: input.json | query: data.main.exception[_][_] == ""
TRAC   Enter data.main.exception[_][_] == ""
TRAC   | Input object with 2 keys: kind, spec
TRAC   | no exception rule in this namespace
TRAC   | Result no exception
file: input.json | query: data.main.deny
TRAC   Enter data.main.deny
TRAC   | Input object with 2 keys: kind, spec
TRAC   | Eval policy/main.rego:5: deny contains msg if {
TRAC   | Eval policy/main.rego:6: input.kind == "Deployment"
TRAC   | Eval policy/main.rego:7: not input.spec.replicas
TRAC   | Eval policy/main.rego:8: msg := "replicas required"
TRAC   | Exit data.main.deny = ["replicas required"]
TRAC   | Result FAIL (1 failure)
file: input.json | query: data.main.exception[_][_] == ""
TRAC   Enter data.main.exception[_][_] == ""
TRAC   | Input object with 2 keys: kind, spec
TRAC   | no exception rule in this namespace
TRAC   | Result no exception
file: input.json | query: data.main.warn
TRAC   Enter data.main.warn
TRAC   | Input object with 2 keys: kind, spec
TRAC   | Eval policy/main.rego:12: input.kind == "Service"
TRAC   | Exit data.main.warn = []
TRAC   | Result PASS
"#;

/// Runs `f` with the fixture input `basic/input.json`.
fn with_input<F: FnOnce(&str)>(f: F) {
    f("input.json");
}

#[test]
fn test_trace_stdout_format_goes_to_both_streams() {
    with_input(|input| {
        let (out, err, code) = run("basic", &["test", input, "--trace", "--no-color"]);
        assert_eq!(err, DEPLOYMENT_TRACE);
        assert_eq!(out, DEPLOYMENT_TRACE);
        assert_eq!(code, 1);
    });
}

#[test]
fn test_trace_json_keeps_stdout_json() {
    with_input(|input| {
        let (out, err, code) = run(
            "basic",
            &["test", input, "--trace", "--no-color", "-o", "json"],
        );
        assert_eq!(err, DEPLOYMENT_TRACE);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["failures"][0]["msg"], "replicas required");
        assert_eq!(code, 1);
    });
}

#[test]
fn test_trace_colours() {
    with_input(|input| {
        let (_, err, _) = run("basic", &["test", input, "--trace", "-o", "json"]);
        assert!(err.contains("\x1b[31mfile: input.json | query: data.main.deny\x1b[0m\n"));
        assert!(err.contains("\x1b[32mfile: input.json | query: data.main.warn\x1b[0m\n"));
        assert!(err.contains("\x1b[34mTRAC \x1b[0m  Enter data.main.deny\n"));
    });
}

#[test]
fn trace_from_environment() {
    with_input(|input| {
        let out = Command::cargo_bin("regorun")
            .unwrap()
            .current_dir(fixture("basic"))
            .env_clear()
            .env("CONFTEST_TRACE", "true")
            .args(["test", input, "--no-color", "-o", "json"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stderr), DEPLOYMENT_TRACE);
    });
}

#[test]
fn verify_trace() {
    let (out, err, code) = run("basic", &["verify", "--trace", "--no-color", "-n", "main"]);
    assert_eq!(out, err);
    assert_eq!(code, 1);
    let masked = regex::Regex::new(r"\(\d+(\.\d+)?(ns|µs|ms|s)\)")
        .unwrap()
        .replace_all(&err, "(DUR)")
        .into_owned();
    assert!(masked.starts_with(
        "file: policy/main_test.rego | query: test_deny_missing_replicas
TRAC   Enter data.main.test_deny_missing_replicas
TRAC   | Eval policy/main.rego:5: deny contains msg if {
"
    ));
    assert!(masked.contains(
        "file: policy/main_test.rego | query: test_no_deny
TRAC   Enter data.main.test_no_deny
"
    ));
    assert!(masked.contains("TRAC   | Print policy/main_test.rego:10: checking no deny\nTRAC   | Exit data.main.test_no_deny = true\nTRAC   | Result PASS (DUR)\n"));
    assert!(masked.contains(
        "file: policy/main_test.rego | query: test_fails
TRAC   Enter data.main.test_fails
TRAC   | Eval policy/main_test.rego:15: x := 1
TRAC   | Eval policy/main_test.rego:16: x == 2
TRAC   | Fail data.main.test_fails (undefined)
TRAC   | Result FAIL (DUR)
file: policy/main_test.rego | query: test_fails#01
"
    ));
    assert!(masked.ends_with(
        "file: policy/main_test.rego | query: todo_test_later
TRAC   Enter data.main.todo_test_later
TRAC   | Result SKIPPED
"
    ));
    let (out, err, _) = run("basic", &["verify", "--trace", "-o", "json"]);
    assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
    assert!(err.contains("query: test_fails"));
}
