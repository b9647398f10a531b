//! Batch evaluation is deterministic: output is byte-identical between `--jobs 1` and
//! `--jobs N`, and between the RVM fast path and the interpreter (`REGORUN_RVM=0`), on a
//! generated corpus (the shared generator when `../shared` is there, else inputs this
//! test writes) and on every KMS fixture.

mod common;

use regorun::engine::eval::{EngineOptions, PolicyEngine};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

fn regorun(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regorun"));
    cmd.args(args).current_dir(root());
    for (k, _) in std::env::vars() {
        if k.starts_with("CONFTEST_") || k == regorun::engine::fast::DISABLE_ENV {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run regorun");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

/// Writes a corpus into `dir`: the shared KMS generator when available, otherwise
/// key policies built here (never an empty corpus).
fn corpus(dir: &Path, n: usize) -> &'static str {
    let shared = std::env::var("SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("../shared"));
    let gen = shared.join("bench/gen_kms_corpus.py");
    if gen.exists() {
        let ok = Command::new("python3")
            .arg(&gen)
            .args(["--out", &dir.to_string_lossy(), "-n", &n.to_string()])
            .args(["--seed", "1"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok && std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0) == n {
            return "generated";
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        std::fs::write(dir.join(format!("kms-{i:06}.json")), written_policy(i)).unwrap();
    }
    "written"
}

/// A key policy varying with `i`: root delegation or not, wildcard principals with and
/// without conditions, admin actions, single statement objects, multi-document arrays.
fn written_policy(i: usize) -> String {
    let acct = format!(
        "{:012}",
        100_000_000_000u64 + (i as u64 * 7919) % 899_999_999_999
    );
    let root = format!(
        r#"{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:root"}},"Action":"kms:*","Resource":"*"}}"#
    );
    let wildcard = if i % 3 == 0 {
        r#"{"Effect":"Allow","Principal":"*","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}"#.to_string()
    } else {
        format!(
            r#"{{"Sid":"Use","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"kms:Decrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:CallerAccount":"{acct}"}}}}}}"#
        )
    };
    let admin = format!(
        r#"{{"Sid":"Admins","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:role/Admin{i}"}},"Action":["kms:Create*","kms:Delete*","kms:ScheduleKeyDeletion"],"Resource":"*"}}"#
    );
    let statements = match i % 5 {
        0 => format!("[{root},{wildcard}]"),
        1 => format!("[{wildcard},{admin}]"),
        2 => admin.clone(),
        3 => format!("[{root},{admin},{wildcard}]"),
        _ => format!("[{root}]"),
    };
    let doc = format!(r#"{{"Version":"2012-10-17","Id":"key-{i}","Statement":{statements}}}"#);
    if i % 11 == 0 {
        format!("[{doc},{doc}]")
    } else {
        doc
    }
}

/// Hand-written policies that exercise exceptions, warnings, object messages, several
/// namespaces and a helper shared between rules.
fn write_policies(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("main.rego"),
        r#"package main

import rego.v1

statements := s if {
	is_array(input.Statement)
	s := input.Statement
}

statements := [input.Statement] if is_object(input.Statement)

deny_wildcard contains msg if {
	some st in statements
	st.Principal == "*"
	msg := sprintf("%s: wildcard principal", [object.get(input, "Id", "?")])
}

actions(st) := st.Action if is_array(st.Action)

actions(st) := [st.Action] if is_string(st.Action)

deny_admin contains {"msg": sprintf("admin actions in %v", [object.get(st, "Sid", "")]), "sid": object.get(st, "Sid", "")} if {
	some st in statements
	some a in actions(st)
	startswith(a, "kms:Delete")
}

warn_no_root contains "no root delegation" if {
	not root_delegated
}

root_delegated if {
	some st in statements
	endswith(st.Principal.AWS, ":root")
}

violation_empty contains "empty" if count(statements) == 0

exception contains ["admin"] if input.Id == "key-7"

deny_blocked contains sprintf("%s is blocked", [input.Id]) if input.Id in data.blocked.ids
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("other.rego"),
        "package other\n\nimport rego.v1\n\ndeny contains \"no version\" if not input.Version\n\nwarn contains input.Id if count(input.Statement) > 2\n",
    )
    .unwrap();
}

fn assert_same(a: &Run, b: &Run, what: &str) {
    assert_eq!(
        a.code, b.code,
        "{what}: exit codes differ\n{}\n{}",
        a.stderr, b.stderr
    );
    assert_eq!(a.stderr, b.stderr, "{what}: stderr differs");
    assert!(a.stdout == b.stdout, "{what}: stdout differs");
}

fn check_corpus(policy: &str, corpus: &str, extra: &[&str]) {
    for format in ["stdout", "json"] {
        let args = |jobs: &'static str| {
            let mut v = vec![
                "test",
                "--no-color",
                "-o",
                format,
                "--jobs",
                jobs,
                "-p",
                policy,
            ];
            v.extend_from_slice(extra);
            v.push(corpus);
            v
        };
        let one = regorun(&args("1"), &[]);
        assert!(one.code == 0 || one.code == 1, "{format}: {}", one.stderr);
        assert!(!one.stdout.is_empty());
        let many = regorun(&args("4"), &[]);
        assert_same(&one, &many, &format!("{policy} {format}: --jobs 1 vs 4"));
        let interp = regorun(&args("4"), &[(regorun::engine::fast::DISABLE_ENV, "0")]);
        assert_same(
            &one,
            &interp,
            &format!("{policy} {format}: RVM vs interpreter"),
        );
    }
}

#[test]
fn shipped_pack_uses_the_fast_path() {
    let files = regorun::rego::policy::load_files(&["policy/kms".to_string()]).unwrap();
    let engine = PolicyEngine::new(&files, &[], &EngineOptions::default()).unwrap();
    assert!(
        engine.uses_fast_path(),
        "the KMS pack no longer compiles to the RVM"
    );
    let strict = EngineOptions {
        strict_builtin_errors: true,
        ..Default::default()
    };
    let engine = PolicyEngine::new(&files, &[], &strict).unwrap();
    assert!(!engine.uses_fast_path());
}

#[test]
fn jobs_and_engines_agree_on_a_corpus() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("corpus");
    // Debug builds evaluate the pack slowly: keep the corpus small.
    let how = corpus(&dir, 120);
    eprintln!("corpus: {how}");
    let dir = dir.to_string_lossy().into_owned();
    let pack = root().join("policy/kms");
    let pack = pack.to_string_lossy().into_owned();
    check_corpus(&pack, &dir, &[]);
    let own = tmp.path().join("policy");
    write_policies(&own);
    let own = own.to_string_lossy().into_owned();
    check_corpus(&own, &dir, &["--all-namespaces"]);
}

#[test]
fn written_inputs_agree_too() {
    // Always exercise the written corpus, even where the shared generator exists.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("corpus");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..40 {
        std::fs::write(dir.join(format!("k{i:03}.json")), written_policy(i)).unwrap();
    }
    let own = tmp.path().join("policy");
    write_policies(&own);
    // Data documents reach every worker's copy of the program.
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("d.yaml"),
        "blocked:\n  ids: [key-3, key-17, key-30]\nkms:\n  owner_account: \"100000023757\"\n",
    )
    .unwrap();
    let data = data.to_string_lossy().into_owned();
    check_corpus(
        &own.to_string_lossy(),
        &dir.to_string_lossy(),
        &["--all-namespaces", "--data", &data],
    );
    let run = regorun(
        &[
            "test",
            "--no-color",
            "-p",
            &own.to_string_lossy(),
            "--data",
            &data,
            "--jobs",
            "4",
            &dir.to_string_lossy(),
        ],
        &[],
    );
    for id in ["key-3", "key-17", "key-30"] {
        assert!(
            run.stdout.contains(&format!("{id} is blocked")),
            "{id}: {}",
            run.stdout
        );
    }
    check_corpus(
        &root().join("policy/kms").to_string_lossy(),
        &dir.to_string_lossy(),
        &[],
    );
    check_corpus(
        &root().join("policy/kms").to_string_lossy(),
        &dir.to_string_lossy(),
        &["--data", &data],
    );
}

#[test]
fn engines_agree_on_every_kms_fixture() {
    let table = std::fs::read_to_string(root().join("fixtures/kms/expected.tsv")).unwrap();
    let mut rows = 0;
    for line in table.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let mut args = vec!["test", "--no-color", "-o", "json", "-p", "policy/kms"];
        if cols.len() > 4 && cols[4] != "-" {
            args.extend(cols[4].split_whitespace());
        }
        args.push(cols[0]);
        let fast = regorun(&args, &[]);
        let interp = regorun(&args, &[(regorun::engine::fast::DISABLE_ENV, "0")]);
        assert_same(&fast, &interp, line);
        rows += 1;
    }
    assert!(rows > 10, "expected.tsv has only {rows} rows");
}

/// The compiled-program cache gives the same output as compiling on every run: on a miss
/// (file written), on a hit, and with a corrupt cache file (ignored and replaced).
#[test]
fn rvm_program_cache_does_not_change_output() {
    let cache = tempfile::tempdir().expect("tempdir");
    let cache_home = cache.path().to_str().expect("utf-8 path");
    let args = [
        "test",
        "--no-color",
        "-o",
        "json",
        "-p",
        "policy/kms",
        "fixtures/kms",
    ];
    let reference = regorun(&args, &[(regorun::engine::fast::CACHE_ENV, "0")]);
    let dir = cache.path().join("regorun").join("rvm");
    let cached = |label: &str| {
        let run = regorun(&args, &[("XDG_CACHE_HOME", cache_home)]);
        assert_eq!(run.code, reference.code, "{label}: {}", run.stderr);
        assert_eq!(run.stdout, reference.stdout, "{label}");
    };
    cached("miss");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("cache dir written")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    cached("hit");
    std::fs::write(&files[0], b"not a program").expect("corrupt the cache");
    cached("corrupt");
    assert!(std::fs::metadata(&files[0]).expect("rewritten").len() > 100);
}

/// A cache hit parses no policy, so everything that needs the interpreter builds it
/// then: `--trace`, `verify` and `--show-builtin-errors` must match a cache-less run.
#[test]
fn cache_hits_still_build_the_interpreter_when_needed() {
    let cache = tempfile::tempdir().expect("tempdir");
    let cache_home = cache.path().to_str().expect("utf-8 path");
    let input = "fixtures/key-policies/wildcard-principal.json";
    let runs: [&[&str]; 3] = [
        &["test", "--no-color", "--trace", "-p", "policy/kms", input],
        &["verify", "--no-color", "-p", "policy/kms"],
        &[
            "test",
            "--no-color",
            "--show-builtin-errors",
            "-p",
            "policy/kms",
            input,
        ],
    ];
    // Warm the cache with a plain run of the same policies.
    let warm = regorun(
        &["test", "--no-color", "-p", "policy/kms", input],
        &[("XDG_CACHE_HOME", cache_home)],
    );
    assert_eq!(warm.code, 1, "{}", warm.stderr);
    assert!(cache.path().join("regorun/rvm").exists());
    for args in runs {
        let reference = regorun(args, &[(regorun::engine::fast::CACHE_ENV, "0")]);
        let hit = regorun(args, &[("XDG_CACHE_HOME", cache_home)]);
        assert_eq!(hit.code, reference.code, "{args:?}: {}", hit.stderr);
        assert_eq!(hit.stdout, reference.stdout, "{args:?}");
        assert!(!reference.stdout.is_empty(), "{args:?}");
    }
}

/// The cache is keyed by what the program is compiled from: editing a policy or a data
/// file must never serve the old program.
#[test]
fn cache_follows_policy_and_data_edits() {
    let cache = tempfile::tempdir().expect("tempdir");
    let cache_home = cache.path().to_str().expect("utf-8 path");
    let tmp = tempfile::tempdir().expect("tempdir");
    let policy = tmp.path().join("policy");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&policy).expect("mkdir");
    std::fs::create_dir_all(&data).expect("mkdir");
    let input = tmp.path().join("in.json");
    std::fs::write(&input, r#"{"name": "x"}"#).expect("write input");
    let rule = |msg: &str| {
        format!(
            "package main\n\ndeny contains msg if {{\n  input.name == data.names[_]\n  msg := \"{msg}\"\n}}\n"
        )
    };
    let run = || {
        let args = [
            "test",
            "--no-color",
            "-o",
            "json",
            "-p",
            policy.to_str().expect("utf-8"),
            "-d",
            data.to_str().expect("utf-8"),
            input.to_str().expect("utf-8"),
        ];
        regorun(&args, &[("XDG_CACHE_HOME", cache_home)])
    };
    std::fs::write(policy.join("p.rego"), rule("first")).expect("write policy");
    std::fs::write(data.join("d.json"), r#"{"names": ["x"]}"#).expect("write data");
    let first = run();
    assert!(first.stdout.contains("\"first\""), "{}", first.stdout);
    assert!(
        run().stdout.contains("\"first\""),
        "a hit must give the same"
    );

    std::fs::write(policy.join("p.rego"), rule("second")).expect("edit policy");
    let second = run();
    assert!(second.stdout.contains("\"second\""), "{}", second.stdout);

    std::fs::write(data.join("d.json"), r#"{"names": ["y"]}"#).expect("edit data");
    let none = run();
    assert_eq!(none.code, 0, "{}", none.stdout);
    assert!(!none.stdout.contains("\"second\""), "{}", none.stdout);
}

/// Every fixture policy gives the same output on the bytecode path and the interpreter,
/// over every input of its fixture directory.
#[test]
fn engines_agree_on_every_fixture_policy() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/conftest"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs.push(root().join("fixtures/example"));
    dirs.push(root().join("fixtures/parsers"));
    let mut compared = 0;
    for dir in dirs {
        let policy = if dir.join("policy").is_dir() {
            dir.join("policy")
        } else {
            dir.clone()
        };
        let (dir, policy) = (dir.to_str().unwrap(), policy.to_str().unwrap());
        for v0 in [false, true] {
            let mut args = vec![
                "test",
                "--no-color",
                "-o",
                "json",
                "--all-namespaces",
                "--keep-going",
                "-p",
                policy,
                dir,
            ];
            if v0 {
                args.extend(["--rego-version", "v0"]);
            }
            let fast = regorun(&args, &[]);
            let interp = regorun(&args, &[(regorun::engine::fast::DISABLE_ENV, "0")]);
            assert_same(&fast, &interp, &format!("{dir} v0={v0}"));
            compared += usize::from(!fast.stdout.is_empty());
        }
    }
    assert!(compared >= 10, "only {compared} runs gave results");
}

/// The rule heads regorus's bytecode VM gets wrong give OPA's values (checked with OPA
/// 1.20), because such policies stay on the interpreter.
#[test]
fn vm_unsafe_heads_give_opas_values() {
    let args = [
        "test",
        "--no-color",
        "-p",
        "fixtures/conftest/refheads/policy",
        "fixtures/conftest/refheads",
    ];
    let want = "\
FAIL - fixtures/conftest/refheads/names.json - main - by_name: {\"ids\": {\"api\": 1, \"web\": 1}}
FAIL - fixtures/conftest/refheads/names.json - main - label: unlabelled
FAIL - fixtures/conftest/refheads/names.json - main - nested: {\"api\": {\"seen\": true}, \"web\": {\"seen\": true}}
FAIL - fixtures/conftest/refheads/names.json - main - owners: {\"api\": {\"team\"}, \"web\": {\"team\"}}
FAIL - fixtures/conftest/refheads/one.json - main - by_name: {\"ids\": {\"db\": 1}}
FAIL - fixtures/conftest/refheads/one.json - main - label: one
FAIL - fixtures/conftest/refheads/one.json - main - nested: {\"db\": {\"seen\": true}}
FAIL - fixtures/conftest/refheads/one.json - main - owners: {\"db\": {\"team\"}}

8 tests, 0 passed, 0 warnings, 8 failures, 0 exceptions
";
    for env in [&[][..], &[(regorun::engine::fast::DISABLE_ENV, "0")][..]] {
        let run = regorun(&args, env);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(run.stdout, want);
    }
}

/// Every input the pack's own Rego unit tests give the pack (`with input as ...`) is
/// evaluated on the bytecode path and on the interpreter, with the same output.
#[test]
fn engines_agree_on_every_pack_unit_test_input() {
    use std::sync::{Arc, Mutex};
    let files = regorun::rego::policy::load_files(&["policy/kms".to_string()]).unwrap();
    // Each `with input as X` records X through an extension.
    let recorded: Arc<Mutex<Vec<regorus::Value>>> = Arc::default();
    let sink = recorded.clone();
    let mut engine = regorus::Engine::new();
    engine
        .add_extension(
            "regorun_record".to_string(),
            1,
            Box::new(move |args: Vec<regorus::Value>| {
                sink.lock().unwrap().push(args[0].clone());
                Ok(args[0].clone())
            }),
        )
        .unwrap();
    for f in &files {
        let source = f
            .source
            .replace("with input as inp", "with input as regorun_record(inp)");
        engine.add_policy(f.path.clone(), source).unwrap();
    }
    let results = engine
        .eval_query("data.kms_test".to_string(), false)
        .unwrap();
    let tests = results.result[0].expressions[0].value.as_object().unwrap();
    let passed = tests
        .iter()
        .filter(|(k, v)| k.as_string().unwrap().starts_with("test_") && **v == true.into())
        .count();
    assert!(passed >= 40, "only {passed} pack unit tests passed");
    let inputs = recorded.lock().unwrap().clone();
    assert!(inputs.len() >= 40, "only {} inputs recorded", inputs.len());
    let tmp = tempfile::tempdir().unwrap();
    for (i, input) in inputs.iter().enumerate() {
        std::fs::write(
            tmp.path().join(format!("input-{i:03}.json")),
            input.to_json_str().unwrap(),
        )
        .unwrap();
    }
    let dir = tmp.path().to_str().unwrap();
    let args = [
        "test",
        "--no-color",
        "-o",
        "json",
        "--keep-going",
        "-p",
        "policy/kms",
        dir,
    ];
    let fast = regorun(&args, &[]);
    let interp = regorun(&args, &[(regorun::engine::fast::DISABLE_ENV, "0")]);
    assert_same(&fast, &interp, "pack unit-test inputs");
    assert!(fast.stdout.contains("\"failures\""), "{}", fast.stdout);
}

/// `regorun test -p p a.json` over `policy` and `input`, on the bytecode path and on
/// the interpreter.
fn both_paths(policy: &str, input: &str) -> Vec<Run> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("p")).unwrap();
    std::fs::write(dir.path().join("p/p.rego"), policy).unwrap();
    std::fs::write(dir.path().join("a.json"), input).unwrap();
    let p = dir.path().join("p");
    let a = dir.path().join("a.json");
    let args = [
        "test",
        "--no-color",
        "-p",
        p.to_str().unwrap(),
        a.to_str().unwrap(),
    ];
    [&[][..], &[(regorun::engine::fast::DISABLE_ENV, "0")][..]]
        .into_iter()
        .map(|env| regorun(&args, env))
        .collect()
}

/// An assignment whose variable is never used still fails its body when the value is
/// undefined (OPA: no deny); regorus's bytecode VM dropped it, so such policies stay on
/// the interpreter.
#[test]
fn unused_assignment_of_an_undefined_value_fails_the_body() {
    let policy = "package main\n\nimport rego.v1\n\nhas_k if { k := input.k }\n\ndeny contains \"k is set\" if has_k\n\ndeny contains \"k is not set\" if not has_k\n";
    for run in both_paths(policy, "{}\n") {
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stdout.contains(" - main - k is not set\n") && !run.stdout.contains("k is set"),
            "{}",
            run.stdout
        );
    }
}

/// A branch followed by `else` whose value or head variable is undefined falls through
/// to `else` (OPA: `v is 0, w is 0`); regorus's bytecode VM gave no value, so such
/// policies stay on the interpreter.
#[test]
fn undefined_branch_values_fall_through_to_else() {
    let policy = "package main\n\nimport rego.v1\n\nv := input.k if { true } else := 0\n\nw := x if { x := input.k } else := 0\n\ndeny contains sprintf(\"v is %v, w is %v\", [v, w])\n";
    for run in both_paths(policy, "{}\n") {
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stdout.ends_with(" - main - v is 0, w is 0\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n"),
            "{}",
            run.stdout
        );
    }
}

/// Files with the same bytes are evaluated once and each still gets its own record; a
/// policy that reads `data.conftest.file` evaluates every file.
#[test]
fn duplicate_files_keep_their_own_records() {
    let wildcard = std::fs::read_to_string(
        common::root().join("fixtures/key-policies/wildcard-principal.json"),
    )
    .unwrap();
    let clean =
        std::fs::read_to_string(common::root().join("fixtures/key-policies/clean.json")).unwrap();
    let dir = common::scratch(&[
        ("in/a.json", wildcard.as_str()),
        ("in/b.json", clean.as_str()),
        ("in/c.json", wildcard.as_str()),
        ("in/d.yaml", wildcard.as_str()),
        (
            "named/policy/p.rego",
            "package main\n\nimport rego.v1\n\ndeny contains data.conftest.file.name if input.x\n",
        ),
        ("named/a.json", "{\"x\": 1}"),
        ("named/b.json", "{\"x\": 1}"),
    ]);
    let pack = common::root().join("policy");
    let run = common::run_at(
        dir.path(),
        &[
            "test",
            "--no-color",
            "-p",
            pack.to_str().unwrap(),
            "-o",
            "json",
            "in",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let records: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["in/a.json", "in/b.json", "in/c.json", "in/d.yaml"]);
    let failures = |i: usize| records[i]["failures"].as_array().map_or(0, Vec::len);
    assert_eq!(
        [failures(0), failures(1), failures(2), failures(3)],
        [1, 0, 1, 1]
    );
    assert_eq!(records[0]["failures"], records[2]["failures"]);
    let run = common::run_at(
        &dir.path().join("named"),
        &["test", "--no-color", "a.json", "b.json"],
    );
    assert_eq!(
        run.stdout,
        "FAIL - a.json - main - a.json\nFAIL - b.json - main - b.json\n\n2 tests, 0 passed, 0 warnings, 2 failures, 0 exceptions\n"
    );
}
