//! Golden tests of `regorun doc`.

use assert_cmd::Command;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/doc")
        .join(name)
}

const FOO_MD: &str = "# foo - My package foo

the package with rule A and subpackage bar

## foo.a - My Rule A

the rule A = 3

Related Resources:

* https://example.com
* [Yet another link](https://example.com/more)

## foo.bar - My package bar

The package with rule P

### foo.bar.p - My Rule P

the Rule P = 7

";

#[test]
fn writes_markdown_from_metadata() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("regorun")
        .unwrap()
        .env_clear()
        .arg("doc")
        .arg(fixture("foo"))
        .arg("-o")
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let md = std::fs::read_to_string(out_dir.path().join("foo.md")).unwrap();
    assert_eq!(md, FOO_MD);
}

#[test]
fn dot_directory_becomes_policy_md_in_cwd() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("regorun")
        .unwrap()
        .env_clear()
        .current_dir(fixture("foo"))
        .args(["doc", ".", "--outDir"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(out_dir.path().join("policy.md")).unwrap(),
        FOO_MD
    );
}

#[test]
fn errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("regorun")
            .unwrap()
            .env_clear()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    };
    assert_eq!(
        run(&["doc"]),
        ("Error: missing required arguments\n".into(), Some(1))
    );
    assert_eq!(
        run(&["doc", "missing"]),
        (
            "Error: stat missing: no such file or directory\n".into(),
            Some(1)
        )
    );
    std::fs::write(dir.path().join("f.rego"), "package x\n").unwrap();
    assert_eq!(
        run(&["doc", "f.rego"]),
        ("Error: f.rego is not a directory\n".into(), Some(1))
    );
    std::fs::create_dir(dir.path().join("plain")).unwrap();
    std::fs::write(dir.path().join("plain/p.rego"), "package x\n\ny := 1\n").unwrap();
    assert_eq!(
        run(&["doc", "plain"]),
        (
            "Error: generating document: no annotations found\n".into(),
            Some(1)
        )
    );
}

/// A policy with an import after its rules loads (as in OPA), and its headings come
/// from the user's own package line.
#[test]
fn late_imports_load_and_keep_the_package_name() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p");
    std::fs::create_dir(&policy).unwrap();
    std::fs::write(
        policy.join("p.rego"),
        "package main\n\n# METADATA\n# title: Privileged\ndeny contains \"x\" if input.privileged\n\nimport rego.v1\n",
    )
    .unwrap();
    let out = Command::cargo_bin("regorun")
        .unwrap()
        .env_clear()
        .arg("doc")
        .arg(&policy)
        .arg("-o")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(dir.path().join("p.md")).unwrap();
    assert_eq!(md, "# main.deny - Privileged\n\n\n\n");
}
