//! Input parsers end to end: `regorun parse` goldens for every fixture under
//! `fixtures/parsers/<parser>/`, `regorun test` over each fixture with its policy, malformed
//! files of every kind, and a random-input robustness pass over every parser.
//!
//! Set `REGORUN_BLESS=1` to (re)write the golden files; review every change by hand.

use assert_cmd::Command;
use regorun::parser::Parser;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/parsers")
}

fn bless() -> bool {
    std::env::var_os("REGORUN_BLESS").is_some()
}

fn regorun(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("regorun").expect("binary");
    c.current_dir(dir);
    c.env_clear();
    c.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c
}

/// Compares `actual` with the golden file, or writes it in bless mode.
fn golden(path: &Path, actual: &str) {
    if bless() {
        std::fs::write(path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("missing golden {}: {e}", path.display()));
    assert!(
        expected == actual,
        "{} differs:\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

const PARSERS: &[&str] = &[
    "cyclonedx",
    "dockerfile",
    "dotenv",
    "edn",
    "hcl1",
    "hcl2",
    "hocon",
    "ignore",
    "ini",
    "json",
    "jsonc",
    "jsonnet",
    "nginx",
    "properties",
    "spdx",
    "toml",
    "vcl",
    "xml",
    "yaml",
];

/// Input fixtures of one parser directory (not goldens, not the `bad/` folder).
fn inputs(parser: &str) -> Vec<String> {
    let dir = root().join(parser);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".parse.json") && !n.ends_with(".test.out"))
        .collect();
    names.sort();
    names
}

#[test]
fn parse_goldens_for_every_parser() {
    for parser in PARSERS {
        let dir = root().join(parser);
        let files = inputs(parser);
        assert!(!files.is_empty(), "no fixtures for {parser}");
        for f in files {
            let out = regorun(&dir).args(["parse", &f]).output().expect("run");
            assert!(
                out.status.success(),
                "{parser}/{f}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            golden(
                &dir.join(format!("{f}.parse.json")),
                &String::from_utf8_lossy(&out.stdout),
            );
        }
    }
}

/// (namespace, fixture, expected exit code)
const E2E: &[(&str, &str, i32)] = &[
    ("hcl2", "hcl2/kms.tf", 1),
    ("hcl1", "hcl1/gke.hcl1", 1),
    ("toml", "toml/app.toml", 1),
    ("ini", "ini/grafana.ini", 1),
    ("dotenv", "dotenv/app.env", 1),
    ("properties", "properties/app.properties", 0),
    ("ignore", "ignore/.dockerignore", 0),
    ("ignore", "ignore/.gitignore", 1),
    ("dockerfile", "dockerfile/Dockerfile", 0),
    ("xml", "xml/pom.xml", 1),
    ("jsonc", "jsonc/settings.jsonc", 1),
    ("edn", "edn/config.edn", 1),
    ("nginx", "nginx/nginx.conf", 1),
    ("yaml", "yaml/cloudformation.yaml", 1),
    ("yaml", "yaml/workflow.yml", 1),
    ("yaml", "yaml/k8s.yaml", 1),
    ("json", "json/package.json", 0),
    // Imports resolve against the file's directory, not the working directory.
    ("jsonnet", "jsonnet/deployment.jsonnet", 1),
    ("cyclonedx", "cyclonedx/bom.cyclonedx", 1),
    ("cyclonedx", "cyclonedx/bom.xml.cyclonedx", 1),
    ("hocon", "hocon/app.hocon", 1),
    ("spdx", "spdx/sbom.spdx", 1),
    ("spdx", "spdx/release.spdx", 1),
    ("vcl", "vcl/default.vcl", 1),
];

#[test]
fn policies_see_each_parsers_document() {
    let dir = root();
    for (ns, file, code) in E2E {
        let out = regorun(&dir)
            .args(["test", file, "-p", "policy", "-n", ns, "--no-color"])
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(*code),
            "{file}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        golden(
            &dir.join(format!("{file}.test.out")),
            &String::from_utf8_lossy(&out.stdout),
        );
    }
}

/// (directory, file, expected stderr after `Error: parse configurations: parser unmarshal: `)
const BAD: &[(&str, &str, &str)] = &[
    ("hcl2/bad", "broken.tf", "convert to bytes: parse config: [:2,17-18: invalid expression; expected `\"`, `[`, `{`, `-`, `!`, `(`, `_`, `<`, letter or digit]"),
    ("hcl1/bad", "broken.hcl1", "unmarshal hcl: Unknown token: var.project"),
    ("toml/bad", "broken.toml", "unmarshal toml: toml: line 2 (column 8): invalid string; expected `\"`, `'`"),
    ("ini/bad", "broken.ini", "read ini file: key-value delimiter not found: just_a_word"),
    ("dotenv/bad", "broken.env", "read .env file: line `this is not a pair` doesn't match format"),
    ("properties/bad", "broken.properties", "parse properties file: circular reference in: b=${a}"),
    ("dockerfile/bad", "Dockerfile", "parse dockerfile: file with no instructions"),
    ("dockerfile/bad", "Dockerfile.unknown", "process dockerfile instructions: unknown instruction: frobnicate"),
    ("jsonc/bad", "broken.jsonc", "unmarshal jsonc: invalid character ',' looking for beginning of value"),
    ("edn/bad", "broken.edn", "unmarshal EDN: edn: unexpected '}' (line 1, column 14)"),
    ("nginx/bad", "nginx.conf", "parse nginx: unexpected end of file, expecting '}'"),
    ("yaml/bad", "broken.yaml", "unmarshal yaml: error converting YAML to JSON: yaml: line 2: illegal placement of ':' indicator"),
    ("json/bad", "bad.json", "unmarshal json: invalid character ',' looking for beginning of value"),
    ("unavailable", "deploy.cue", "the cue parser is not available in regorun: no Rust implementation of CUE exists"),
    ("unavailable", "Jenkinsfile", "the groovy parser is not available in regorun: no Rust implementation of the Groovy 2.4 concrete syntax tree conftest emits exists"),
    ("jsonnet/bad", "broken.jsonnet", "evaluate anonymous snippet: runtime error: replicas must be set (broken.jsonnet:3:6-10: error statement)"),
    ("cyclonedx/bad", "broken.cyclonedx", "decode CycloneDX BOM: XML syntax error on line 2: unexpected EOF"),
    ("textproto/bad", "nocomment.textproto", "extract proto message type: file does not contain necessary proto-message comment"),
    // go-vcl never returns an error: these are the inputs it panics or loops forever on.
    ("vcl/bad", "version-only.vcl", "decode vcl: no top-level attribute or block: conftest crashes here (go-vcl panics: reflect: call of reflect.Value.Set on zero Value)"),
    ("vcl/bad", "stock-header.vcl", "decode vcl: line 1: empty `#` comment: conftest crashes here (go-vcl panics: runtime error: slice bounds out of range [2:1])"),
    ("vcl/bad", "concat.vcl", "decode vcl: line 7: the value of `req.http.host` is not a literal: conftest crashes here (go-vcl panics: cannot pass invalid argument which is no a literal)"),
    ("vcl/bad", "truncated.vcl", "decode vcl: line 7: `acl` runs to the end of the file without `{` or `;`: conftest never finishes (go-vcl collects empty labels until memory runs out)"),
    ("spdx/bad", "broken.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 32 83 80 68 88 ...]: no colon found in 'SPDXVersion SPDX-2.3'"),
    ("spdx/bad", "file-tag-before-file.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: received unknown tag FileChecksum in CreationInfo section"),
    ("spdx/bad", "snippet-without-file.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: received unknown tag SnippetSPDXID in Package section"),
    ("spdx/bad", "unknown-tag-in-file.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: received unknown tag PackageVersion in File section"),
    ("spdx/bad", "bad-checksum.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: got unknown checksum type CRC32"),
    ("spdx/bad", "checksum-too-new.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: got unknown checksum type BLAKE3"),
    ("spdx/bad", "bad-range.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: strconv.Atoi: parsing \"end\": invalid syntax"),
    ("spdx/bad", "package-without-id.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: package with PackageName p does not have SPDX identifier"),
    ("spdx/bad", "file-without-id.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: file with FileName a.txt does not have SPDX identifier"),
    ("spdx/bad", "orphan-ref-comment.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: no current ExternalRef found"),
    ("spdx/bad", "none-in-2.1.spdx", "error while parsing [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: missing SPDXRef- prefix for element identifier"),
    ("spdx/bad", "empty-supplier.spdx", "error while marshaling [83 80 68 88 86 101 114 115 105 111 110 58 32 83 80 68 ...]: json: error calling MarshalJSON for type *common.Supplier: failed to marshal invalid Supplier: {Supplier: SupplierType:Person}"),
    ("hocon/bad", "broken.hocon", "hocon: Unresolved substitution:missing.port"),
];

#[test]
fn malformed_files_fail_with_conftests_message() {
    for (dir, file, cause) in BAD {
        let d = root().join(dir);
        let out = regorun(&d).args(["parse", file]).output().expect("run");
        assert_eq!(out.status.code(), Some(1), "{dir}/{file}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("Error: parse configurations: parser unmarshal: {cause}, path: {file}\n"),
            "{dir}/{file}"
        );
        let policy = if dir.ends_with("/bad") {
            "../../policy"
        } else {
            "../policy"
        };
        let out = regorun(&d)
            .args(["test", file, "-p", policy, "--no-color"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "test {dir}/{file}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "Error: running test: parse configurations: parser unmarshal: {cause}, path: {file}\n"
            ),
            "test {dir}/{file}"
        );
    }
}

#[test]
fn keep_going_turns_a_bad_file_into_a_failure() {
    let dir = root();
    let out = regorun(&dir)
        .args([
            "test",
            "dotenv/bad/broken.env",
            "dotenv/app.env",
            "-p",
            "policy",
            "-n",
            "dotenv",
            "--no-color",
            "--keep-going",
        ])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL - dotenv/bad/broken.env - ")
            && stdout.contains("read .env file: line `this is not a pair` doesn't match format"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL - dotenv/app.env - dotenv - inventory must not log at debug level"),
        "{stdout}"
    );
}

#[test]
fn parse_command_shapes() {
    let dir = root();
    // No arguments.
    let out = regorun(&dir).arg("parse").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: must supply path to at least one file\n"
    );
    // A directory is an error: the parser is chosen from the name first...
    let out = regorun(&dir).args(["parse", "yaml"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: parse configurations: new parser: new: unknown parser: , path: yaml\n"
    );
    // ...then reading it fails.
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(tmp.path().join("conf.yaml")).expect("mkdir");
    let out = regorun(tmp.path())
        .args(["parse", "conf.yaml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(
            "Error: parse configurations: get configuration content: open file: read /"
        ) && err.ends_with("/conf.yaml: is a directory, path: conf.yaml\n"),
        "{err}"
    );
    // Unknown extension.
    let out = regorun(&dir)
        .args(["parse", "policy/yaml.rego"])
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: parse configurations: new parser: new: unknown parser: rego, path: policy/yaml.rego\n"
    );
    // Unknown --parser.
    let out = regorun(&dir)
        .args(["parse", "--parser", "yml", "yaml/k8s.yaml"])
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: parse configurations: new parser: unknown parser: yml, path: yaml/k8s.yaml\n"
    );
    // Several files: an object keyed by path, 2-space indent.
    let out = regorun(&dir)
        .args(["parse", "dotenv/app.env", "ignore/.dockerignore"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("{\n  \"dotenv/app.env\": {\n    \"APP_NAME\": \"inventory\","),
        "{text}"
    );
    assert!(text.ends_with("}\n"));
    // --combine: TAB indentation, one entry per array element, extra blank line.
    let out = regorun(&dir)
        .args(["parse", "--combine", "yaml/k8s.yaml", "dotenv/app.env"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let paths: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["path"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(paths, ["dotenv/app.env", "yaml/k8s.yaml", "yaml/k8s.yaml"]);
    assert!(text.starts_with("[\n\t{\n\t\t\"contents\": {"), "{text}");
    assert!(text.ends_with("]\n\n"));
    // --parser forces the parser; stdin is YAML by default.
    let out = regorun(&dir)
        .args(["parse", "--parser", "ini", "-"])
        .write_stdin("[s]\nk = 1\n")
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\n  \"s\": {\n    \"k\": 1\n  }\n}\n"
    );
    let out = regorun(&dir)
        .args(["parse", "--parser", "vcl", "-"])
        .write_stdin("acl purge { \"127.0.0.1\"; }\n")
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\n  \"acl\": {\n    \"purge\": [\n      \"127.0.0.1\"\n    ]\n  }\n}\n"
    );
    let out = regorun(&dir)
        .args(["parse", "-"])
        .write_stdin("a: yes\n")
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\n  \"a\": true\n}\n"
    );
    let out = regorun(&dir)
        .args(["parse", "-"])
        .write_stdin("")
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "null\n");
}

#[test]
fn parse_config_builtin_gets_every_parser() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("p.rego"),
        "package main\nimport rego.v1\ndeny contains msg if {\n\tdoc := parse_config(\"dockerfile\", \"FROM alpine:latest\\n\")\n\tdoc[0][0].Value[0] == \"alpine:latest\"\n\tmsg := \"latest via parse_config\"\n}\n",
    )
    .expect("write");
    std::fs::write(tmp.path().join("in.json"), "{}").expect("write");
    let out = regorun(tmp.path())
        .args(["test", "in.json", "-p", "p.rego", "--no-color"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL - in.json - main - latest via parse_config"),
        "{stdout}"
    );
}

/// A small xorshift generator: deterministic, no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Feeds every parser random bytes and mutations of the fixtures: no input may panic.
/// `REGORUN_FUZZ_ITERS` raises the iteration count (default 300 per parser).
#[test]
fn no_parser_panics_on_random_input() {
    let iters: usize = std::env::var("REGORUN_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for p in PARSERS.iter().chain(&["textproto"]) {
        for f in inputs(p) {
            if let Ok(b) = std::fs::read(root().join(p).join(&f)) {
                seeds.push(b);
            }
        }
    }
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"(",
        b")",
        b"\"",
        b"'",
        b"\\",
        b"\n",
        b"\r\n",
        b"#",
        b";",
        b"=",
        b":",
        b"${",
        b"%{",
        b"<<EOT\n",
        b"EOT\n",
        b"<",
        b">",
        b"</",
        b"/>",
        b"&amp;",
        b"&#x",
        b"---\n",
        b"!Ref ",
        b"*a",
        b"&a ",
        b"<<: ",
        b"#{",
        b"#_",
        b"\\u",
        b"--",
        b"ONBUILD ",
        b"FROM ",
        b"RUN ",
        b"\xff",
        b"\xc3",
        b"0x",
        b"1e999",
        b"-",
        b"`",
        b"/*",
        b"*/",
        b"\0",
        b"acl x ",
        b"\"/",
    ];
    let all = [
        Parser::Json,
        Parser::Yaml,
        Parser::Hcl2,
        Parser::Hcl1,
        Parser::Toml,
        Parser::Ini,
        Parser::Dotenv,
        Parser::Properties,
        Parser::Dockerfile,
        Parser::Ignore,
        Parser::Xml,
        Parser::Jsonc,
        Parser::Edn,
        Parser::Nginx,
        Parser::Jsonnet,
        Parser::CycloneDx,
        Parser::Textproto,
        Parser::Hocon,
        Parser::Spdx,
        Parser::Vcl,
    ];
    let proto_dirs = [root()
        .join("textproto/protos")
        .to_string_lossy()
        .into_owned()];
    let ctx = regorun::parser::Context {
        path: None,
        proto_file_dirs: &proto_dirs,
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for parser in all {
        for _ in 0..iters {
            let mut input = if rng.below(4) == 0 {
                (0..rng.below(64))
                    .map(|_| rng.next() as u8)
                    .collect::<Vec<u8>>()
            } else {
                seeds[rng.below(seeds.len())].clone()
            };
            for _ in 0..1 + rng.below(8) {
                let pos = rng.below(input.len() + 1);
                match rng.below(4) {
                    0 if !input.is_empty() => {
                        let end = (pos + rng.below(16)).min(input.len());
                        input.drain(pos.min(end)..end);
                    }
                    1 => {
                        let t = TOKENS[rng.below(TOKENS.len())];
                        input.splice(pos..pos, t.iter().copied());
                    }
                    2 if !input.is_empty() => {
                        let i = pos.min(input.len() - 1);
                        input[i] = rng.next() as u8;
                    }
                    _ => {
                        let t = TOKENS[rng.below(TOKENS.len())].repeat(1 + rng.below(40));
                        input.splice(pos..pos, t);
                    }
                }
            }
            let result = std::panic::catch_unwind(|| parser.parse_with(&input, &ctx));
            assert!(
                result.is_ok(),
                "{} parser panicked on {:?}",
                parser.name(),
                String::from_utf8_lossy(&input)
            );
        }
    }
}

/// textproto needs `.proto` files: `--proto-file-dirs` for `test`, the config file for `parse`.
#[test]
fn textproto_reads_types_from_proto_file_dirs() {
    let dir = root();
    let tmp = tempfile::tempdir().expect("tmp");
    let protos = dir.join("textproto/protos");
    std::fs::write(
        tmp.path().join("conftest.toml"),
        format!("proto-file-dirs = [{:?}]\n", protos.to_string_lossy()),
    )
    .expect("write");
    let input = dir.join("textproto/server.textproto");
    let out = regorun(tmp.path())
        .args(["parse", &input.to_string_lossy()])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    golden(
        &dir.join("textproto/server.textproto.parse.json"),
        &String::from_utf8_lossy(&out.stdout),
    );
    let test = |file: &str, protos: &str| {
        regorun(&dir)
            .args([
                "test",
                file,
                "-p",
                "policy",
                "-n",
                "textproto",
                "--no-color",
                "--proto-file-dirs",
                protos,
            ])
            .output()
            .expect("run")
    };
    let out = test("textproto/server.textproto", "textproto/protos");
    assert_eq!(out.status.code(), Some(1));
    golden(
        &dir.join("textproto/server.textproto.test.out"),
        &String::from_utf8_lossy(&out.stdout),
    );
    for (file, protos, err) in [
        ("textproto/server.textproto", "", "parser unmarshal: look up message type \"regorun.example.ServerConfig\": proto: not found"),
        ("textproto/bad/unknown.textproto", "textproto/protos", "parser unmarshal: look up message type \"regorun.example.Missing\": proto: not found"),
        ("textproto/bad/broken.textproto", "textproto/protos", "parser unmarshal: unmarshal textproto: field 'no_such_field' not found for message 'regorun.example.ServerConfig'"),
        ("textproto/server.textproto", "no/such/dir", "new parser: find proto files: walk dir \"no/such/dir\": lstat no/such/dir: no such file or directory"),
        ("textproto/server.textproto", "textproto/bad", "new parser: load protos: load messages from files: load proto file broken.proto: parse proto: expected ';' or '[', but found '}'"),
    ] {
        let out = test(file, protos);
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("Error: running test: parse configurations: {err}, path: {file}\n"),
        );
    }
}
