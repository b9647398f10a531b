//! A run that tests nothing says so (issue "never a silent pass, part 3"): the pipeline a
//! widely shared KMS guide recommends pipes `aws kms get-key-policy` into conftest with a
//! policy in `package kms` written in Rego v0. Written here in our own words.

mod common;

/// Two v0 checks in package `kms`: a wildcard principal and every KMS action.
const GUIDE_POLICY: &str = r#"package kms

deny[msg] {
	s := input.Statement[_]
	s.Principal == "*"
	msg := sprintf("statement %v lets any principal use the key", [s.Sid])
}

deny[msg] {
	s := input.Statement[_]
	s.Action == "kms:*"
	msg := sprintf("statement %v allows every KMS action", [s.Sid])
}
"#;

/// What `aws kms get-key-policy --output text` prints for a key "fixed" under pressure.
const KEY_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}"#;

fn run(args: &[&str]) -> common::Run {
    let dir = common::scratch(&[("policy/kms_key_policy.rego", GUIDE_POLICY)]);
    let mut all = vec![
        "test",
        "-",
        "--policy",
        "policy/kms_key_policy.rego",
        "--no-color",
    ];
    all.extend_from_slice(args);
    common::run_with(
        dir.path().to_str().expect("utf-8"),
        &all,
        &[],
        Some(KEY_POLICY),
    )
}

const EMPTY: &str = "\n0 tests, 0 passed, 0 warnings, 0 failures, 0 exceptions\n";
const WARNING: &str = "WARN: nothing is tested: no loaded policy has package main; deny, violation or warn rules are in package kms: use --namespace kms, or --all-namespaces\n";

#[test]
fn v0_policies_get_a_hint_after_conftests_error() {
    let r = run(&[]);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert_eq!(
        r.stderr,
        "Error: running test: load: loading policies: load: 1 error occurred during loading: policy/kms_key_policy.rego:3: rego_parse_error: `if` keyword is required before rule body\n\
         \tdeny[msg] {\n\
         \t          ^\n\
         hint: policy/kms_key_policy.rego looks like Rego v0: run with --rego-version v0, or convert it to Rego v1 (`if` before every rule body, `contains` in partial set rules)\n"
    );
}

#[test]
fn a_namespace_mismatch_warns_but_keeps_conftests_output() {
    let r = run(&["--rego-version", "v0"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, EMPTY, WARNING)
    );
    // The same for --combine and for a --namespace that does not exist.
    let r = run(&["--rego-version", "v0", "--combine"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, EMPTY, WARNING)
    );
    let r = run(&["--rego-version", "v0", "--namespace", "kmss"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            0,
            "WARN: nothing is tested: no loaded policy has package kmss; deny, violation or warn rules are in package kms: use --namespace kms, or --all-namespaces\n"
        )
    );
}

#[test]
fn the_right_namespace_finds_both_problems() {
    let r = run(&["--rego-version", "v0", "--namespace", "kms"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            1,
            "FAIL - - kms - statement Everyone allows every KMS action\n\
             FAIL - - kms - statement Everyone lets any principal use the key\n\n\
             2 tests, 0 passed, 0 warnings, 2 failures, 0 exceptions\n",
            ""
        )
    );
    let r = run(&["--rego-version", "v0", "--all-namespaces"]);
    assert_eq!((r.code, r.stderr.as_str()), (1, ""));
}

#[test]
fn fail_on_empty_turns_an_empty_run_into_a_failure() {
    let r = run(&["--rego-version", "v0", "--fail-on-empty"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, EMPTY);
    assert_eq!(
        r.stderr,
        format!("{WARNING}Error: no rule was evaluated for - (--fail-on-empty)\n")
    );
    // Also from the configuration file.
    let dir = common::scratch(&[
        ("policy/kms_key_policy.rego", GUIDE_POLICY),
        (
            "conftest.toml",
            "fail-on-empty = true\nrego-version = \"v0\"\n",
        ),
    ]);
    let r = common::run_with(
        dir.path().to_str().expect("utf-8"),
        &["test", "-", "--no-color"],
        &[],
        Some(KEY_POLICY),
    );
    assert_eq!((r.code, r.stdout.as_str()), (1, EMPTY), "{}", r.stderr);
    // A run that tests something is unaffected.
    let r = run(&[
        "--rego-version",
        "v0",
        "--namespace",
        "kms",
        "--fail-on-empty",
    ]);
    assert_eq!((r.code, r.stderr.as_str()), (1, ""));
}

#[test]
fn verify_says_when_the_namespace_selects_no_test() {
    let dir = common::scratch(&[
        (
            "policy/kms.rego",
            "package kms\n\ndeny contains \"any principal\" if input.Principal == \"*\"\n",
        ),
        (
            "policy/kms_test.rego",
            "package kms\n\ntest_wildcard if {\n\tdeny[\"any principal\"] with input as {\"Principal\": \"*\"}\n}\n",
        ),
    ]);
    let at = dir.path().to_str().expect("utf-8");
    let r = common::run_with(
        at,
        &["verify", "--no-color", "--namespace", "main"],
        &[],
        None,
    );
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            0,
            "\n0 tests, 0 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n",
            "WARN: nothing is tested: namespace main has no test rules; they are in package kms: use --namespace kms, or leave --namespace out\n"
        )
    );
    let r = common::run_with(
        at,
        &["verify", "--no-color", "--namespace", "kms"],
        &[],
        None,
    );
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert!(
        r.stdout
            .ends_with("1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n"),
        "{}",
        r.stdout
    );
}
