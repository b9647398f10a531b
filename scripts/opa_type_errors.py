#!/usr/bin/env python3
"""Compares regorun's load-time type errors for built-in calls with OPA's: random calls of
every built-in in src/engine/builtins/signatures.rs, with literal, `input` and comprehension
arguments, five a policy, compiled by OPA (the peer's Python bindings) and loaded by the
regorun binary. Prints each difference with -v, then: OPA's type errors, those regorun gives
in the same words, those it gives with other `have:` text, those it misses, and the calls
it refuses that OPA accepts (which must be none).

    $HOME/.cache/opa-peer/bin/python scripts/opa_type_errors.py [--seed N] [--policies N] [-v]
"""

import argparse
import os
import random
import re
import subprocess
import tempfile

from opa_bindings import OpaEngine
from opa_bindings.engine import OpaError

ERROR = re.compile(r"p\.rego:(\d+): rego_type_error: [^\n]*(?:\n\t[^\n]*)*")
SCALARS = ['"s"', "1", "-2.5", "true", "null", "input.a", 'input["b"][0]', "set()", "[]", "{}"]


def literal(rng, depth=0):
    choices = list(SCALARS)
    if depth < 2:
        choices += [
            "[%s]" % ", ".join(literal(rng, depth + 1) for _ in range(rng.randint(1, 3))),
            "{%s}" % ", ".join('"k%d": %s' % (i, literal(rng, depth + 1))
                               for i in range(rng.randint(1, 2))),
            "{%s}" % ", ".join(rng.choice(["1", '"x"', "true", "null"])
                               for _ in range(rng.randint(1, 3))),
            "[y | y := 1]",
            "{y | y := 1}",
        ]
    return rng.choice(choices)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--policies", type=int, default=300)
    ap.add_argument("--regorun", default="target/release/regorun")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    text = open("src/engine/builtins/signatures.rs").read()
    sigs = [(m.group(1), len(m.group(2).split(",")))
            for m in re.finditer(r'\("([^"]+)", &\[([0-9, ]*)\], "', text)]
    regorun = os.path.abspath(a.regorun)
    counts = {"opa": 0, "same": 0, "other_text": 0, "missed": 0, "refused_wrongly": 0}
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "policy"))
        with open(os.path.join(root, "in.json"), "w") as f:
            f.write("{}")
        for _ in range(a.policies):
            calls = []
            for _ in range(5):
                name, n = rng.choice(sigs)
                call = "%s(%s)" % (name, ", ".join(literal(rng) for _ in range(n)))
                calls.append(("x := " if rng.random() < 0.4 else "") + call)
            src = "package main\n\nimport rego.v1\n\n" + "".join(
                "p if { %s }\n" % c for c in calls)
            with open(os.path.join(root, "policy", "p.rego"), "w") as f:
                f.write(src)
            engine = OpaEngine()
            try:
                engine.add_policy("policy/p.rego", src)
                engine.eval_query("data.main.p")
                opa = ""
            except OpaError as e:
                opa = str(e)
            finally:
                engine.close()
            ours = subprocess.run([regorun, "test", "--no-color", "-p", "policy", "in.json"],
                                  cwd=root, capture_output=True, text=True).stderr
            want = {m.group(1): m.group(0) for m in ERROR.finditer(opa)}
            got = {m.group(1): m.group(0) for m in ERROR.finditer(ours)}
            counts["opa"] += len(want)
            for line, err in want.items():
                key = "same" if got.get(line) == err else "other_text" if line in got else "missed"
                counts[key] += 1
                if a.v and key != "same":
                    print(f"{key}: {err!r} / {got.get(line)!r}")
            for line in got.keys() - want.keys():
                counts["refused_wrongly"] += 1
                print(f"refused, OPA accepts: {got[line]!r}")
    print(", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
