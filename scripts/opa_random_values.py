#!/usr/bin/env python3
"""Compares `glob.match` and `yaml.marshal` with OPA's on random arguments: each case is
asked of OPA (the peer's Python bindings) and of the regorun binary (`target/release`), on
the bytecode path and on the interpreter. Prints the cases that differ, then the count.

    $HOME/.cache/opa-peer/bin/python scripts/opa_random_values.py glob [--seed N] [--cases N]
    $HOME/.cache/opa-peer/bin/python scripts/opa_random_values.py yaml [--seed N] [--cases N]
    $HOME/.cache/opa-peer/bin/python scripts/opa_random_values.py glob-vm [--seed N] [--cases N]
    $HOME/.cache/opa-peer/bin/python scripts/opa_random_values.py graphql [--seed N] [--cases N]

glob-vm: patterns of `*` and plain text with plain delimiters (what the bytecode VM may keep
with regorus's own `glob.match`), each case in a run of its own, so that one case's syntax
cannot send the others to the interpreter.

graphql: query and schema documents with comments between random tokens, parsed by
`graphql.parse_query` or `graphql.parse_schema` (where comments land in the AST).

glob: patterns of gobwas/glob syntax (`*`, `**`, `?`, ranges, lists, alternatives, escapes)
over ASCII and non-ASCII text, with `[]`, `null` and one- or two-character delimiters. OPA
keeps up to 100 compiled patterns under the text "pattern-delimiters", so two cases whose
texts collide (`-` with `null`, `` with `["-"]`) share an answer there: such cases are
counted apart. yaml: nested values holding strings that read back as other YAML 1.1 types,
quotes, indicators, line and paragraph separators, NELs, long lines and floats (keys hold
no NEL, values no DEL: those are go-yaml read errors, which stop OPA's whole evaluation).
"""

import argparse
import json
import os
import random
import subprocess
import tempfile

from opa_bindings import OpaEngine
from opa_bindings.engine import OpaError

# REGORUN_BIN: another build to compare (an older one shows what changed).
REGORUN = os.environ.get("REGORUN_BIN") or os.path.join(os.path.dirname(__file__), "..", "target", "release", "regorun")
GLOB_TOKENS = ["a", "b", "ab", ".", ":", "/", "-", "é", "*", "**", "?", "[ab]", "[!a]", "[a-c]",
               "{a,b}", "{a*,b}", "{,a}", "\\*", "]", "}", ",", "{a.b,a?}", "[é]", "[!.]"]
GLOB_DELIMITERS = [[], ["."], [":"], None, [".", ":"], ["/"], ["é"], ["-"], [".", "/"], ["_"]]
YAML_ATOMS = ["a", "b c", "yes", "No", "~", "null", "1", "1.5", "-", "- x", "a: b", "#", "x #y",
              "'", '"', "\\", "\t", " ", "é", "日本", "@", "`", "!", "%", "&", "*", "?", "|", ">",
              "[", "]", "{", "}", ",", ":", "\n", "\r", "\u0085", "\u2028", "0x10", "1e3",
              "2021-01-01", "2021-1-2 3:4:5", "1:20", ".5", "+1", "<<", "=", "0o7", "012",
              "0b11", "true", "off", "Y", "..."]


def glob_case(rng):
    pattern = "".join(rng.choice(GLOB_TOKENS) for _ in range(rng.randint(0, 5)))
    value = "".join(rng.choice("ab.:/-é_") for _ in range(rng.randint(0, 6)))
    if rng.random() < 0.5:  # a value shaped like the pattern
        value = pattern
        for old, new in [("**", rng.choice(["", "a.b"])), ("*", rng.choice(["", "ab", "a.b"])),
                         ("?", rng.choice(["a", "é", ""]))]:
            value = value.replace(old, new)
        value = "".join(c for c in value if c not in "[]{}!\\")
    return [pattern, rng.choice(GLOB_DELIMITERS), value]


VM_TOKENS = ["a", "b", "ab", ".", "/", "-", "*"]
VM_DELIMITERS = [[], ["."], None, ["/"], ["-"], [".", "/"]]


def glob_vm_case(rng):
    pattern = "".join(rng.choice(VM_TOKENS) for _ in range(rng.randint(0, 5)))
    while "**" in pattern:
        pattern = pattern.replace("**", "*")
    value = "".join(rng.choice("ab./-") for _ in range(rng.randint(0, 6)))
    if rng.random() < 0.5:  # a value shaped like the pattern
        value = pattern.replace("*", rng.choice(["", "a", "a.b"]))
        if value and rng.random() < 0.5:  # shorter than the pattern's text: overlaps
            i = rng.randrange(len(value))
            value = value[:i] + value[i + 1:]
    if rng.random() < 0.25:  # text before and after a `*` that overlap in the value
        value = "".join(rng.choice("ab./-") for _ in range(rng.randint(1, 4)))
        i = rng.randrange(len(value))
        pattern = value[:rng.randint(i + 1, len(value))] + "*" + value[i:]
    return [pattern, rng.choice(VM_DELIMITERS), value]


GQL_QUERIES = ["{ a }", "query Q($v: Int = 1) { a(x: $v) { b c } }", "{ a(x: [1, {k: \"s\"}]) @d(e: E) }",
               "mutation M { m }", "fragment F on T { a ...G ... on U { b } }", "subscription { s }",
               "query { a { ...F } }", "{ a: b(c: null, d: true, e: 1.5) }"]
GQL_SCHEMAS = ["type Q { a(x: Int = 1): String @deprecated }", "enum E { A B }", "input I { a: Int }",
               "interface N { id: ID! }", "union U = A | B", "scalar S", "schema { query: Q }",
               "extend type Q { b: Int }", "directive @d(a: Int) on FIELD", "\"desc\" type D { a: Int }"]


def graphql_case(rng):
    """A GraphQL document (query or schema) with comments between random tokens."""
    schema = rng.random() < 0.5
    text = " ".join(rng.choice(GQL_SCHEMAS if schema else GQL_QUERIES)
                    for _ in range(rng.randint(1, 3)))
    out = []
    for token in text.split(" "):
        if rng.random() < 0.3:
            out.append("\n# c%d\n" % rng.randint(0, 9))
        out.append(token)
    if rng.random() < 0.3:
        out.append("\n# end")
    return ["parse_schema" if schema else "parse_query", " ".join(out)]


def yaml_value(rng, depth=0):
    def text():
        return "".join(rng.choice(YAML_ATOMS) for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 12, 30])))
    r = rng.random()
    if depth > 3 or r < 0.5:
        c = rng.random()
        if c < 0.6:
            return text()
        if c < 0.8:
            return rng.choice([0, 1, -5, 10**6, 2**40, 1.5, 0.1, 1e-5, 1e21, 123456.789, -0.0, 1e6 + 0.5])
        return rng.choice([None, True, False])
    if r < 0.75:
        return [yaml_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {text().replace("\u0085", "N"): yaml_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def opa_answers(kind, cases):
    engine = OpaEngine()
    out = []
    for case in cases:
        if kind == "graphql":
            src = "r := graphql.%s(%s)" % (case[0], json.dumps(case[1]))
        elif kind.startswith("glob"):
            src = "r := glob.match(%s, %s, %s)" % tuple(json.dumps(x) for x in case)
        else:
            src = "r := yaml.marshal(%s)" % json.dumps(case)
        engine.add_policy("p.rego", "package p\nimport rego.v1\n" + src + "\n")
        try:
            rs = engine.eval_query("x := data.p.r")
            out.append(rs[0]["x"] if rs else None)
        except OpaError:
            out.append(None)
    engine.close()
    return out


def regorun_answers(kind, cases, rvm):
    if kind == "glob-vm":
        return [regorun_answers("glob", [c], rvm)[0] for c in cases]
    root = tempfile.mkdtemp()
    os.makedirs(os.path.join(root, "policy"))
    if kind == "graphql":
        rules = "".join('deny contains {"msg": "m", "i": %d, "v": graphql.%s(%s)}\n'
                        % (i, c[0], json.dumps(c[1])) for i, c in enumerate(cases))
        document = {}
    elif kind == "glob":
        rules = "".join('deny contains {"msg": "m", "i": %d, "v": glob.match(%s, %s, %s)}\n'
                        % ((i,) + tuple(json.dumps(x) for x in c)) for i, c in enumerate(cases))
        document = {}
    else:
        rules = 'deny contains {"msg": "m", "i": i, "v": yaml.marshal(v)} if some i, v in input.values\n'
        document = {"values": cases}
    with open(os.path.join(root, "policy", "p.rego"), "w") as f:
        f.write("package main\nimport rego.v1\n" + rules)
    with open(os.path.join(root, "in.json"), "w") as f:
        json.dump(document, f)
    run = subprocess.run([os.path.abspath(REGORUN), "test", "-o", "json", "--no-color", "-p",
                          "policy", "in.json"], cwd=root, capture_output=True, text=True,
                         env=dict(os.environ, REGORUN_RVM=rvm))
    got = {}
    for result in json.loads(run.stdout):
        for failure in result.get("failures") or []:
            md = failure.get("metadata") or {}
            got[md.get("i")] = md.get("v")
    return [got.get(i) for i in range(len(cases))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["glob", "glob-vm", "graphql", "yaml"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=500)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    make = {"glob": glob_case, "glob-vm": glob_vm_case, "graphql": graphql_case,
            "yaml": yaml_value}[a.kind]
    cases = [make(rng) for _ in range(a.cases)]
    opa = opa_answers(a.kind, cases)
    ids = {}
    for c in cases:  # OPA's glob cache key
        if a.kind.startswith("glob"):
            ids.setdefault(c[0] + "-" + "".join(c[1] or []), set()).add(json.dumps(c[:2]))
    differ = collided = 0
    for rvm in ["1", "0"]:
        ours = regorun_answers(a.kind, cases, rvm)
        for c, o, g in zip(cases, opa, ours):
            if o == g:
                continue
            if a.kind.startswith("glob") and len(ids[c[0] + "-" + "".join(c[1] or [])]) > 1:
                collided += 1
                continue
            differ += 1
            print("REGORUN_RVM=%s" % rvm, json.dumps(c, ensure_ascii=False)[:300], "opa", json.dumps(o)[:300], "regorun", json.dumps(g)[:300])
    print("%d cases, both paths: %d differ, %d apart (OPA's cache keys collide)" % (a.cases, differ, collided))


if __name__ == "__main__":
    main()
