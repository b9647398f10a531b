#!/usr/bin/env python3
"""Asks OPA how each of regorus's built-ins answers an operand of the wrong type, and either
compares regorun with it or writes the table regorun checks operands with.

Every built-in of regorus 0.14 (src/engine/builtins/native.rs) is called with each operand in
turn replaced by a probe (null, true, 1, 1.5, "a", [1], ["a"], [0, "UTC"], {"a": 1}, [], {},
and sets of 1 and "a"), the other operands holding values OPA accepts. The values come from
`input`, so OPA's type checker lets the call through and the built-in's own runtime check
answers (a set comes from a comprehension, which the checker may refuse: such probes are left
out).

    $HOME/.cache/opa-peer/bin/python scripts/opa_operand_errors.py compare [-v] [--lenient] [--edge]
    $HOME/.cache/opa-peer/bin/python scripts/opa_operand_errors.py write

compare: runs each probe through the regorun binary (`test --show-builtin-errors`) and counts
the probes whose value, or error text, is OPA's. write: writes
src/engine/builtins/operand_types.rs from OPA's `eval_type_error` texts: per built-in and
operand, the kinds it refuses with "operand N must be W but got K", whether it refuses a
number with a fraction, and which element kind its arrays or sets must hold.
"""

import argparse
import concurrent.futures
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile

from opa_bindings import OpaEngine
from opa_bindings.engine import OpaError

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
REGORUN = os.environ.get("REGORUN_BIN") or os.path.join(ROOT, "target", "release", "regorun")
KINDS = ["string", "number", "boolean", "null", "array", "object", "set"]
VALID = {"string": ["a", "1", "2006-01-02T15:04:05Z", "10.0.0.0/8"], "number": [1, 0, 2], "boolean": [True],
         "null": [None], "array": [["a"], [1]], "object": [{"a": "b"}], "set": []}
PROBES = [None, True, 1, 1.5, "a", [1], ["a"], [0, "UTC"], {"a": 1}, [], {}, {"set": [1]},
          {"set": ["a"]}]
# --edge: values of the accepted kinds that built-ins often treat specially.
EDGE = ["", " ", "é", "A-b_c", "-1", "1.5", "aGk=", "10.0.0.0/8", "::1", "2006-01-02T15:04:05Z",
        '{"a":1}', "a,b", "%zz", 0, -1, -0.5, 255, 1e21, 9007199254740993, [[1]], [1, 2, 3],
        ["b", "a"], {"a": 1, "b": "x"}, {"set": [3, 1]}]
# Built-ins whose work grows with a number operand (OPA took all memory for a huge one).
BY_COUNT = {"numbers.range", "numbers.range_step", "bits.lsh", "strings.repeat", "array.slice",
            "substring", "format_int", "indexof_n", "split"}
# Relations (`walk`), calls OPA caches or answers at random, and `trace` (no value in OPA).
SKIP = {"walk", "trace", "rand.intn", "uuid.rfc4122", "time.now_ns", "opa.runtime"}
OPERAND = re.compile(r"eval_type_error: ([\w.]+): operand (\d+) must be (.*) but got (.*)$")


def kind(v):
    if isinstance(v, dict) and list(v) == ["set"]:
        return "set"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(v)]


def argument(i, v):
    if kind(v) == "set":
        return f"{{x | some x in input.a[{i}].set}}"
    return f"input.a[{i}]"


def call_text(name, args):
    return f"{name}({', '.join(argument(i, v) for i, v in enumerate(args))})"


def opa(name, args):
    """OPA's answer: `ok <json>` or its error text."""
    engine = OpaEngine()
    try:
        engine.add_policy("m.rego", f"package t\np := json.marshal([{call_text(name, args)}])\n")
        rs = engine.eval_query("x := data.t.p", input={"a": args})
        return "ok " + (rs[0]["x"] if rs else "undefined")
    except OpaError as e:
        return str(e).replace("eval_error: ", "", 1).replace("m.rego:2: ", "", 1)
    finally:
        engine.close()


def regorun(name, args, lenient=False, rvm="1"):
    """regorun's answer, in the form of [`opa`]'s (`lenient`: without
    `--show-builtin-errors`; `rvm`: `REGORUN_RVM`, 0 for the interpreter only)."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "p.rego"), "w") as f:
            f.write(f"package main\n\ndeny contains msg if {{\n"
                    f"\tmsg := json.marshal([{call_text(name, args)}])\n}}\n")
        with open(os.path.join(d, "in.json"), "w") as f:
            json.dump({"a": args}, f)
        flags = [] if lenient else ["--show-builtin-errors"]
        r = subprocess.run([REGORUN, "test", "--no-color", *flags, "-o", "json",
                            "-p", os.path.join(d, "p.rego"), os.path.join(d, "in.json")],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "REGORUN_RVM": rvm})
        if r.stderr.strip():
            err = r.stderr.strip().replace("Error: running test: query rule: check: query rule: ",
                                           "")
            return err.replace(os.path.join(d, "p.rego") + ":4: ", "", 1)
        failures = json.loads(r.stdout)[0].get("failures") or []
        return "ok " + (failures[0]["msg"] if failures else "undefined")


def natives():
    with open(os.path.join(ROOT, "src", "engine", "builtins", "native.rs")) as f:
        text = f.read()
    return [(m.group(1), int(m.group(2)))
            for m in re.finditer(r'\("([a-z_][\w.]*)", (\d+)\)', text)
            if not m.group(1).startswith("__") and m.group(1) not in SKIP and m.group(2) != "0"]


def signatures():
    with open(os.path.join(ROOT, "src", "engine", "builtins", "signatures.rs")) as f:
        text = f.read()
    return {m.group(1): json.loads(m.group(2))
            for m in re.finditer(r'\("([\w.]+)", &(\[[\d, ]*\]), "', text)}


def probes(edge=False):
    """(name, operand, probe, arguments, OPA's answer) for every built-in and probe."""
    sigs = signatures()
    out = []
    for name, arity in natives():
        accepted = sigs.get(name)
        candidates = []
        for p in range(arity):
            kinds = [k for i, k in enumerate(KINDS) if accepted is None or accepted[p] & (1 << i)]
            candidates.append([v for k in kinds for v in VALID[k]] or [1])
        base = next((list(c) for c in itertools.islice(itertools.product(*candidates), 80)
                     if opa(name, list(c)).startswith("ok")), [c[0] for c in candidates])
        for p in range(arity):
            for v in PROBES + (EDGE if edge else []):
                if name in BY_COUNT and isinstance(v, (int, float)) and abs(v) > 1e6:
                    continue
                args = list(base)
                args[p] = v
                answer = opa(name, args)
                if "rego_type_error" not in answer:
                    out.append((name, p + 1, v, args, answer))
    return out


def text_kinds(want):
    """The kinds a `must be W` text names, when it is a plain list of kinds."""
    words = re.fullmatch(r"(?:one of )?\{?([a-z, ]+)\}?", want)
    if not words:
        return None
    names = {"number" if w == "integer" else w for w in words.group(1).split(", ")}
    return names if names <= set(KINDS) else None


def agrees(want, got):
    if want.startswith("ok") or got.startswith("ok"):
        return want == got
    return want in got


def compare(verbose, lenient, edge):
    rows = probes(edge)
    if lenient:
        # Without strict errors OPA's error is no value; both evaluation paths are asked.
        rows = [r[:4] + (r[4] if r[4].startswith("ok") else "ok undefined",) for r in rows]
        paths = ["1", "0"]
    else:
        paths = ["1"]
    same = total = 0
    for rvm in paths:
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            ours = list(ex.map(lambda r: regorun(r[0], r[3], lenient, rvm), rows))
        for (name, pos, probe, _, want), got in zip(rows, ours):
            total += 1
            if agrees(want, got):
                same += 1
            elif verbose:
                # Answers are cut: some are megabytes long.
                print(f"DIFFER {name} operand {pos} = {json.dumps(probe)} (REGORUN_RVM={rvm}): "
                      f"OPA {want[:300]!r}, regorun {got[:300]!r}")
    what = "value" if lenient else "value or error text"
    print(f"{same} of {total} probes give OPA's {what}")


def write():
    refused, floats, elements, wants = {}, {}, {}, {}
    seen = {}
    for name, pos, probe, _, answer in probes():
        key = (name, pos)
        k = kind(probe)
        seen.setdefault(key, {}).setdefault(k, []).append(answer)
        m = OPERAND.search(answer)
        if not m or m.group(1) != name or int(m.group(2)) != pos:
            continue
        want, got = m.group(3), m.group(4)
        if got == "floating-point number":
            floats[key] = want
        elif " containing " in got:
            container, element = got.split(" containing ")
            elements.setdefault(key, {})[container] = want
        elif got == k:
            wants.setdefault(key, set()).add(want)
    table = []
    for key, by_kind in sorted(seen.items()):
        want = wants.get(key)
        if want and len(want) > 1:
            print(f"warning {key}: several texts {want}", file=sys.stderr)
            continue
        want = next(iter(want)) if want else ""
        # A kind is refused when every probe of it gets the operand error; a kind the text
        # does not name (`set`, which `input` cannot hold) when the text is a list of kinds.
        bits = 0
        named = text_kinds(want)
        for i, k in enumerate(KINDS):
            answers = by_kind.get(k, [])
            every = answers and all(a.endswith(f"must be {want} but got {k}") for a in answers)
            if want and (every or (named is not None and not answers and k not in named)):
                bits |= 1 << i
            if named is not None and answers and bool(every) == (k in named):
                print(f"warning {key}: {k} against the text {want!r}", file=sys.stderr)
        of = elements.get(key, {})
        if bits or key in floats or of:
            table.append((key[0], key[1], want, bits, floats.get(key, ""), of.get("array", ""),
                          of.get("set", "")))
    path = os.path.join(ROOT, "src", "engine", "builtins", "operand_types.rs")
    with open(path, "w") as f:
        f.write("//! Generated by `scripts/opa_operand_errors.py write` from OPA's runtime type errors\n")
        f.write("//! (OPA 1.20): do not edit. Per built-in operand that OPA checks at run time: OPA's\n")
        f.write("//! `must be W` text, the kinds it refuses (bits in [`crate::rego::types::KINDS`]\n")
        f.write("//! order), the text for a number with a fraction, and for an array or a set whose\n")
        f.write("//! elements are of the wrong kind (`array of strings`); empty where OPA has none.\n\n")
        f.write("/// Name, operand (1-based), want, refused kinds, float want, array want, set want.\n")
        f.write("#[rustfmt::skip]\n")
        f.write("pub const OPERANDS: &[(&str, u8, &str, u8, &str, &str, &str)] = &[\n")
        for row in table:
            lit = ", ".join(json.dumps(x) if isinstance(x, str) else str(x) for x in row)
            f.write(f"    ({lit}),\n")
        f.write("];\n")
    print(f"{len(table)} operands", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["compare", "write"])
    ap.add_argument("-v", action="store_true", help="print each probe that differs")
    ap.add_argument("--lenient", action="store_true", help="compare: without "
                    "--show-builtin-errors (an OPA error is no value), on both evaluation paths")
    ap.add_argument("--edge", action="store_true", help="compare: also 24 values of accepted "
                    "kinds that built-ins often treat specially (empty and non-ASCII text, "
                    "big and negative numbers, nested arrays...)")
    a = ap.parse_args()
    compare(a.v, a.lenient, a.edge) if a.mode == "compare" else write()


if __name__ == "__main__":
    main()
