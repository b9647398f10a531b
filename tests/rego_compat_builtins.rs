//! OPA built-ins regorus 0.14 lacks (issue 26): regorun's results byte for byte as the OPA
//! peer (`../shared/tools/opa-peer`, OPA 1.20) printed them for the same policy and input.

mod common;

/// Runs `regorun test` over `input` (a file named `name`) with `policy`, on the bytecode
/// path and on the interpreter, and checks both print `opa` (exit code 1: OPA's failures).
/// The stderr of a `--show-builtin-errors` run of `policy` over `in.json` = `input`, which
/// must stop with exit 1.
fn strict_stderr(policy: &str, input: &str) -> String {
    let dir = common::scratch(&[("policy/p.rego", policy), ("in.json", input)]);
    let run = common::run_at(
        dir.path(),
        &["test", "--no-color", "--show-builtin-errors", "in.json"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    run.stderr
}

fn assert_as_opa(policy: &str, name: &str, input: &str, opa: &str) {
    let dir = common::scratch(&[("policy/p.rego", policy), (name, input)]);
    for rvm in ["1", "0"] {
        let run = common::run_with(
            dir.path().to_str().unwrap(),
            &["test", "--no-color", name],
            &[("REGORUN_RVM", rvm)],
            None,
        );
        assert_eq!((run.code, run.stdout.as_str()), (1, opa), "{}", run.stderr);
    }
}

const POLICY: &str = r#"package main

import rego.v1

deny contains sprintf("md5 %s", [crypto.md5("hello")])
deny contains sprintf("md5e %s", [crypto.md5("")])
deny contains sprintf("sha1 %s", [crypto.sha1("hello")])
deny contains sprintf("sha256 %s", [crypto.sha256("hello")])
deny contains sprintf("sha256u %s", [crypto.sha256("é✓")])
deny contains sprintf("hmd5 %s", [crypto.hmac.md5("hello", "key")])
deny contains sprintf("hsha1 %s", [crypto.hmac.sha1("hello", "key")])
deny contains sprintf("hsha256 %s", [crypto.hmac.sha256("hello", "key")])
deny contains sprintf("hsha512 %s", [crypto.hmac.sha512("hello", "key")])
deny contains sprintf("heq1 %v", [crypto.hmac.equal("abc", "abc")])
deny contains sprintf("heq2 %v", [crypto.hmac.equal("abc", "abd")])
deny contains sprintf("heq3 %v", [crypto.hmac.equal("abc", "ab")])
deny contains sprintf("flat %v", [array.flatten([1, [2, [3, [4]]], [], "x"])])
"#;

/// What `conftest_peer.py --engine opa -p . -n main in.json` printed.
const OPA: &str = "FAIL - in.json - main - flat [1, 2, [3, [4]], \"x\"]
FAIL - in.json - main - heq1 true
FAIL - in.json - main - heq2 false
FAIL - in.json - main - heq3 false
FAIL - in.json - main - hmd5 04130747afca4d79e32e87cf2104f087
FAIL - in.json - main - hsha1 b34ceac4516ff23a143e61d79d0fa7a4fbe5f266
FAIL - in.json - main - hsha256 9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b
FAIL - in.json - main - hsha512 ff06ab36757777815c008d32c8e14a705b4e7bf310351a06a23b612dc4c7433e7757d20525a5593b71020ea2ee162d2311b247e9855862b270122419652c0c92
FAIL - in.json - main - md5 5d41402abc4b2a76b9719d911017c592
FAIL - in.json - main - md5e d41d8cd98f00b204e9800998ecf8427e
FAIL - in.json - main - sha1 aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d
FAIL - in.json - main - sha256 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
FAIL - in.json - main - sha256u 1e77cb71920ad52885fab06465a5fcf2e5f98c0382aab36202689431b93b9fb3

13 tests, 0 passed, 0 warnings, 13 failures, 0 exceptions
";

#[test]
fn digests_macs_and_flatten_give_opas_results() {
    assert_as_opa(POLICY, "in.json", "{\"n\": 5}", OPA);
}

/// A wrong operand: undefined by default (conftest's non-strict built-ins), OPA's type
/// error text with `--show-builtin-errors`.
#[test]
fn operand_errors_are_opas() {
    let policy = "package main\n\nimport rego.v1\n\ndeny contains sprintf(\"bad %v\", [crypto.md5(input.n)])\n";
    let dir = common::scratch(&[("policy/p.rego", policy), ("in.json", "{\"n\": 5}")]);
    let run = common::run_at(dir.path(), &["test", "--no-color", "in.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stderr = strict_stderr(policy, "{\"n\": 5}");
    assert!(
        stderr.contains("crypto.md5: operand 1 must be string but got number"),
        "{stderr}"
    );
}

const NET_POLICY: &str = r#"package main

import rego.v1

deny contains sprintf("i1 %v", [net.cidr_intersects("192.168.0.0/16", "192.168.1.0/24")])
deny contains sprintf("i2 %v", [net.cidr_intersects("10.0.0.0/8", "192.168.1.0/24")])
deny contains sprintf("i3 %v", [net.cidr_intersects("fd1e:5bfe:8af3:9ddc::/64", "fd1e:5bfe:8af3:9ddc:1::/80")])
deny contains sprintf("m1 %v", [net.cidr_merge(["192.0.128.0/24", "192.0.129.0/24"])])
deny contains sprintf("m2 %v", [net.cidr_merge(["192.0.2.1", "192.0.2.0", "10.0.0.0/8", "10.1.0.0/16"])])
deny contains sprintf("m3 %v", [net.cidr_merge({"2001:db8::/33", "2001:db8:8000::/33", "10.0.0.0/24"})])
deny contains sprintf("m5 %v", [net.cidr_merge(["10.1.2.3", "172.16.5.4", "224.1.1.1"])])
deny contains sprintf("m6 %v", [net.cidr_merge(["192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24", "192.168.4.0/23"])])
deny contains sprintf("cm1 %v", [net.cidr_contains_matches("1.1.1.0/24", "1.1.1.128")])
deny contains sprintf("cm3 %v", [net.cidr_contains_matches([["1.1.0.0/16", "foo"], "1.1.2.0/24"], ["1.1.1.128", ["1.1.254.254", "bar"]])])
deny contains sprintf("cm4 %v", [net.cidr_contains_matches({"x": "1.1.0.0/16"}, {"a": "1.1.1.1", "b": "2.2.2.2"})])
deny contains sprintf("cm5 %v", [net.cidr_contains_matches({"1.1.0.0/16"}, {"1.1.1.1/24", "2.2.2.2"})])
deny contains sprintf("n %v", [net.lookup_ip_addr("127.0.0.1")])
"#;

/// What the OPA peer printed for `NET_POLICY`.
const NET_OPA: &str = r#"FAIL - in.json - main - cm1 {["1.1.1.0/24", "1.1.1.128"]}
FAIL - in.json - main - cm3 {[0, 0], [0, 1]}
FAIL - in.json - main - cm4 {["x", "a"]}
FAIL - in.json - main - cm5 {["1.1.0.0/16", "1.1.1.1/24"]}
FAIL - in.json - main - i1 true
FAIL - in.json - main - i2 false
FAIL - in.json - main - i3 true
FAIL - in.json - main - m1 {"192.0.128.0/23"}
FAIL - in.json - main - m2 {"10.0.0.0/8", "192.0.2.0/24"}
FAIL - in.json - main - m3 {"10.0.0.0/24", "2001:db8::/32"}
FAIL - in.json - main - m5 {"10.1.2.3/8", "172.16.5.4/16", "224.1.1.1/24"}
FAIL - in.json - main - m6 {"192.168.1.0/24", "192.168.2.0/23", "192.168.4.0/23"}
FAIL - in.json - main - n {"127.0.0.1"}

13 tests, 0 passed, 0 warnings, 13 failures, 0 exceptions
"#;

#[test]
fn cidr_builtins_give_opas_results() {
    assert_as_opa(NET_POLICY, "in.json", "{}", NET_OPA);
}

const ADD_DATE_POLICY: &str = r#"package main

import rego.v1

deny contains sprintf("a %v", [time.add_date(time.parse_rfc3339_ns("2020-01-31T10:20:30.5Z"), 0, 1, 0)])
deny contains sprintf("b %v", [time.add_date(time.parse_rfc3339_ns("2021-01-31T00:00:00Z"), 0, 1, 0)])
deny contains sprintf("c %v", [time.add_date(time.parse_rfc3339_ns("2020-02-29T00:00:00Z"), 1, 0, 0)])
deny contains sprintf("e %v", [time.add_date(time.parse_rfc3339_ns("2020-03-31T00:00:00Z"), 0, -1, 0)])
deny contains sprintf("f %v", [time.add_date(time.parse_rfc3339_ns("2020-01-15T00:00:00Z"), 0, 25, -400)])
"#;

/// What the OPA peer printed for `ADD_DATE_POLICY` (S14: Go carries an overflowing day
/// into the next month).
const ADD_DATE_OPA: &str = "FAIL - in.json - main - a 1583144430500000000
FAIL - in.json - main - b 1614729600000000000
FAIL - in.json - main - c 1614556800000000000
FAIL - in.json - main - e 1583107200000000000
FAIL - in.json - main - f 1610323200000000000

5 tests, 0 passed, 0 warnings, 5 failures, 0 exceptions
";

#[test]
fn add_date_carries_days_as_go() {
    assert_as_opa(ADD_DATE_POLICY, "in.json", "{}", ADD_DATE_OPA);
}

const JWT_POLICY: &str = r#"package main
import rego.v1
deny contains sprintf("d %v", [io.jwt.decode(input.t)])
deny contains sprintf("d5 %v", [io.jwt.decode(input.t5)])
deny contains sprintf("v1 %v", [io.jwt.verify_hs256(input.t, "secret")])
deny contains sprintf("v2 %v", [io.jwt.verify_hs256(input.t, "nope")])
deny contains sprintf("v3 %v", [io.jwt.verify_hs384(input.t, "secret")])
deny contains sprintf("v4 %v", [io.jwt.verify_hs512(input.t5, "k")])
deny contains sprintf("v5 %v", [io.jwt.verify_hs256(input.t5, "k")])
deny contains sprintf("e %v", [io.jwt.decode("e30.e30.")])
"#;

/// HS256 and HS512 tokens made with Python's hmac module.
const TOKENS: &str = r#"{"t": "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiYWxpY2UiLCAibiI6IDF9.d9eBOL9-mX2pRwKq7QOv41lsvBqXhIZsLKmjAQHQp-c", "t5": "eyJhbGciOiAiSFM1MTIifQ.eyJzdWIiOiAiYWxpY2UiLCAibiI6IDF9.SYdZbvzdHqHpbLiHLpbWPcKP1s8lv0xclmrjgByf2lUvFZ1mPmu3dxiG2giyxcuNFJGA2UcGVw1zbVujUbqN-w", "pad": "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9=.eyJzdWIiOiAiYWxpY2UiLCAibiI6IDF9.d9eBOL9-mX2pRwKq7QOv41lsvBqXhIZsLKmjAQHQp-c"}"#;

/// What the OPA peer printed for `JWT_POLICY` over `TOKENS`.
const JWT_OPA: &str = r#"FAIL - tokens.json - main - d [{"alg": "HS256", "typ": "JWT"}, {"n": 1, "sub": "alice"}, "77d78138bf7e997da94702aaed03afe3596cbc1a9784866c2ca9a30101d0a7e7"]
FAIL - tokens.json - main - d5 [{"alg": "HS512"}, {"n": 1, "sub": "alice"}, "4987596efcdd1ea1e96cb8872e96d63dc28fd6cf25bf4c5c966ae3801c9fda552f159d663e6bb7771886da08b2c5cb8d149180d94706570d736d5ba351ba8dfb"]
FAIL - tokens.json - main - e [{}, {}, ""]
FAIL - tokens.json - main - v1 true
FAIL - tokens.json - main - v2 false
FAIL - tokens.json - main - v3 false
FAIL - tokens.json - main - v4 true
FAIL - tokens.json - main - v5 false

8 tests, 0 passed, 0 warnings, 8 failures, 0 exceptions
"#;

#[test]
fn jwt_decode_and_hmac_verify_give_opas_results() {
    assert_as_opa(JWT_POLICY, "tokens.json", TOKENS, JWT_OPA);
}

/// Signing and verifying with RSA (PKCS #1 v1.5 and PSS), ECDSA on P-256/384/521, Ed25519
/// and HMAC keys given as PEM certificates, PEM public keys, JWKs and JWK sets, and
/// `decode_verify`'s constraints. `keys.json` holds test-only keys made with openssl and
/// tokens OPA signed with them (ECDSA and PSS signatures are random, so OPA's are checked
/// here); RSA PKCS #1 v1.5, Ed25519 and HMAC signatures are deterministic, so the tokens
/// regorun signs are OPA's byte for byte.
#[test]
fn jwt_signing_and_key_verification_give_opas_results() {
    assert_as_opa(
        include_str!("fixtures/jwt/policy.rego"),
        "keys.json",
        include_str!("fixtures/jwt/keys.json"),
        include_str!("fixtures/jwt/opa.out"),
    );
}

/// OPA's error texts (from the OPA peer) with `--show-builtin-errors`; without it the call
/// is undefined and the rule does not fire. Errors that quote the Go JWK library's own
/// wording are left out: regorun names the fault in its own words there.
#[test]
fn jwt_errors_are_opas() {
    let cases = [
        (
            r#"io.jwt.decode("eyJlbmMiOiJ4In0.e30.")"#,
            "io.jwt.decode: JWT is a JWE object, which is not supported",
        ),
        (
            r#"io.jwt.encode_sign({"alg": "none"}, {}, input.jwk.oct)"#,
            "io.jwt.encode_sign: unknown JWS algorithm: none",
        ),
        (
            r#"io.jwt.verify_rs256("e30.e30.", "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n")"#,
            "io.jwt.verify_rs256: failed to extract a Key from the PEM certificate",
        ),
        (
            r#"io.jwt.verify_rs256("e30.e30.", concat("\n", [input.pem.rsa, "x"]))"#,
            "io.jwt.verify_rs256: extra data after a PEM certificate block",
        ),
        (
            r#"io.jwt.decode_verify("e30.e30.", {"secret": "s", "cert": input.pem.rsa})"#,
            "io.jwt.decode_verify: duplicate key constraints",
        ),
        (
            r#"io.jwt.decode_verify("e30.e30.", {"foo": 1})"#,
            "io.jwt.decode_verify: unknown token validation constraint: foo",
        ),
        (
            r#"io.jwt.decode_verify("e30.e30.", {})"#,
            "io.jwt.decode_verify: no key constraint",
        ),
        (
            r#"io.jwt.decode_verify("e30.e30.", {"secret": "s", "time": "x"})"#,
            "io.jwt.decode_verify: token time constraint: must be a number",
        ),
        (
            r#"io.jwt.decode_verify(io.jwt.encode_sign({"alg": "HS256"}, {"exp": "soon"}, input.jwk.oct), {"secret": "secret"})"#,
            "io.jwt.decode_verify: exp value must be a number",
        ),
        (
            r#"io.jwt.encode_sign_raw(`{"alg":"HS256"}`, `not json`, json.marshal(input.jwk.oct))"#,
            "io.jwt.encode_sign_raw: type is JWT but payload is not JSON",
        ),
        (
            r#"io.jwt.encode_sign_raw(`{}`, `{}`, json.marshal(input.jwk.oct))"#,
            r#"io.jwt.encode_sign_raw: missing or invalid 'alg' header: jwsbb: header "alg" not found"#,
        ),
        (
            r#"io.jwt.encode_sign_raw(` `, `{}`, json.marshal(input.jwk.oct))"#,
            r#"io.jwt.encode_sign_raw: missing or invalid 'alg' header: cannot parse JSON: cannot parse empty string; unparsed tail: """#,
        ),
        (
            r#"io.jwt.encode_sign_raw(`{"alg":1}`, `{}`, json.marshal(input.jwk.oct))"#,
            "io.jwt.encode_sign_raw: missing or invalid 'alg' header: value doesn't contain string; it contains number",
        ),
        (
            r#"io.jwt.encode_sign({"alg": "HS999"}, {}, input.jwk.oct)"#,
            "io.jwt.encode_sign: unknown JWS algorithm: HS999",
        ),
    ];
    for (expr, error) in cases {
        let policy =
            format!("package main\n\nimport rego.v1\n\ndeny contains sprintf(\"%v\", [{expr}])\n");
        let dir = common::scratch(&[
            ("policy/p.rego", policy.as_str()),
            ("keys.json", include_str!("fixtures/jwt/keys.json")),
        ]);
        let run = common::run_at(dir.path(), &["test", "--no-color", "keys.json"]);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{expr}");
        let run = common::run_at(
            dir.path(),
            &["test", "--no-color", "--show-builtin-errors", "keys.json"],
        );
        assert_eq!(run.code, 1, "{expr}");
        assert!(
            run.stderr
                .contains(&format!("p.rego:5: eval_builtin_error: {error}")),
            "{expr}: {}",
            run.stderr
        );
    }
}

/// `regex.globs_match` on 300 random pairs of globs over sets, dots, escapes, `*` and `+`
/// (77 intersect): every answer is the one OPA gave, its greedy misses included.
#[test]
fn globs_match_gives_opas_answers() {
    assert_as_opa(
        include_str!("fixtures/globs/policy.rego"),
        "pairs.json",
        include_str!("fixtures/globs/pairs.json"),
        include_str!("fixtures/globs/opa.out"),
    );
}

/// `rego.metadata.rule()` and `rego.metadata.chain()` over `# METADATA` blocks of every
/// scope (rule, document, package, subpackages from another file, a package below), with
/// authors, related resources, schemas, `entrypoint`, custom values of several YAML types
/// and a key OPA drops; a function's call gives the function's (empty) annotations. Both
/// evaluation paths print what the OPA peer printed.
#[test]
fn metadata_rule_and_chain_give_opas_values() {
    let dir = common::scratch(&[
        (
            "policy/main.rego",
            include_str!("fixtures/metadata/policy/main.rego"),
        ),
        (
            "policy/all.rego",
            include_str!("fixtures/metadata/policy/all.rego"),
        ),
        (
            "policy/sub/b.rego",
            include_str!("fixtures/metadata/policy/sub/b.rego"),
        ),
        ("in.json", "{}"),
    ]);
    for rvm in ["1", "0"] {
        let run = common::run_with(
            dir.path().to_str().unwrap(),
            &["test", "--no-color", "in.json"],
            &[("REGORUN_RVM", rvm)],
            None,
        );
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (1, include_str!("fixtures/metadata/opa.out")),
            "{}",
            run.stderr
        );
    }
}

/// `crypto.x509.parse_certificates` on RSA, P-256 and Ed25519 certificates (test-only, made
/// with openssl), one with SANs of every kind, key usages, known and unknown extended key
/// usages, path length 0, policies, CRL, AIA and name constraints; PEM, base64 of DER (two
/// concatenated) and base64 of PEM: every field as Go's `x509.Certificate` marshals it,
/// big integers exact, byte for byte as the OPA peer printed it.
#[test]
fn x509_parse_certificates_gives_opas_values() {
    assert_as_opa(
        include_str!("fixtures/x509/policy.rego"),
        "certs.json",
        include_str!("fixtures/x509/certs.json"),
        include_str!("fixtures/x509/opa.out"),
    );
}

/// OPA's error texts for certificates, with `--show-builtin-errors`.
#[test]
fn x509_errors_are_opas() {
    for (expr, error) in [
        (
            "crypto.x509.parse_certificates(input.pem.rsa)",
            "PEM block type is 'PUBLIC KEY', expected CERTIFICATE",
        ),
        (
            "crypto.x509.parse_certificates(\"!!notb64\")",
            "illegal base64 data at input byte 0",
        ),
        (
            "crypto.x509.parse_certificates(\"aGVsbG8=\")",
            "x509: malformed certificate",
        ),
    ] {
        let policy =
            format!("package main\n\nimport rego.v1\n\ndeny contains sprintf(\"%v\", [{expr}])\n");
        let dir = common::scratch(&[
            ("policy/p.rego", policy.as_str()),
            ("certs.json", include_str!("fixtures/x509/certs.json")),
        ]);
        let run = common::run_at(
            dir.path(),
            &["test", "--no-color", "--show-builtin-errors", "certs.json"],
        );
        assert_eq!(run.code, 1, "{expr}");
        assert!(
            run.stderr.contains(&format!(
                "p.rego:5: eval_builtin_error: crypto.x509.parse_certificates: {error}"
            )),
            "{expr}: {}",
            run.stderr
        );
    }
}

/// `crypto.x509.parse_and_verify_certificates[_with_options]` on a test-only chain (P-384
/// root, P-256 intermediate with path length 0, RSA and Ed25519 leaves): valid chains, wrong
/// order, a missing intermediate, a foreign root, an intermediate that is not a CA, extended
/// key usages by default and by option, DNS names with wildcards and IP addresses, and
/// times before, within and after validity. Every answer is OPA's.
#[test]
fn x509_chain_verification_gives_opas_answers() {
    assert_as_opa(
        include_str!("fixtures/x509/chain.rego"),
        "chain.json",
        include_str!("fixtures/x509/chain.json"),
        include_str!("fixtures/x509/chain.opa.out"),
    );
}

/// OPA's error texts for verification options, with `--show-builtin-errors`.
#[test]
fn x509_option_errors_are_opas() {
    for (options, error) in [
        (r#"{"Foo": 1}"#, "invalid key option"),
        (r#"{"DNSName": 1}"#, "'DNSName' should be a string"),
        (
            r#"{"KeyUsages": ["KeyUsageServerAuth", "Nope", "Bad"]}"#,
            "invalid entries for 'KeyUsages' found: [Nope Bad]",
        ),
        (
            r#"{"KeyUsages": "x"}"#,
            "'KeyUsages' should be an Array or Set",
        ),
        (
            r#"{"CurrentTime": "x"}"#,
            "'CurrentTime' should be a number",
        ),
        (
            r#"{"CurrentTime": 1.5}"#,
            "'CurrentTime' should be a valid int64 number",
        ),
    ] {
        let policy = format!("package main\n\nimport rego.v1\n\ndeny contains sprintf(\"%v\", [crypto.x509.parse_and_verify_certificates_with_options(concat(\"\", [input.root, input.leaf]), {options})])\n");
        let dir = common::scratch(&[
            ("policy/p.rego", policy.as_str()),
            ("chain.json", include_str!("fixtures/x509/chain.json")),
        ]);
        let run = common::run_at(
            dir.path(),
            &["test", "--no-color", "--show-builtin-errors", "chain.json"],
        );
        assert_eq!(run.code, 1, "{options}");
        let want =
            format!("p.rego:5: eval_builtin_error: crypto.x509.parse_and_verify_certificates_with_options: {error}");
        assert!(run.stderr.contains(&want), "{options}: {}", run.stderr);
    }
}

/// `crypto.x509.parse_certificate_request` (RSA, P-256 with SANs of every kind, Ed25519;
/// PEM and base64), `crypto.x509.parse_rsa_private_key` (PKCS #1, PKCS #8, SEC 1, base64, no
/// key) and `crypto.parse_private_keys` (RSA, EC and Ed25519 keys in one text, base64, empty,
/// no key): Go's structures and JWKs as the OPA peer printed them, from test-only keys.
#[test]
fn x509_requests_and_private_keys_give_opas_values() {
    assert_as_opa(
        include_str!("fixtures/x509/keys.rego"),
        "keys.json",
        include_str!("fixtures/x509/keys.json"),
        include_str!("fixtures/x509/keys.opa.out"),
    );
}

/// `crypto.x509.parse_keypair` from PEM, base64 of DER and base64 of PEM, a chain and an
/// Ed25519 pair: Go's `tls.Certificate` as the OPA peer printed it; a key that does not fit
/// the certificate is OPA's error.
#[test]
fn x509_keypair_gives_opas_values() {
    assert_as_opa(
        include_str!("fixtures/x509/keypair.rego"),
        "keypair.json",
        include_str!("fixtures/x509/keypair.json"),
        include_str!("fixtures/x509/keypair.opa.out"),
    );
    for (args, error) in [
        (
            "input.leaf, input.ec_pkcs8",
            "tls: private key type does not match public key type",
        ),
        (
            "input.root, input.ec_pkcs8",
            "tls: private key does not match public key",
        ),
        (
            "\"abcde\", input.ec_pkcs8",
            "illegal base64 data at input byte 4",
        ),
    ] {
        let policy = format!("package main\n\nimport rego.v1\n\ndeny contains sprintf(\"%v\", [crypto.x509.parse_keypair({args})])\n");
        let dir = common::scratch(&[
            ("policy/p.rego", policy.as_str()),
            ("keypair.json", include_str!("fixtures/x509/keypair.json")),
        ]);
        let run = common::run_at(
            dir.path(),
            &[
                "test",
                "--no-color",
                "--show-builtin-errors",
                "keypair.json",
            ],
        );
        let want = format!("p.rego:5: eval_builtin_error: crypto.x509.parse_keypair: {error}");
        assert!(run.stderr.contains(&want), "{args}: {}", run.stderr);
    }
}

/// `sprintf` with Go's verbs, flags, widths and precisions (`%f`, `%e`, `%g`, `%x` on
/// floats and strings, `%q`, `%c`, `%t`), wrong-type verbs printed under the verb's flags
/// (`%!f(int64=01    )`), missing and extra values, and `set()`: both evaluation paths
/// print what the OPA peer printed (regorus gave no message for widths, so the rule
/// vanished).
#[test]
fn sprintf_formats_as_go() {
    assert_as_opa(
        include_str!("fixtures/sprintf/policy.rego"),
        "in.json",
        "{\"name\": \"x\", \"n\": 2.5}",
        include_str!("fixtures/sprintf/opa.out"),
    );
}

/// `with <built-in> as <mock>` for built-ins regorun adds (S10): a function mock, a value
/// mock, a mock seen by a rule the test reads, two mocks on one expression, no mock, and
/// a mock of `io.jwt.decode` called in the test itself. Each deny rule fires exactly when
/// its test passes: the OPA peer printed these, and `verify` passes all six.
#[test]
fn builtins_regorun_adds_can_be_mocked() {
    let policy = include_str!("fixtures/mocks/policy.rego");
    assert_as_opa(
        policy,
        "in.json",
        "{}",
        include_str!("fixtures/mocks/opa.out"),
    );
    let dir = common::scratch(&[("policy/p.rego", policy)]);
    let run = common::run_at(dir.path(), &["verify", "--no-color"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (
            0,
            "\n6 tests, 6 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n"
        ),
        "{}",
        run.stderr
    );
}

/// `strings.render_template`: fields, variables, `range` over arrays and maps (with and
/// without `$i, $v`), `if`/`else if`/`else`, `with`, trimming, comments, pipelines,
/// `printf`/`print`/`println`, comparisons and `len`/`index`, with the data's numbers as
/// Go's `json.Number`, nil printed as OPA prints it, and a missing key as OPA 1.20's
/// `<undefined>` (nil to `eq`, `printf`, `if`, `range`): both paths as the OPA peer.
#[test]
fn render_template_gives_opas_text() {
    assert_as_opa(
        include_str!("fixtures/template/policy.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/template/opa.out"),
    );
}

/// `providers.aws.sign_req`: SigV4 signatures of GET, POST (JSON body, session token, port,
/// ignored headers) and PUT (raw body, `disable_payload_signing` for S3) requests, paths
/// with spaces, parentheses and escapes: the signed request objects are the OPA peer's,
/// byte for byte (the signing is deterministic for a given time), with OPA's errors.
#[test]
fn aws_sign_req_gives_opas_signatures() {
    assert_as_opa(
        include_str!("fixtures/aws/policy.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/aws/opa.out"),
    );
    let policy = "package main\n\nimport rego.v1\n\ndeny contains sprintf(\"%v\", [providers.aws.sign_req({\"method\": \"GET\", \"url\": \"https://h\"}, {\"aws_service\": \"s3\"}, 1)])\n";
    let dir = common::scratch(&[("policy/p.rego", policy), ("in.json", "{}")]);
    let run = common::run_at(
        dir.path(),
        &["test", "--no-color", "--show-builtin-errors", "in.json"],
    );
    assert!(run.stderr.contains("providers.aws.sign_req: operand 2 missing required AWS config parameters(s): {\"aws_access_key\", \"aws_region\", \"aws_secret_access_key\"}"), "{}", run.stderr);
}

/// `json.filter` and `json.remove` read a string path as OPA does, as a JSON pointer: leading
/// `/`s dropped, `~1` and `~0` unescaped (regorus split it as written, so `"a~1b"` missed the
/// key `a/b` and `"/a/f"` matched nothing); array paths are taken as they are: both paths as
/// the OPA peer.
#[test]
fn json_paths_are_pointers_as_in_opa() {
    assert_as_opa(
        include_str!("fixtures/values/paths.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/values/paths.opa.out"),
    );
}

/// Arithmetic on a value that is not a number, `%` of a fraction and division by zero are
/// built-in errors in OPA (the peer, which is strict, names each: `mul: operand 1 must be
/// number but got string`, `rem: modulo on floating-point number`, `div: divide by zero`),
/// so without `--show-builtin-errors` the expression is undefined: rules 04, 05, 09's first
/// branch and 10 give nothing and `not input.a + 1` holds, on both evaluation paths (regorus's
/// interpreter stopped the run). The other values are the peer's; with the flag the run stops
/// with the error at its line.
#[test]
fn arithmetic_errors_are_undefined_as_in_opa() {
    assert_as_opa(
        include_str!("fixtures/arith/policy.rego"),
        "in.json",
        include_str!("fixtures/arith/in.json"),
        include_str!("fixtures/arith/expected.out"),
    );
    let stderr = strict_stderr(
        include_str!("fixtures/arith/policy.rego"),
        include_str!("fixtures/arith/in.json"),
    );
    assert!(
        stderr
            .ends_with("p.rego:8: eval_type_error: mul: operand 1 must be number but got string\n"),
        "{stderr}"
    );
}

/// `time.format` is Go's `Time.Format`: zone abbreviations for `MST` (`EST`, `IST`, `BST`,
/// tzdata's `-03`), the `-07`/`Z07`/`Z0700`/`-07:00:00` offsets, Go's named layouts
/// (`RFC1123`, `UnixDate`, `RFC822`, `RFC850`), `Jan`/`Mon` only before a non-lowercase letter,
/// a lone `5` without the fraction, `,999` fractions; regorus printed `-05:00`, nothing,
/// `Nove` and `20.123456789`. Both paths as the OPA peer.
#[test]
fn time_format_is_gos() {
    assert_as_opa(
        include_str!("fixtures/time/format.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/time/format.opa.out"),
    );
}

/// `time.parse_rfc3339_ns` reads what Go's `time.Parse(time.RFC3339, ...)` reads: a space
/// or `t` for the `T`, a lowercase `z`, a 60th second, a zone without its colon, Feb 29 of a
/// common year and a missing zone are no value (regorus read the first four). Which texts
/// are valid, and their values, are the OPA peer's (each text asked alone); with
/// `--show-builtin-errors` the first malformed one stops the run with Go's error at the
/// call's line, the peer's text.
#[test]
fn rfc3339_times_are_read_as_go() {
    assert_as_opa(
        include_str!("fixtures/time/rfc3339.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/time/rfc3339.out"),
    );
    let stderr = strict_stderr(include_str!("fixtures/time/rfc3339.rego"), "{}");
    assert!(stderr.ends_with("p.rego:19: eval_builtin_error: time.parse_rfc3339_ns: parsing time \"2023-11-14 22:13:20Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \" 22:13:20Z\" as \"T\"\n"), "{stderr}");
}

/// `urlquery.decode` and `decode_object` refuse a malformed `%` escape (and a `;`), and
/// `indexof`/`indexof_n` an empty search string, as OPA's do (regorus gave the text back, a
/// value, 0 and every index): no value without `--show-builtin-errors` on both paths (the
/// peer, strict, errs on each), with it OPA's error at the call's line (the peer's text).
#[test]
fn malformed_arguments_are_no_value_as_in_opa() {
    assert_as_opa(
        include_str!("fixtures/values/guarded.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/values/guarded.out"),
    );
    let stderr = strict_stderr(include_str!("fixtures/values/guarded.rego"), "{}");
    assert!(
        stderr.ends_with(
            "p.rego:6: eval_builtin_error: urlquery.decode: invalid URL escape \"%zz\"\n"
        ),
        "{stderr}"
    );
}

/// 500 random `sprintf` formats over flags, widths, precisions, `*`, `[n]` indexes and
/// verbs (made by a seeded generator, kept as data): every output is the OPA peer's, the
/// bad-verb, `BADINDEX`, `BADWIDTH`, `NOVERB`, `MISSING` and `EXTRA` texts included.
#[test]
fn sprintf_random_formats_as_go() {
    assert_as_opa(
        include_str!("fixtures/sprintf/fuzz/policy.rego"),
        "formats.json",
        include_str!("fixtures/sprintf/fuzz/formats.json"),
        include_str!("fixtures/sprintf/fuzz/opa.out"),
    );
}

/// `json.is_valid` and `yaml.is_valid` of a non-string are false in OPA (regorus gave no
/// value, so `not json.is_valid(x)` rules fired and others vanished), and a YAML text of
/// several valid documents is valid (regorus refused any second document); a negated call in a
/// one-expression `if` body with a missing argument is undefined (S1).
#[test]
fn is_valid_of_non_strings_is_false() {
    let policy = r#"package main

import rego.v1

deny contains sprintf("json %v %v %v %v", [json.is_valid(input.n), json.is_valid(input.s), json.is_valid(input.o), json.is_valid("{")])
deny contains sprintf("yaml %v %v %v", [yaml.is_valid(input.n), yaml.is_valid(input.s), yaml.is_valid(input.a)])
deny contains sprintf("yaml documents %v", [yaml.is_valid(input.docs)])
deny contains "not json" if not json.is_valid(input.n)
deny contains "missing" if not json.is_valid(input.missing)
deny contains "missing in body" if {
	not yaml.is_valid(input.o.missing)
}
deny contains "not a label" if not startswith(input.missing, "a")
"#;
    // What `conftest_peer.py --engine opa -p p -n main in.json` printed.
    let opa = "FAIL - in.json - main - json false true false false
FAIL - in.json - main - not json
FAIL - in.json - main - yaml documents true
FAIL - in.json - main - yaml false true false

7 tests, 3 passed, 0 warnings, 4 failures, 0 exceptions
";
    let input = r#"{"n": 1, "s": "{}", "o": {"k": 1}, "a": [1], "docs": "a: 1\n---\nb: 2\n"}"#;
    assert_as_opa(policy, "in.json", input, opa);
}

/// `json.match_schema`: `[true, []]`, or `[false, errors]` with gojsonschema's error objects
/// (type, field, description) for every keyword, nested places, combinators with the
/// errors of their closest branch, and JSON-text operands, as the OPA peer gives them
/// (regorus gave `[false, "<message>"]`, so policies iterating the errors saw none).
#[test]
fn match_schema_gives_opas_errors() {
    assert_as_opa(
        include_str!("fixtures/schema/policy.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/schema/opa.out"),
    );
}

/// `json.verify_schema` answers `[false, "jsonschema: <message>"]` for every fault OPA's
/// gojsonschema finds in a schema, with its words and in its order of checks (regorus's
/// failed, so `[ok, _] := json.verify_schema(s); not ok` never fired); `json.match_schema`
/// fails with the same message. Both as the OPA peer gives them.
#[test]
fn schema_faults_are_opas() {
    assert_as_opa(
        include_str!("fixtures/schema/verify.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/schema/verify.opa.out"),
    );
    let policy =
        "package main\n\ndeny contains \"x\" if json.match_schema({}, {\"type\": \"objectx\"})\n";
    let stderr = strict_stderr(policy, "{}");
    let want = "policy/p.rego:3: eval_builtin_error: json.match_schema: has a primitive type that is NOT VALID -- given: /objectx/ Expected valid values are:[array boolean integer number null object string]";
    assert!(stderr.contains(want), "{stderr}");
}

/// Values regorus gave differently from OPA, now OPA's on both paths: `json.marshal`'s
/// HTML-safe escapes (Go's `encoding/json`), `semver` with a `v` prefix and leading zeros,
/// `glob.quote_meta`'s full set, `uuid.parse`'s "Reserved" variant, `yaml.unmarshal` with
/// YAML 1.1 booleans and octal numbers and only its first document, `floor` and `ceil` of
/// numbers between -1 and 0 (OPA gives 0 and 1); `opa.out` is the OPA peer's output.
#[test]
fn builtin_values_are_opas() {
    assert_as_opa(
        include_str!("fixtures/values/policy.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/values/opa.out"),
    );
}

/// `%s` given a number prints Go's `%!s(int64=80)` as OPA does (regorus printed `80`), and
/// `%d` prints negative numbers once signed (regorus printed `--4`) and other types in
/// Go's words, on both paths, for one-line and multi-line calls with a trailing comma. The
/// expected text is the OPA peer's output.
#[test]
fn string_verbs_of_numbers_print_as_opa() {
    let policy = r#"package main

deny contains sprintf("port %s of %s", [input.port, input.name])
deny contains sprintf("ratio %s", [input.r])
deny contains sprintf("list %s", [[input.port]])
deny contains msg if {
	msg := sprintf(
		"multi %s %d",
		[input.port, input.port],
	)
}
deny contains sprintf("digits %d %d %d %d", [input.n, input.name, input.r, input.port])
deny contains sprintf("neg %s", [input.n])
"#;
    let opa = "FAIL - in.json - main - digits -4 %!d(string=web) %!d(float64=0.5) 80
FAIL - in.json - main - list [80]
FAIL - in.json - main - multi %!s(int64=80) 80
FAIL - in.json - main - neg %!s(int64=-4)
FAIL - in.json - main - port %!s(int64=80) of web
FAIL - in.json - main - ratio %!s(float64=0.5)

6 tests, 0 passed, 0 warnings, 6 failures, 0 exceptions
";
    let input = r#"{"port": 80, "name": "web", "r": 0.5, "n": -4}"#;
    assert_as_opa(policy, "in.json", input, opa);
}

/// A small HTTP/1.1 server on a free local port for `http.send`: the answers the OPA
/// peer's output in `fixtures/http/opa.out` was recorded against. Returns its base URL.
fn serve_http() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or_default().to_string();
                    let path = parts.next().unwrap_or_default().to_string();
                    let mut headers = std::collections::HashMap::new();
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                        }
                    }
                    let n: usize = headers
                        .get("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; n];
                    reader.read_exact(&mut body).unwrap();
                    let header = |k: &str| headers.get(k).cloned().unwrap_or("None".into());
                    let (status, ctype, text, extra): (&str, &str, String, &[(&str, &str)]) =
                        match path.as_str() {
                            "/json" => (
                                "200 OK",
                                "application/json",
                                r#"{"a": [1, 2], "b": {"c": null}}"#.into(),
                                &[("X-Multi", "1"), ("X-Multi", "2")],
                            ),
                            "/yaml" => (
                                "200 OK",
                                "application/yaml",
                                "a: 1\nb: [x, y]\n".into(),
                                &[],
                            ),
                            "/text" => ("200 OK", "text/plain", r#"plain {"a":1}"#.into(), &[]),
                            "/redirect" => (
                                "302 Found",
                                "text/plain",
                                "moved".into(),
                                &[("Location", "/json")],
                            ),
                            "/missing" => (
                                "404 Not Found",
                                "application/json",
                                r#"{"e": "tea"}"#.into(),
                                &[],
                            ),
                            _ => (
                                "200 OK",
                                "text/plain",
                                format!(
                                    "{method} {path} x-test={} ct={} body={}",
                                    header("x-test"),
                                    header("content-type"),
                                    String::from_utf8_lossy(&body)
                                ),
                                &[],
                            ),
                        };
                    let mut reply = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n",
                        text.len()
                    );
                    for (k, v) in extra {
                        reply.push_str(&format!("{k}: {v}\r\n"));
                    }
                    reply.push_str("\r\n");
                    reply.push_str(&text);
                    if stream.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    base
}

/// `http.send` (regorus's is always undefined, so such rules silently passed): response
/// objects with decoded JSON and YAML bodies, headers as lists, redirects only when
/// enabled, JSON request bodies as Go marshals them, raw bodies, header names made
/// canonical, and `raise_error: false` error objects, as the OPA peer gives them for the
/// same server.
#[test]
fn http_send_gives_opas_responses() {
    let base = serve_http();
    assert_as_opa(
        include_str!("fixtures/http/policy.rego"),
        "in.json",
        &format!(r#"{{"base": "{base}"}}"#),
        include_str!("fixtures/http/opa.out"),
    );
}

/// S10: a built-in named as a mock (`with count as object.union_n`, `with f as count`,
/// with an output argument, nested) gives OPA's values; regorus rejected the name as "use of
/// undefined variable `count` is unsafe".
#[test]
fn builtins_as_mock_values_give_opas_results() {
    assert_as_opa(
        include_str!("fixtures/builtin_mocks/policy.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/builtin_mocks/opa.out"),
    );
}

/// The regex built-ins read patterns as Go does: ASCII `\d`, `\w`, `\s`, `\b`; Go's
/// `\Q...\E`, literal braces and brackets, octal escapes; Go's validity (repeat counts,
/// nested repeats, Perl syntax); Go's splits and replacements at empty matches; and
/// patterns over regorus's 100 KiB compiled-size limit (a 20,000-word alternation from the
/// input), which regorus refused with an error.
#[test]
fn regex_builtins_read_patterns_as_go() {
    let words: Vec<String> = (0..20_000).map(|i| format!("word{i:05}")).collect();
    let input = serde_json::json!({
        "digits": "^\\d+$",
        "big": format!("^({})$", words.join("|")),
    });
    assert_as_opa(
        include_str!("fixtures/regex/policy.rego"),
        "in.json",
        &input.to_string(),
        include_str!("fixtures/regex/opa.out"),
    );
}

/// An invalid pattern: undefined by default, Go's parse error (OPA's text) with
/// `--show-builtin-errors`; `re_match` under v0 is the same built-in.
#[test]
fn regex_errors_are_gos() {
    let policy = "package main\n\ndeny[msg] {\n  re_match(input.p, \"a\")\n  msg := \"matched\"\n}\n\ndeny[msg] {\n  regex.match(input.p, \"a\")\n  msg := \"also\"\n}\n";
    let dir = common::scratch(&[
        ("policy/p.rego", policy),
        ("in.json", r#"{"p": "a{1001}"}"#),
        ("ok.json", r#"{"p": "^\\x{61}$"}"#),
    ]);
    let v0 = ["--rego-version", "v0"];
    let run = common::run_at(
        dir.path(),
        &[&["test", "--no-color", "in.json"], &v0[..]].concat(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = common::run_at(
        dir.path(),
        &[
            &["test", "--no-color", "--show-builtin-errors", "in.json"],
            &v0[..],
        ]
        .concat(),
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("error parsing regexp: invalid repeat count: `{1001}`"),
        "{}",
        run.stderr
    );
    let run = common::run_at(
        dir.path(),
        &[&["test", "--no-color", "ok.json"], &v0[..]].concat(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("2 failures"), "{}", run.stdout);
}

/// `opa.runtime()` is conftest's: the environment under `env`, OPA's version and an empty
/// commit, on both evaluation paths (regorus's own has no `env` and names itself).
#[test]
fn opa_runtime_gives_conftests_object() {
    let policy = r#"package main

import rego.v1

deny contains sprintf("keys %v", [object.keys(opa.runtime())])
deny contains sprintf("env %s", [opa.runtime().env.REGORUN_RUNTIME_T])
deny contains sprintf("version %s commit %q", [opa.runtime().version, opa.runtime().commit])
deny contains "no home" if not opa.runtime().env.REGORUN_NOT_SET
"#;
    let dir = common::scratch(&[("policy/p.rego", policy), ("in.json", "{}")]);
    for rvm in ["1", "0"] {
        let run = common::run_with(
            dir.path().to_str().unwrap(),
            &["test", "--no-color", "in.json"],
            &[("REGORUN_RVM", rvm), ("REGORUN_RUNTIME_T", "a=b c")],
            None,
        );
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (
                1,
                "FAIL - in.json - main - env a=b c
FAIL - in.json - main - keys {\"commit\", \"env\", \"version\"}
FAIL - in.json - main - no home
FAIL - in.json - main - version 1.19.0 commit \"\"

4 tests, 0 passed, 0 warnings, 4 failures, 0 exceptions
"
            ),
            "{}",
            run.stderr
        );
    }
}

/// `strings.split_n` (OPA 1.19+): the first `n` pieces, the last `-n` for a negative `n`,
/// characters for an empty delimiter; both paths as the OPA peer printed them.
#[test]
fn split_n_gives_opas_pieces() {
    let policy = r#"package main

deny contains sprintf("%v", [strings.split_n("a.b.c.d", ".", 2)])
deny contains sprintf("%v", [strings.split_n("a.b.c.d", ".", -2)])
deny contains sprintf("e %v", [strings.split_n("abc", "", -2)])
deny contains sprintf("e2 %v", [strings.split_n("abc", "", 2)])
deny contains sprintf("z %v", [strings.split_n("abc", ".", 0)])
deny contains sprintf("u %v", [strings.split_n("ä.ö.ü", "", -2)])
"#;
    assert_as_opa(
        policy,
        "in.json",
        "{}",
        r#"FAIL - in.json - main - ["a", "b"]
FAIL - in.json - main - ["c", "d"]
FAIL - in.json - main - e ["b", "c"]
FAIL - in.json - main - e2 ["a", "b"]
FAIL - in.json - main - u [".", "ü"]
FAIL - in.json - main - z []

6 tests, 0 passed, 0 warnings, 6 failures, 0 exceptions
"#,
    );
}

/// `graphql.is_valid` and `graphql.schema_is_valid` on both paths, as the OPA peer printed
/// them: fields, arguments, variables, fragments (unused ones are invalid), syntax errors, an
/// invalid schema, and schemas without a query root (valid in OPA).
#[test]
fn graphql_validity_gives_opas_answers() {
    let policy = r#"package main

schema := `type Query { user(id: ID!): User } type User { id: ID! name: String }`
deny contains sprintf("valid %v", [graphql.is_valid(`{ user(id: "1") { name } }`, schema)])
deny contains sprintf("badfield %v", [graphql.is_valid(`{ user(id: "1") { nope } }`, schema)])
deny contains sprintf("noarg %v", [graphql.is_valid(`{ user { name } }`, schema)])
deny contains sprintf("syntax %v", [graphql.is_valid(`{ user(`, schema)])
deny contains sprintf("vars %v", [graphql.is_valid(`query Q($id: ID!) { user(id: $id) { id name } }`, schema)])
deny contains sprintf("unusedvar %v", [graphql.is_valid(`query Q($id: ID!) { user(id: "2") { id } }`, schema)])
deny contains sprintf("frag %v", [graphql.is_valid(`{ user(id: "1") { ...F } } fragment F on User { name }`, schema)])
deny contains sprintf("unusedfrag %v", [graphql.is_valid(`{ user(id: "1") { id } } fragment F on User { name }`, schema)])
deny contains sprintf("badschema %v", [graphql.is_valid(`{ a }`, `type Query { a: Nope }`)])
deny contains sprintf("schema ok %v", [graphql.schema_is_valid(schema)])
deny contains sprintf("schema noquery %v", [graphql.schema_is_valid(`type Foo { a: Int }`)])
deny contains sprintf("schema bad %v", [graphql.schema_is_valid(`type Query { a: Nope }`)])
deny contains sprintf("schema syntax %v", [graphql.schema_is_valid(`type Query {`)])
deny contains sprintf("schema dup %v", [graphql.schema_is_valid(`type Query { a: Int } type Query { b: Int }`)])
deny contains sprintf("schema iface %v", [graphql.schema_is_valid(`interface N { id: ID! } type Query implements N { a: Int }`)])
deny contains sprintf("schema empty %v", [graphql.schema_is_valid(``)])
deny contains sprintf("schema def %v", [graphql.schema_is_valid(`schema { query: Q } type Q { a: Int }`)])
"#;
    assert_as_opa(
        policy,
        "in.json",
        "{}",
        r#"FAIL - in.json - main - badfield false
FAIL - in.json - main - badschema false
FAIL - in.json - main - frag true
FAIL - in.json - main - noarg false
FAIL - in.json - main - schema bad false
FAIL - in.json - main - schema def true
FAIL - in.json - main - schema dup false
FAIL - in.json - main - schema empty true
FAIL - in.json - main - schema iface false
FAIL - in.json - main - schema noquery true
FAIL - in.json - main - schema ok true
FAIL - in.json - main - schema syntax false
FAIL - in.json - main - syntax false
FAIL - in.json - main - unusedfrag false
FAIL - in.json - main - unusedvar false
FAIL - in.json - main - valid true
FAIL - in.json - main - vars true

17 tests, 0 passed, 0 warnings, 17 failures, 0 exceptions
"#,
    );
}

/// `graphql.parse_query`, `parse_schema`, `parse` and `parse_and_verify` give OPA's syntax
/// trees on both paths: every kind of definition, value and type, descriptions (block
/// strings dedented), `#` comments where gqlparser keeps them (not before a `{ ... }`
/// shorthand: Go reads that comment after parsing its selection set), AST objects in place
/// of text, a failed validation; `opa.out` is the OPA peer's output.
#[test]
fn graphql_syntax_trees_are_opas() {
    assert_as_opa(
        include_str!("fixtures/graphql/policy.rego"),
        "in.json",
        "{}",
        include_str!("fixtures/graphql/opa.out"),
    );
}

/// Syntax errors stop the run with OPA's text and position (with `--show-builtin-errors`;
/// without it the call is undefined, as in OPA).
#[test]
fn graphql_syntax_errors_are_opas() {
    let cases = [
        ("graphql.parse_query(`{`)", "graphql.parse_query: Expected Name, found <EOF> in GraphQL string at location 1:2"),
        ("graphql.parse_query(`{ ...on }`)", "graphql.parse_query: Expected Name, found } in GraphQL string at location 1:9"),
        ("graphql.parse_query(`{ f(a: 'x') }`)", "graphql.parse_query: Unexpected <Invalid> in GraphQL string at location 1:8"),
        ("graphql.parse_query(`query Q() { f }`)", "graphql.parse_query: expected at least one definition, found ) in GraphQL string at location 1:9"),
        ("graphql.parse_query(`query Foo($x: C = [$v]) { f }`)", "graphql.parse_query: Unexpected $ in GraphQL string at location 1:20"),
        ("graphql.parse_schema(`\"d\" extend type A { a: Int }`)", "graphql.parse_schema: Unexpected String \"d\" in GraphQL string at location 1:2"),
        ("graphql.parse_schema(`directive @x on NOPE`)", "graphql.parse_schema: Unexpected Name \"NOPE\" in GraphQL string at location 1:17"),
        ("graphql.parse_schema(`extend scalar S`)", "graphql.parse_schema: Unexpected <EOF> in GraphQL string at location 1:16"),
        ("graphql.parse(`{ a }`, `type Query { b: Nope }`)", "graphql.parse: Error in gqlparser SchemaDocument to Schema conversion: input:1:17: Undefined type Nope."),
        ("graphql.parse(`{ myAction { id } }`, `extend type Query { myAction(e: Int!): R! } type R { id: String }`)", "graphql.parse: Field \"myAction\" argument \"e\" of type \"Int!\" is required, but it was not provided in GraphQL string at location 1:3"),
    ];
    for (call, error) in cases {
        let policy = format!("package main\n\ndeny contains json.marshal({call})\n");
        let dir = common::scratch(&[("policy/p.rego", &policy), ("in.json", "{}")]);
        let strict = common::run_at(
            dir.path(),
            &["test", "--no-color", "--show-builtin-errors", "in.json"],
        );
        assert_eq!(strict.code, 1, "{call}: {}", strict.stdout);
        let want = format!("policy/p.rego:3: eval_builtin_error: {error}");
        assert!(strict.stderr.contains(&want), "{call}: {}", strict.stderr);
        let lenient = common::run_at(dir.path(), &["test", "--no-color", "in.json"]);
        assert_eq!(lenient.code, 0, "{call}: {}", lenient.stdout);
    }
}

/// `format_int` of a number between -1 and 0 is `"0"` (regorus `"-0"`): both paths as the
/// OPA peer, on the VM (the pack's `strings.replace_n` form keeps it); with
/// `--show-builtin-errors` a string stops the run with OPA's text at the call's line.
#[test]
fn format_int_and_pseudo_parameters_as_opa() {
    assert_as_opa(
        include_str!("fixtures/values/case.rego"),
        "in.json",
        include_str!("fixtures/values/case.json"),
        include_str!("fixtures/values/case.out"),
    );
    assert_keeps_vm("case.rego");
    let stderr = strict_stderr(
        include_str!("fixtures/values/case.rego"),
        include_str!("fixtures/values/case.json"),
    );
    assert!(
        stderr.ends_with(
            "p.rego:7: eval_type_error: format_int: operand 1 must be number but got string\n"
        ),
        "{stderr}"
    );
}

/// `strings.replace_n` is Go's `strings.NewReplacer` over the keys in order: every
/// replacement at once, the first key at each place, an empty key between matches
/// (regorus replaced one key after the other: `{"a": "b", "b": "a"}` turned `abcab` into `aacaa`, OPA `bacba`). Both
/// paths as the OPA peer; a non-string value is OPA's error with `--show-builtin-errors`.
#[test]
fn replace_n_replaces_all_at_once() {
    assert_as_opa(
        include_str!("fixtures/values/replace_n.rego"),
        "in.json",
        include_str!("fixtures/values/replace_n.json"),
        include_str!("fixtures/values/replace_n.out"),
    );
    let stderr = strict_stderr(
        include_str!("fixtures/values/replace_n.rego"),
        include_str!("fixtures/values/replace_n.json"),
    );
    assert!(
        stderr.ends_with(
            "p.rego:9: eval_builtin_error: strings.replace_n: operand 1 non-string value found in pattern object\n"
        ),
        "{stderr}"
    );
}

/// An empty set in a `sprintf` value prints as OPA's `set()` (regorus `{}`, the empty
/// object's text), for `%v`, `%s` and `%d`, alone or inside an array or object: both
/// paths as the OPA peer, and the policy keeps the bytecode VM.
#[test]
fn empty_sets_print_as_opa() {
    assert_as_opa(
        include_str!("fixtures/values/empty_set.rego"),
        "in.json",
        include_str!("fixtures/values/empty_set.json"),
        include_str!("fixtures/values/empty_set.out"),
    );
    assert_keeps_vm("empty_set.rego");
}

/// OPA orders objects before sets (regorus sets first): `sort`, `max` and `min` of a
/// collection holding both, and of a set of them, give the OPA peer's values on both
/// paths, and the policy keeps the bytecode VM; a non-collection is OPA's operand error.
#[test]
fn sort_max_min_put_objects_before_sets() {
    assert_as_opa(
        include_str!("fixtures/values/order.rego"),
        "in.json",
        include_str!("fixtures/values/order.json"),
        include_str!("fixtures/values/order.out"),
    );
    assert_keeps_vm("order.rego");
    let stderr = strict_stderr(
        include_str!("fixtures/values/order.rego"),
        include_str!("fixtures/values/order.json"),
    );
    assert!(
        stderr.ends_with("p.rego:11: eval_type_error: sort: operand 1 must be one of {set, array} but got object\n"),
        "{stderr}"
    );
}

/// `rego.parse_module` gives OPA's syntax tree: package path, imports, every head form
/// (`name`/`key` as OPA derives them), bodies with `some`, `every`, `not`, `with`,
/// operators as calls, comprehensions, template strings, `else` chains, numbered
/// wildcards and base64 comments, byte for byte as the OPA peer printed them; a module
/// that does not parse is no value, and with `--show-builtin-errors` OPA's
/// `rego_parse_error` naming the module's file and line.
#[test]
fn parse_module_gives_opas_tree() {
    assert_as_opa(
        include_str!("fixtures/values/parse_module.rego"),
        "in.json",
        include_str!("fixtures/values/parse_module.json"),
        include_str!("fixtures/values/parse_module.out"),
    );
    let stderr = strict_stderr(
        include_str!("fixtures/values/parse_module.rego"),
        include_str!("fixtures/values/parse_module.json"),
    );
    assert!(
        stderr.ends_with(
            "p.rego:11: eval_builtin_error: rego.parse_module: 1 error occurred: eof.rego:3: rego_parse_error: expecting expression\n"
        ),
        "{stderr}"
    );
}

/// `upper`/`lower` are Go's simple case mappings, one character for one (`upper("ß")` is
/// `"ß"`, `lower("İ")` `"i"`, a final `Σ` is `σ`; regorus gave `"SS"`, `"i̇"`, `ς`): the OPA
/// peer's values on both paths. The policy keeps the bytecode VM for documents without
/// such characters; one holding them, in a batch or in the data, is the interpreter's.
#[test]
fn case_mappings_are_gos_simple_ones() {
    assert_as_opa(
        include_str!("fixtures/values/case_map.rego"),
        "in.json",
        include_str!("fixtures/values/case_map.json"),
        include_str!("fixtures/values/case_map.out"),
    );
    assert_keeps_vm("case_map.rego");
    let dir = common::scratch(&[
        (
            "policy/p.rego",
            include_str!("fixtures/values/case_map.rego"),
        ),
        ("a.json", r#"{"texts": ["plain"]}"#),
        ("b.json", r#"{"texts": ["straße"]}"#),
        (
            "policy/q.rego",
            "package main\n\nimport rego.v1\n\ndeny contains upper(w) if some w in data.words\n",
        ),
        ("data/words.json", r#"{"words": ["groß"]}"#),
    ]);
    let run = common::run_at(
        dir.path(),
        &["test", "--no-color", "--data", "data", "a.json", "b.json"],
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (
            1,
            "FAIL - a.json - main - GROß\nFAIL - a.json - main - lower [\"plain\"]\n\
             FAIL - a.json - main - upper [\"PLAIN\"]\nFAIL - b.json - main - GROß\n\
             FAIL - b.json - main - lower [\"straße\"]\nFAIL - b.json - main - upper [\"STRAßE\"]\n\n\
             6 tests, 0 passed, 0 warnings, 6 failures, 0 exceptions\n"
        ),
        "{}",
        run.stderr
    );
}

/// A number that is no integer prints in `sprintf` as Go's `%v` does: with an exponent
/// below 1e-4 and from 1e6 on (`2.5e-06`, `1.2345675e+06`; regorus wrote every digit),
/// also inside `%!s(float64=...)`; integers stay whole. Both paths as the OPA peer, and the
/// policy keeps the bytecode VM.
#[test]
fn fractions_print_as_go() {
    assert_as_opa(
        include_str!("fixtures/values/floats.rego"),
        "in.json",
        include_str!("fixtures/values/floats.json"),
        include_str!("fixtures/values/floats.out"),
    );
    assert_keeps_vm("floats.rego");
}

/// `time.parse_ns` with a zone abbreviation (layout `MST`) gives Go's instant: the local
/// zone's offset when the local zone uses the abbreviation (`PDT` in January too), else
/// none (`15:04 PST` is 15:04 UTC on a machine in UTC, where regorus gave US zones their
/// offsets); a numeric zone beside it sets the offset. Expected: the OPA peer's output
/// under `TZ=` (UTC) and `TZ=America/Los_Angeles`, on both paths; the policy keeps the VM
/// (the layouts are in the document, which goes to the interpreter). A lower-case `pst`
/// is Go's parse error.
#[test]
fn zone_abbreviations_parse_as_in_go() {
    let dir = common::scratch(&[
        (
            "policy/p.rego",
            include_str!("fixtures/values/time_zones.rego"),
        ),
        ("in.json", include_str!("fixtures/values/time_zones.json")),
    ]);
    let at = dir.path().to_str().unwrap();
    for (tz, expected) in [
        ("", include_str!("fixtures/values/time_zones.out")),
        (
            "America/Los_Angeles",
            include_str!("fixtures/values/time_zones_la.out"),
        ),
    ] {
        for rvm in ["1", "0"] {
            let run = common::run_with(
                at,
                &["test", "--no-color", "in.json"],
                &[("REGORUN_RVM", rvm), ("TZ", tz)],
                None,
            );
            assert_eq!(
                (run.code, run.stdout.as_str()),
                (1, expected),
                "TZ={tz} REGORUN_RVM={rvm}: {}",
                run.stderr
            );
        }
    }
    assert_keeps_vm("time_zones.rego");
    let stderr = strict_stderr(
        include_str!("fixtures/values/time_zones.rego"),
        r#"{"cases": [["Mon, 02 Jan 2006 15:04:05 MST", "Tue, 10 Nov 2009 23:00:00 pst"]]}"#,
    );
    assert!(
        stderr.contains(r#"time.parse_ns: parsing time "Tue, 10 Nov 2009 23:00:00 pst" as "Mon, 02 Jan 2006 15:04:05 MST": cannot parse "pst" as "MST""#),
        "{stderr}"
    );
}

/// `glob.match` follows gobwas/glob, OPA's library, where regorus's globset differed:
/// `**` crosses delimiters (`a**b` matches `a.x.b`), `ab**b` matches `ab` (gobwas's
/// prefix-and-suffix matcher), a lone `?` or `[!x]` matches the empty string, `?` and
/// `[é]` take one character (not one byte), `[^b]` is a list holding `^`, an unclosed
/// `{a,b` and a trailing `\` are accepted, and `:` among the delimiters stops `*`.
/// Expected: the OPA peer's output, on both paths. A policy matching with `[]` or plain
/// delimiters keeps the VM: a document of plain `*` patterns is evaluated by it, one with
/// other glob syntax by the interpreter. A range OPA refuses is its built-in error.
#[test]
fn glob_match_gives_opas_answers() {
    assert_as_opa(
        include_str!("fixtures/values/glob.rego"),
        "in.json",
        include_str!("fixtures/values/glob.json"),
        include_str!("fixtures/values/glob.out"),
    );
    assert_as_opa(
        include_str!("fixtures/values/glob_vm.rego"),
        "in.json",
        include_str!("fixtures/values/glob_plain.json"),
        include_str!("fixtures/values/glob_plain.out"),
    );
    assert_keeps_vm("glob_vm.rego");
    let colon = r#"package main

import rego.v1

deny contains sprintf("%v %v: %v", [c[0], c[1], glob.match(c[0], [":"], c[1])]) if some c in input.colon
"#;
    assert_as_opa(
        colon,
        "in.json",
        r#"{"colon": [["*:*", "a:b:c"], ["a:*", "a:b"], ["arn:aws:s3:::*", "arn:aws:s3:::bucket/key"], ["arn:aws:*:*", "arn:aws:s3:x"], ["arn:*", "arn:aws"]]}"#,
        "FAIL - in.json - main - *:* a:b:c: false
FAIL - in.json - main - a:* a:b: true
FAIL - in.json - main - arn:* arn:aws: true
FAIL - in.json - main - arn:aws:*:* arn:aws:s3:x: true
FAIL - in.json - main - arn:aws:s3:::* arn:aws:s3:::bucket/key: true

5 tests, 0 passed, 0 warnings, 5 failures, 0 exceptions
",
    );
    let stderr = strict_stderr(colon, r#"{"colon": [["[a-z0-9]", "a"]]}"#);
    assert!(
        stderr.ends_with(
            "policy/p.rego:5: eval_builtin_error: glob.match: expected close range character\n"
        ),
        "{stderr}"
    );
}

/// `sprintf`'s `%v` prints a set's elements and an object's keys in OPA's order, objects
/// before sets (regorus's order puts sets first), and `set()` for an empty set inside
/// them. Expected: the OPA peer's output, on both paths (the values are no array literal,
/// so regorun's own `sprintf` prints them on both).
#[test]
fn sprintf_prints_sets_and_keys_in_opas_order() {
    assert_as_opa(
        r#"package main

import rego.v1

mixed := {{"a": 1}, {2}, [3], {"b": 0}, {3}, set(), input.o, {input.n}}

keyed := {{2}: "set", {"a": 1}: "object", [1]: "array"}

# A format and values that are no literal array: regorun's own sprintf prints them.
args := [mixed, keyed, [{1}, {"a": set()}]]

deny contains sprintf("%v | %v | %v", args)
"#,
        "in.json",
        r#"{"o": {"c": [1]}, "n": 0}"#,
        r#"FAIL - in.json - main - {[3], {"a": 1}, {"b": 0}, {"c": [1]}, set(), {0}, {2}, {3}} | {[1]: "array", {"a": 1}: "object", {2}: "set"} | [{1}, {"a": set()}]

1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions
"#,
    );
}

/// `yaml.marshal` writes go-yaml v2's text, as OPA does (it marshals the value read back
/// from its JSON): a string that reads back as another type (`yes`, `y`, `~`, `1.5`,
/// `0x1F`, `2021-01-01`, `1:20`, `""`) is double-quoted, floats are Go's shortest form
/// (`1e+21`, `1e-05`, `1.2345675e+06`), keys sort naturally (`2` before `10`, `B` before
/// `a`), long lines fold at 80 columns, a raw NEL folds as YAML reads it. Expected: the OPA
/// peer's output, on both paths; keys that are no strings are their JSON text. A NEL in a
/// key and a DEL are go-yaml's read errors.
#[test]
fn yaml_marshal_writes_go_yamls_text() {
    assert_as_opa(
        include_str!("fixtures/values/yaml_marshal.rego"),
        "in.json",
        include_str!("fixtures/values/yaml_marshal.json"),
        include_str!("fixtures/values/yaml_marshal.out"),
    );
    // Keys that are no strings are their JSON text, as OPA writes them.
    assert_as_opa(
        "package main\n\nimport rego.v1\n\ndeny contains json.marshal(yaml.marshal({1: \"a\", \"b\": {[1, \"x\"]: 2, {\"k\": 1}: 3, null: 4, true: 5, 1.5: 6}}))\n",
        "in.json",
        "{}",
        "FAIL - in.json - main - \"\\\"1\\\": a\\nb:\\n  '[1,\\\"x\\\"]': 2\\n  '{\\\"k\\\":1}': 3\\n  \\\"1.5\\\": 6\\n  \\\"null\\\": 4\\n  \\\"true\\\": 5\\n\"\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
    );
    let policy = include_str!("fixtures/values/yaml_marshal.rego");
    for (input, error) in [
        (
            r#"{"values": [{"z": "p\u0085q", "a\u0085\u0085b": 1}]}"#,
            "yaml: line 2: did not find expected ',' or '}'",
        ),
        (
            r#"{"values": [["\u0085", "x\u0085... y"]]}"#,
            "yaml: line 3: found unexpected document indicator",
        ),
        (
            r#"{"values": ["a\u007fb"]}"#,
            "yaml: control characters are not allowed",
        ),
    ] {
        let stderr = strict_stderr(policy, input);
        assert!(
            stderr.ends_with(&format!(
                "policy/p.rego:6: eval_builtin_error: yaml.marshal: {error}\n"
            )),
            "{stderr}"
        );
    }
}

/// The policy `tests/fixtures/values/<name>` is evaluated by the bytecode VM.
/// With `null` delimiters `*` crosses everything, and text on both sides of one may
/// overlap in OPA (gobwas's prefix-and-suffix matcher): `a*a` matches `a`, `a/*/b`
/// matches `a/b`. regorus's version did not, so such a call, and one whose pattern comes
/// from a document, is evaluated by regorun's; `*` at an end alone keeps the VM.
/// Expected: the OPA peer's output.
#[test]
fn glob_match_without_delimiters_lets_prefix_and_suffix_overlap() {
    let policy = r#"package main

import rego.v1

deny contains sprintf("a*a a: %v", [glob.match("a*a", null, "a")])

deny contains sprintf("a/*/b a/b: %v", [glob.match("a/*/b", null, "a/b")])

deny contains sprintf("*a* a: %v", [glob.match("*a*", null, "a")])

deny contains sprintf("a* a.b: %v", [glob.match("a*", null, "a.b")])

deny contains sprintf("%v %v: %v", [c[0], c[1], glob.match(c[0], null, c[1])]) if some c in input.none
"#;
    let input = r#"{"none": [["*", "a/b.c"], ["a*", "a.b"], ["aa*aa", "aa"], ["b-bb*b", "b-bb"]]}"#;
    assert_as_opa(
        policy,
        "in.json",
        input,
        "FAIL - in.json - main - * a/b.c: true
FAIL - in.json - main - *a* a: true
FAIL - in.json - main - a* a.b: true
FAIL - in.json - main - a*a a: true
FAIL - in.json - main - a/*/b a/b: true
FAIL - in.json - main - aa*aa aa: true
FAIL - in.json - main - b-bb*b b-bb: true

7 tests, 0 passed, 0 warnings, 7 failures, 0 exceptions
",
    );
}

fn assert_keeps_vm(name: &str) {
    let path = format!("tests/fixtures/values/{name}");
    let files = regorun::rego::policy::load_files(&[path]).unwrap();
    let options = regorun::engine::eval::EngineOptions::default();
    let engine = regorun::engine::eval::PolicyEngine::new(&files, &[], &options).unwrap();
    assert!(engine.uses_fast_path(), "{name}");
}

/// `to_number` reads a string as Go's `strconv.ParseFloat` (OPA's): `+1`, `.5`, `5.`,
/// `00012`, `1_000`, `1E2` are numbers (regorus, reading JSON, gave none), and text with
/// spaces around it, the infinities, NaN, misplaced `_` and out-of-range exponents are
/// none (regorus read `" 1"` as 1). Values as the OPA peer on both paths; with
/// `--show-builtin-errors` Go's error at the call's line, the peer's text.
#[test]
fn to_number_reads_as_go() {
    assert_as_opa(
        include_str!("fixtures/values/to_number.rego"),
        "in.json",
        include_str!("fixtures/values/to_number.json"),
        include_str!("fixtures/values/to_number.out"),
    );
    assert_keeps_vm("to_number.rego");
    let stderr = strict_stderr(
        include_str!("fixtures/values/to_number.rego"),
        r#"{"go": [], "json": [], "others": [], "bad": ["1 "]}"#,
    );
    assert!(
        stderr.ends_with(
            "p.rego:10: eval_builtin_error: to_number: strconv.ParseFloat: parsing \"1 \": invalid syntax\n"
        ),
        "{stderr}"
    );
}

/// `base64.decode` and `base64.is_valid` read text as Go's standard decoding, as OPA: line
/// breaks skipped (a YAML block scalar's trailing newline: regorus gave no value), the last
/// character's unused bits may be set, nothing may follow the padding (regorus read
/// `aGVsbG8=aGk=` as `hellohi`). Both paths as the OPA peer, on the VM; with
/// `--show-builtin-errors` Go's error text, the peer's.
#[test]
fn base64_is_read_as_go() {
    assert_as_opa(
        include_str!("fixtures/values/base64.rego"),
        "in.json",
        include_str!("fixtures/values/base64.json"),
        include_str!("fixtures/values/base64.out"),
    );
    assert_keeps_vm("base64.rego");
    let stderr = strict_stderr(
        include_str!("fixtures/values/base64.rego"),
        r#"{"good": [], "bad": ["aGVsbG8=aGk="]}"#,
    );
    assert!(
        stderr.ends_with(
            "p.rego:10: eval_builtin_error: base64.decode: illegal base64 data at input byte 8\n"
        ),
        "{stderr}"
    );
}

/// With `--show-builtin-errors`, an error in a built-in the VM reaches through an appended
/// Rego function (`format_int`, `floor`, `json.filter`...) names the user's line, in OPA's
/// words (it named the appended line after the file's end, in regorus's).
#[test]
fn routed_builtin_errors_name_the_users_line() {
    for (call, error) in [
        (
            "format_int(input.n, 3)",
            "format_int: operand 2 must be one of {2, 8, 10, 16}",
        ),
        (
            "floor(input.s)",
            "floor: operand 1 must be number but got string",
        ),
        (
            "ceil(input.s)",
            "ceil: operand 1 must be number but got string",
        ),
    ] {
        let policy =
            format!("package main\n\nimport rego.v1\n\ndeny contains x if {{\n\tx := {call}\n}}\n");
        let stderr = strict_stderr(&policy, r#"{"n": 1, "s": "a"}"#);
        assert!(
            stderr.ends_with(&format!("p.rego:6: eval_type_error: {error}\n")),
            "{stderr}"
        );
    }
}

/// With `--show-builtin-errors`, an operand of a kind a built-in refuses stops the run with
/// OPA's `eval_type_error` text, for regorus's own built-ins too (regorus worded its own:
/// `` `upper` expects string argument ``); the texts are the OPA peer's for the same
/// calls. Without the flag each call is undefined, as in OPA.
#[test]
fn operand_type_errors_are_opas() {
    for (call, input, error) in [
        (
            "upper(input.v)",
            "1",
            "eval_type_error: upper: operand 1 must be string but got number",
        ),
        (
            "object.remove(input.v, [])",
            "[1]",
            "eval_type_error: object.remove: operand 1 must be object but got array",
        ),
        (
            "object.filter({}, input.v)",
            "true",
            "eval_type_error: object.filter: operand 2 must be one of {object, set, array} but got boolean",
        ),
        (
            "concat(\",\", input.v)",
            "[\"a\", 1]",
            "eval_type_error: concat: operand 2 must be array of strings but got array containing number",
        ),
        (
            "bits.and(input.v, 1)",
            "7.2",
            "eval_type_error: bits.and: operand 1 must be integer number but got floating-point number",
        ),
        (
            "sum({e | some e in input.v})",
            "[1, \"a\"]",
            "eval_type_error: sum: operand 1 must be set of numbers but got set containing string",
        ),
        (
            "time.date(input.v)",
            "{}",
            "eval_type_error: time.date: operand 1 must be either number (ns) or [number (ns), string (tz)] but got object",
        ),
        (
            "count(input.v)",
            "null",
            "eval_type_error: count: operand 1 must be one of {array, object, set, string} but got null",
        ),
        (
            "units.parse(input.v)",
            "\"G\"",
            "eval_builtin_error: units.parse: units.parse: no amount provided",
        ),
        (
            "units.parse_bytes(input.v)",
            "\"1 KB\"",
            "eval_builtin_error: units.parse_bytes: units.parse_bytes: spaces not allowed in resource strings",
        ),
    ] {
        let policy = format!("package main\n\nimport rego.v1\n\ndeny contains x if {{\n\tx := {call}\n}}\n");
        let input = format!("{{\"v\": {input}}}");
        let stderr = strict_stderr(&policy, &input);
        assert!(stderr.ends_with(&format!("p.rego:6: {error}\n")), "{call}: {stderr}");
        let dir = common::scratch(&[("policy/p.rego", &policy), ("in.json", &input)]);
        let lenient = common::run_at(dir.path(), &["test", "--no-color", "in.json"]);
        assert_eq!(lenient.code, 0, "{call}: {}{}", lenient.stdout, lenient.stderr);
    }
}

/// `base64.is_valid` and `net.cidr_is_valid` of a non-string are false in OPA, on both
/// evaluation paths (regorus's gave no value, so `not net.cidr_is_valid(x)` rules fired
/// and rules using the value vanished). What the OPA peer gives for the same policy.
#[test]
fn is_valid_of_non_strings_is_false_for_cidrs_and_base64() {
    let policy = r#"package main

import rego.v1

deny contains sprintf("cidr %v %v %v", [net.cidr_is_valid(input.n), net.cidr_is_valid(input.s), net.cidr_is_valid(input.o)])
deny contains sprintf("base64 %v %v %v", [base64.is_valid(input.n), base64.is_valid(input.b), base64.is_valid(input.o)])
deny contains "not a cidr" if not net.cidr_is_valid(input.n)
"#;
    let opa = "FAIL - in.json - main - base64 false true false
FAIL - in.json - main - cidr false true false
FAIL - in.json - main - not a cidr

3 tests, 0 passed, 0 warnings, 3 failures, 0 exceptions
";
    let input = r#"{"n": 1, "s": "10.0.0.0/8", "b": "aGk=", "o": {"k": 1}}"#;
    assert_as_opa(policy, "in.json", input, opa);
}

/// With `--show-builtin-errors`, arithmetic on a value that is no number, division and
/// remainder by zero, an object comprehension giving one key two values, and regorus
/// built-in errors OPA words otherwise (`hex.decode`, CIDRs, out-of-range times) stop the
/// run with OPA's text: the OPA peer's for the same policy and input.
#[test]
fn evaluation_errors_are_worded_as_opa() {
    let input = r#"{"z": 0, "f": 1.5, "s": "a", "a": [1, 2], "o": {"k": 1}, "b": true, "n": null, "x": {"y": "q"}, "big": 1e300}"#;
    for (expr, error) in [
        ("input.f % 2", "eval_builtin_error: rem: modulo on floating-point number"),
        ("1 / input.z", "eval_builtin_error: div: divide by zero"),
        ("1 % input.z", "eval_builtin_error: rem: modulo by zero"),
        ("input.s * 2", "eval_type_error: mul: operand 1 must be number but got string"),
        ("input.s - 1", "eval_type_error: minus: operand 1 must be one of {number, set} but got string"),
        ("2 * input.s", "eval_type_error: mul: operand 2 must be number but got string"),
        ("1 + input.a", "eval_type_error: plus: operand 2 must be number but got array"),
        ("input.o / 2", "eval_type_error: div: operand 1 must be number but got object"),
        ("3 % input.b", "eval_type_error: rem: operand 2 must be number but got boolean"),
        ("input.n + 1", "eval_type_error: plus: operand 1 must be number but got null"),
        ("input.a[0] + input.s", "eval_type_error: plus: operand 2 must be number but got string"),
        ("3 * input.x.y", "eval_type_error: mul: operand 2 must be number but got string"),
        (
            "{k: v | some v in input.a; k := \"foo\"}",
            "eval_conflict_error: object keys must be unique",
        ),
        (
            "hex.decode(concat(\"\", [\"ab\", \"g1\"]))",
            "eval_builtin_error: hex.decode: encoding/hex: invalid byte: U+0067 'g'",
        ),
        (
            "net.cidr_expand(concat(\"\", [\"192.168.1.1/\", \"33\"]))",
            "eval_builtin_error: net.cidr_expand: invalid CIDR address: 192.168.1.1/33",
        ),
        (
            "net.cidr_contains(\"10.0.0.0/8\", input.s)",
            "eval_builtin_error: net.cidr_contains: not a valid textual representation of an IP address or CIDR: a",
        ),
        ("time.date(input.big)", "eval_builtin_error: time.date: timestamp too big"),
    ] {
        let policy = format!("package main\n\nimport rego.v1\n\ndeny contains x if {{\n\tx := {expr}\n}}\n");
        let stderr = strict_stderr(&policy, input);
        assert!(stderr.ends_with(&format!("p.rego:6: {error}\n")), "{expr}: {stderr}");
    }
}

/// `object.subset` of values of other kinds than two objects, two sets, two arrays or an
/// array and a set is OPA's type error, so no value without `--show-builtin-errors`, on both
/// evaluation paths (regorus's, which the bytecode VM used, gave false), and `not` of it
/// true. The OPA peer's built-in errors are always strict: it prints the `objects` and
/// `array and set` lines for the policy without the other three rules, and stops at the
/// first mixed call with the error regorun gives under `--show-builtin-errors`.
#[test]
fn object_subset_of_other_kinds_is_no_value() {
    let policy = r#"package main

import rego.v1

deny contains sprintf("mixed %v", [object.subset(input.o, input.a)])
deny contains sprintf("scalar %v", [object.subset(input.n, input.n)])
deny contains sprintf("objects %v", [object.subset(input.o, {"k": 1})])
deny contains sprintf("array and set %v", [object.subset(input.a, {1})])
deny contains "not mixed" if not object.subset(input.o, input.a)
"#;
    let opa = "FAIL - in.json - main - array and set true
FAIL - in.json - main - not mixed
FAIL - in.json - main - objects true

5 tests, 2 passed, 0 warnings, 3 failures, 0 exceptions
";
    let input = r#"{"o": {"k": 1}, "a": [1], "n": 1}"#;
    assert_as_opa(policy, "in.json", input, opa);
    assert!(strict_stderr(policy, input).ends_with(
        "p.rego:5: eval_type_error: object.subset: both arguments object.subset must be of the same type or array and set\n"
    ));
}
