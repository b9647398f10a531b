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
fn yaml_inputs_are_corrected_and_other_forms_are_named() {
    let yaml = "Statement:\n  - Principal: \"*\"\n";
    let dir = common::scratch(&[("policy/p.rego", POLICY), ("key.yaml", yaml)]);
    let run = common::run_at(dir.path(), &["test", "--diff", "key.yaml"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "--- a/key.yaml\n+++ b/key.yaml\n@@ -1,2 +1,4 @@\n Statement:\n-  - Principal: \"*\"\n+  - Principal:\n+      AWS: arn:aws:iam::111122223333:root\n+Version: '2012-10-17'\n"
    );
    let toml = "[[Statement]]\nPrincipal = \"*\"\n";
    let dir = common::scratch(&[("policy/p.rego", POLICY), ("key.toml", toml)]);
    let run = common::run_at(dir.path(), &["test", "--diff", "key.toml"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(
            "regorun: fix: key.toml: not corrected: fixes are written to JSON, YAML and Terraform files only\n"
        ),
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
                    "20 passed, 0 warnings, 1 failure",
                    "21 passed, 0 warnings, 0 failures"
                )
            ))
            .unwrap()
    );
    let fixed = std::fs::read_to_string(dir.path().join("key.json")).unwrap();
    let added = "    },\n    {\n      \"Sid\": \"Enable IAM User Permissions\",\n      \"Effect\": \"Allow\",\n      \"Principal\": {\n        \"AWS\": \"arn:aws:iam::111122223333:root\"\n      },\n      \"Action\": \"kms:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}\n";
    assert_eq!(fixed, original.replacen("    }\n  ]\n}\n", added, 1));
}

/// Turns on the pack's optional checks (read as `--data data.json` where it exists).
const OPTIONAL: &str = r#"{"kms": {"optional_checks": ["grant-creation-not-limited-to-aws-services", "decrypt-not-scoped"]}}"#;

fn findings(dir: &std::path::Path, file: &str) -> Vec<serde_json::Value> {
    let mut args = vec!["test", "-o", "json", file];
    if dir.join("data.json").exists() {
        args.extend(["--data", "data.json"]);
    }
    let run = common::run_at(dir, &args);
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

/// The statements of a file as regorun parses it, at `prefix` (the JSON Pointer of the key
/// policy; a string on the way that holds JSON is decoded).
fn statements_of(dir: &std::path::Path, file: &str, prefix: &str) -> Vec<serde_json::Value> {
    let run = common::run_at(dir, &["parse", file]);
    let mut at: serde_json::Value = serde_json::from_str(&run.stdout).expect("parse output");
    for token in prefix.split('/').skip(1) {
        at = match token.parse::<usize>() {
            Ok(i) if at.is_array() => at[i].take(),
            _ => at[token].take(),
        };
        if let Some(inner) = at.as_str() {
            at = serde_json::from_str(inner).unwrap();
        }
    }
    at["Statement"].as_array().cloned().unwrap_or_default()
}

/// Every fixture with a fixable finding (raw policies, CLI output, CloudFormation JSON and
/// YAML, Terraform): after `--fix` the fixed findings are gone, no new finding appears, and
/// the statements no fix names are unchanged.
#[test]
fn every_pack_fix_round_trips() {
    let mut fixed_files = std::collections::BTreeSet::new();
    for sub in [
        "fixtures/kms/raw",
        "fixtures/kms/cli",
        "fixtures/key-policies",
        "fixtures/kms/cloudformation",
        "fixtures/kms/terraform",
    ] {
        let mut names: Vec<_> = std::fs::read_dir(common::root().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| x == "json" || x == "yaml" || x == "tf")
            })
            .collect();
        names.sort();
        for path in names {
            let text = std::fs::read_to_string(&path).unwrap();
            let ext = path.extension().unwrap().to_str().unwrap();
            let file = format!("key.{ext}");
            // The optional checks on too, so that their fixes are tried as well.
            let dir = common::scratch(&[(file.as_str(), &text), ("data.json", OPTIONAL)]);
            let before = findings(dir.path(), &file);
            let fixable: Vec<&serde_json::Value> = before
                .iter()
                .filter(|m| m["metadata"]["fix"].is_array())
                .collect();
            if fixable.is_empty() {
                continue;
            }
            fixed_files.insert(ext.to_string() + sub);
            // Where the key policy is: the path of the fixes up to its statements.
            let first = fixable[0]["metadata"]["fix"][0]["path"].as_str().unwrap();
            let prefix = &first[..first.find("/Statement/").unwrap()];
            let old = statements_of(dir.path(), &file, prefix);
            let run = common::run_at(dir.path(), &["test", "--fix", "--data", "data.json", &file]);
            assert!(
                run.stderr.contains(&format!("regorun: fixed {file}")),
                "{path:?}: {}",
                run.stderr
            );
            let after = findings(dir.path(), &file);
            let (was, now) = (ids(&before), ids(&after));
            assert!(
                now.is_subset(&was),
                "{path:?}: new findings {now:?} (was {was:?})"
            );
            // Every finding with a fix is gone (others of its check may stay).
            for m in &fixable {
                let same = |a: &serde_json::Value| a["msg"] == m["msg"];
                assert!(!after.iter().any(same), "{path:?}: still {}", m["msg"]);
            }
            // Statements no fix touches are unchanged.
            let touched: Vec<String> = fixable
                .iter()
                .flat_map(|m| m["metadata"]["fix"].as_array().unwrap().iter())
                .filter_map(|op| op["path"].as_str())
                .filter_map(|p| p.strip_prefix(prefix))
                .filter_map(|p| p.strip_prefix("/Statement/"))
                .map(|rest| rest.split('/').next().unwrap().to_string())
                .collect();
            let new = statements_of(dir.path(), &file, prefix);
            for (i, st) in old.iter().enumerate() {
                if !touched.contains(&i.to_string()) {
                    assert_eq!(&new[i], st, "{path:?}: statement {i}");
                }
            }
        }
    }
    // Each form has fixtures with fixes.
    for form in [
        "jsonfixtures/kms/raw",
        "jsonfixtures/kms/cli",
        "jsonfixtures/kms/cloudformation",
        "yamlfixtures/kms/cloudformation",
        "tffixtures/kms/terraform",
    ] {
        assert!(
            fixed_files.contains(form),
            "no fix in {form}: {fixed_files:?}"
        );
    }
}

/// A CloudFormation YAML template: the statement is added in block style at the file's
/// indentation, in the stack's own account, and every other byte stays.
#[test]
fn yaml_templates_are_corrected_in_place() {
    let text = std::fs::read_to_string(
        common::root().join("fixtures/kms/cloudformation/missing-delegation.yaml"),
    )
    .unwrap();
    let dir = common::scratch(&[("t.yaml", &text)]);
    let run = common::run_at(dir.path(), &["test", "--diff", "t.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "--- a/t.yaml\n+++ b/t.yaml\n@@ -12,3 +12,10 @@\n               AWS: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/KeyAdmin'\n             Action: ['kms:Create*', 'kms:Describe*', 'kms:Put*', 'kms:ScheduleKeyDeletion']\n             Resource: '*'\n+          - Sid: Enable IAM User Permissions\n+            Effect: Allow\n+            Principal:\n+              AWS:\n+                Fn::Sub: arn:${AWS::Partition}:iam::${AWS::AccountId}:root\n+            Action: kms:*\n+            Resource: '*'\n"
    );
    assert_eq!(run.stderr, "");
}

/// A Terraform heredoc: the JSON inside it is edited at its own indentation.
#[test]
fn terraform_heredocs_are_corrected_in_place() {
    let text = std::fs::read_to_string(
        common::root().join("fixtures/kms/terraform/heredoc-no-delegation.tf"),
    )
    .unwrap();
    let dir = common::scratch(&[("main.tf", &text)]);
    let run = common::run_at(dir.path(), &["test", "--diff", "main.tf"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "--- a/main.tf\n+++ b/main.tf\n@@ -13,6 +13,15 @@\n           \"Principal\": {\"AWS\": \"arn:aws:iam::111122223333:role/app\"},\n           \"Action\": [\"kms:Decrypt\", \"kms:GenerateDataKey*\"],\n           \"Resource\": \"*\"\n+        },\n+        {\n+          \"Sid\": \"Enable IAM User Permissions\",\n+          \"Effect\": \"Allow\",\n+          \"Principal\": {\n+            \"AWS\": \"arn:aws:iam::111122223333:root\"\n+          },\n+          \"Action\": \"kms:*\",\n+          \"Resource\": \"*\"\n         }\n       ]\n     }\n"
    );
}

/// A `terraform show -json` plan is not written back: `--diff` prints the corrected
/// policy and the address to change, `--fix` says so and leaves the file.
#[test]
fn plans_get_the_corrected_policy_and_the_address() {
    let text = std::fs::read_to_string(
        common::root().join("fixtures/kms/terraform-plan/wildcard-reported-once.json"),
    )
    .unwrap();
    let dir = common::scratch(&[("plan.json", &text)]);
    let run = common::run_at(dir.path(), &["test", "--diff", "plan.json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "# plan.json: a Terraform plan is not written back; set the policy of aws_kms_key.app in its configuration to:\n{\n  \"Version\": \"2012-10-17\",\n  \"Id\": \"key-policy-1\",\n  \"Statement\": [\n    {\n      \"Sid\": \"Enable IAM User Permissions\",\n      \"Effect\": \"Allow\",\n      \"Principal\": {\n        \"AWS\": \"arn:aws:iam::111122223333:root\"\n      },\n      \"Action\": \"kms:*\",\n      \"Resource\": \"*\"\n    },\n    {\n      \"Sid\": \"Everyone\",\n      \"Effect\": \"Allow\",\n      \"Principal\": {\n        \"AWS\": \"arn:aws:iam::111122223333:root\"\n      },\n      \"Action\": [\n        \"kms:Decrypt\",\n        \"kms:DescribeKey\"\n      ],\n      \"Resource\": \"*\"\n    }\n  ]\n}\n"
    );
    let run = common::run_at(dir.path(), &["test", "--fix", "--no-color", "plan.json"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.starts_with("regorun: fix: plan.json: a Terraform plan is not written back; change the policy of aws_kms_key.app in its configuration (--diff prints it corrected)\n"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("plan.json")).unwrap(),
        text
    );
}

/// `aws kms get-key-policy --query Policy --output text` saved as `.txt` and read with
/// `--parser json` is corrected like the JSON it is.
#[test]
fn the_cli_text_form_is_corrected_with_its_parser() {
    let text = std::fs::read_to_string(
        common::root().join("fixtures/kms/raw/seed-incident-app-role.json"),
    )
    .unwrap();
    let dir = common::scratch(&[("policy.txt", &text)]);
    let without = common::run_at(dir.path(), &["test", "--diff", "policy.txt"]);
    assert_ne!(without.code, 0);
    let run = common::run_at(
        dir.path(),
        &[
            "test",
            "--fix",
            "--no-color",
            "--parser",
            "json",
            "policy.txt",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.ends_with("regorun: fixed policy.txt\n"),
        "{}",
        run.stderr
    );
    assert_ne!(
        std::fs::read_to_string(dir.path().join("policy.txt")).unwrap(),
        text
    );
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
