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

/// One statement-level finding per input shape of the built-in pack, at a known place.
const SHAPES: &[(&str, &str, usize, usize)] = &[
    (
        "fixtures/kms/raw/admin-kms-star-role.json",
        "warning",
        14,
        5,
    ),
    (
        "fixtures/kms/cli/get-key-policy-wildcard-minified.json",
        "error",
        2,
        3,
    ),
    (
        "fixtures/kms/cloudformation/join-short-account.json",
        "warning",
        10,
        13,
    ),
    (
        "fixtures/kms/cloudformation/hardcoded-other-account.yaml",
        "warning",
        15,
        13,
    ),
    ("fixtures/kms/terraform/heredoc-wildcard.tf", "error", 7, 5),
    ("fixtures/kms/terraform/module-inputs.tf", "error", 19, 5),
    (
        "fixtures/kms/terraform-plan/caller-identity-cross-account.json",
        "warning",
        57,
        11,
    ),
    (
        "fixtures/kms/grants/cross-account-role.json",
        "warning",
        3,
        5,
    ),
];

fn pack(format: &str, file: &str) -> String {
    common::run_in(".", &["test", "--no-color", "-o", format, file]).stdout
}

#[test]
fn the_pack_gives_the_line_of_each_input_shape() {
    for &(file, level, line, col) in SHAPES {
        let github = pack("github", file);
        assert!(
            github.contains(&format!("::{level} file={file},line={line},col={col}::")),
            "{file}: {github}"
        );
        let sarif = pack("sarif", file);
        assert!(
            sarif.contains(&format!(
                r#"{{"artifactLocation":{{"uri":"{file}"}},"region":{{"startLine":{line},"startColumn":{col}}}}}"#
            )),
            "{file}: {sarif}"
        );
        let azure = pack("azuredevops", file);
        assert!(
            azure.contains(&format!(
                ";sourcepath={file};linenumber={line};columnnumber={col}] file={file} --> "
            )),
            "{file}: {azure}"
        );
        assert!(pack("junit", file).contains(&format!("name=\"{file}:{line} - ")));
        assert!(pack("tap", file).contains(&format!(" - {file}:{line} - main - ")));
    }
}

/// Every GitHub line is a workflow command in GitHub's syntax (`::error file=F,line=L,col=C::`)
/// or the summary, and every SARIF log validates against the SARIF 2.1.0 schema, for every
/// fixture of the pack.
#[test]
fn github_and_sarif_outputs_keep_their_syntax() {
    let dirs = [
        "fixtures/kms/raw",
        "fixtures/kms/cli",
        "fixtures/kms/cloudformation",
        "fixtures/kms/terraform",
        "fixtures/kms/terraform-plan",
        "fixtures/kms/grants",
    ];
    let command = regex::Regex::new(
        r"^(::group::.*|::endgroup::|::(error|warning|notice) file=[^,\n]+,line=[0-9]+(,col=[0-9]+)?::.*|[0-9]+ tests?, .*)$",
    )
    .unwrap();
    let mut args = vec!["test", "--no-color", "-o", "github"];
    args.extend(dirs);
    let github = common::run_in(".", &args).stdout;
    assert!(github.contains(",col="));
    for line in github.lines() {
        assert!(command.is_match(line), "not a workflow command: {line}");
    }
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::root().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    args[3] = "sarif";
    let sarif: serde_json::Value =
        serde_json::from_str(&common::run_in(".", &args).stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(sarif.to_string().contains("\"startColumn\""));
}
