//! Deeply nested inputs never crash regorun: inputs up to each parser's depth limit are
//! evaluated on every path (batch workers, `--combine`, `parse`, the policy-load-error
//! path, which run on the main thread), and deeper ones are a one-line `Error:` (or a
//! FAIL record with `--keep-going`), never a stack overflow.

use std::path::Path;
use std::process::{Command, Stdio};

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn regorun(dir: &Path, args: &[&str], quiet: bool) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regorun"));
    cmd.args(args)
        .current_dir(dir)
        .env("REGORUN_RVM_CACHE", "0")
        .env_remove("REGORUN_RVM");
    for (k, _) in std::env::vars() {
        if k.starts_with("CONFTEST_") {
            cmd.env_remove(k);
        }
    }
    if quiet {
        cmd.stdout(Stdio::null());
    }
    let out = cmd.output().expect("run regorun");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

/// A directory with a passing policy, a policy that does not load, a recursive message
/// type, and the inputs `files`.
fn scratch(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(
        "pol/p.rego",
        "package main\n\ndeny contains msg if {\n  input.nope\n  msg := \"no\"\n}\n",
    );
    write("missing/README", "no policies here\n");
    write(
        "protos/m.proto",
        "syntax = \"proto3\";\npackage t;\nmessage M {\n  M m = 1;\n  repeated M r = 2;\n}\n",
    );
    for (name, text) in files {
        write(name, text);
    }
    dir
}

/// `n` singular messages nested in one another.
fn textproto(n: usize) -> String {
    format!(
        "# proto-message: t.M\n{}{}\n",
        "m { ".repeat(n),
        "}".repeat(n)
    )
}

/// A BOM with components nested `n` deep.
fn bom(n: usize) -> String {
    format!(
        "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\" version=\"1\"><components>{}{}</components></bom>",
        "<component type=\"library\"><name>x</name><components>".repeat(n),
        "</components></component>".repeat(n)
    )
}

const PASS_1: &str = "\n1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions\n";

fn assert_run(run: &Run, code: i32, stdout: &str, stderr: &str, label: &str) {
    assert_eq!(run.code, Some(code), "{label}: {}", run.stderr);
    assert_eq!(run.stdout, stdout, "{label}");
    assert_eq!(run.stderr, stderr, "{label}");
}

/// The main thread has the workers' stack: 4,000 nested messages pass everywhere, and
/// a policy that does not load still reports that, not an overflow.
#[test]
fn deep_textproto_within_the_limit_is_evaluated_on_every_path() {
    let dir = scratch(&[("deep.textproto", textproto(4_000))]);
    let protos = ["--proto-file-dirs", "protos"];
    for extra in [&[][..], &["--combine"], &["--keep-going"]] {
        let mut args = vec!["test", "--no-color", "-p", "pol"];
        args.extend(protos);
        args.extend(extra);
        args.push("deep.textproto");
        assert_run(
            &regorun(dir.path(), &args, false),
            0,
            PASS_1,
            "",
            &format!("{extra:?}"),
        );
    }
    let mut args = vec!["test", "--no-color", "-p", "missing"];
    args.extend(protos);
    args.push("deep.textproto");
    let run = regorun(dir.path(), &args, false);
    assert_run(
        &run,
        1,
        "",
        "Error: running test: load: loading policies: no policies found in [missing]\n",
        "load",
    );
}

/// Past the limit (1,000,000 deep, and 40,001: the deepest the text parser is not
/// given) a clean error, exactly as the 10,001st JSON level reports it.
#[test]
fn too_deep_textproto_is_a_clean_error() {
    for n in [10_000, 40_001, 1_000_000] {
        let dir = scratch(&[("deep.textproto", textproto(n))]);
        let cause = "parser unmarshal: unmarshal JSON: unmarshal json: invalid character '{' \
                     exceeded max depth, path: deep.textproto";
        let error = format!("Error: running test: parse configurations: {cause}\n");
        let base = [
            "test",
            "--no-color",
            "-p",
            "pol",
            "--proto-file-dirs",
            "protos",
        ];
        for extra in [&[][..], &["--combine"]] {
            let args: Vec<&str> = base
                .iter()
                .chain(extra)
                .chain(&["deep.textproto"])
                .copied()
                .collect();
            assert_run(
                &regorun(dir.path(), &args, false),
                1,
                "",
                &error,
                &format!("{n} {extra:?}"),
            );
        }
        let args: Vec<&str> = base
            .iter()
            .chain(&["--keep-going", "deep.textproto"])
            .copied()
            .collect();
        let record = format!(
            "FAIL - deep.textproto - main - {cause}\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n"
        );
        assert_run(
            &regorun(dir.path(), &args, false),
            1,
            &record,
            "",
            &format!("{n} keep-going"),
        );
    }
}

/// 9,999 nested components (a 20,000-level document) are evaluated on every path.
#[test]
fn deep_cyclonedx_within_the_limit_is_evaluated_on_every_path() {
    let dir = scratch(&[("deep.xml", bom(9_999)), ("mid.xml", bom(2_000))]);
    let base = ["test", "--no-color", "-p", "pol", "--parser", "cyclonedx"];
    for extra in [&[][..], &["--combine"], &["--keep-going"]] {
        let args: Vec<&str> = base
            .iter()
            .chain(extra)
            .chain(&["deep.xml"])
            .copied()
            .collect();
        assert_run(
            &regorun(dir.path(), &args, false),
            0,
            PASS_1,
            "",
            &format!("{extra:?}"),
        );
    }
    let args = [
        "test",
        "--no-color",
        "-p",
        "missing",
        "--parser",
        "cyclonedx",
        "deep.xml",
    ];
    let run = regorun(dir.path(), &args, false);
    assert_run(
        &run,
        1,
        "",
        "Error: running test: load: loading policies: no policies found in [missing]\n",
        "load",
    );
    // Printing is quadratic in the depth (indentation), so a smaller one for `parse`.
    let run = regorun(
        dir.path(),
        &["parse", "--parser", "cyclonedx", "mid.xml"],
        true,
    );
    assert_run(&run, 0, "", "", "parse");
}

/// 10,000 nested components exceed Go's encoding/xml limit, as does 100,000.
#[test]
fn too_deep_cyclonedx_is_a_clean_error() {
    for n in [10_000, 100_000] {
        let dir = scratch(&[("deep.xml", bom(n))]);
        let cause = "parser unmarshal: decode CycloneDX BOM: exceeded max depth, path: deep.xml";
        let base = ["test", "--no-color", "-p", "pol", "--parser", "cyclonedx"];
        for extra in [&[][..], &["--combine"]] {
            let args: Vec<&str> = base
                .iter()
                .chain(extra)
                .chain(&["deep.xml"])
                .copied()
                .collect();
            let error = format!("Error: running test: parse configurations: {cause}\n");
            assert_run(
                &regorun(dir.path(), &args, false),
                1,
                "",
                &error,
                &format!("{n} {extra:?}"),
            );
        }
        let args: Vec<&str> = base
            .iter()
            .chain(&["--keep-going", "deep.xml"])
            .copied()
            .collect();
        let record = format!(
            "FAIL - deep.xml - main - {cause}\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n"
        );
        assert_run(
            &regorun(dir.path(), &args, false),
            1,
            &record,
            "",
            &format!("{n} keep-going"),
        );
        let run = regorun(
            dir.path(),
            &["parse", "--parser", "cyclonedx", "deep.xml"],
            false,
        );
        let error = format!("Error: parse configurations: {cause}\n");
        assert_run(&run, 1, "", &error, &format!("{n} parse"));
    }
}

/// The deepest JSON accepted (10,000 levels) on the main-thread paths, and one deeper.
#[test]
fn deepest_json_on_main_thread_paths() {
    let n = 10_000;
    let ok = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    let deep = format!("{}{}", "[".repeat(n + 1), "]".repeat(n + 1));
    let dir = scratch(&[("ok.json", ok), ("deep.json", deep)]);
    let run = regorun(
        dir.path(),
        &["test", "--no-color", "--combine", "-p", "pol", "ok.json"],
        false,
    );
    assert_run(&run, 0, PASS_1, "", "combine");
    let run = regorun(
        dir.path(),
        &["test", "--no-color", "-p", "missing", "ok.json"],
        false,
    );
    assert_run(
        &run,
        1,
        "",
        "Error: running test: load: loading policies: no policies found in [missing]\n",
        "load",
    );
    let run = regorun(dir.path(), &["parse", "deep.json"], false);
    let error = "Error: parse configurations: parser unmarshal: unmarshal json: invalid character \
                 '[' exceeded max depth, path: deep.json\n";
    assert_run(&run, 1, "", error, "parse");
}
