#!/usr/bin/env python3
"""Rego compatibility on OPA's own conformance cases: every case of OPA's YAML test suite
(`v1/test/cases/testdata/v1` in open-policy-agent/opa) is written out as a regorun run
(its modules as policy files, its data and input as files, its query as a deny rule that
reports the query's bindings), run through the regorun binary, and its answer compared
with the one the case expects. Prints the share that agrees by area and overall, and with
-v each disagreeing case with its source file.

The cases are not part of this repository. Take them from a checkout of OPA, for example
a sparse one:

    git clone --depth 1 --filter=blob:none --sparse https://github.com/open-policy-agent/opa OPA
    git -C OPA sparse-checkout set v1/test/cases/testdata/v1

Then:

    python3 scripts/opa_conformance.py --cases OPA/v1/test/cases/testdata/v1 \
        [--regorun target/release/regorun] [--only jwt] [-v]

`--list scripts/opa_conformance_sample.txt` limits the run to the case files that were
measured without a full checkout (listed there with the result). `--peer
$HOME/.cache/opa-peer/bin/python` asks the OPA peer (the real OPA that conftest embeds) each
case regorun disagrees with: where regorun gives OPA's own answer, the case file was written
for another OPA version, and the case is counted apart.

How a case is judged:
- a case that expects results agrees when regorun reports no error and the query's set of
  bindings equals the expected one (values compared as JSON: sets are arrays, so arrays
  are compared in order first, then as multisets);
- a case that expects an error (`want_error_code`) agrees when regorun stops with an
  `Error:` line (built-in errors count with `--show-builtin-errors` when the case asks for
  strict built-in errors);
- a case that regorun cannot be asked as written (an `input_term` that is not JSON, no
  query, or no input while it reads `input` itself: a conftest run always has an input
  document, or a case whose answer is `opa.runtime()`'s value: OPA's test harness has no
  runtime and gives `{}`, conftest gives the environment, or a case whose data holds a
  rule's path: OPA's rego API, which conftest uses, refuses it as a "conflicting rule for
  data path" where OPA's test harness does not check) is counted as skipped, never as
  agreeing.
Needs PyYAML (`pip install pyyaml`).
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

try:
    import yaml
except ImportError:
    sys.exit("needs PyYAML: pip install pyyaml")

# Areas by the case folder's name, first match wins; everything else is "language".
AREAS = [
    ("rego.metadata", re.compile(r"metadata|annotations")),
    ("net/crypto/jwt", re.compile(r"jwt|crypto|cidr|^net|x509|hmac|sha|md5|providers")),
    ("strings/regex", re.compile(r"string|sprintf|regex|glob|trim|split|replace|concat|"
                                 r"indexof|upper|lower|contains|startswith|endswith|"
                                 r"format|substring|template|reverse|units")),
    ("json/objects", re.compile(r"json|object|yaml|base64|hex|urlquery|uuid|semver|graphql")),
    ("numbers", re.compile(r"arith|aggregate|bits|number|rand|comparison|casts|abs|round|"
                           r"ceil|floor")),
]


def area_of(folder):
    for name, pattern in AREAS:
        if pattern.search(folder):
            return name
    return "language"


def canonical(v, ordered=True):
    """A value as comparable JSON text; unordered sorts every array."""
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{canonical(v[k], ordered)}"
                              for k in sorted(v)) + "}"
    if isinstance(v, list):
        items = [canonical(x, ordered) for x in v]
        if not ordered:
            items.sort()
        return "[" + ",".join(items) + "]"
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (int, float)):
        f = float(v)
        return json.dumps(int(f)) if f.is_integer() and abs(f) < 2**63 else repr(f)
    return json.dumps(str(v))


def same_bindings(got, want):
    for ordered in (True, False):
        g = sorted(canonical(b, ordered) for b in got)
        w = sorted(canonical(b, ordered) for b in want)
        if g == w:
            return True
    return False


# --error-text: compare error messages, not only that there is one.
ERROR_TEXT = False

# `input` itself (not `input.x` or `input[...]`), which is defined in every regorun run.
BARE_INPUT = re.compile(r"\binput\b(?![.\[])")
# Strings and comments, where `input` is no reference (a GraphQL schema's `input` types).
NOT_CODE = re.compile(r'`[^`]*`|"(?:[^"\\\n]|\\.)*"|#[^\n]*')


RULE_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::=|=|contains\b|if\b|\[|\{|$)", re.M)


def data_conflict(case):
    """Whether a rule of the case's modules is defined at a path its data also holds."""
    data = case.get("data")
    for module in case.get("modules") or []:
        m = re.search(r"^package\s+([\w.]+)", module, re.M)
        if not m or not isinstance(data, dict):
            continue
        node = data
        for part in m.group(1).split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and any(r in node for r in RULE_HEAD.findall(module)):
            return True
    return False


def write_case(case, root):
    """The files of one case; None when it cannot be asked through regorun."""
    query = case.get("query")
    if not query:
        return None
    os.makedirs(os.path.join(root, "policy"), exist_ok=True)
    for i, module in enumerate(case.get("modules") or []):
        with open(os.path.join(root, "policy", f"test-{i}.rego"), "w") as f:
            f.write(module)
    want = case.get("want_result") or []
    names = sorted({k for b in want if isinstance(b, dict) for k in b})
    bindings = ", ".join(f"{json.dumps(n)}: {n}" for n in names)
    body = query.replace(";", "\n")
    with open(os.path.join(root, "policy", "zz_conformance.rego"), "w") as f:
        f.write("package __conformance\n\nimport rego.v1\n\n"
                f"deny contains {{\"msg\": \"r\", \"b\": {{{bindings}}}}} if {{\n"
                f"{body}\n}}\n")
    args = []
    if case.get("data") is not None:
        with open(os.path.join(root, "data.json"), "w") as f:
            json.dump(case["data"], f)
        args += ["--data", "data.json"]
    input_doc = case.get("input", {})
    text = "\n".join([query] + list(case.get("modules") or []))
    if ("input" not in case and "input_term" not in case
            and BARE_INPUT.search(NOT_CODE.sub("", text))
            and "with input as" not in text):
        # A conftest run always has an input document; the case needs none at all.
        return None
    if data_conflict(case):
        # OPA's rego API (conftest's) refuses a rule whose path holds data: "conflicting
        # rule for data path"; OPA's test harness evaluates without that check.
        return None
    if "opa.runtime" in text:
        # conftest's opa.runtime() holds the environment; the cases expect OPA's bare {}.
        return None
    if "input_term" in case:
        try:
            input_doc = json.loads(case["input_term"])
        except (TypeError, ValueError):
            return None
    with open(os.path.join(root, "input.json"), "w") as f:
        json.dump(input_doc, f)
    return args


def run_case(regorun, case):
    with tempfile.TemporaryDirectory() as root:
        args = write_case(case, root)
        if args is None:
            return "skipped", "", None
        cmd = [regorun, "test", "--no-color", "-o", "json", "-p", "policy",
               "-n", "__conformance"] + args
        if case.get("strict_error"):
            cmd.append("--show-builtin-errors")
        cmd.append("input.json")
        try:
            r = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return "disagree", "timeout", None
    errored = "Error:" in r.stderr
    first_error = next((l for l in r.stderr.splitlines() if l.startswith("Error:")), "")
    got = None
    if not errored:
        try:
            out = json.loads(r.stdout)
            got = [f.get("metadata", {}).get("b", {}) for res in out
                   for f in res.get("failures") or []]
        except (ValueError, AttributeError):
            return "disagree", "unreadable output", None
    if "want_error_code" in case or "want_error" in case:
        if ERROR_TEXT and errored and case.get("want_error") and \
                case["want_error"] not in r.stderr:
            return "disagree", f"{first_error} (wants {case['want_error']!r})", \
                {"error": r.stderr}
        return ("agree" if errored else "disagree"), first_error or "no error", \
            ({"error": r.stderr} if errored else got)
    if errored:
        return "disagree", first_error, {"error": r.stderr}
    want = case.get("want_result") or []
    if same_bindings(got, want):
        return "agree", "", got
    return "disagree", f"got {json.dumps(got)[:200]}, want {json.dumps(want)[:200]}", got


# Run by the OPA peer's Python: a case's answer from OPA itself (its bindings, or its
# error's text).
PEER_SCRIPT = """
import json, sys
from opa_bindings import OpaEngine
case = json.load(sys.stdin)
engine = OpaEngine()
try:
    for i, m in enumerate(case["modules"]):
        engine.add_policy("test-%d.rego" % i, m)
    if case.get("data") is not None:
        engine.add_data(case["data"])
    rs = engine.eval_query(case["query"], input=case.get("input"))
    print(json.dumps([{k: b[k] for k in case["names"] if k in b} for b in rs]))
except Exception as e:
    print(json.dumps({"error": str(e)}))
"""


def as_peer(opa, got):
    """Whether regorun's answer is the peer's: the same bindings, or both an error (with
    --error-text, regorun's holding the peer's message)."""
    if isinstance(opa, dict):
        if not isinstance(got, dict):
            return False
        message = re.sub(r"^eval_error: (\S+\.rego:\d+: )?", "", opa["error"])
        return not ERROR_TEXT or message in got["error"]
    return isinstance(opa, list) and isinstance(got, list) and same_bindings(got, opa)


def peer_answer(python, case):
    """OPA's own answer to a case (bindings, or {"error": text}), from the peer."""
    want = case.get("want_result") or []
    names = sorted({k for b in want if isinstance(b, dict) for k in b})
    document = case.get("input")
    if "input_term" in case:
        document = json.loads(case["input_term"])
    ask = {"modules": case.get("modules") or [], "data": case.get("data"), "query": case["query"],
           "input": document, "names": names}
    r = subprocess.run([python, "-c", PEER_SCRIPT], input=json.dumps(ask), capture_output=True,
                       text=True, timeout=60)
    return json.loads(r.stdout or "null")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", required=True, help="OPA's test/cases/testdata/v1 folder")
    ap.add_argument("--regorun", default="target/release/regorun")
    ap.add_argument("--only", help="only case folders whose name contains this")
    ap.add_argument("--list", help="only the case files this file names (paths relative "
                    "to --cases, one a line, # comments)")
    ap.add_argument("-v", action="store_true", help="print each disagreeing case")
    ap.add_argument("--error-text", action="store_true", help="a case expecting an error "
                    "agrees only when regorun's message holds the case's text (OPA's test "
                    "harness compares the same way)")
    ap.add_argument("--peer", metavar="PYTHON", help="the OPA peer's Python: ask OPA itself "
                    "each case regorun disagrees with, and count apart those where regorun "
                    "gives OPA's answer (case files written for another OPA)")
    a = ap.parse_args()
    global ERROR_TEXT
    ERROR_TEXT = a.error_text
    listed = None
    if a.list:
        with open(a.list) as f:
            listed = {ln.split("#")[0].strip() for ln in f} - {""}
    regorun = os.path.abspath(a.regorun)
    counts = defaultdict(lambda: defaultdict(int))
    files = sorted(glob.glob(os.path.join(a.cases, "**", "*.y*ml"), recursive=True))
    for path in files:
        folder = os.path.basename(os.path.dirname(path))
        if a.only and a.only not in folder:
            continue
        if listed is not None and os.path.relpath(path, a.cases) not in listed:
            continue
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
        for case in doc.get("cases") or []:
            area = area_of(folder)
            verdict, detail, got = run_case(regorun, case)
            if verdict == "disagree" and a.peer:
                opa = peer_answer(a.peer, case)
                if as_peer(opa, got):
                    verdict, detail = "as the peer", detail + " (OPA's answer)"
            counts[area][verdict] += 1
            if a.v and verdict != "agree" and verdict != "skipped":
                rel = os.path.relpath(path, a.cases)
                tag = "DIFFER" if verdict == "disagree" else "AS-OPA"
                print(f"{tag} {rel} {case.get('note', '')}: {detail}")
    total = defaultdict(int)
    for area in sorted(counts):
        c = counts[area]
        for k, v in c.items():
            total[k] += v
        print(summary(area, c, a.peer))
    print(summary("overall", total, a.peer))


def summary(name, c, peer):
    asked = c["agree"] + c["disagree"] + c["as the peer"]
    share = 100.0 * c["agree"] / asked if asked else 0.0
    line = f"{name:16} {c['agree']:5}/{asked:<5} agree ({share:5.1f}%), {c['skipped']} skipped"
    if peer:
        both = c["agree"] + c["as the peer"]
        line += (f"; {c['as the peer']} more give the OPA peer's answer: {both}/{asked} "
                 f"({100.0 * both / asked if asked else 0.0:5.1f}%)")
    return line


if __name__ == "__main__":
    main()
