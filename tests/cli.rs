//! The `test` command end to end: conftest's byte-exact output, exit codes, configuration
//! precedence, errors, and the behaviours of spec sections 2-10.

mod common;
use common::{golden, run_at, run_in, run_with, scratch};

const EX: &str = "fixtures/example";

#[test]
fn running_example_stdout_without_colour() {
    let r = run_in(EX, &["test", "a.yaml", "b.yaml", "--no-color"]);
    assert_eq!(
        r.stdout,
        "FAIL - a.yaml - main - image must not use latest tag\n\
         WARN - b.yaml - main - replicas should be >= 2\n\
         EXCP - b.yaml - main - data.main.exception[_][_] == \"image\"\n\
         \n\
         4 tests, 1 passed, 1 warning, 1 failure, 1 exception\n"
    );
    assert_eq!(r.stderr, "");
    assert_eq!(r.code, 1);
}

#[test]
fn running_example_stdout_with_colour() {
    let r = run_in(EX, &["test", "a.yaml", "b.yaml"]);
    golden("cli/example.stdout.color", &r.stdout);
    assert!(r
        .stdout
        .starts_with("\x1b[31mFAIL\x1b[0m - a.yaml - main - image must not use latest tag\n"));
    assert!(r
        .stdout
        .ends_with("\x1b[31m4 tests, 1 passed, 1 warning, 1 failure, 1 exception\x1b[0m\n"));
}

#[test]
fn running_example_json() {
    let r = run_in(EX, &["test", "a.yaml", "b.yaml", "-o", "json"]);
    golden("cli/example.json", &r.stdout);
    assert!(r
        .stdout
        .contains("\"msg\": \"replicas should be \\u003e= 2\""));
    assert_eq!(r.code, 1);
}

#[test]
fn suppress_exceptions_keeps_the_summary() {
    let r = run_in(
        EX,
        &[
            "test",
            "a.yaml",
            "b.yaml",
            "--no-color",
            "--suppress-exceptions",
        ],
    );
    assert!(!r.stdout.contains("EXCP"));
    assert!(r
        .stdout
        .ends_with("4 tests, 1 passed, 1 warning, 1 failure, 1 exception\n"));
}

#[test]
fn exit_code_matrix() {
    let cases: &[(&[&str], i32)] = &[
        (&["a.yaml", "b.yaml"], 1),
        (&["b.yaml"], 0),
        (&["a.yaml", "b.yaml", "--fail-on-warn"], 2),
        (&["b.yaml", "--fail-on-warn"], 1),
        (&["a.yaml", "b.yaml", "--no-fail"], 0),
        (&["a.yaml", "b.yaml", "--no-fail", "--fail-on-warn"], 0),
        (&["a.yaml", "-n", "nothere"], 0),
        (&["a.yaml", "--fail-on-warn=false"], 1),
    ];
    for (args, want) in cases {
        let mut full = vec!["test", "--no-color"];
        full.extend_from_slice(args);
        let r = run_in(EX, &full);
        assert_eq!(r.code, *want, "args {args:?}: {}{}", r.stdout, r.stderr);
    }
}

#[test]
fn quiet_prints_nothing_only_when_passing() {
    let pass = run_in(EX, &["test", "b.yaml", "--quiet"]);
    assert_eq!((pass.stdout.as_str(), pass.code), ("", 0));
    let fail = run_in(EX, &["test", "a.yaml", "--quiet", "--no-color"]);
    assert_eq!(fail.code, 1);
    assert!(fail.stdout.contains("FAIL - a.yaml"));
}

#[test]
fn no_results_json_is_null_and_namespace_records_stay() {
    let r = run_in(EX, &["test", "a.yaml", "-n", "nothere", "-o", "json"]);
    assert_eq!(
        r.stdout,
        "[\n\t{\n\t\t\"filename\": \"a.yaml\",\n\t\t\"namespace\": \"nothere\",\n\t\t\"successes\": 0\n\t}\n]\n"
    );
    let none = run_in(EX, &["test", "a.yaml", "-n", "zz*", "-o", "json"]);
    assert_eq!(none.stdout, "null\n");
    assert_eq!(none.code, 0);
}

#[test]
fn config_env_and_flag_precedence() {
    let dir = scratch(&[
        (
            "policy/p.rego",
            "package main\ndeny contains \"main\" if true\n",
        ),
        (
            "policy/other.rego",
            "package other\nwarn contains \"other\" if true\n",
        ),
        ("in.json", "{}"),
        (
            "conftest.toml",
            "namespace = \"other\"\noutput = \"json\"\n",
        ),
    ]);
    // File: namespace other, json output.
    let r = run_at(dir.path(), &["test", "in.json"]);
    assert!(
        r.stdout.contains("\"namespace\": \"other\""),
        "{}",
        r.stdout
    );
    assert_eq!(r.code, 0);
    // Environment beats the file.
    let r = run_with(
        dir.path().to_str().unwrap(),
        &["test", "in.json", "--no-color"],
        &[
            ("CONFTEST_NAMESPACE", "main"),
            ("CONFTEST_OUTPUT", "stdout"),
        ],
        None,
    );
    assert_eq!(
        r.stdout,
        "FAIL - in.json - main - main\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n"
    );
    // The flag beats the environment.
    let r = run_with(
        dir.path().to_str().unwrap(),
        &[
            "test",
            "in.json",
            "--no-color",
            "-n",
            "other",
            "-o",
            "stdout",
        ],
        &[("CONFTEST_NAMESPACE", "main")],
        None,
    );
    assert_eq!(
        r.stdout,
        "WARN - in.json - other - other\n\n1 test, 0 passed, 1 warning, 0 failures, 0 exceptions\n"
    );
    // regorun.toml wins over conftest.toml when both exist.
    std::fs::write(
        dir.path().join("regorun.toml"),
        "namespace = [\"main\", \"other\"]\nno-color = true\n",
    )
    .unwrap();
    let r = run_at(dir.path(), &["test", "in.json", "-o", "stdout"]);
    assert_eq!(
        r.stdout,
        "FAIL - in.json - main - main\nWARN - in.json - other - other\n\n2 tests, 0 passed, 1 warning, 1 failure, 0 exceptions\n"
    );
    // An explicit config file that cannot be read is an error.
    let r = run_at(dir.path(), &["test", "in.json", "-c", "missing.toml"]);
    assert_eq!(r.stderr, "Error: read in config: error reading config: open missing.toml: no such file or directory\n");
    assert_eq!(r.code, 1);
}

#[test]
fn error_catalogue() {
    let cases: &[(&str, &[&str], &str)] = &[
        (EX, &["test"], "Error: missing required arguments\n"),
        (EX, &["test", "nope.yaml"], "Error: running test: parse files: get file info: stat nope.yaml: no such file or directory\n"),
        (EX, &["test", "policy"], "Error: running test: parse files: no files found\n"),
        (EX, &["test", ".", "--ignore", "("], "Error: running test: parse files: get files from directory: given regexp couldn't be parsed :regex parse error:\n    (\n    ^\nerror: unclosed group\n"),
        (EX, &["test", "policy/main.rego"], "Error: running test: parse configurations: new parser: new: unknown parser: rego, path: policy/main.rego\n"),
        (EX, &["test", "a.yaml", "--parser", "yml"], "Error: running test: parse configurations: new parser: unknown parser: yml, path: a.yaml\n"),
        (EX, &["test", "a.yaml", "-p", "nope"], "Error: running test: load: loading policies: load: 1 error occurred during loading: stat nope: no such file or directory\n"),
        (EX, &["test", "a.yaml", "-p", "a.yaml"], "Error: running test: load: loading policies: no policies found in [a.yaml]\n"),
        (EX, &["test", "a.yaml", "--rego-version", "v2"], "Error: running test: load: loading policies: invalid Rego version: v2\n"),
        (EX, &["test", "a.yaml", "--bogus"], "Error: unknown flag: --bogus\n"),
        (EX, &["test", "a.yaml", "--update", "https://example.invalid/p.rego"], "Error: the --update flag is not supported by this build of regorun\n"),
        ("fixtures/conftest/metadata", &["test", "broken.json"], "Error: running test: query rule: check: query rule: new result: \"msg\" field must be present and a string\n"),
        ("fixtures/conftest/v0", &["test", "input.json"], "Error: running test: load: loading policies: load: 1 error occurred during loading: policy/legacy.rego:3: rego_parse_error: `if` keyword is required before rule body\n\tdeny[msg] {\n\t          ^\nhint: policy/legacy.rego looks like Rego v0: run with --rego-version v0, or convert it to Rego v1 (`if` before every rule body, `contains` in partial set rules)\n"),
    ];
    for (dir, args, want) in cases {
        let r = run_in(dir, args);
        assert_eq!(r.stderr, *want, "args {args:?}");
        assert_eq!(r.stdout, "", "args {args:?}");
        assert_eq!(r.code, 1, "args {args:?}");
    }
}

#[test]
fn parse_errors_win_over_policy_errors_and_name_the_file() {
    let dir = scratch(&[("bad.json", "{\"a\": [1, 2,,]}"), ("ok.yaml", "a: 1\n")]);
    let r = run_at(dir.path(), &["test", "ok.yaml", "bad.json", "-p", "nope"]);
    assert_eq!(
        r.stderr,
        "Error: running test: parse configurations: parser unmarshal: unmarshal json: invalid character ',' looking for beginning of value, path: bad.json\n"
    );
    assert_eq!(r.code, 1);
}

#[test]
fn problematic_if_is_rejected() {
    let dir = scratch(&[
        (
            "policy/p.rego",
            "package main\n\ndeny[msg] if {\n\tmsg := \"x\"\n}\n",
        ),
        ("in.json", "{}"),
    ]);
    let r = run_at(dir.path(), &["test", "in.json"]);
    assert_eq!(
        r.stderr,
        "Error: running test: load: loading policies: rule is using 'if' keyword without 'contains' keyword: rule in policy/p.rego at line 3\n"
    );
}

#[test]
fn multi_document_counting() {
    let r = run_in(
        "fixtures/conftest/multidoc",
        &[
            "test",
            "service.yaml",
            "deployment.yaml",
            "both.yaml",
            "-p",
            "policy.rego",
            "-o",
            "json",
        ],
    );
    golden("cli/multidoc.json", &r.stdout);
    let one = |f: &str| {
        run_in(
            "fixtures/conftest/multidoc",
            &["test", f, "-p", "policy.rego", "--no-color"],
        )
        .stdout
        .lines()
        .last()
        .unwrap()
        .to_string()
    };
    // The worked counts of spec 7.2.
    assert_eq!(
        one("service.yaml"),
        "5 tests, 4 passed, 1 warning, 0 failures, 0 exceptions"
    );
    assert_eq!(
        one("deployment.yaml"),
        "5 tests, 1 passed, 0 warnings, 4 failures, 0 exceptions"
    );
    assert_eq!(
        one("both.yaml"),
        "10 tests, 8 passed, 1 warning, 1 failure, 0 exceptions"
    );
}

#[test]
fn yaml_split_quirks_are_counted() {
    let dir = scratch(&[
        (
            "policy/p.rego",
            "package main\ndeny contains \"doc\" if input.x\n",
        ),
        ("trailing.yaml", "x: 1\n---\n"),
        ("comment.yaml", "x: 1\n--- # not a separator\nx: 2\n"),
        ("empty.yaml", ""),
    ]);
    let r = run_at(
        dir.path(),
        &[
            "test",
            "trailing.yaml",
            "comment.yaml",
            "empty.yaml",
            "--no-color",
        ],
    );
    assert_eq!(
        r.stdout,
        "FAIL - trailing.yaml - main - doc\nFAIL - comment.yaml - main - doc\n\n4 tests, 2 passed, 0 warnings, 2 failures, 0 exceptions\n"
    );
}

#[test]
fn combine_evaluates_once() {
    let r = run_in(
        "fixtures/conftest/combine",
        &[
            "test",
            "services.yaml",
            "deployments.yaml",
            "--combine",
            "--no-color",
        ],
    );
    assert_eq!(
        r.stdout,
        "FAIL - Combined - main - deployments.yaml: deployment api has no service\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n"
    );
    assert_eq!(r.code, 1);
}

#[test]
fn data_documents_are_mounted_by_directory() {
    let r = run_in(
        "fixtures/conftest/data",
        &["test", "input.json", "-d", "data", "--no-color"],
    );
    assert_eq!(
        r.stdout,
        "FAIL - input.json - main - port 8080 is not allowed (allowed: [22, 443])\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n"
    );
    let conflict = scratch(&[
        ("d/a.json", "{\"x\": 1}"),
        ("d/b.json", "{\"x\": 2}"),
        ("policy/p.rego", "package main\n"),
        ("in.json", "{}"),
    ]);
    let r = run_at(conflict.path(), &["test", "in.json", "-d", "d"]);
    assert_eq!(r.stderr, "Error: running test: load: load documents: 1 error occurred during loading: d/b.json: merge error\n");
}

#[test]
fn rego_v0() {
    let r = run_in(
        "fixtures/conftest/v0",
        &["test", "input.json", "--rego-version", "v0", "--no-color"],
    );
    assert_eq!(
        r.stdout,
        "WARN - input.json - main - no group set\nFAIL - input.json - main - running as root\n\n2 tests, 0 passed, 1 warning, 1 failure, 0 exceptions\n"
    );
    let env = run_with(
        "fixtures/conftest/v0",
        &["test", "input.json", "--no-color"],
        &[("CONFTEST_REGO_VERSION", "V0")],
        None,
    );
    assert_eq!(env.code, 1);
    assert!(env.stdout.contains("running as root"));
}

#[test]
fn namespaces_literal_glob_and_all() {
    let dir = "fixtures/conftest/namespaces";
    let all = run_in(
        dir,
        &["test", "input.json", "--all-namespaces", "-o", "json"],
    );
    golden("cli/all-namespaces.json", &all.stdout);
    let glob = run_in(dir, &["test", "input.json", "-n", "main.*", "--no-color"]);
    assert_eq!(glob.stdout, "WARN - input.json - main.gke - gke warns\n\n1 test, 0 passed, 1 warning, 0 failures, 0 exceptions\n");
    let listed = run_in(
        dir,
        &["test", "input.json", "-n", "main.gke,main", "--no-color"],
    );
    assert_eq!(
        listed.stdout,
        "WARN - input.json - main.gke - gke warns\nFAIL - input.json - main - main says no\n\n2 tests, 0 passed, 1 warning, 1 failure, 0 exceptions\n"
    );
    let bad = run_in(dir, &["test", "input.json", "-n", "["]);
    assert_eq!(
        bad.stderr,
        "Error: running test: filter namespaces: match pattern \"[\": syntax error in pattern\n"
    );
}

#[test]
fn metadata_and_loc_in_json() {
    let r = run_in(
        "fixtures/conftest/metadata",
        &["test", "input.json", "-o", "json"],
    );
    golden("cli/metadata.json", &r.stdout);
    assert!(r.stdout.contains(
        "\"loc\": {\n\t\t\t\t\t\"file\": \"main.tf\",\n\t\t\t\t\t\"line\": 12\n\t\t\t\t}"
    ));
}

#[test]
fn conftest_file_and_print() {
    let r = run_in(
        "fixtures/conftest/conftest-file",
        &["test", "input.json", "input.yaml", "--no-color"],
    );
    assert_eq!(
        r.stdout,
        "PRNT   policy/file.rego:9: evaluating input.json\n\n\
         PRNT   policy/file.rego:9: evaluating input.yaml\n\n\
         WARN - input.json - main - file has a todo\n\
         FAIL - input.yaml - main - input.yaml is not a JSON file\n\n\
         4 tests, 2 passed, 1 warning, 1 failure, 0 exceptions\n"
    );
}

#[test]
fn stdin_is_yaml_named_dash() {
    let r = run_with(EX, &["test", "-", "--no-color"], &[], Some("kind: Pod\n"));
    assert_eq!(r.stdout, "FAIL - - main - image must not use latest tag\n\n2 tests, 1 passed, 0 warnings, 1 failure, 0 exceptions\n");
    let json = run_with(EX, &["test", "-", "-o", "json"], &[], Some("kind: Pod\n"));
    assert!(json.stdout.contains("\"filename\": \"\","));
    let renamed = run_with(
        EX,
        &["test", "-", "--no-color", "--stdin-filename", "pod.yaml"],
        &[],
        Some("kind: Pod\n"),
    );
    assert!(renamed.stdout.starts_with("FAIL - pod.yaml - main"));
}

#[test]
fn directories_are_walked_in_order_with_ignore() {
    let dir = scratch(&[
        (
            "policy/p.rego",
            "package main\ndeny contains input.name if input.name\n",
        ),
        ("in/b.json", "{\"name\": \"b\"}"),
        ("in/a.yaml", "name: a\n"),
        ("in/sub/c.json", "{\"name\": \"c\"}"),
        ("in/notes.txt", "not parsed"),
        ("in/skip.json", "{\"name\": \"skip\"}"),
    ]);
    let r = run_at(
        dir.path(),
        &["test", "./in/", "--ignore", "skip", "--no-color"],
    );
    assert_eq!(
        r.stdout,
        "FAIL - in/a.yaml - main - a\nFAIL - in/b.json - main - b\nFAIL - in/sub/c.json - main - c\n\n3 tests, 0 passed, 0 warnings, 3 failures, 0 exceptions\n"
    );
}

#[test]
fn keep_going_reports_broken_files_and_evaluates_the_rest() {
    let dir = scratch(&[
        (
            "policy/p.rego",
            "package main\ndeny contains \"always\" if true\n",
        ),
        ("bad.json", "{\"a\": [1, 2,,]}"),
        ("bad.yaml", "a: [1, 2\nb: 3\n"),
        ("good.json", "{}"),
    ]);
    std::fs::write(dir.path().join("binary.json"), [0u8, 159, 146, 150]).unwrap();
    let r = run_at(
        dir.path(),
        &[
            "test",
            "bad.json",
            "good.json",
            "binary.json",
            "bad.yaml",
            "--keep-going",
            "-o",
            "json",
        ],
    );
    golden("cli/keep-going.json", &r.stdout);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("\"id\": \"parse-error\""));
    let plain = run_at(dir.path(), &["test", "good.json", "binary.json"]);
    assert_eq!(plain.stderr, "Error: running test: parse configurations: parser unmarshal: unmarshal json: invalid character '\\x00' looking for beginning of value, path: binary.json\n");
}

#[test]
fn deep_nesting_is_evaluated_or_refused_cleanly() {
    let depth = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let dir = scratch(&[
        (
            "policy/p.rego",
            "package main\ndeny contains \"array\" if is_array(input)\n",
        ),
        ("deep.json", &format!("{{\"a\": {}}}", depth(1000))),
        ("deeper.json", &depth(10_001)),
    ]);
    let ok = run_at(dir.path(), &["test", "deep.json", "--no-color"]);
    assert_eq!(
        ok.stdout,
        "\n1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions\n"
    );
    let too_deep = run_at(dir.path(), &["test", "deeper.json"]);
    assert_eq!(
        too_deep.stderr,
        "Error: running test: parse configurations: parser unmarshal: unmarshal json: invalid character '[' exceeded max depth, path: deeper.json\n"
    );
}

#[test]
fn unreadable_inputs_name_the_file() {
    let dir = scratch(&[("policy/p.rego", "package main\n"), ("in.json", "{}")]);
    std::os::unix::fs::symlink("missing.json", dir.path().join("link.json")).unwrap();
    let r = run_at(dir.path(), &["test", "in.json", "link.json"]);
    assert_eq!(
        r.stderr,
        "Error: running test: parse files: get file info: stat link.json: no such file or directory\n"
    );
    assert_eq!(r.code, 1);
    // Invalid UTF-8 in YAML is refused with the file named.
    std::fs::write(dir.path().join("latin1.yaml"), b"name: caf\xe9\n").unwrap();
    let r = run_at(dir.path(), &["test", "latin1.yaml"]);
    assert_eq!(
        r.stderr,
        "Error: running test: parse configurations: parser unmarshal: unmarshal yaml: error converting YAML to JSON: invalid UTF-8 at byte offset 9, path: latin1.yaml\n"
    );
}

#[test]
fn unknown_output_falls_back_to_coloured_stdout() {
    let r = run_in(EX, &["test", "a.yaml", "-o", "nonsense", "--no-color"]);
    assert!(r.stdout.starts_with("\x1b[31mFAIL\x1b[0m - a.yaml"));
}

#[test]
fn version_and_help() {
    let v = run_in(EX, &["--version"]);
    assert_eq!(v.code, 0);
    assert!(v.stdout.starts_with("regorun: "));
    let h = run_in(EX, &["test", "--help"]);
    assert_eq!(h.code, 0);
    assert!(h.stdout.contains("--all-namespaces"));
}

#[test]
fn strict_mode_reports_unused_names() {
    let dir = scratch(&[
        (
            "policy/p.rego",
            "package main\n\nf(x, y) := x\n\ndeny contains msg if {\n\tb := 1\n\tmsg := sprintf(\"%v\", [f(1, 2)])\n}\n",
        ),
        ("in.json", "{}"),
    ]);
    let r = run_at(dir.path(), &["test", "in.json", "--strict"]);
    assert_eq!(
        r.stderr,
        "Error: running test: load: loading policies: get compiler: 2 errors occurred:\n\
         policy/p.rego:3: rego_compile_error: unused argument y\n\
         policy/p.rego:6: rego_compile_error: assigned var b unused\n"
    );
    assert_eq!(r.code, 1);
    let lax = run_at(dir.path(), &["test", "in.json", "--no-color"]);
    assert_eq!(lax.code, 1);
    assert!(lax.stdout.starts_with("FAIL - in.json - main - 1\n"));
}

#[test]
fn builtin_errors_are_undefined_unless_shown() {
    let dir = scratch(&[
        (
            "policy/p.rego",
            "package main\n\ndeny contains msg if {\n\tn := to_number(input.s)\n\tmsg := sprintf(\"n=%v\", [n])\n}\n",
        ),
        ("in.json", "{\"s\": \"abc\"}"),
    ]);
    let quiet = run_at(dir.path(), &["test", "in.json", "--no-color"]);
    assert_eq!(
        quiet.stdout,
        "\n1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions\n"
    );
    let shown = run_at(dir.path(), &["test", "in.json", "--show-builtin-errors"]);
    assert_eq!(
        shown.stderr,
        "Error: running test: query rule: check: query rule: policy/p.rego:4: eval_builtin_error: to_number: strconv.ParseFloat: parsing \"abc\": invalid syntax\n"
    );
    assert_eq!(shown.code, 1);
}

#[test]
fn blank_arguments_are_ignored_and_policy_may_be_a_file() {
    let r = run_in(
        EX,
        &["test", "b.yaml", "", "-p", "policy/main.rego", "--no-color"],
    );
    assert_eq!(r.code, 0);
    assert!(r
        .stdout
        .ends_with("2 tests, 0 passed, 1 warning, 0 failures, 1 exception\n"));
}

#[test]
fn symlinked_directories_are_reported_under_their_real_path() {
    let real = scratch(&[("cfg/a.json", "{\"bad\": true}")]);
    let dir = scratch(&[(
        "policy/p.rego",
        "package main\ndeny contains \"bad\" if input.bad\n",
    )]);
    std::os::unix::fs::symlink(real.path().join("cfg"), dir.path().join("linked")).unwrap();
    let walked = scratch(&[]);
    std::os::unix::fs::symlink(real.path().join("cfg"), walked.path().join("inner")).unwrap();
    let real_file = std::fs::canonicalize(real.path().join("cfg/a.json")).unwrap();
    let r = run_at(dir.path(), &["test", "linked", "--no-color"]);
    assert_eq!(
        r.stdout,
        format!(
            "FAIL - {} - main - bad\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
            real_file.display()
        )
    );
    // A symlink met while walking is followed and named by its resolved path too.
    let outer = walked.path().to_str().unwrap().to_string();
    let r = run_at(dir.path(), &["test", &outer, "--no-color"]);
    assert_eq!(
        r.stdout,
        format!(
            "FAIL - {} - main - bad\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
            real_file.display()
        )
    );
}

#[test]
fn embedded_pack_is_used_from_any_directory() {
    let key = common::root().join("fixtures/key-policies/wildcard-principal.json");
    let dir = scratch(&[("policy-free/readme.txt", "no policy dir here")]);
    let r = run_at(dir.path(), &["test", key.to_str().unwrap(), "-o", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("\"id\": \"wildcard-principal\""),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains("\"query\": \"data.main.deny_kms_wildcard_principal\""));
    // Naming it explicitly combines it with the user's own policies.
    let own = scratch(&[(
        "mine/p.rego",
        "package main\nwarn contains \"mine\" if true\n",
    )]);
    let r = run_at(
        own.path(),
        &[
            "test",
            key.to_str().unwrap(),
            "-p",
            "mine,builtin:kms",
            "-o",
            "json",
        ],
    );
    assert!(r.stdout.contains("\"msg\": \"mine\""), "{}", r.stdout);
    assert!(r.stdout.contains("\"id\": \"wildcard-principal\""));
    let bad = run_at(
        own.path(),
        &["test", key.to_str().unwrap(), "-p", "builtin:nope"],
    );
    assert_eq!(
        bad.stderr,
        "Error: running test: load: loading policies: load: 1 error occurred during loading: unknown built-in policy pack \"nope\" (available: kms)\n"
    );
}
