//! Rego that OPA loads, regorun loads and runs with OPA's answers (issue "Rego
//! compatibility, part 1"). Each expected output below is what OPA 1.20 gives for the same
//! policy and input (through conftest's counting); line numbers in errors, `print()` output
//! and traces stay the user's after the load-time rewrites.

mod common;

use common::Run;

/// Runs `regorun ARGS` in a scratch directory holding `files`, on both evaluation paths
/// (they must agree), and returns the run.
fn run(files: &[(&str, &str)], args: &[&str]) -> Run {
    let dir = common::scratch(files);
    let at = dir.path().to_str().expect("utf-8");
    let mut all = vec!["--no-color"];
    all.splice(0..0, args.iter().copied());
    let fast = common::run_with(at, &all, &[], None);
    let interp = common::run_with(at, &all, &[("REGORUN_RVM", "0")], None);
    assert_eq!(
        (fast.code, &fast.stdout, &fast.stderr),
        (interp.code, &interp.stdout, &interp.stderr),
        "bytecode path and interpreter differ"
    );
    fast
}

fn assert_run(r: &Run, code: i32, stdout: &str, stderr: &str) {
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (code, stdout, stderr)
    );
}

const LIB: &str = "package lib\n\ny := 41\n";

/// R4: an `import` after the rules that use it.
#[test]
fn imports_after_rules_load() {
    let policy = "package main\n\ndeny contains msg if {\n\tprint(\"checking\", y)\n\tmsg := sprintf(\"y is %v\", [y])\n}\n\nimport data.lib.y\n";
    let r = run(
        &[
            ("p/p.rego", policy),
            ("p/lib.rego", LIB),
            ("a.json", "{}\n"),
        ],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "PRNT   p/p.rego:4: checking 41\n\nFAIL - a.json - main - y is 41\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
    // A parse error after the moved import still names its own line.
    let broken =
        "package main\n\ndeny contains \"x\" if input.x\n\nimport data.lib.y\n\nbroken := [1,\n";
    let r = run(
        &[("p/p.rego", broken), ("a.json", "{}\n")],
        &["test", "-p", "p", "a.json"],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with(
            "Error: running test: load: loading policies: load: 1 error occurred during loading: p/p.rego:8: rego_parse_error: "
        ),
        "{}",
        r.stderr
    );
}

/// R1: a v0 rule with several bodies is one rule per body (and counts as such).
#[test]
fn v0_rules_with_several_bodies() {
    let policy = "package main\n\ndeny[m] { input.a; m := \"a\" } { input.b; m := \"b\" }\n\nq = 1 {\n\tinput.a\n}\n{\n\tinput.b\n}\n\nwarn[m] { q == 1; m := sprintf(\"q is %v\", [q]) }\n";
    let r = run(
        &[("p/p.rego", policy), ("b.json", "{\"b\": true}\n")],
        &["test", "--rego-version", "v0", "-p", "p", "b.json"],
    );
    assert_run(
        &r,
        1,
        "WARN - b.json - main - q is 1\nFAIL - b.json - main - b\n\n3 tests, 1 passed, 1 warning, 1 failure, 0 exceptions\n",
        "",
    );
}

/// R2: a line starting with `(` is a new expression, not a call of the line before.
#[test]
fn a_parenthesised_line_is_a_new_expression() {
    let policy = "package main\n\ndeny contains \"spread too small\" if {\n\tinput.min\n\t(input.max - input.min) < 2\n\tprint(\"line 6\")\n}\n";
    let r = run(
        &[
            ("p/p.rego", policy),
            ("a.json", "{\"min\": 1, \"max\": 2}\n"),
        ],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "PRNT   p/p.rego:6: line 6\n\nFAIL - a.json - main - spread too small\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
}

/// R9: the operators called by name.
#[test]
fn operators_called_by_name() {
    let policy = "package main\n\ndeny contains msg if {\n\tlt(input.n, 10)\n\tequal(input.s, \"a\")\n\tmsg := sprintf(\"%v %v %v %v\", [plus(input.n, 1), mul(input.n, 3), rem(input.n, 4), or({1}, {2})])\n}\n";
    let r = run(
        &[
            ("p/p.rego", policy),
            ("a.json", "{\"n\": 7, \"s\": \"a\"}\n"),
        ],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - a.json - main - 8 21 3 {1, 2}\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
}

/// The deprecated built-ins of v0 policies (`any`, `all`, `re_match`, `set_diff`,
/// `cast_*`), as OPA's v0 compatibility mode has them.
#[test]
fn deprecated_v0_builtins() {
    let policy = "package main\n\nviolation[m] {\n\tany([false, input.b])\n\tnot all([false, input.b])\n\tre_match(\"^a\", \"abc\")\n\tcount(set_diff({1, 2}, {2})) == 1\n\tcast_set([1, 1]) == {1}\n\tm := \"v0 built-ins\"\n}\n";
    let r = run(
        &[("p/p.rego", policy), ("b.json", "{\"b\": true}\n")],
        &["test", "--rego-version", "v0", "-p", "p", "b.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - b.json - main - v0 built-ins\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
    // They are not v1 built-ins: OPA rejects them there too.
    let v1 = "package main\n\ndeny contains \"x\" if any([true])\n";
    let r = run(
        &[("p/p.rego", v1), ("b.json", "{}\n")],
        &["test", "-p", "p", "b.json"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("any"), "{}", r.stderr);
}

/// R3, R6: rules without a body that regorus read differently or rejected.
#[test]
fn rules_without_a_body() {
    // v0 `wl["p"]` is a set element, also with a `default` rule after it.
    let v0 = "package main\n\nwl[\"p\"]\nwl[\"q\"]\ndefault x = 1\n\ndeny[m] { m := sprintf(\"%v\", [wl]) }\n";
    let r = run(
        &[("p/p.rego", v0), ("a.json", "{}\n")],
        &["test", "--rego-version", "v0", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - a.json - main - {\"p\", \"q\"}\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
    // A function head alone is `true` for its arguments.
    let v1 = "package main\n\nallowed(\"x\", _)\n\ndeny contains \"x is allowed\" if allowed(\"x\", 2)\n\ndeny contains \"y is allowed\" if allowed(\"y\", 2)\n";
    let r = run(
        &[("p/p.rego", v1), ("a.json", "{}\n")],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - a.json - main - x is allowed\n\n2 tests, 1 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
}

/// S9: a rule head iterating something that is not a collection is undefined, as in a
/// body; it used to stop the whole run.
#[test]
fn head_iterating_a_non_collection_is_undefined() {
    let policy = "package main\n\ndefault pod := false\n\npod := input.pod if input.pod\n\nvolumes contains pod.spec.volumes[_]\n\nfirst := pod.spec.volumes[_]\n\ndeny contains sprintf(\"%d volumes\", [count(volumes)])\n\ndeny contains sprintf(\"first %v\", [first])\n";
    let r = run(
        &[
            ("p/p.rego", policy),
            ("none.json", "{}\n"),
            (
                "one.json",
                "{\"pod\": {\"spec\": {\"volumes\": [\"v\"]}}}\n",
            ),
        ],
        &["test", "-p", "p", "none.json", "one.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - none.json - main - 0 volumes\nFAIL - one.json - main - 1 volumes\nFAIL - one.json - main - first v\n\n4 tests, 1 passed, 0 warnings, 3 failures, 0 exceptions\n",
        "",
    );
}

/// A local declared with `some` shadows a rule of the same name, as in OPA.
#[test]
fn some_locals_shadow_rules() {
    let policy = "package main\n\nresource_type := \"MULTIPLE\"\n\ntypes := {\"a\", \"b\"}\n\ndeny contains x if {\n\tsome resource_type\n\ttypes[resource_type]\n\tx := resource_type\n}\n\ndeny contains sprintf(\"in %v\", [t]) if {\n\tsome resource_type in types\n\tt := resource_type\n}\n";
    let r = run(
        &[("p/p.rego", policy), ("a.json", "{}\n")],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - a.json - main - a\nFAIL - a.json - main - b\nFAIL - a.json - main - in a\nFAIL - a.json - main - in b\n\n4 tests, 0 passed, 0 warnings, 4 failures, 0 exceptions\n",
        "",
    );
}

/// S6: an `else` rule whose value indexes with a variable of its body is no false
/// conflict; an undefined body falls to `else`.
#[test]
fn else_rule_value_from_the_body() {
    let policy = "package main\n\nm := {\"a\": 1, \"b\": 2}\n\nv := m[k] if { k := input.k } else := 0\n\ndeny contains sprintf(\"v is %v\", [v])\n";
    let r = run(
        &[
            ("p/p.rego", policy),
            ("a.json", "{\"k\": \"a\"}\n"),
            ("b.json", "{}\n"),
        ],
        &["test", "-p", "p", "a.json", "b.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - a.json - main - v is 1\nFAIL - b.json - main - v is 0\n\n2 tests, 0 passed, 0 warnings, 2 failures, 0 exceptions\n",
        "",
    );
}

/// S11: a built-in called with an output argument no longer makes the whole module
/// unusable; a missing built-in only stops the rules that call it.
#[test]
fn output_arguments_and_missing_builtins() {
    let policy = "package main\n\nmerged contains c if {\n\tc := uri.parse(input.cidrs[0])\n}\n\njoined if {\n\tconcat(\"-\", input.parts, s)\n\ts == \"a-b\"\n}\n\ndeny contains \"privileged\" if input.privileged\n\ndeny contains \"joined\" if joined\n\nwarn contains sprintf(\"%v\", [count(merged)]) if input.merge\n";
    let files = [
        ("p/p.rego", policy),
        (
            "c.json",
            "{\"privileged\": true, \"parts\": [\"a\", \"b\"]}\n",
        ),
        (
            "d.json",
            "{\"merge\": true, \"cidrs\": [\"10.0.0.0/24\"]}\n",
        ),
    ];
    let r = run(&files, &["test", "-p", "p", "c.json"]);
    assert_run(
        &r,
        1,
        "FAIL - c.json - main - joined\nFAIL - c.json - main - privileged\n\n3 tests, 1 passed, 0 warnings, 2 failures, 0 exceptions\n",
        "",
    );
    let r = run(&files, &["test", "-p", "p", "d.json"]);
    assert_run(
        &r,
        1,
        "",
        "Error: running test: query rule: check: query rule: p/p.rego:4: could not find function uri.parse\n",
    );
    // A built-in regorun adds works with an output argument too.
    let added = policy.replace(
        "c := uri.parse(input.cidrs[0])",
        "net.cidr_merge(input.cidrs, out)\n\tsome c in out",
    );
    let files = [("p/p.rego", added.as_str()), files[2]];
    let r = run(&files, &["test", "-p", "p", "d.json"]);
    assert_run(
        &r,
        0,
        "WARN - d.json - main - 1\n\n3 tests, 2 passed, 1 warning, 0 failures, 0 exceptions\n",
        "",
    );
}

/// S1: a reference argument of a negated call is evaluated before the negation, as OPA
/// does: `not is_string(input.sid)` is false when `input.sid` is missing.
#[test]
fn negated_calls_with_undefined_arguments() {
    let policy = "package main\n\nimport rego.v1\n\nlabel(x) := x if is_string(x)\n\ndeny contains \"sid is not a string\" if {\n\tnot is_string(input.sid)\n}\n\ndeny contains \"no label\" if {\n\tnot label(input.meta.name)\n}\n";
    let files = [
        ("p/p.rego", policy),
        ("missing.json", "{}\n"),
        ("number.json", "{\"sid\": 5, \"meta\": {\"name\": 1}}\n"),
    ];
    let r = run(&files, &["test", "-p", "p", "missing.json", "number.json"]);
    assert_run(
        &r,
        1,
        "FAIL - number.json - main - no label\nFAIL - number.json - main - sid is not a string\n\n4 tests, 2 passed, 0 warnings, 2 failures, 0 exceptions\n",
        "",
    );
}

/// R8: template strings (OPA 1.12+): strings as they are, other values as Rego source,
/// an undefined expression as `<undefined>`, `\{` a brace; raw and nested templates.
#[test]
fn template_strings() {
    let policy = "package main\n\ndeny contains $\"a {input.name} b {input.n} c {input.o} d {input.missing} e {input.s} g {1 + 2} h \\{x} i {input.name}{input.name}\" if true\n\ndeny contains $`raw {input.name} \\{ x` if true\n\ndeny contains $\"set {{1, 2}} empty {set()} nested {$\"in {input.name}\"} q {\"quo\\\"te\"}\" if true\n\nwarn contains msg if {\n\tmsg := $\"deep {input.o.k.z}\"\n}\n";
    let input = "{\"name\": \"bob\", \"n\": 1.5, \"o\": {\"k\": \"v\", \"a\": [1, \"x\"]}, \"s\": [\"a\", \"b\"]}\n";
    let r = run(
        &[("p/p.rego", policy), ("a.json", input)],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "WARN - a.json - main - deep <undefined>\nFAIL - a.json - main - a bob b 1.5 c {\"a\": [1, \"x\"], \"k\": \"v\"} d <undefined> e [\"a\", \"b\"] g 3 h {x} i bobbob\nFAIL - a.json - main - raw bob { x\nFAIL - a.json - main - set {1, 2} empty set() nested in bob q quo\"te\n\n4 tests, 0 passed, 1 warning, 3 failures, 0 exceptions\n",
        "",
    );
    // An error inside a template still names its line.
    let broken = "package main\n\ndeny contains msg if {\n\tmsg := $\"{input.x} and {[1,}\"\n}\n";
    let r = run(
        &[("p/p.rego", broken), ("a.json", "{}\n")],
        &["test", "-p", "p", "a.json"],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("p/p.rego:4:"), "{}", r.stderr);
}

/// R7: a number beyond 64-bit floats cannot be held; the load error says so, at its line.
#[test]
fn numbers_beyond_floats_are_a_clear_load_error() {
    let policy = "package main\n\nbig := 1e400\n\ndeny contains \"x\" if big > 1\n";
    let r = run(
        &[("p/p.rego", policy), ("a.json", "{}\n")],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "",
        "Error: running test: load: loading policies: load: 1 error occurred during loading: p/p.rego:3: rego_parse_error: number out of range: regorun holds numbers as 64-bit floats (at most about 1.8e308), OPA as arbitrary-precision numbers; write a bound within that range\n\tbig := 1e400\n\t       ^\n",
    );
}

/// S5: conftest's combine example, a comprehension that compares with an outer variable
/// and then declares its own of the same name.
#[test]
fn comprehension_rebinding_an_outer_variable() {
    let policy = "package main\n\ndeny contains msg if {\n\tname := input.items[_].contents.metadata.name\n\tocc := [name | some i; input.items[i].contents.metadata.name == name; name := input.items[i].metadata.name]\n\tcount(occ) > 1\n\tmsg := sprintf(\"duplicate name %v: %v\", [name, occ])\n}\n";
    let input = "{\"items\": [{\"contents\": {\"metadata\": {\"name\": \"x\"}}, \"metadata\": {\"name\": \"m0\"}}, {\"contents\": {\"metadata\": {\"name\": \"x\"}}, \"metadata\": {\"name\": \"m1\"}}, {\"contents\": {\"metadata\": {\"name\": \"y\"}}, \"metadata\": {\"name\": \"m2\"}}]}\n";
    let r = run(
        &[("p/p.rego", policy), ("a.json", input)],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - a.json - main - duplicate name x: [\"m0\", \"m1\"]\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
}

/// S4: `[p | data.rules[p].resource_type]` reads the `resource_type` rule of every
/// package below `rules` (OPA's answer), from anywhere, even from a test in one of those
/// packages; inside package `rules` itself it is OPA's recursion error.
#[test]
fn comprehensions_over_sibling_packages() {
    let a = ("p/a.rego", "package rules.a\n\nresource_type := \"x\"\n");
    let b = ("p/b.rego", "package rules.b\n\nresource_type := \"y\"\n");
    let main = (
        "p/main.rego",
        "package main\n\ndeny contains msg if {\n\tmsg := sprintf(\"%v\", [data.lib.report])\n}\n",
    );
    let lib = (
        "p/lib.rego",
        "package lib\n\nreport := [p | data.rules[p].resource_type]\n",
    );
    let input = ("a.json", "{}\n");
    let r = run(&[a, b, main, lib, input], &["test", "-p", "p", "a.json"]);
    assert_run(
        &r,
        1,
        "FAIL - a.json - main - [\"a\", \"b\"]\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
    let own = (
        "p/lib.rego",
        "package rules\n\nreport := [p | data.rules[p].resource_type]\n",
    );
    let r = run(&[a, b, main, own, input], &["test", "-p", "p", "a.json"]);
    assert_run(
        &r,
        1,
        "",
        "Error: running test: load: loading policies: get compiler: 1 error occurred: p/lib.rego:3: rego_recursion_error: rule data.rules.report is recursive: data.rules.report -> data.rules.report\n",
    );
    // Inside one of those packages (regorus used to leave that package out), and a test
    // there that reads the report (regorus used to see a recursion).
    let inside = (
        "p/a.rego",
        "package rules.a\n\nresource_type := \"x\"\n\nreport := [p | data.rules[p].resource_type]\n",
    );
    let main_inside = (
        "p/main.rego",
        "package main\n\ndeny contains msg if {\n\tmsg := sprintf(\"%v\", [data.rules.a.report])\n}\n",
    );
    let r = run(
        &[inside, b, main_inside, input],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - a.json - main - [\"a\", \"b\"]\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
    let test_b = (
        "p/b.rego",
        "package rules.b\n\nresource_type := \"y\"\n\ntest_report if data.lib.report == [\"a\", \"b\"]\n",
    );
    let r = run(&[a, test_b, lib], &["verify", "-p", "p"]);
    assert_run(
        &r,
        0,
        "\n1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n",
        "",
    );
}

/// `walk` is a relation: `[path, value] = walk(x)` and `:=` give every pair, as the
/// output-argument form does (OPA); a `some` before it changes nothing.
#[test]
fn walk_in_assignment_form() {
    let policy = "package main\n\ncfg := {\"r\": {\"s\": [1]}}\n\ndeny contains sprintf(\"h1 %v\", [a]) if a := [k | [k, v] = walk(cfg)]\n\ndeny contains sprintf(\"h2 %v\", [a]) if a := [k | [k, v] := walk(cfg); count(k) > 1]\n\ndeny contains sprintf(\"h3 %v\", [a]) if a := [x | x := walk(cfg)]\n\ndeny contains sprintf(\"h4 %v\", [a]) if a := [k | some k; walk(cfg, [k, v]); v[_] == 1]\n";
    let r = run(
        &[("p/p.rego", policy), ("a.json", "{}\n")],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - a.json - main - h1 [[], [\"r\"], [\"r\", \"s\"], [\"r\", \"s\", 0]]\nFAIL - a.json - main - h2 [[\"r\", \"s\"], [\"r\", \"s\", 0]]\nFAIL - a.json - main - h3 [[[], {\"r\": {\"s\": [1]}}], [[\"r\"], {\"s\": [1]}], [[\"r\", \"s\"], [1]], [[\"r\", \"s\", 0], 1]]\nFAIL - a.json - main - h4 [[\"r\", \"s\"]]\n\n4 tests, 0 passed, 0 warnings, 4 failures, 0 exceptions\n",
        "",
    );
}

/// A function of the user's called with an output argument (`lib.empty(xs, ok)`, also
/// with `with`), and a comprehension's `some` local named like an import alias.
#[test]
fn user_function_outputs_and_locals_shadowing_imports() {
    let lib = "package lib\n\nimport rego.v1\n\nempty(xs) if count(xs) == 0\n\nparse(s) := {\"ref\": s}\n";
    let main = "package main\n\nimport data.lib\nimport data.lib.parse as image\nimport rego.v1\n\ndeny contains sprintf(\"empty: %v\", [ok]) if {\n\tlib.empty(input.xs, ok) with input.unused as 1\n}\n\ndeny contains sprintf(\"refs: %v\", [refs]) if {\n\ta := image(input.x)\n\trefs := [image | some image in input.refs; image != a.ref]\n}\n";
    let r = run(
        &[
            ("p/lib.rego", lib),
            ("p/main.rego", main),
            (
                "a.json",
                "{\"xs\": [], \"x\": \"a\", \"refs\": [\"a\", \"b\"]}\n",
            ),
        ],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - a.json - main - empty: true\nFAIL - a.json - main - refs: [\"b\"]\n\n2 tests, 0 passed, 0 warnings, 2 failures, 0 exceptions\n",
        "",
    );
}

/// S15 ("loop hoisting table out of bounds", "recursion detected" in real rule sets):
/// a function with clauses in two files of one package, one using an import; and a test
/// that reaches a package through an import alias while another package below that
/// alias reads the test's own package.
#[test]
fn functions_across_files_and_import_aliases() {
    let r = run(
        &[
            ("p/a.rego", "package f\n\ncheck(_, _) {\n  true\n}\n"),
            (
                "p/b.rego",
                "package f\n\nimport data.lib\n\ncheck(r, ids) {\n  lib.mode == \"strict\"\n  r.resources[rr]\n  ids[id]\n  regex.match(id, rr.id)\n}\n",
            ),
            ("p/lib.rego", "package lib\n\nmode := \"strict\"\n"),
            (
                "p/t_test.rego",
                "package t\n\ntest_x {\n  r := {\"resources\": {{\"id\": \"sg-1\"}}}\n  data.f.check(r, {\"^sg-[0-9]+$\"})\n}\n",
            ),
        ],
        &["verify", "--rego-version", "v0", "-p", "p"],
    );
    assert_run(
        &r,
        0,
        "\n1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n",
        "",
    );
    let r = run(
        &[
            ("p/fug.rego", "package fug\n\na := 1\n"),
            ("p/sub.rego", "package fug.sub\n\nr := count(data.t)\n"),
            (
                "p/t_test.rego",
                "package t\n\nimport rego.v1\nimport data.fug\n\nmarker := 1\n\ntest_a if fug.a == 1\n",
            ),
        ],
        &["verify", "-p", "p"],
    );
    assert_run(
        &r,
        0,
        "\n1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n",
        "",
    );
}

/// Helper functions regorun appends (`%v`'s printing, routed built-ins) are defined once
/// per package: copies in two files of one package ran with the first file's tables, so
/// a large test file calling `sprintf("%v", ...)` stopped with "loop hoisting table out
/// of bounds" (gatekeeper-library's containerresourceratios). Both paths, a routed
/// built-in (`to_number`) called from both files too.
#[test]
fn appended_helpers_are_defined_once_per_package() {
    let rules: String = (0..150)
        .map(|i| {
            format!(
                "r{i} := [x | some x in numbers.range(1, {}); x > 0]\n",
                i % 5 + 2
            )
        })
        .collect();
    let test = format!(
        "package main\n\n{rules}\ntest_label if {{\n\tlabel({{\"a\": [1]}}) == \"<{{\\\"a\\\": [1]}}>\"\n\tsprintf(\"%v\", [{{\"b\": set()}}]) == \"{{\\\"b\\\": set()}}\"\n\tto_number(\"3\") == half(\"6\")\n}}\n"
    );
    let files = [
        (
            "p/a.rego",
            "package main\n\nlabel(x) := sprintf(\"<%v>\", [x])\n\nhalf(x) := to_number(x) / 2\n",
        ),
        ("p/b_test.rego", test.as_str()),
    ];
    for rvm in ["1", "0"] {
        let dir = common::scratch(&files);
        let r = common::run_with(
            dir.path().to_str().expect("utf-8"),
            &["verify", "--no-color", "-p", "p"],
            &[("REGORUN_RVM", rvm)],
            None,
        );
        assert_run(
            &r,
            0,
            "\n1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n",
            "",
        );
    }
}

/// After the rewrites of walk, template strings, rebound comprehension variables and
/// import aliases, `print()` and `--trace` name the user's lines, with the user's text.
#[test]
fn rewritten_lines_print_and_trace_as_written() {
    let main = "package main\n\nimport data.lib\n\ndeny contains msg if {\n\tpaths := [p | [p, v] = walk(input); v == 1]\n\tprint($\"mode {lib.mode}\")\n\tn := 1\n\tnames := [n | some i; input.xs[i] == n; n := input.ys[i]]\n\tprint(\"names\", names, \"paths\", paths)\n\tmsg := $\"bad {count(paths)}\"\n}\n";
    let files = [
        ("p/lib.rego", "package lib\n\nmode := \"strict\"\n"),
        ("p/main.rego", main),
        ("a.json", "{\"a\": 1, \"xs\": [1], \"ys\": [\"y\"]}\n"),
    ];
    let r = run(&files, &["test", "-p", "p", "a.json"]);
    assert_run(
        &r,
        1,
        "PRNT   p/main.rego:7: mode strict\n\nPRNT   p/main.rego:10: names [\"y\"] paths [[\"a\"], [\"xs\", 0]]\n\nFAIL - a.json - main - bad 2\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
    let r = run(&files, &["test", "--trace", "-p", "p", "a.json"]);
    for (line, text) in main.lines().enumerate().skip(5).take(6) {
        let want = format!("| Eval p/main.rego:{}: {}\n", line + 1, text.trim());
        assert!(r.stdout.contains(&want), "{want}in\n{}", r.stdout);
    }
}

/// S7: `with x as v` where `x` is a rule of the same package replaces the rule, as in OPA
/// (regorus reported an undefined rule); a function mock and the unreplaced rule keep
/// their values. Replacing part of a rule (`with obj.a as 3`) stays regorus's error.
#[test]
fn with_replaces_a_rule_of_the_same_package() {
    let policy = "package c\n\nimport rego.v1\n\nx := 1\n\ny := x\n\nf(v) := v + 1\n\nmock_f(v) := v * 10\n\ng := f(2)\n\ntest_rule if {\n\ty == 2 with x as 2\n}\n\ntest_function if {\n\tg == 20 with f as mock_f\n}\n\ntest_unreplaced if {\n\ty == 1\n}\n";
    let r = run(&[("p/p_test.rego", policy)], &["verify", "-p", "p"]);
    assert_run(
        &r,
        0,
        "\n3 tests, 3 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n",
        "",
    );
    let part = "package c\n\nimport rego.v1\n\nobj := {\"a\": 1}\n\nz := obj.a\n\ntest_part if {\n\tz == 3 with obj.a as 3\n}\n";
    let r = run(&[("p/p_test.rego", part)], &["verify", "-p", "p"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("Error: "), "{}", r.stderr);
}

/// `sprintf` with fewer values than verbs: OPA prints `%!v(MISSING)` for each verb without
/// a value; regorus gave no value, so the deny message vanished (a silent pass). Output as
/// the OPA peer printed it.
#[test]
fn sprintf_missing_values_print_as_in_go() {
    let policy = "package main\n\nimport rego.v1\n\ndeny contains sprintf(\"a %v %v\", [1])\n\ndeny contains sprintf(\"b %s and %5d and %.2f\", [])\n\ndeny contains sprintf(`c %v %q`, [\"x\",])\n\ndeny contains sprintf(\"e 100%% %v\", [1])\n";
    let r = run(
        &[("p/p.rego", policy), ("in.json", "{}")],
        &["test", "-p", "p", "in.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - in.json - main - a 1 %!v(MISSING)\nFAIL - in.json - main - b %!s(MISSING) and %!d(MISSING) and %!f(MISSING)\nFAIL - in.json - main - c x %!q(MISSING)\nFAIL - in.json - main - e 100% 1\n\n4 tests, 0 passed, 0 warnings, 4 failures, 0 exceptions\n",
        "",
    );
}

/// A set rule whose element calls a built-in regorun adds, undefined for some elements
/// (`crypto.md5` of a number): those elements are left out, as in OPA, instead of the run
/// stopping with regorus's "not an object", in Rego v1 (`if {`, `if cond`) and v0
/// (`deny[...] {`); lines below a multi-line element keep their numbers.
#[test]
fn undefined_added_builtins_in_set_heads_leave_the_element_out() {
    let policy = "package main\n\nimport rego.v1\n\ndeny contains concat(\" \", [\n\tformat_int(i, 10),\n\tcrypto.md5(t),\n]) if {\n\tsome i, t in input.t\n}\n\nwarn contains crypto.sha1(t) if some t in input.t\n\nviolation contains x if {\n\tx := 1\n\tprint(\"line 16\")\n\tfalse\n}\n";
    let files = [("p/p.rego", policy), ("in.json", "{\"t\": [1, \"a\", 2]}")];
    let r = run(&files, &["test", "-p", "p", "in.json"]);
    assert_run(
        &r,
        1,
        "PRNT   p/p.rego:16: line 16\n\nWARN - in.json - main - 86f7e437faa5a7fce15d1ddcb9eaeaea377667b8\nFAIL - in.json - main - 1 0cc175b9c0f1b6a831c399e269772661\n\n3 tests, 1 passed, 1 warning, 1 failure, 0 exceptions\n",
        "",
    );
    let r = run(&files, &["verify", "-p", "p"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v0 = "package main\n\ndeny[crypto.md5(t)] {\n\tt := input.t[_]\n}\n";
    let files = [("p/p.rego", v0), ("in.json", "{\"t\": [1, \"a\"]}")];
    let r = run(
        &files,
        &["test", "--rego-version", "v0", "-p", "p", "in.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - in.json - main - 0cc175b9c0f1b6a831c399e269772661\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
}

/// An output argument of a built-in call written over several lines (OPA's own
/// `jwtencodesign/EdDSA` case has this shape): the call loads and binds it, and the lines
/// after it keep their numbers (the error names line 14).
#[test]
fn output_argument_of_a_call_over_several_lines() {
    let policy = "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tconcat(\n\t\t\"-\",\n\t\t[\"a\", \"b\"],\n\t\tmsg,\n\t)\n}\n\nwarn contains y if {\n\ty := concat(\"\", [input.x, \"s\"])\n}\n";
    let r = run(
        &[("p/p.rego", policy), ("a.json", "{\"x\": \"t\"}\n")],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "WARN - a.json - main - ts\nFAIL - a.json - main - a-b\n\n2 tests, 0 passed, 1 warning, 1 failure, 0 exceptions\n",
        "",
    );
    let r = run(
        &[("p/p.rego", policy), ("a.json", "{\"x\": 5}\n")],
        &["test", "--show-builtin-errors", "-p", "p", "a.json"],
    );
    assert!(r.stderr.contains("p/p.rego:14:"), "{}", r.stderr);
}

/// A complete rule whose one definition binds its value more than once is OPA's
/// `eval_conflict_error` (OPA's `completedoc/vars conflict` case) on both paths; the
/// bytecode VM used to keep one of the values silently.
#[test]
fn one_definition_with_several_values_is_a_conflict() {
    let policy = "package main\n\nimport rego.v1\n\np := {\"a\": [x, y]} if {\n\txs = [1, 2]\n\tx = xs[_]\n\ty = xs[_]\n}\n\ndeny contains sprintf(\"%v\", [p])\n";
    let r = run(
        &[("p/p.rego", policy), ("a.json", "{}\n")],
        &["test", "-p", "p", "a.json"],
    );
    assert_run(
        &r,
        1,
        "",
        "Error: running test: query rule: check: query rule: p/p.rego:5: eval_conflict_error: complete rules must not produce multiple outputs\n",
    );
}

/// A v0 function with clauses in two files, in a file that imports only
/// `future.keywords.in`: the delegating clause regorun appends is in the v0 form, so
/// nothing is printed about `if` (it used to be written with `if`, which that file does
/// not import).
#[test]
fn split_v0_function_without_the_if_keyword() {
    let a = "package main\n\nimport future.keywords.in\n\nf(x) = 1 { x == 1 }\n\ndeny[msg] { some v in [1]; f(v) == 1; msg := \"one\" }\n";
    let b = "package main\n\nf(x) = 2 { x == 2 }\n";
    let r = run(
        &[("p/a.rego", a), ("p/b.rego", b), ("in.json", "{}\n")],
        &["test", "--rego-version", "v0", "-p", "p", "in.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - in.json - main - one\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
}

/// A package read whole is an object of its defined rules only, as in OPA: the bytecode
/// VM kept undefined rules in it (counted, listed by `object.keys`, printed as
/// `#undefined`), so such policies are evaluated by the interpreter.
#[test]
fn a_package_read_whole_leaves_out_undefined_rules() {
    let lib = "package lib

foo := units.parse_bytes(\"1KB\")
bar := to_number(\"abc\")
baz := input.missing if true
";
    let main = "package main

deny contains sprintf(\"count %v\", [count(x)]) if x := data.lib
deny contains sprintf(\"keys %v\", [object.keys(data.lib)])
deny contains sprintf(\"whole %v\", [data.lib])
";
    let r = run(
        &[
            ("policy/lib.rego", lib),
            ("policy/main.rego", main),
            ("in.json", "{}"),
        ],
        &["test", "in.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - in.json - main - count 1
FAIL - in.json - main - keys {\"foo\"}
FAIL - in.json - main - whole {\"foo\": 1000}

3 tests, 0 passed, 0 warnings, 3 failures, 0 exceptions
",
        "",
    );
}

/// A `default` function under a reference head (`default p.q.r.f(x) := 100`) makes its
/// prefix part of the package document, as any function's reference does in OPA, also
/// when no other rule defines the function; its calls give the default. Expected: the OPA
/// peer's output for these files.
#[test]
fn default_functions_under_reference_heads_make_their_prefix() {
    let lib = "package lib

default p.q.r.f(x) := 100

default s.t(_) := {\"a\": 1}

s.t(1) := {\"b\": 2}

default g(x) := 3
";
    let main = "package main

deny contains sprintf(\"whole %v\", [data.lib])
deny contains sprintf(\"calls %v %v %v %v\", [data.lib.p.q.r.f(3), data.lib.s.t(1), data.lib.s.t(2), data.lib.g(0)])
deny contains sprintf(\"prefix %v\", [data.lib.p.q])
";
    let r = run(
        &[
            ("policy/lib.rego", lib),
            ("policy/main.rego", main),
            ("in.json", "{}"),
        ],
        &["test", "in.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - in.json - main - calls 100 {\"b\": 2} {\"a\": 1} 3
FAIL - in.json - main - prefix {\"r\": {}}
FAIL - in.json - main - whole {\"p\": {\"q\": {\"r\": {}}}, \"s\": {}}

3 tests, 0 passed, 0 warnings, 3 failures, 0 exceptions
",
        "",
    );
}

/// A call of a function that no rule defines and no built-in provides is OPA's load-time
/// type error, each named at its line, as the OPA peer reported them for this policy; it
/// no longer passes silently when its rule is not evaluated. A built-in regorus lacks and
/// regorun adds (`rego.parse_module`) loads.
#[test]
fn undefined_functions_are_load_errors() {
    let main = "package main

import data.lib

deny contains msg if {
\tinput.x
\tmsg := fooo(input.y)
}
deny contains msg if {
\tinput.x
\tmsg := io.jwt.decod(input.y)
}
deny contains msg if {
\tinput.x
\tmsg := lib.nothere(input.y)
}
deny contains msg if {
\tinput.x
\tmsg := data.lib.gone(input.y)
}
deny contains msg if {
\tinput.x
\tmsg := lib.f(set())
}
deny contains msg if {
\tinput.x
\tmsg := rego.parse_module(\"p.rego\", input.y)
}
";
    let lib = "package lib\n\nf(x) := x\n";
    let files = [
        ("policy/main.rego", main),
        ("policy/lib.rego", lib),
        ("in.json", "{}"),
    ];
    for (cmd, what) in [
        (&["test", "in.json"][..], "running test"),
        (&["verify"][..], "running verification"),
    ] {
        let r = run(&files, cmd);
        let errors = "load: loading policies: get compiler: 4 errors occurred:
policy/main.rego:7: rego_type_error: undefined function fooo
policy/main.rego:11: rego_type_error: undefined function io.jwt.decod
policy/main.rego:15: rego_type_error: undefined function data.lib.nothere
policy/main.rego:19: rego_type_error: undefined function data.lib.gone
";
        assert_run(&r, 1, "", &format!("Error: {what}: {errors}"));
    }
}

/// A call with a wrong number of arguments is a load-time type error at its line, as the
/// OPA peer reported for this policy: a user function's text is OPA's; for a built-in the
/// first line is OPA's (`count: arity mismatch`) and OPA's `have:`/`want:` type lines are
/// left out. One argument more is an output, except where the call is a value (`y :=
/// time.now_ns(1)`); a trailing comma is no argument.
#[test]
fn wrong_arity_is_a_load_error() {
    let policy = "package main

f(x) := x

deny contains \"a\" if {
\tinput.x
\tcount(input.y, 1, 2)
}
deny contains \"b\" if {
\tinput.x
\tx := 1
\tconcat(x)
}
deny contains \"c\" if {
\tinput.x
\tf(1, 2, 3)
}
deny contains \"d\" if {
\tinput.x
\ty := sprintf(\"a\")
}
deny contains \"e\" if {
\tinput.x
\ty := time.now_ns(1)
}
deny contains \"fine\" if {
\tinput.x
\tcount(input.y, n)
\tf(n, m)
\tm == concat(\"}\", [\"(\"],)
}
";
    let r = run(
        &[("policy/p.rego", policy), ("in.json", "{}")],
        &["test", "in.json"],
    );
    assert_run(
        &r,
        1,
        "",
        "Error: running test: load: loading policies: get compiler: 5 errors occurred:
policy/p.rego:7: rego_type_error: count: arity mismatch
policy/p.rego:12: rego_type_error: concat: arity mismatch
policy/p.rego:16: rego_type_error: function data.main.f has arity 1, got 3 arguments
policy/p.rego:20: rego_type_error: sprintf: arity mismatch
policy/p.rego:24: rego_type_error: time.now_ns: arity mismatch
",
    );
}

/// A built-in called with a literal of a kind its parameter refuses (`upper(1)`) is OPA's
/// load-time type error, in OPA's words (`have` from the literals, `any` for `input`,
/// `???` for the output; `want` the signature OPA gives), also for a built-in regorun
/// routes through an appended function (`ceil`) and under `not`; literals the parameter
/// accepts load. Expected: the OPA peer's errors for this policy (OPA 1.20).
#[test]
fn literal_arguments_of_a_refused_kind_are_load_errors() {
    let policy = "package main

import rego.v1

deny contains msg if {
\tmsg := upper(1)
}

deny contains msg if {
\tstartswith(input.name, 1)
\tmsg := concat(\",\", {\"a\": [true]})
}

deny contains msg if {
\tx := ceil(\"1.5\")
\tmsg := sprintf(\"%v %v\", [x, count(input.items)])
\tnot endswith(input.name, null)
}

ok contains time.format([0, \"UTC\"])

ok contains count({1, \"a\"})

ok contains object.get({\"a\": 1}, \"a\", 0)
";
    // A policy that does not load: no output, exit 1, OPA's errors on stderr.
    let refused = |policy: &str, stderr: &str| {
        let r = run(
            &[("policy/p.rego", policy), ("in.json", "{}")],
            &["test", "in.json"],
        );
        assert_run(&r, 1, "", stderr);
    };
    refused(
        policy,
        "Error: running test: load: loading policies: get compiler: 5 errors occurred:
policy/p.rego:6: rego_type_error: upper: invalid argument(s)
\thave: (number, ???)
\twant: (x: string, y: string)
policy/p.rego:10: rego_type_error: startswith: invalid argument(s)
\thave: (any, number)
\twant: (search: string, base: string, result: boolean)
policy/p.rego:11: rego_type_error: concat: invalid argument(s)
\thave: (string, object<a: array<boolean>>, ???)
\twant: (delimiter: string, collection: any<array[string], set[string]>, output: string)
policy/p.rego:15: rego_type_error: ceil: invalid argument(s)
\thave: (string, ???)
\twant: (x: number, y: number)
policy/p.rego:17: rego_type_error: endswith: invalid argument(s)
\thave: (any, null)
\twant: (search: string, base: string, result: boolean)
",
    );
    // `contains` as the built-in (not a rule head's keyword) is checked too.
    refused(
        "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tnot contains(input.name, \"x\")\n\tx := contains(input.name, null)\n\tmsg := sprintf(\"%v\", [x])\n}\n\np contains 1\n",
        "Error: running test: load: loading policies: get compiler: 1 error occurred: policy/p.rego:7: rego_type_error: contains: invalid argument(s)
\thave: (any, null, ???)
\twant: (haystack: string, needle: string, result: boolean)
",
    );
    // A variable the rule assigns a literal has the literal's type, as OPA infers it.
    refused(
        "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tx := 1\n\tmsg := upper(x)\n}\n",
        "Error: running test: load: loading policies: get compiler: 1 error occurred: policy/p.rego:7: rego_type_error: upper: invalid argument(s)
\thave: (number, ???)
\twant: (x: string, y: string)
",
    );
    // The same policy without the refused literals loads and runs.
    let fixed = policy
        .replace("upper(1)", "upper(\"a\")")
        .replace("startswith(input.name, 1)", "startswith(input.name, \"x\")")
        .replace("{\"a\": [true]}", "{\"a\"}")
        .replace("ceil(\"1.5\")", "ceil(1.5)")
        .replace("endswith(input.name, null)", "endswith(input.name, \"z\")");
    let r = run(
        &[
            ("policy/p.rego", &fixed),
            ("in.json", r#"{"name": "xy", "items": [1]}"#),
        ],
        &["test", "in.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - in.json - main - 2 1
FAIL - in.json - main - A
FAIL - in.json - main - a

3 tests, 0 passed, 0 warnings, 3 failures, 0 exceptions
",
        "",
    );
}

/// A parse error on a line the load-time rewrites changed quotes the user's line, with the
/// caret under the user's column, not the rewritten text (`__regorun_lower(...)`).
#[test]
fn parse_errors_quote_the_users_line() {
    let policy = "package main\n\nimport rego.v1\n\ndeny contains x if {\n\tx := sprintf(\"%s\", [lower(input.a)]) +\n}\n";
    let r = run(
        &[("p/p.rego", policy), ("in.json", "{}")],
        &["test", "-p", "p", "in.json"],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.ends_with(
            "p/p.rego:6: rego_parse_error: expecting `}` while parsing set\n\tx := sprintf(\"%s\", [lower(input.a)]) +\n\t     ^\n"
        ),
        "{}",
        r.stderr
    );
}

/// regorus's parser takes twice as long for each level of bracket nesting (24 levels took
/// eleven seconds): a policy nesting deeper than 20 is a load error naming its line, never
/// a hang; the same depth of JSON literal is read as JSON text and loads at once.
#[test]
fn too_deep_nesting_is_a_load_error() {
    let deep = |inner: &str| {
        format!(
            "package main\n\nimport rego.v1\n\ndeny contains \"x\" if {{\n\tx := {}{inner}{}\n\tx\n}}\n",
            "[".repeat(30),
            "]".repeat(30)
        )
    };
    let hostile = deep("input.a");
    let r = run(
        &[("p.rego", hostile.as_str()), ("in.json", "{}")],
        &["test", "-p", "p.rego", "in.json"],
    );
    assert_run(
        &r,
        1,
        "",
        "Error: running test: load: loading policies: p.rego:6: brackets nested 21 levels deep are more than regorus parses in reasonable time (its parser takes twice as long for each level; at most 20; OPA loads it): move the value into a --data document, or build it in steps\n",
    );
    let json = deep("1");
    let r = run(
        &[("p.rego", json.as_str()), ("in.json", "{}")],
        &["test", "-p", "p.rego", "in.json"],
    );
    assert_run(
        &r,
        1,
        "FAIL - in.json - main - x\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
        "",
    );
}
