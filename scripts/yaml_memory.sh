#!/usr/bin/env bash
# Peak memory of one large YAML input against its size (issue "never a silent pass,
# part 2"): writes a multi-megabyte list of Kubernetes-style deployments, runs
# `regorun test` on it, and prints size, wall time, peak RSS and the ratio.
# Not part of `cargo test`.
#
#   YAML_ITEMS   deployments in the file (default 60000, about 18 MB)
#   NO_BUILD=1   skip `cargo build --release`
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
items="${YAML_ITEMS:-60000}"
cd "$repo"
if [[ "${NO_BUILD:-0}" != 1 ]]; then
  cargo build --release --quiet
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/p"
printf 'package main\n\nimport rego.v1\n\ndeny contains "no replicas" if input.spec.replicas == 0\n' \
  > "$work/p/p.rego"
python3 - "$work/big.yaml" "$items" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    for i in range(n):
        f.write(f"""- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: app-{i}
    labels: {{app: web-{i % 50}, tier: backend}}
  spec:
    replicas: {i % 7}
    template:
      spec:
        containers:
          - name: c{i}
            image: registry.example.com/team/app:{i}.{i % 13}
            ports: [{{containerPort: {8000 + i % 100}}}]
""")
PY
python3 - "$repo/target/release/regorun" "$work" <<'PY'
import os, subprocess, sys, time
regorun, work = sys.argv[1], sys.argv[2]
size = os.path.getsize(f"{work}/big.yaml")
t0 = time.perf_counter()
p = subprocess.Popen([regorun, "test", "--no-color", "-p", f"{work}/p", f"{work}/big.yaml"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0)
wall = time.perf_counter() - t0
rss = ru.ru_maxrss * 1024
print(f"yaml {size / 1e6:.1f} MB: {wall:.2f} s, peak RSS {rss / 1e6:.0f} MB "
      f"({rss / size:.1f}x the file), exit {os.waitstatus_to_exitcode(status)}")
PY
