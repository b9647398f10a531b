//! Golden tests for every conftest output format, run through the binary.
//!
//! Goldens live in `tests/golden/output/<case>.<format>`; the policies and inputs in
//! `tests/golden/output/fixtures/<dir>/`, where the binary runs (so file names print
//! as given). `REGORUN_UPDATE_GOLDEN=1 cargo test --test output_formats` rewrites
//! the goldens of generated cases; review every change line by line against the spec.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const FORMATS: &[(&str, &str)] = &[
    ("tap", "tap"),
    ("table", "table"),
    ("junit", "junit.xml"),
    ("github", "github"),
    ("azuredevops", "azuredevops"),
    ("sarif", "sarif"),
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/output")
}

fn fixture(dir: &str) -> PathBuf {
    golden_dir().join("fixtures").join(dir)
}

struct Run {
    stdout: Vec<u8>,
    stderr: String,
    code: i32,
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("regorun")
        .unwrap()
        .current_dir(dir)
        .env_remove("TABWIDTH")
        .env_remove("TS")
        .env_remove("VIM_TABSTOP")
        .args(args)
        .output()
        .unwrap();
    Run {
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

fn run(dir: &str, args: &[&str]) -> Run {
    run_in(&fixture(dir), args)
}

fn check_golden(name: &str, actual: &[u8]) {
    let path = golden_dir().join(name);
    if std::env::var_os("REGORUN_UPDATE_GOLDEN").is_some() && !hand_written(name) {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if expected != actual {
        panic!(
            "{name} differs\n--- expected\n{}\n--- actual\n{}\n---",
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual)
        );
    }
}

/// Goldens written by hand from the spec: never overwritten.
fn hand_written(name: &str) -> bool {
    name.starts_with("example.")
}

/// Runs `base` once per format (`-o <format>`) and compares each with its golden.
fn golden_case(case: &str, dir: &str, base: &[&str], expected_code: i32) {
    golden_case_warned(case, dir, base, expected_code, "");
}

/// [`golden_case`] for a run that also warns on stderr.
fn golden_case_warned(case: &str, dir: &str, base: &[&str], expected_code: i32, stderr: &str) {
    for (format, ext) in FORMATS {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(["-o", format]);
        let r = run(dir, &args);
        assert_eq!(r.code, expected_code, "{case} -o {format}: {}", r.stderr);
        assert_eq!(r.stderr, stderr, "{case} -o {format}");
        check_golden(&format!("{case}.{ext}"), &r.stdout);
    }
}

const EXAMPLE: &[&str] = &["test", "a.yaml", "b.yaml", "-p", "policy"];

#[test]
fn running_example() {
    golden_case("example", "example", EXAMPLE, 1);
}

#[test]
fn running_example_stdout_and_json_unchanged() {
    let mut args = EXAMPLE.to_vec();
    args.push("--no-color");
    let r = run("example", &args);
    assert_eq!(r.code, 1);
    check_golden("example.stdout", &r.stdout);
    args.extend(["-o", "json"]);
    let r = run("example", &args);
    check_golden("example.json", &r.stdout);
}

#[test]
fn exit_codes_do_not_change_the_bytes() {
    for (format, ext) in FORMATS {
        let golden = std::fs::read(golden_dir().join(format!("example.{ext}"))).unwrap();
        for (flag, code) in [("--fail-on-warn", 2), ("--no-fail", 0)] {
            let mut args = EXAMPLE.to_vec();
            args.extend([flag, "-o", format]);
            let r = run("example", &args);
            assert_eq!(r.code, code, "{flag} -o {format}");
            // SARIF's embedded exitCode ignores --fail-on-warn and --no-fail.
            assert_eq!(r.stdout, golden, "{flag} -o {format}");
        }
    }
}

#[test]
fn suppress_exceptions_only_affects_stdout() {
    for (format, ext) in FORMATS {
        let golden = std::fs::read(golden_dir().join(format!("example.{ext}"))).unwrap();
        let mut args = EXAMPLE.to_vec();
        args.extend(["--suppress-exceptions", "-o", format]);
        let r = run("example", &args);
        assert_eq!(r.code, 1);
        assert_eq!(r.stdout, golden, "--suppress-exceptions -o {format}");
    }
}

#[test]
fn no_results() {
    // TAP prints nothing at all, the table nothing, JUnit an empty <testsuites>; stderr
    // says why (stdout and the exit code stay conftest's).
    golden_case_warned(
        "empty",
        "example",
        &["test", "a.yaml", "b.yaml", "-p", "policy", "-n", "nothere"],
        0,
        "WARN: nothing is tested: no loaded policy has package nothere; deny, violation or warn rules are in package main: use --namespace main, or --all-namespaces\n",
    );
}

#[test]
fn several_namespaces() {
    golden_case(
        "multi",
        "multi",
        &[
            "test",
            "a.yaml",
            "b.yaml",
            "-p",
            "policy",
            "-n",
            "main",
            "-n",
            "team.apps",
        ],
        1,
    );
}

#[test]
fn all_namespaces() {
    golden_case(
        "all-namespaces",
        "multi",
        &[
            "test",
            "a.yaml",
            "b.yaml",
            "-p",
            "policy",
            "--all-namespaces",
        ],
        1,
    );
}

#[test]
fn combined_input() {
    golden_case(
        "combine",
        "multi",
        &[
            "test",
            "a.yaml",
            "b.yaml",
            "-p",
            "policy",
            "--combine",
            "-n",
            "main",
            "-n",
            "team.apps",
        ],
        1,
    );
}

#[test]
fn locations_and_metadata() {
    golden_case("loc", "loc", &["test", "deploy.yaml", "-p", "policy"], 1);
    let r = run(
        "loc",
        &["test", "deploy.yaml", "-p", "policy", "-o", "json"],
    );
    check_golden("loc.json", &r.stdout);
}

#[test]
fn special_characters() {
    golden_case(
        "chars",
        "chars",
        &["test", "x,y:z%.yaml", "-p", "policy"],
        1,
    );
    let r = run(
        "chars",
        &["test", "x,y:z%.yaml", "-p", "policy", "-o", "json"],
    );
    check_golden("chars.json", &r.stdout);
}

#[test]
fn junit_hide_message() {
    let mut args = EXAMPLE.to_vec();
    args.extend(["--junit-hide-message", "-o", "junit"]);
    let r = run("example", &args);
    assert_eq!(r.code, 1);
    check_golden("hide-message.junit.xml", &r.stdout);
}

#[test]
fn github_hide_passed() {
    let base = [
        "test", "a.yaml", "b.yaml", "c.yaml", "-p", "policy", "-o", "github",
    ];
    let shown = run("example", &base);
    check_golden("passed.github", &shown.stdout);
    let mut args = base.to_vec();
    args.push("--github-hide-passed");
    let hidden = run("example", &args);
    assert_eq!(hidden.code, 1);
    check_golden("hide-passed.github", &hidden.stdout);
    // Only the group of c.yaml (successes only) disappears; the summary is unchanged.
    let shown = String::from_utf8(shown.stdout).unwrap();
    let hidden = String::from_utf8(hidden.stdout).unwrap();
    assert!(shown.contains("\"c.yaml\""));
    assert!(!hidden.contains("c.yaml"));
    assert_eq!(shown.lines().last(), hidden.lines().last());
}

#[test]
fn several_outputs_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["a.yaml", "b.yaml", "policy/main.rego"] {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture("example").join(f), to).unwrap();
    }
    let mut args = EXAMPLE.to_vec();
    args.extend([
        "--no-color",
        "-o",
        "stdout",
        "-o",
        "junit=report.xml",
        "-o",
        "sarif=results.sarif",
        "-o",
        "tap=out/../results.tap",
    ]);
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let r = run_in(dir.path(), &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    check_golden("example.stdout", &r.stdout);
    for (file, golden) in [
        ("report.xml", "example.junit.xml"),
        ("results.sarif", "example.sarif"),
        ("results.tap", "example.tap"),
    ] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap();
        check_golden(golden, &bytes);
    }
}

#[test]
fn unknown_output_falls_back_to_coloured_stdout() {
    // conftest: an unknown (or wrongly cased) format is the coloured standard format,
    // ignoring --no-color and --suppress-exceptions.
    for bogus in ["bogus", "TAP", "Json"] {
        let mut args = EXAMPLE.to_vec();
        args.extend(["--no-color", "--suppress-exceptions", "-o", bogus]);
        let r = run("example", &args);
        assert_eq!(r.code, 1);
        check_golden("example.fallback", &r.stdout);
    }
}

// ---- schema validation -------------------------------------------------------

fn sarif_validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    jsonschema::draft4::new(&schema).expect("SARIF schema compiles")
}

fn sarif_errors(v: &jsonschema::Validator, name: &str) -> Vec<String> {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(golden_dir().join(name)).unwrap()).unwrap();
    v.iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_goldens_validate_against_the_schema() {
    let v = sarif_validator();
    for case in [
        "example",
        "empty",
        "multi",
        "all-namespaces",
        "combine",
        "chars",
    ] {
        let errors = sarif_errors(&v, &format!("{case}.sarif"));
        assert!(errors.is_empty(), "{case}.sarif: {errors:#?}");
    }
    // The validator really checks: a log without the driver's name is rejected.
    let mut broken: serde_json::Value =
        serde_json::from_slice(&std::fs::read(golden_dir().join("example.sarif")).unwrap())
            .unwrap();
    broken["runs"][0]["tool"]["driver"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    assert!(v.iter_errors(&broken).next().is_some());
    // conftest writes startLine/endLine 0 for a `_loc` without a line; the schema
    // wants >= 1. That is the only deviation allowed.
    let errors = sarif_errors(&v, "loc.sarif");
    assert!(!errors.is_empty());
    for e in &errors {
        assert!(
            e.contains("/region/startLine") || e.contains("/region/endLine"),
            "loc.sarif: {e}"
        );
    }
}

const JUNIT_GOLDENS: &[&str] = &[
    "example.junit.xml",
    "empty.junit.xml",
    "multi.junit.xml",
    "all-namespaces.junit.xml",
    "combine.junit.xml",
    "loc.junit.xml",
    "chars.junit.xml",
    "hide-message.junit.xml",
];

/// XSD validation with `xmllint` (Debian `libxml2-utils`) when it is installed:
/// there is no maintained XSD validator crate.
#[test]
fn junit_goldens_validate_against_the_xsd_with_xmllint() {
    if std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("xmllint not installed: XSD validation skipped (structural checks still run)");
        return;
    }
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/junit.xsd");
    for name in JUNIT_GOLDENS {
        let out = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&xsd)
            .arg(golden_dir().join(name))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The schema really checks: a test case without a name is rejected.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        "<testsuites><testsuite name=\"x\" tests=\"1\"><testcase></testcase></testsuite></testsuites>",
    )
    .unwrap();
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Structural checks of the same rules as `junit.xsd`, always run (roxmltree).
#[test]
fn junit_goldens_are_well_formed_reports() {
    for name in JUNIT_GOLDENS {
        let text = std::fs::read_to_string(golden_dir().join(name)).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites", "{name}");
        for suite in root.children().filter(|n| n.is_element()) {
            assert_eq!(suite.tag_name().name(), "testsuite", "{name}");
            let cases: Vec<_> = suite
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .collect();
            let failures = cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
                .count();
            assert_eq!(
                suite.attribute("tests"),
                Some(cases.len().to_string().as_str())
            );
            assert_eq!(
                suite.attribute("failures"),
                Some(failures.to_string().as_str())
            );
            assert!(suite
                .attribute("name")
                .is_some_and(|n| n.starts_with("conftest.")));
            for c in &cases {
                assert!(c.attribute("name").is_some(), "{name}");
                assert_eq!(c.attribute("classname"), suite.attribute("name"));
                for child in c.children().filter(|n| n.is_element()) {
                    assert!(
                        ["failure", "skipped"].contains(&child.tag_name().name()),
                        "{name}"
                    );
                }
            }
        }
    }
}
