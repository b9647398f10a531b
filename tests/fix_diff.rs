//! `regorun test --diff` (issue 25): fixes that results carry as JSON Patches, shown as the
//! diff of the corrected input; nothing is written and the exit code is the findings'.

mod common;

const POLICY: &str = r#"package main

import rego.v1

deny contains {"msg": sprintf("statement %d lets everyone use the key", [i]), "fix": [{"op": "replace", "path": sprintf("/Statement/%d/Principal", [i]), "value": {"AWS": "arn:aws:iam::111122223333:root"}}], "fix_title": "name the account"} if {
	some i, st in input.Statement
	st.Principal == "*"
}

warn contains {"msg": "no Version", "fix": [{"op": "add", "path": "/Version", "value": "2012-10-17"}]} if not input.Version

warn contains {"msg": "stale fix", "fix": [{"op": "remove", "path": "/Nope"}]} if input.Statement

warn contains {"msg": "not a patch", "fix": {"op": "remove"}} if input.Statement
"#;

const KEY: &str = "{\n  \"Statement\": [\n    {\n      \"Sid\": \"Everyone\",\n      \"Effect\": \"Allow\",\n      \"Principal\": \"*\",\n      \"Action\": \"kms:Decrypt\",\n      \"Resource\": \"*\"\n    }\n  ]\n}\n";

#[test]
fn diff_shows_the_corrected_file_and_writes_nothing() {
    let dir = common::scratch(&[("policy/p.rego", POLICY), ("key.json", KEY)]);
    let run = common::run_at(dir.path(), &["test", "--diff", "key.json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "--- a/key.json\n+++ b/key.json\n@@ -3,9 +3,12 @@\n     {\n       \"Sid\": \"Everyone\",\n       \"Effect\": \"Allow\",\n-      \"Principal\": \"*\",\n+      \"Principal\": {\n+        \"AWS\": \"arn:aws:iam::111122223333:root\"\n+      },\n       \"Action\": \"kms:Decrypt\",\n       \"Resource\": \"*\"\n     }\n-  ]\n+  ],\n+  \"Version\": \"2012-10-17\"\n }\n"
    );
    assert_eq!(
        run.stderr,
        "regorun: fix: key.json: skipped the fix of \"not a patch\": its fix is not a JSON Patch: invalid type: map, expected a sequence\n\
         regorun: fix: key.json: skipped the fix of \"stale fix\": operation '/0' failed at path '/Nope': path is invalid\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("key.json")).unwrap(),
        KEY
    );
}

#[test]
fn diff_without_fixes_prints_nothing_and_keeps_the_exit_code() {
    let clean = "{\"Version\": \"2012-10-17\"}\n";
    let dir = common::scratch(&[("policy/p.rego", POLICY), ("key.json", clean)]);
    let run = common::run_at(dir.path(), &["test", "--diff", "key.json"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn inputs_that_are_not_one_json_document_are_named() {
    let yaml = "Statement:\n  - Principal: \"*\"\n";
    let dir = common::scratch(&[("policy/p.rego", POLICY), ("key.yaml", yaml)]);
    let run = common::run_at(dir.path(), &["test", "--diff", "key.yaml"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("regorun: fix: key.yaml: not corrected: the file is not one JSON document"),
        "{}",
        run.stderr
    );
}

#[test]
fn fix_writes_the_corrected_file_and_reports_what_remains() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::scratch(&[("policy/p.rego", POLICY), ("key.json", KEY)]);
    let key = dir.path().join("key.json");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let run = common::run_at(dir.path(), &["test", "--fix", "--no-color", "key.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "WARN - key.json - main - stale fix\nWARN - key.json - main - not a patch\n\n4 tests, 2 passed, 2 warnings, 0 failures, 0 exceptions\n"
    );
    assert!(
        run.stderr.ends_with("regorun: fixed key.json\n"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        "{\n  \"Statement\": [\n    {\n      \"Sid\": \"Everyone\",\n      \"Effect\": \"Allow\",\n      \"Principal\": {\n        \"AWS\": \"arn:aws:iam::111122223333:root\"\n      },\n      \"Action\": \"kms:Decrypt\",\n      \"Resource\": \"*\"\n    }\n  ],\n  \"Version\": \"2012-10-17\"\n}\n"
    );
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // Nothing else is left in the directory.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn fix_refuses_stdin() {
    let dir = common::scratch(&[("policy/p.rego", POLICY)]);
    let run = common::run_with(
        dir.path().to_str().unwrap(),
        &["test", "--fix", "-"],
        &[],
        Some(KEY),
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "Error: --fix cannot correct stdin: give the file's path\n"
    );
}

/// The built-in pack's fix for a key policy without the root delegation: applied with
/// `--fix`, the finding is gone, no other finding appears, and every line of the original
/// file is still there in order.
#[test]
fn the_pack_fixes_a_missing_delegation() {
    let original =
        std::fs::read_to_string(common::root().join("fixtures/key-policies/no-delegation.json"))
            .unwrap();
    let dir = common::scratch(&[("key.json", &original)]);
    let before = common::run_at(dir.path(), &["test", "--no-color", "key.json"]);
    assert_eq!(before.code, 1);
    let run = common::run_at(dir.path(), &["test", "--fix", "--no-color", "key.json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        before
            .stdout
            .lines()
            .last()
            .map(|l| format!(
                "\n{}\n",
                l.replace(
                    "17 passed, 0 warnings, 1 failure",
                    "18 passed, 0 warnings, 0 failures"
                )
            ))
            .unwrap()
    );
    let fixed = std::fs::read_to_string(dir.path().join("key.json")).unwrap();
    let added = "    },\n    {\n      \"Sid\": \"Enable IAM User Permissions\",\n      \"Effect\": \"Allow\",\n      \"Principal\": {\n        \"AWS\": \"arn:aws:iam::111122223333:root\"\n      },\n      \"Action\": \"kms:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}\n";
    assert_eq!(fixed, original.replacen("    }\n  ]\n}\n", added, 1));
}

fn findings(dir: &std::path::Path, file: &str) -> Vec<serde_json::Value> {
    let run = common::run_at(dir, &["test", "-o", "json", file]);
    let records: serde_json::Value = serde_json::from_str(&run.stdout).expect("json output");
    records
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            let f = r["failures"].as_array().cloned().unwrap_or_default();
            let w = r["warnings"].as_array().cloned().unwrap_or_default();
            f.into_iter().chain(w)
        })
        .collect()
}

fn ids(found: &[serde_json::Value]) -> std::collections::BTreeSet<String> {
    found
        .iter()
        .map(|m| m["metadata"]["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The key policy of a file: itself, or the decoded `Policy` of `get-key-policy` output.
fn policy_of(text: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    match doc["Policy"].as_str() {
        Some(inner) => serde_json::from_str(inner).unwrap(),
        None => doc,
    }
}

/// Every raw key-policy fixture with a fixable finding: after `--fix` the fixed findings
/// are gone, no new finding appears, and the statements no fix names are unchanged.
#[test]
fn every_pack_fix_round_trips() {
    let mut fixed_files = 0;
    for sub in [
        "fixtures/kms/raw",
        "fixtures/kms/cli",
        "fixtures/key-policies",
    ] {
        let mut names: Vec<_> = std::fs::read_dir(common::root().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        for path in names {
            let text = std::fs::read_to_string(&path).unwrap();
            let dir = common::scratch(&[("key.json", &text)]);
            let before = findings(dir.path(), "key.json");
            let fixable: Vec<&serde_json::Value> = before
                .iter()
                .filter(|m| m["metadata"]["fix"].is_array())
                .collect();
            if fixable.is_empty() {
                continue;
            }
            fixed_files += 1;
            let run = common::run_at(dir.path(), &["test", "--fix", "key.json"]);
            assert!(
                run.stderr.contains("regorun: fixed key.json"),
                "{path:?}: {}",
                run.stderr
            );
            let after = findings(dir.path(), "key.json");
            let fixed_ids = ids(&fixable.iter().map(|m| (*m).clone()).collect::<Vec<_>>());
            let (was, now) = (ids(&before), ids(&after));
            assert!(
                now.is_subset(&was),
                "{path:?}: new findings {now:?} (was {was:?})"
            );
            assert!(now.is_disjoint(&fixed_ids), "{path:?}: still {now:?}");
            // Statements no fix touches are unchanged.
            let touched: Vec<String> = fixable
                .iter()
                .flat_map(|m| m["metadata"]["fix"].as_array().unwrap().iter())
                .filter_map(|op| op["path"].as_str())
                .map(|p| p.strip_prefix("/Policy").unwrap_or(p))
                .filter_map(|p| p.strip_prefix("/Statement/"))
                .map(|rest| rest.split('/').next().unwrap().to_string())
                .collect();
            let old = policy_of(&text);
            let new = policy_of(&std::fs::read_to_string(dir.path().join("key.json")).unwrap());
            for (i, st) in old["Statement"].as_array().unwrap().iter().enumerate() {
                if !touched.contains(&i.to_string()) {
                    assert_eq!(&new["Statement"][i], st, "{path:?}: statement {i}");
                }
            }
        }
    }
    assert!(fixed_files >= 5, "only {fixed_files} fixtures had fixes");
}

#[test]
fn diff_never_reads_a_file_for_stdin() {
    // A file named like --stdin-filename is not the input.
    let dir = common::scratch(&[("policy/p.rego", POLICY), ("key.json", KEY)]);
    let run = common::run_with(
        dir.path().to_str().unwrap(),
        &["test", "--diff", "--stdin-filename", "key.json", "-"],
        &[],
        Some(KEY),
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(
            "regorun: fix: key.json: not a file that can be corrected (stdin or a combined input)\n"
        ),
        "{}",
        run.stderr
    );
}
