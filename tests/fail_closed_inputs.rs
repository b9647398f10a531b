//! Inputs that used to pass without being evaluated: a YAML byte-order mark, control
//! characters (a NUL silently ended the document) and alias bombs.

mod common;

const POLICY: &str = "package main\n\ndeny contains \"privileged\" if input.privileged == true\n";

fn run(files: &[(&str, &[u8])], args: &[&str], stdin: Option<&str>) -> common::Run {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("p")).expect("mkdir");
    std::fs::write(dir.path().join("p/p.rego"), POLICY).expect("write");
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }
    let mut all = vec!["test", "-p", "p", "--no-color"];
    all.extend_from_slice(args);
    common::run_with(dir.path().to_str().expect("utf-8"), &all, &[], stdin)
}

const CONTROL: &str =
    "unmarshal yaml: error converting YAML to JSON: yaml: control characters are not allowed";

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_key() {
    let r = run(
        &[("a.yaml", b"\xef\xbb\xbfprivileged: true\n")],
        &["a.yaml"],
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "FAIL - a.yaml - main - privileged\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n"
    );
}

#[test]
fn control_characters_are_errors_everywhere() {
    let nul: &[u8] = b"name: ok\n\x00\nprivileged: true\n";
    let r = run(&[("a.yaml", nul)], &["a.yaml"], None);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert_eq!(
        r.stderr,
        format!("Error: running test: parse configurations: parser unmarshal: {CONTROL}, path: a.yaml\n")
    );
    // A large all-NUL file.
    let zeros = vec![0u8; 4 << 20];
    let r = run(&[("z.yaml", &zeros)], &["z.yaml"], None);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert!(r.stderr.contains(CONTROL), "{}", r.stderr);
    // Standard input.
    let r = run(&[], &["--parser", "yaml", "-"], Some("x: 1\n\u{1}\n"));
    assert_eq!(
        r.stderr,
        format!(
            "Error: running test: parse configurations: parser unmarshal: {CONTROL}, path: -\n"
        )
    );
    // A --data document.
    let r = run(
        &[("d/d.yaml", b"k: \x01\n"), ("in.json", b"{}")],
        &["--data", "d", "in.json"],
        None,
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!("Error: running test: load: load documents: 1 error occurred during loading: d/d.yaml: {CONTROL}\n")
    );
    // With --keep-going the file gets a FAIL record and the others are evaluated.
    let r = run(
        &[("a.yaml", nul), ("b.yaml", b"privileged: true\n")],
        &["--keep-going", "a.yaml", "b.yaml"],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("FAIL - a.yaml"), "{}", r.stdout);
    assert!(
        r.stdout.contains("FAIL - b.yaml - main - privileged"),
        "{}",
        r.stdout
    );
}

#[test]
fn alias_bombs_are_refused() {
    // Nine levels of nine aliases: 387,420,489 strings from 342 bytes.
    let mut yaml = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for c in "bcdefghi".chars() {
        let refs = vec![format!("*{prev}"); 9].join(",");
        yaml.push_str(&format!("{c}: &{c} [{refs}]\n"));
        prev = c;
    }
    let r = run(&[("bomb.yaml", yaml.as_bytes())], &["bomb.yaml"], None);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert_eq!(
        r.stderr,
        "Error: running test: parse configurations: parser unmarshal: unmarshal yaml: error converting YAML to JSON: yaml: document contains excessive aliasing, path: bomb.yaml\n"
    );
    // Ordinary anchors still work.
    let ok = "base: &b {privileged: true}\nitems: [*b, *b]\nprivileged: true\n";
    let r = run(&[("ok.yaml", ok.as_bytes())], &["ok.yaml"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.starts_with("FAIL - ok.yaml - main - privileged\n"));
}

#[cfg(unix)]
#[test]
fn walks_lose_no_file() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let at = dir.path();
    std::fs::create_dir_all(at.join("p")).expect("mkdir");
    std::fs::create_dir_all(at.join("d")).expect("mkdir");
    std::fs::write(at.join("p/p.rego"), POLICY).expect("write");
    std::fs::write(at.join("d/a.json"), "{\"privileged\": true}").expect("write");
    // A name that is not UTF-8 is read, not reported missing.
    let odd = std::ffi::OsStr::from_bytes(b"n\xffame.json");
    std::fs::write(at.join("d").join(odd), "{\"privileged\": true}").expect("write");
    let walk = |args: &[&str]| {
        let mut all = vec!["test", "-p", "p", "--no-color", "d"];
        all.extend_from_slice(args);
        common::run_with(at.to_str().expect("utf-8"), &all, &[], None)
    };
    let r = walk(&[]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            1,
            "FAIL - d/a.json - main - privileged\nFAIL - d/n\u{fffd}ame.json - main - privileged\n\n2 tests, 0 passed, 0 warnings, 2 failures, 0 exceptions\n",
            ""
        )
    );
    std::os::unix::fs::symlink("missing.json", at.join("d/broken.json")).expect("symlink");
    let r = walk(&[]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            1,
            "",
            "Error: running test: parse files: get files from directory: lstat d/missing.json: no such file or directory\n"
        )
    );
    std::os::unix::fs::symlink("loop2.json", at.join("d/loop1.json")).expect("symlink");
    std::os::unix::fs::symlink("loop1.json", at.join("d/loop2.json")).expect("symlink");
    let r = walk(&["--keep-going"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "FAIL - d/a.json - main - privileged\n\
         FAIL - d/broken.json - main - parse files: get files from directory: lstat d/missing.json: no such file or directory\n\
         FAIL - d/loop1.json - main - parse files: get files from directory: EvalSymlinks: too many links\n\
         FAIL - d/loop2.json - main - parse files: get files from directory: EvalSymlinks: too many links\n\
         FAIL - d/n\u{fffd}ame.json - main - privileged\n\n\
         5 tests, 0 passed, 0 warnings, 5 failures, 0 exceptions\n"
    );
    std::fs::remove_file(at.join("d/broken.json")).expect("rm");
    let r = walk(&[]);
    assert_eq!(
        r.stderr,
        "Error: running test: parse files: get files from directory: EvalSymlinks: too many links\n"
    );
}

#[test]
fn parser_errors_are_one_line() {
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "deep.jsonnet",
            b"local f(x) = f(x+1);\nf(1)\n",
            "evaluate anonymous snippet: stack overflow, try to reduce recursion, or set --max-stack to bigger value (deep.jsonnet:1:15-19: function <f> call), path: deep.jsonnet",
        ),
        (
            "b.ini",
            b"[sec]\nk=1\n\x00\x01garbage\n",
            "read ini file: key-value delimiter not found: \\x00\\x01garbage, path: b.ini",
        ),
        (
            "b.env",
            b"A=1\n\x00\x01 bad line\n",
            "read .env file: line `\\x00\\x01 bad line` doesn't match format, path: b.env",
        ),
        (
            "b.spdx",
            b"SPDXVersion: SPDX-2.3\nGarbage line without colon\n",
            "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: no colon found in 'Garbage line without colon', path: b.spdx",
        ),
    ];
    for (name, bytes, error) in cases {
        let r = run(&[(name, bytes)], &[name], None);
        assert_eq!(r.code, 1, "{name}");
        assert_eq!(
            r.stderr,
            format!("Error: running test: parse configurations: parser unmarshal: {error}\n"),
            "{name}"
        );
    }
}
