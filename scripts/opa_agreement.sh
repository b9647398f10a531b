#!/usr/bin/env bash
# Compare the built-in KMS pack's results under OPA (conftest's engine, via
# the opa-peer tool) and under regorun, over every JSON key-policy and CloudFormation fixture (YAML ones as parsed)
# and a generated 1,000-file corpus. Prints "N files, M agree, K differ" and
# the files that differ; exits 1 on any disagreement.
#
# Overrides: OPA_PEER (conftest_peer.py), OPA_PEER_PYTHON, CORPUS_GEN,
# REGORUN (binary), CORPUS_N (default 1000).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${SHARED_DIR:-$repo/../shared}"
peer="${OPA_PEER:-$shared/tools/opa-peer/conftest_peer.py}"
peer_python="${OPA_PEER_PYTHON:-$HOME/.cache/opa-peer/bin/python}"
gen="${CORPUS_GEN:-$shared/bench/gen_kms_corpus.py}"
regorun="${REGORUN:-$repo/target/release/regorun}"
n="${CORPUS_N:-1000}"

if [[ ! -x "$peer_python" || ! -f "$peer" ]]; then
  echo "OPA peer not installed ($peer_python, $peer): nothing compared."
  echo "Install: python3 -m venv \$HOME/.cache/opa-peer && \$HOME/.cache/opa-peer/bin/pip install --no-deps --ignore-requires-python opa-golib-python-bindings==0.4.4"
  exit 0
fi
if [[ ! -x "$regorun" ]]; then
  echo "regorun binary not found at $regorun (cargo build --release, or set REGORUN)." >&2
  exit 1
fi

cd "$repo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# JSON inputs only: the peer reads JSON files and has no --data. CloudFormation YAML
# templates go in as the JSON that regorun's (conftest's) YAML reading makes of them.
find fixtures/kms/raw fixtures/kms/cli fixtures/kms/cloudformation fixtures/key-policies -name '*.json' | sort > "$work/files"
mkdir -p "$work/yaml"
for y in fixtures/kms/cloudformation/*.yaml; do
  out="$work/yaml/$(basename "$y" .yaml).json"
  "$regorun" parse "$y" > "$out"
  echo "$out" >> "$work/files"
done
python3 "$gen" --out "$work/corpus" -n "$n" --seed 1 2>/dev/null
find "$work/corpus" -name '*.json' | sort >> "$work/files"

# Batches keep command lines short.
split -l 500 "$work/files" "$work/batch."
i=0
for b in "$work"/batch.*; do
  i=$((i + 1))
  mapfile -t files < "$b"
  "$peer_python" "$peer" --engine opa -p policy/kms -n main -o json "${files[@]}" > "$work/opa.$i.json" || true
  "$regorun" test -p policy/kms -n main -o json --no-color "${files[@]}" > "$work/regorun.$i.json" || true
done

python3 - "$work" <<'PY'
import glob, json, os, sys
work = sys.argv[1]

def load(prefix):
    out = {}
    for path in sorted(glob.glob(os.path.join(work, prefix + ".*.json"))):
        text = open(path).read().strip()
        for rec in json.loads(text) if text and text != "null" else []:
            msgs = [("FAIL", m["msg"]) for m in rec.get("failures") or []]
            msgs += [("WARN", m["msg"]) for m in rec.get("warnings") or []]
            out.setdefault(os.path.normpath(rec["filename"]), []).extend(msgs)
    return {f: sorted(m) for f, m in out.items()}

opa, rr = load("opa"), load("regorun")
files = [os.path.normpath(l.strip()) for l in open(os.path.join(work, "files")) if l.strip()]
differ = [f for f in files if opa.get(f) != rr.get(f) or f not in opa or f not in rr]
print(f"{len(files)} files, {len(files) - len(differ)} agree, {len(differ)} differ")
for f in differ[:50]:
    print(f"  {f}\n    opa:     {opa.get(f)}\n    regorun: {rr.get(f)}")
sys.exit(1 if differ else 0)
PY
