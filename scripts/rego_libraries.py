#!/usr/bin/env python3
"""Rego compatibility on third-party policy libraries: each library's own unit tests run
under `regorun verify` (as a conftest user runs them) and under OPA (the shared peer),
and every test's verdict compared.

The libraries are not part of this repository. Clone them side by side into one
directory first (any recent commit), named as below:

    git clone https://github.com/open-policy-agent/gatekeeper-library  LIBS/open-policy-agent+gatekeeper-library
    git clone https://github.com/kubewarden/rego-policies-library      LIBS/kubewarden+rego-policies-library
    git clone https://github.com/google/gke-policy-automation          LIBS/google+gke-policy-automation
    git clone https://github.com/Cigna/confectionery                   LIBS/Cigna+confectionery

Then:

    python3 scripts/rego_libraries.py --libs LIBS [--regorun target/release/regorun]
        [--shared ../shared] [--peer-python ~/.cache/opa-peer/bin/python] [-v]

A suite is what one `opa test` command of the library's own CI runs. Its v0 sources are
given to OPA through the peer's `v0tov1.py`. A test agrees when both engines pass it or
both do not; a suite whose policies regorun does not load fails every test there. Tests
with no OPA verdict are left out and counted: the peer's v0 converter cannot convert the
suite, or the test stops on a built-in error (the peer runs with strict built-in errors,
`opa test` does not).
Prints one line per library, the total, and with -v each disagreeing test and the first
line of regorun's error.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
from collections import Counter

LIBRARIES = [
    # (name, rego version, suites: each a list of globs relative to the library)
    ("open-policy-agent+gatekeeper-library", "v0",
     lambda root: [[f"{d}/*.rego"] for d in sorted(glob.glob(f"{root}/src/*/*"))
                   if glob.glob(f"{d}/*_test.rego")]),
    ("kubewarden+rego-policies-library", "v0",
     lambda root: [[f"{d}/policy.rego", f"{d}/tests/*.rego"]
                   for d in sorted(glob.glob(f"{root}/policies/*")) if glob.glob(f"{d}/tests/*.rego")]),
    ("google+gke-policy-automation", "v1",
     lambda root: [[f"{root}/gke-policies/**/*.rego"], [f"{root}/gke-policies-v2/**/*.rego"]]),
    ("Cigna+confectionery", "v0",
     lambda root: [[f"{root}/rules/**/*.rego", f"{root}/test-files/**/*.rego"]]),
]

TEST_RE = re.compile(r"^(test_[A-Za-z0-9_]*)", re.M)
PACKAGE_RE = re.compile(r"^package\s+([A-Za-z0-9_.]+)", re.M)


def suite_files(globs):
    files = set()
    for g in globs:
        files.update(f for f in glob.glob(g, recursive=True) if os.path.isfile(f))
    return sorted(files)


def tests_of(files):
    """`data.<package>.<test>` for every test rule, in file order."""
    out = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as fh:
            src = fh.read()
        m = PACKAGE_RE.search(src)
        if not m:
            continue
        for name in TEST_RE.findall(src):
            full = f"data.{m.group(1)}.{name}"
            if full not in out:
                out.append(full)
    return out


def opa_verdicts(files, version, tests, shared):
    """OPA's pass/fail per test, through the peer engine."""
    sys.path.insert(0, os.path.join(shared, "tools", "opa-peer"))
    import v0tov1  # noqa: E402
    from opa_bindings.engine import OpaEngine  # noqa: E402

    engine = OpaEngine()
    try:
        if version == "v0":
            engine.add_policy("__v0compat.rego", v0tov1.COMPAT_MODULE)
        for path in files:
            with open(path, encoding="utf-8", errors="replace") as fh:
                src = fh.read()
            if version == "v0":
                src, _ = v0tov1.convert(src)
            try:
                engine.add_policy(path, src)
            except Exception as e:
                # Usually the v0 converter, not OPA: such a suite has no OPA verdict.
                return {"__error__": str(e).splitlines()[0]}
        verdicts = {}

        def batch(names):
            """Verdicts of `names` from one query (each new query is compiled against
            every module, which is slow on large libraries), or None when it errors."""
            fields = ", ".join(f'"{t}": [x | x := {t}]' for t in names)
            try:
                rows = engine.eval_query(f"r := {{{fields}}}")
            except Exception:
                return None
            r = rows[0]["r"] if rows else {}
            return {t: r.get(t) == [True] for t in names}

        # The whole suite at once, else package by package, else test by test.
        whole = batch(tests)
        if whole is not None:
            return whole
        by_package = {}
        for t in tests:
            by_package.setdefault(t.rsplit(".", 1)[0], []).append(t)
        for package, names in by_package.items():
            if os.environ.get("REGO_LIBRARIES_TRACE"):
                print(f"opa: {package} ({len(names)} tests)", file=sys.stderr, flush=True)
            got = batch(names)
            if got is not None:
                verdicts.update(got)
                continue
            for t in names:
                try:
                    verdicts[t] = engine.eval_document(t[len("data."):]) is True
                except Exception as e:  # undefined, compile or evaluation error: not a pass
                    # The peer always runs with strict built-in errors, where `opa test`
                    # makes the call undefined: such a test has no OPA verdict here.
                    verdicts[t] = "builtin-error" if "eval_builtin_error" in str(e) else False
        return verdicts
    finally:
        engine.close()


def regorun_verdicts(regorun, files, version, tests):
    """regorun's pass/fail per test, and its error line when the run stopped."""
    cmd = [regorun, "verify", "--no-color", "-o", "json", "--rego-version", version]
    for f in files:
        cmd += ["-p", f]
    p = subprocess.run(cmd, capture_output=True, text=True)
    try:
        records = json.loads(p.stdout) if p.stdout.strip() else None
    except json.JSONDecodeError:
        records = None
    if records is None:
        err = (p.stderr.strip().splitlines() or ["(no output)"])[0]
        return {t: False for t in tests}, err
    failed = set()
    for r in records:
        for f in r.get("failures") or []:
            failed.add(f.get("msg", "").split("#")[0])
    return {t: t not in failed for t in tests}, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--libs", required=True)
    ap.add_argument("--regorun", default=os.path.join(repo, "target/release/regorun"))
    ap.add_argument("--shared", default=os.path.join(repo, "..", "shared"))
    ap.add_argument("--peer-python",
                    default=os.path.expanduser("~/.cache/opa-peer/bin/python"))
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--only", help="run only the library whose name contains this")
    ap.add_argument("--opa-worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.opa_worker:
        # Runs inside the peer's Python: suite description in, verdicts out.
        spec = json.load(open(args.opa_worker[0]))
        out = opa_verdicts(spec["files"], spec["version"], spec["tests"], args.shared)
        json.dump(out, open(args.opa_worker[1], "w"))
        return 0

    total = Counter()
    for name, version, suites in LIBRARIES:
        if args.only and args.only not in name:
            continue
        root = os.path.join(args.libs, name)
        if not os.path.isdir(root):
            print(f"{name}: not found under {args.libs} (see the docstring)")
            continue
        lib = Counter()
        errors = Counter()
        for globs in suites(root):
            files = suite_files(globs)
            tests = tests_of(files)
            if not tests:
                continue
            spec_path = "/tmp/.rego_libraries_spec.json"
            out_path = "/tmp/.rego_libraries_out.json"
            json.dump({"files": files, "version": version, "tests": tests},
                      open(spec_path, "w"))
            subprocess.run([args.peer_python, os.path.abspath(__file__), "--libs", args.libs,
                            "--shared", args.shared, "--opa-worker", spec_path, out_path],
                           check=True)
            opa = json.load(open(out_path))
            if "__error__" in opa:
                lib["skipped"] += len(tests)
                if args.verbose:
                    print(f"  skipped ({len(tests)} tests): the peer did not load: {opa['__error__']}")
                continue
            ours, err = regorun_verdicts(args.regorun, files, version, tests)
            if err:
                errors[re.sub(r"\S+\.rego:\d+: ", "", err)[:160]] += len(tests)
            for t in tests:
                if opa[t] == "builtin-error":
                    lib["skipped"] += 1
                    if args.verbose:
                        print(f"  skipped: {t}: a built-in error under the peer's strict mode")
                    continue
                agree = opa[t] == ours[t]
                lib["tests"] += 1
                lib["agree"] += agree
                lib["opa_pass"] += opa[t]
                if not agree and args.verbose:
                    print(f"  differs: {t}: OPA {'pass' if opa[t] else 'fail'}, "
                          f"regorun {'pass' if ours[t] else 'fail'}")
        pct = 100.0 * lib["agree"] / lib["tests"] if lib["tests"] else 0.0
        print(f"{name} ({version}): {lib['agree']}/{lib['tests']} agree ({pct:.1f}%), "
              f"OPA passes {lib['opa_pass']}"
              + (f"; {lib['skipped']} tests skipped (no OPA verdict)" if lib["skipped"] else ""))
        for e, n in errors.most_common():
            print(f"  run stopped ({n} tests): {e}")
        total.update(lib)
    if total["tests"]:
        pct = 100.0 * total["agree"] / total["tests"]
        print(f"total: {total['agree']}/{total['tests']} agree ({pct:.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
