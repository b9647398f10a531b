//! Golden tests of `regorun verify` through the binary.

mod common;

use assert_cmd::Command;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/verify").join(name)
}

/// Runs `regorun verify ARGS` in a fixture dir (CONFTEST_* variables removed).
fn verify(dir: &str, args: &[&str]) -> (String, String, i32) {
    let mut full = vec!["verify"];
    full.extend_from_slice(args);
    let r = common::run_in(&format!("tests/fixtures/verify/{dir}"), &full);
    (r.stdout, r.stderr, r.code)
}

/// Replaces Go durations such as `(1.234ms)` with `(DUR)`.
fn mask(s: &str) -> String {
    regex::Regex::new(r"\((\d+(\.\d+)?(ns|µs|ms|s))\)")
        .unwrap()
        .replace_all(s, "(DUR)")
        .into_owned()
}

#[test]
fn pass_fail_skip_and_duplicates() {
    let (out, err, code) = verify("basic", &["--no-color"]);
    assert_eq!(
        out,
        "FAIL - policy/main_test.rego -  - data.main.test_fails\n\n\
         5 tests, 3 passed, 0 warnings, 1 failure, 0 exceptions, 1 skipped\n"
    );
    assert_eq!(err, "");
    assert_eq!(code, 1);
}

#[test]
fn all_passing_exits_zero_and_quiet_prints_nothing() {
    let (out, _, code) = verify("multi", &["--no-color"]);
    assert_eq!(
        out,
        "\n4 tests, 4 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n"
    );
    assert_eq!(code, 0);
    let (out, err, code) = verify("multi", &["--quiet"]);
    assert_eq!((out.as_str(), err.as_str(), code), ("", "", 0));
    // --quiet still prints when a test fails.
    let (out, _, code) = verify("basic", &["--quiet", "--no-color"]);
    assert!(out.contains("FAIL - policy/main_test.rego"));
    assert_eq!(code, 1);
}

#[test]
fn colored_summary_by_default() {
    let (out, _, _) = verify("multi", &[]);
    assert!(out.contains(
        "\x1b[32m4 tests, 4 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\x1b[0m"
    ));
}

#[test]
fn namespace_filter_literal_and_glob() {
    let (out, _, code) = verify("multi", &["--no-color", "-n", "main"]);
    assert_eq!(
        out,
        "\n1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n"
    );
    assert_eq!(code, 0);
    let (out, _, _) = verify("multi", &["--no-color", "--namespace", "kms.*"]);
    assert_eq!(
        out,
        "\n3 tests, 3 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n"
    );
    let (out, _, _) = verify("multi", &["--no-color", "-n", "kms.key_test,main"]);
    assert!(out.contains("3 tests, 3 passed"));
    let (out, _, code) = verify("multi", &["--no-color", "-n", "nothere"]);
    assert_eq!(
        out,
        "\n0 tests, 0 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n"
    );
    assert_eq!(code, 0);
}

#[test]
fn env_namespace_applies() {
    let out = Command::cargo_bin("regorun")
        .unwrap()
        .current_dir(fixture("multi"))
        .env_clear()
        .env("CONFTEST_NAMESPACE", "kms.alias_test")
        .args(["verify", "--no-color"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 test, 1 passed"));
}

#[test]
fn with_input_and_with_data_and_data_dir() {
    let (out, err, code) = verify("withdata", &["--no-color", "-d", "data"]);
    assert_eq!(err, "");
    assert_eq!(
        out,
        "\n2 tests, 2 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n"
    );
    assert_eq!(code, 0);
    // Without the data, the first test fails (port 22 is not allowed).
    let (out, _, code) = verify("withdata", &["--no-color"]);
    assert!(out
        .contains("FAIL - policy/ports_test.rego -  - data.ports_test.test_loaded_data_allows_22"));
    assert_eq!(code, 1);
}

#[test]
fn json_output() {
    let (out, _, code) = verify("basic", &["-o", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let records = v.as_array().unwrap();
    assert_eq!(records.len(), 5);
    assert_eq!(records[0]["filename"], "policy/main_test.rego");
    assert_eq!(records[0]["namespace"], "");
    assert_eq!(records[0]["successes"], 1);
    assert_eq!(records[2]["failures"][0]["msg"], "data.main.test_fails");
    assert_eq!(records[4]["skipped"][0]["msg"], "data.main.todo_test_later");
}

#[test]
fn report_full() {
    let (out, err, code) = verify("basic", &["--report", "full"]);
    assert_eq!(err, "");
    assert_eq!(code, 1);
    let hl = "-".repeat(80);
    let expected = format!(
        "policy/main_test.rego:5:
data.main.test_deny_missing_replicas: PASS (DUR)
policy/main_test.rego:9:
data.main.test_no_deny: PASS (DUR)

  policy/main_test.rego:10: checking no deny

policy/main_test.rego:14:
data.main.test_fails: FAIL (DUR)
policy/main_test.rego:19:
data.main.test_fails#01: PASS (DUR)
policy/main_test.rego:23:
data.main.todo_test_later: SKIPPED
{hl}
FAILURES
{hl}
data.main.test_fails: FAIL (DUR)

  Enter data.main.test_fails
  | Eval policy/main_test.rego:15: x := 1
  | Eval policy/main_test.rego:16: x == 2
  | Fail data.main.test_fails (undefined)
  | Result FAIL (DUR)

  policy/main_test.rego:16:
    x == 2


{hl}
PASS: 3/5
FAIL: 1/5
SKIPPED: 1/5
"
    );
    assert_eq!(mask(&out), expected);
}

#[test]
fn report_fails_and_notes() {
    let (out, _, _) = verify("basic", &["--report", "fails"]);
    let out = mask(&out);
    assert!(out.contains("FAILURES"));
    assert!(!out.contains("| Eval"));
    assert!(out.contains("  policy/main_test.rego:16:\n    x == 2\n"));
    let (out, _, _) = verify("basic", &["--report", "notes"]);
    let out = mask(&out);
    assert!(out.contains("data.main.test_fails: FAIL (DUR)\n\n\n\n"));
    assert!(out.ends_with("PASS: 3/5\nFAIL: 1/5\nSKIPPED: 1/5\n"));
    // All passing: no FAILURES section.
    let (out, _, code) = verify("multi", &["--report=full", "-n", "main"]);
    assert_eq!(
        mask(&out),
        format!(
            "policy/main_test.rego:5:\ndata.main.test_main_ok: PASS (DUR)\n{}\nPASS: 1/1\n",
            "-".repeat(80)
        )
    );
    assert_eq!(code, 0);
}

#[test]
fn report_needs_stdout() {
    let (out, err, code) = verify("basic", &["--report", "full", "-o", "json"]);
    assert_eq!(out, "");
    assert_eq!(err, "Error: report flag is supported with stdout only\n");
    assert_eq!(code, 1);
}

#[test]
fn coverage_and_threshold() {
    let (out, err, code) = verify("basic", &["--no-color", "--coverage"]);
    assert_eq!(err, "");
    assert_eq!(code, 1);
    assert!(out.ends_with(
        "5 tests, 3 passed, 0 warnings, 1 failure, 0 exceptions, 1 skipped\n\n\
         Coverage:\npolicy/main.rego: 50.0% (4/8 lines)\ntotal: 50.0% (4/8 lines)\n"
    ));
    let (out, err, code) = verify("multi", &["--no-color", "--coverage"]);
    assert_eq!((err.as_str(), code), ("", 0));
    assert!(out
        .ends_with("Coverage:\npolicy/kms.rego: 100.0% (4/4 lines)\ntotal: 100.0% (4/4 lines)\n"));
    let (_, err, code) = verify("multi", &["--no-color", "--coverage-threshold", "90"]);
    assert_eq!((err.as_str(), code), ("", 0));
    let (out, err, code) = verify(
        "withdata",
        &["--no-color", "-d", "data", "--coverage-threshold", "99.5"],
    );
    assert!(out.contains("Coverage:\n"), "{out}");
    let ok = out.contains("total: 100.0%");
    assert_eq!(code, if ok { 0 } else { 1 }, "{out}{err}");
    let (out, err, code) = verify(
        "basic",
        &["--no-color", "--coverage-threshold", "60", "-n", "main"],
    );
    assert!(out.contains("total: 50.0% (4/8 lines)"));
    assert_eq!(
        err,
        "Error: coverage 50.0% is below the --coverage-threshold of 60%\n"
    );
    assert_eq!(code, 1);
    // Machine-readable formats keep stdout clean: coverage goes to stderr.
    let (out, err, _) = verify("multi", &["-o", "json", "--coverage"]);
    assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
    assert!(err.contains("Coverage:\npolicy/kms.rego: 100.0% (4/4 lines)"));
}

#[test]
fn test_error_aborts() {
    let (out, err, code) = verify("error", &[]);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "Error: running verification: run test: policy/err_test.rego:9: eval_conflict_error: complete rules must not produce multiple outputs\n"
    );
    assert_eq!(code, 1);
}

/// A built-in error (`x.s + 1` with a string) makes the test undefined, so it fails, as
/// upstream's `tests/builtin-errors`; with `--show-builtin-errors` it stops the run.
#[test]
fn builtin_error_fails_the_test() {
    let (out, err, code) = verify("builtin_error", &["--no-color"]);
    assert_eq!(
        out,
        "FAIL - policy/err_test.rego -  - data.main.test_errors\n\n2 tests, 1 passed, 0 warnings, 1 failure, 0 exceptions, 0 skipped\n"
    );
    assert_eq!((err.as_str(), code), ("", 1));
    let (out, err, code) = verify("builtin_error", &["--show-builtin-errors"]);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "Error: running verification: run test: policy/err_test.rego:11: eval_type_error: plus: operand 1 must be number but got string\n"
    );
    assert_eq!(code, 1);
}

#[test]
fn policy_that_does_not_parse() {
    let (out, err, code) = verify("broken", &[]);
    assert_eq!(out, "");
    assert!(err.starts_with(
        "Error: running verification: load: loading policies: load: 1 error occurred during loading: policy/bad.rego:3: rego_parse_error: `if` keyword is required before rule body\n"
    ), "{err}");
    assert_eq!(code, 1);
}

#[test]
fn missing_policy_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("regorun")
        .unwrap()
        .current_dir(dir.path())
        .env_clear()
        .arg("verify")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: running verification: load: loading policies: load: 1 error occurred during loading: stat policy: no such file or directory\n"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = Command::cargo_bin("regorun")
        .unwrap()
        .current_dir(dir.path())
        .env_clear()
        .args(["verify", "-p", "nope"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("stat nope: no such file or directory"));
}

#[test]
fn builtin_pack_has_no_tests() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("regorun")
        .unwrap()
        .current_dir(dir.path())
        .env_clear()
        .args(["verify", "-p", "builtin:kms", "--no-color"])
        .output()
        .unwrap();
    // The pack may not exist in every build; when it does, it has no tests.
    if out.status.code() == Some(0) {
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "\n0 tests, 0 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("without its _test.rego files"));
    }
}

#[test]
fn strict_builtin_errors_flag_is_accepted() {
    let (_, _, code) = verify("multi", &["--show-builtin-errors", "--strict"]);
    assert_eq!(code, 0);
}
