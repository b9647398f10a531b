//! Shared helpers for the integration tests: run the binary, compare with golden files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run of the binary produced.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `regorun ARGS` in `dir` (relative to the repo root) with a clean CONFTEST_* env.
pub fn run_in(dir: &str, args: &[&str]) -> Run {
    run_with(dir, args, &[], None)
}

/// Runs with extra environment variables and optional stdin. Runs are hermetic: no
/// inherited `CONFTEST_*` or `REGORUN_RVM`, and no program cache unless `env` asks for it.
pub fn run_with(dir: &str, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regorun"));
    cmd.args(args)
        .current_dir(root().join(dir))
        .env_remove("REGORUN_RVM")
        .env("REGORUN_RVM_CACHE", "0");
    for (k, _) in std::env::vars() {
        if k.starts_with("CONFTEST_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = if let Some(input) = stdin {
        use std::io::Write;
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("spawn regorun");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait regorun")
    } else {
        cmd.output().expect("run regorun")
    };
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// Compares `actual` with `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file.
pub fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden {}", path.display()));
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

/// A scratch directory with the given files.
pub fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

/// Runs `regorun ARGS` in an absolute directory.
pub fn run_at(dir: &Path, args: &[&str]) -> Run {
    run_with(dir.to_str().expect("utf-8 path"), args, &[], None)
}
