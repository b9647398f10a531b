//! Line numbers (issue 27): a result's `metadata.path`, a JSON pointer into the input,
//! becomes the line and column of the user's file in every format that has a place for it
//! (SARIF region, GitHub `line`/`col`, Azure DevOps `linenumber`, JUnit and TAP names);
//! stdout stays conftest's and a `_loc` wins.

mod common;

const POLICY: &str = r#"package main

import rego.v1

deny contains {"msg": "wildcard", "path": p} if {
	some p, st in statements
	st.Principal == "*"
}

warn contains {"msg": "located", "path": "/Statement/0", "_loc": {"file": "src/x.rego", "line": 9}} if {
	input.Statement
}

statements[sprintf("/Statement/%d/Principal", [i])] := st if some i, st in input.Statement

statements[sprintf("/resource/aws_kms_key/%s/0/policy/Statement/%d/Principal", [name, i])] := st if {
	some name, keys in input.resource.aws_kms_key
	some i, st in json.unmarshal(keys[0].policy).Statement
}
"#;

const JSON: &str = "{\n  \"Statement\": [\n    {\"Sid\": \"a\", \"Principal\": {\"AWS\": \"arn\"}},\n    {\n      \"Sid\": \"b\",\n      \"Principal\": \"*\"\n    }\n  ]\n}\n";

const YAML: &str = "Statement:\n  - Sid: a\n  - Sid: b\n    Principal: \"*\"\n";

const TF: &str = "resource \"aws_kms_key\" \"k\" {\n  description = \"k\"\n  policy      = <<EOF\n{\n  \"Statement\": [\n    {\"Sid\": \"a\",\n     \"Principal\": \"*\"}\n  ]\n}\nEOF\n}\n";

fn run(format: &str, file: &str) -> String {
    let dir = common::scratch(&[
        ("policy/p.rego", POLICY),
        ("a.json", JSON),
        ("b.yaml", YAML),
        ("c.tf", TF),
    ]);
    let r = common::run_at(dir.path(), &["test", "--no-color", "-o", format, file]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    r.stdout
}

#[test]
fn github_lines_and_columns() {
    assert_eq!(
        run("github", "a.json"),
        "::group::Testing \"a.json\" against 2 policies in namespace \"main\"\n\
         ::error file=a.json,line=6,col=7::wildcard\n\
         ::warning file=src/x.rego,line=9::located\n\
         ::warning file=a.json,line=1::(ORIGINATING FROM src/x.rego L9) located\n\
         ::notice file=a.json,line=1::Number of successful checks: 0\n\
         ::endgroup::\n\
         2 tests, 0 passed, 1 warning, 1 failure, 0 exceptions\n"
    );
    assert!(run("github", "b.yaml").contains("::error file=b.yaml,line=4,col=5::wildcard\n"));
    assert!(run("github", "c.tf").contains("::error file=c.tf,line=7,col=6::wildcard\n"));
}

#[test]
fn sarif_regions() {
    let out = run("sarif", "b.yaml");
    assert!(
        out.contains(
            r#"{"artifactLocation":{"uri":"b.yaml"},"region":{"startLine":4,"startColumn":5}}"#
        ),
        "{out}"
    );
    // `_loc` keeps conftest's region.
    assert!(
        out.contains(
            r#"{"artifactLocation":{"uri":"src/x.rego"},"region":{"startLine":9,"endLine":9}}"#
        ),
        "{out}"
    );
}

#[test]
fn azure_junit_and_tap_names() {
    let azure = run("azuredevops", "a.json");
    assert!(azure.contains(
        "##vso[task.logissue type=error;sourcepath=a.json;linenumber=6;columnnumber=7] file=a.json --> wildcard\n"
    ));
    assert!(azure.contains("##vso[task.logissue type=warning] file=a.json --> located\n"));
    let junit = run("junit", "c.tf");
    assert!(junit.contains("name=\"c.tf:7 - wildcard\""), "{junit}");
    assert!(junit.contains("name=\"c.tf\""), "{junit}");
    assert_eq!(
        run("tap", "b.yaml"),
        "1..2\nnot ok 1 - b.yaml:4 - main - wildcard\n# warnings\nnot ok 2 - b.yaml - main - located\n"
    );
}

#[test]
fn stdout_is_conftests() {
    assert_eq!(
        run("stdout", "a.json"),
        "WARN - a.json - main - located\nFAIL - a.json - main - wildcard\n\n2 tests, 0 passed, 1 warning, 1 failure, 0 exceptions\n"
    );
}
