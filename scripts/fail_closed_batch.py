#!/usr/bin/env python3
"""A batch with damaged entries loses no file (issue "never a silent pass, part 2").

Writes N generated key policies (the shared corpus generator), then damages 1% of the
entries: corrupt (truncated) JSON, unreadable files (mode 000; root can still read them),
broken symlinks, symlink loops, links to good files, and odd names (spaces, a newline, a
name that is not UTF-8). Runs `regorun test --keep-going -o json` over the batch and over
the same good files alone, then checks:

  * exactly one record per entry (per namespace) of the damaged batch, each entry named;
  * every good file's record is identical to the clean run's.

Usage: scripts/fail_closed_batch.py [N]  (default 10000; needs a release build)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("SHARED_DIR", os.path.join(REPO, "..", "shared"))
REGORUN = os.path.join(REPO, "target", "release", "regorun")


def run(args, cwd):
    start = time.monotonic()
    out = subprocess.run([REGORUN] + args, cwd=cwd, capture_output=True)
    return out, time.monotonic() - start


def records(out):
    return json.loads(out.stdout.decode("utf-8", "replace"))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    work = tempfile.mkdtemp(prefix="regorun-batch-")
    try:
        batch = os.path.join(work, "batch")
        subprocess.run(
            [sys.executable, os.path.join(SHARED, "bench", "gen_kms_corpus.py"),
             "--out", batch, "-n", str(n), "--seed", "7"],
            check=True, capture_output=True)
        names = sorted(os.listdir(batch))
        damaged = n // 100
        kinds = ["corrupt", "unreadable", "broken-link", "loop", "good-link", "odd-name"]
        expected_problems = {}
        for i in range(damaged):
            kind = kinds[i % len(kinds)]
            victim = names[(i * 97) % len(names)]
            path = os.path.join(batch, victim)
            if not os.path.exists(path):
                continue
            if kind == "corrupt":
                data = open(path, "rb").read()
                open(path, "wb").write(data[: len(data) // 2])
                expected_problems[victim] = "parse-error"
            elif kind == "unreadable":
                os.chmod(path, 0)
                expected_problems[victim] = None if os.geteuid() == 0 else "parse-error"
            elif kind == "broken-link":
                os.symlink("missing-%d.json" % i, os.path.join(batch, "zz-broken-%d.json" % i))
                expected_problems["zz-broken-%d.json" % i] = "parse-error"
            elif kind == "loop":
                a, b = "zz-loop-%d-a.json" % i, "zz-loop-%d-b.json" % i
                os.symlink(b, os.path.join(batch, a))
                os.symlink(a, os.path.join(batch, b))
                expected_problems[a] = expected_problems[b] = "parse-error"
            elif kind == "good-link":
                os.symlink(victim, os.path.join(batch, "zz-link-%d.json" % i))
            elif kind == "odd-name":
                odd = [b"with space %d.json", b"new\nline %d.json", b"not-utf8-\xff-%d.json"][i % 3]
                os.rename(path.encode(), os.path.join(batch.encode(), odd % i))
        entries = os.listdir(batch.encode())
        args = ["test", "-p", os.path.join(REPO, "policy", "kms"), "--keep-going", "-o", "json",
                "--no-color", "batch"]
        out, wall = run(args, work)
        got = records(out)
        # A clean run over the good files only, under the same names.
        clean_dir = os.path.join(work, "clean")
        os.mkdir(clean_dir)
        bad = {p.encode() for p in expected_problems}
        for e in entries:
            src = os.path.join(batch.encode(), e)
            if e in bad or os.path.islink(src):
                continue
            shutil.copyfile(src, os.path.join(clean_dir.encode(), e))
            os.chmod(os.path.join(clean_dir.encode(), e), 0o644)
        os.rename(batch, batch + ".damaged")
        os.rename(clean_dir, batch)
        clean_out, _ = run(args, work)
        clean = {r["filename"]: r for r in records(clean_out)}
        by_name = {}
        for r in got:
            by_name.setdefault(r["filename"], []).append(r)
        dup = [k for k, v in by_name.items() if len(v) != 1]
        problems = {k: v[0] for k, v in by_name.items()
                    if any(f.get("metadata", {}).get("id") in ("parse-error", "eval-error")
                           for f in v[0].get("failures", []))}
        differ = [k for k, r in clean.items() if by_name.get(k, [None])[0] != r]
        # Links to good files have their record under the real path, as in conftest.
        linked = sum(1 for e in entries if os.path.islink(os.path.join(batch.encode() + b".damaged", e))
                     and os.path.exists(os.path.join(batch.encode() + b".damaged", e)))
        print(f"entries in the batch:      {len(entries)} ({damaged} damaged, {linked} links to good files)")
        print(f"records:                   {len(got)} (exit {out.returncode}, {wall:.2f} s)")
        print(f"entries with no record:    {len(entries) - len(by_name)}")
        print(f"entries with >1 record:    {len(dup)}")
        print(f"problem records:           {len(problems)} (expected {sum(1 for v in expected_problems.values() if v)})")
        print(f"good files differing from a clean run: {len(differ)}")
        ok = (not dup and not differ and len(by_name) == len(entries)
              and len(problems) == sum(1 for v in expected_problems.values() if v))
        print("OK" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        for root, dirs, files in os.walk(work):
            for f in files:
                try:
                    os.chmod(os.path.join(root, f), 0o644)
                except OSError:
                    pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
