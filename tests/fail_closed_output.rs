//! Output that cannot be written is never a silent success: a full disk on stdout or on an
//! `-o FORMAT=PATH` file is an `Error:` line and exit 1, a closed pipe ends the run quietly
//! with a non-zero code, and two `-o` flags naming one file are an error.

mod common;

use std::process::{Command, Stdio};

const POLICY: &str = "package main\n\ndeny contains \"privileged\" if input.privileged == true\n";

fn scratch() -> tempfile::TempDir {
    common::scratch(&[
        ("p/p.rego", POLICY),
        ("bad.json", "{\"privileged\": true}\n"),
        ("good.json", "{\"privileged\": false}\n"),
    ])
}

fn regorun(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regorun"));
    cmd.args(args)
        .current_dir(dir)
        .env("REGORUN_RVM_CACHE", "0");
    cmd
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_an_error() {
    let dir = scratch();
    for args in [
        &["test", "-p", "p", "good.json"][..],
        &["test", "-p", "p", "bad.json", "-o", "json"][..],
        &["verify", "-p", "p"][..],
    ] {
        let full = std::fs::File::create("/dev/full").expect("/dev/full");
        let out = regorun(dir.path(), args)
            .stdout(Stdio::from(full))
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "Error: write stdout: no space left on device\n",
            "{args:?}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_output_file_is_an_error() {
    let dir = scratch();
    let out = regorun(
        dir.path(),
        &["test", "-p", "p", "good.json", "-o", "json=/dev/full"],
    )
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: write output /dev/full: no space left on device\n"
    );
}

#[test]
fn one_file_for_two_formats_is_an_error() {
    let dir = scratch();
    for (a, b) in [("o.json", "o.json"), ("o.json", "./o.json")] {
        let one = format!("json={a}");
        let two = format!("tap={b}");
        let out = regorun(
            dir.path(),
            &["test", "-p", "p", "good.json", "-o", &one, "-o", &two],
        )
        .output()
        .expect("run");
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("Error: the output file {b} is named by more than one --output flag\n")
        );
        assert!(!dir.path().join("o.json").exists());
    }
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly_with_a_failure_code() {
    let dir = scratch();
    // Enough output that the reader is gone before it is all written.
    let inputs: Vec<String> = (0..2000)
        .map(|i| {
            let name = format!("in{i}.json");
            std::fs::write(dir.path().join(&name), "{\"privileged\": true}\n").expect("write");
            name
        })
        .collect();
    let mut args = vec!["test", "-p", "p", "--no-color"];
    args.extend(inputs.iter().map(String::as_str));
    for _ in 0..3 {
        let mut child = regorun(dir.path(), &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(
            out.status.code(),
            Some(141),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Workers write to stderr during a run (regorus prints parse warnings when a worker builds
/// the interpreter): the binary must not hold the stderr lock while they run. This run
/// used to hang about one time in three.
#[test]
fn stderr_written_during_the_run_does_not_hang() {
    let root = common::root();
    for _ in 0..12 {
        let out = assert_cmd::Command::cargo_bin("regorun")
            .expect("binary")
            .current_dir(&root)
            .env("REGORUN_RVM_CACHE", "0")
            .args([
                "test",
                "--no-color",
                "-o",
                "json",
                "--all-namespaces",
                "--keep-going",
                "-p",
                "fixtures/conftest/metadata/policy",
                "fixtures/conftest/metadata",
            ])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
