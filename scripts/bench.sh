#!/usr/bin/env bash
# Batch benchmark (issue 7): regorun against the OPA peer (conftest's engine,
# driven conftest-style) on generated KMS key-policy corpora, side by side.
# Prints wall time and peak RSS per engine and the speed ratio for each N.
# Not part of `cargo test`.
#
# Overrides (environment):
#   SHARED_DIR        the shared tools checkout (default: <repo>/../shared)
#   BENCH_N           corpus sizes (default: "1 1000 10000 100000")
#   BENCH_MILLION=1   also N=1,000,000: ten copies of the 100,000-file corpus, copy k
#                     with k trailing spaces so that no two files share bytes (the
#                     generator would take half an hour); about 5.5 GB of disk
#   BENCH_FORMAT      regorun output format (default: json, as issue 28 measures)
#   BENCH_PEER_MAX    largest N the OPA peer runs on (default: 10000; it takes about
#                     30 ms a file)
#   BENCH_REPS        runs per measurement; the fastest is kept (default: 3)
#   BENCH_POLICY      policy path passed to both engines (default: policy/kms)
#   BENCH_JOBS        regorun --jobs (default: all cores)
#   REGORUN_FLAGS     extra regorun flags
#   OPA_PEER_PYTHON   peer interpreter (default: $HOME/.cache/opa-peer/bin/python)
#   NO_BUILD=1        skip `cargo build --release`
#   BENCH_SLICES=0    skip the linearity row: N=100,000 split in ten slices of 10,000
#                     files (hard links), each timed on its own, their sum against the
#                     whole run (default: on)
#   BENCH_DUP         size of the duplicate-share corpus: a quarter distinct policies,
#                     each under four names (75% duplicates, as exported default
#                     policies repeat across keys); 0 skips it (default: 10000)
#
# regorun rows are the best of BENCH_REPS runs, so they use the compiled-program
# cache; for N=1 a "nocache" row times a first run (policies parsed and compiled).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${SHARED_DIR:-$repo/../shared}"
gen="$shared/bench/gen_kms_corpus.py"
peer="$shared/tools/opa-peer/conftest_peer.py"
peer_python="${OPA_PEER_PYTHON:-$HOME/.cache/opa-peer/bin/python}"
sizes="${BENCH_N:-1 1000 10000 100000}"
if [[ "${BENCH_MILLION:-0}" == 1 ]]; then sizes="$sizes 1000000"; fi
format="${BENCH_FORMAT:-json}"
peer_max="${BENCH_PEER_MAX:-10000}"
reps="${BENCH_REPS:-3}"
policy="${BENCH_POLICY:-policy/kms}"
jobs="${BENCH_JOBS:-0}"
regorun="$repo/target/release/regorun"

if [[ ! -f "$gen" ]]; then
  echo "corpus generator not found at $gen (set SHARED_DIR)" >&2
  exit 1
fi
cd "$repo"
if [[ "${NO_BUILD:-0}" != 1 ]]; then
  cargo build --release --quiet
fi
have_peer=0
if [[ -x "$peer_python" && -f "$peer" ]]; then
  have_peer=1
else
  echo "note: OPA peer not installed at $peer_python; timing regorun only"
fi

# A set RUST_BACKTRACE makes every internal anyhow error capture a backtrace
# (about 3x the CPU of a one-file run); users normally run without it.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# corpus N DIR: the benchmark corpus of N files (seed 1); above 100,000 files, copies
# of the 100,000-file corpus made distinct by trailing spaces.
corpus() {
  local n=$1 dir=$2
  if (( n <= 100000 )); then
    python3 "$gen" --out "$dir" -n "$n" --seed 1 >/dev/null 2>&1
    return
  fi
  corpus 100000 "$work/corpus-base"
  python3 - "$work/corpus-base" "$dir" "$n" <<'PY'
import os, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
names = sorted(os.listdir(src))
datas = [open(os.path.join(src, f), "rb").read() for f in names]
for k in range(n):
    copy, i = divmod(k, len(datas))
    with open(os.path.join(out, f"kms-{k:07d}.json"), "wb") as f:
        f.write(datas[i] + b" " * copy + b"\n")
PY
}

# measure REPS CMD...: runs CMD (stdout to a file) REPS times and prints
# "<best wall s> <peak RSS MiB of that run> <exit code>".
measure() {
  python3 - "$@" <<'PY'
import os, subprocess, sys, time
reps, cmd = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(reps):
    with open(os.environ["BENCH_OUT"], "wb") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    if best is None or wall < best[0]:
        best = (wall, ru.ru_maxrss / 1024.0, rc)
print(f"{best[0]:.4f} {best[1]:.1f} {best[2]}")
PY
}

# files_per_s N WALL
files_per_s() { python3 -c "import sys; print(f'{int(sys.argv[1])/float(sys.argv[2]):.0f}')" "$1" "$2"; }

# The last line a run printed: the summary (stdout), or the records counted (json).
summary() {
  if [[ "$format" == json ]]; then
    echo "$(grep -c $'^\t\t"filename"' "$1") records"
  else
    tail -n 1 "$1"
  fi
}

printf '%-8s %-8s %10s %10s %8s %5s  %s\n' N engine wall_s rss_MiB files_s rc summary
for n in $sizes; do
  corpus="$work/corpus-$n"
  corpus "$n" "$corpus"
  export BENCH_OUT="$work/regorun-$n.out"
  # shellcheck disable=SC2086
  read -r r_wall r_rss r_rc < <(measure "$reps" "$regorun" test --no-color --jobs "$jobs" \
    -o "$format" -p "$policy" ${REGORUN_FLAGS:-} "$corpus")
  r_sum="$(summary "$BENCH_OUT")"
  printf '%-8s %-8s %10s %10s %8s %5s  %s\n' "$n" regorun "$r_wall" "$r_rss" \
    "$(files_per_s "$n" "$r_wall")" "$r_rc" "$r_sum"
  if (( n == 1 )); then
    # The runs above reuse the compiled program from the cache; a first run
    # (fresh CI container) parses the policies and compiles it.
    # shellcheck disable=SC2086
    read -r c_wall c_rss c_rc < <(measure "$reps" env REGORUN_RVM_CACHE=0 "$regorun" test \
      --no-color --jobs "$jobs" -o "$format" -p "$policy" ${REGORUN_FLAGS:-} "$corpus")
    printf '%-8s %-8s %10s %10s %8s %5s  %s\n' "$n" nocache "$c_wall" "$c_rss" \
      "$(files_per_s "$n" "$c_wall")" "$c_rc" "(REGORUN_RVM_CACHE=0: policies parsed and compiled)"
  fi
  if [[ $have_peer == 1 ]] && (( n <= peer_max )); then
    export BENCH_OUT="$work/opa-$n.out"
    # The peer is slow: one run per size above 1,000 files.
    peer_reps=$reps
    if (( n > 1000 )); then peer_reps=1; fi
    read -r o_wall o_rss o_rc < <(measure "$peer_reps" "$peer_python" "$peer" --engine opa \
      -p "$policy" -n main "$corpus")
    o_sum="$(tail -n 1 "$BENCH_OUT")"
    printf '%-8s %-8s %10s %10s %8s %5s  %s\n' "$n" opa "$o_wall" "$o_rss" \
      "$(files_per_s "$n" "$o_wall")" "$o_rc" "$o_sum"
    python3 -c "import sys; print(f'{sys.argv[1]:<8} ratio    {float(sys.argv[3])/float(sys.argv[2]):9.1f}x (opa wall / regorun wall)')" \
      "$n" "$r_wall" "$o_wall"
  fi
  # Scaling: each size's time against the previous size's.
  # The corpus's later files are a little larger, so the bytes are shown too.
  bytes="$(du -sb "$corpus" | cut -f1)"
  if (( ${prev_n:-0} >= 1000 )); then
    python3 -c "import sys; n,p,w,pw,b,pb = sys.argv[1:]; print(f'{n:<8} scale    {float(w)/float(pw):9.2f}x the time of N={p} for {int(n)//int(p)}x the files ({int(b)/int(pb):.2f}x the bytes)')" \
      "$n" "$prev_n" "$r_wall" "$prev_wall" "$bytes" "$prev_bytes"
  fi
  # Linearity: the same files as ten separate runs of a tenth each.
  if (( n == 100000 )) && [[ "${BENCH_SLICES:-1}" == 1 ]]; then
    python3 - "$corpus" "$work/slices" <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(src))
for k in range(10):
    d = os.path.join(out, f"s{k}")
    os.makedirs(d, exist_ok=True)
    for name in names[k * len(names) // 10:(k + 1) * len(names) // 10]:
        os.link(os.path.join(src, name), os.path.join(d, name))
PY
    sum=0
    for k in 0 1 2 3 4 5 6 7 8 9; do
      export BENCH_OUT="$work/regorun-slice.out"
      # shellcheck disable=SC2086
      read -r s_wall _ _ < <(measure "$reps" "$regorun" test --no-color --jobs "$jobs" \
        -o "$format" -p "$policy" ${REGORUN_FLAGS:-} "$work/slices/s$k")
      sum="$(python3 -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]))" "$sum" "$s_wall")"
    done
    rm -rf "$work/slices"
    python3 -c "import sys; n,w,s = sys.argv[1:]; print(f'{n:<8} slices   {float(w)/float(s):9.3f}x the sum of ten separate runs of a tenth of the files ({float(s):.2f} s)')" \
      "$n" "$r_wall" "$sum"
  fi
  prev_n=$n prev_wall=$r_wall prev_bytes=$bytes
done

# Duplicate documents are evaluated once: the same number of files, 75% of them copies.
dup="${BENCH_DUP:-10000}"
if (( dup > 0 )); then
  distinct="$work/dup-src"
  python3 "$gen" --out "$distinct" -n $(( dup / 4 )) --seed 1 >/dev/null 2>&1
  corpus="$work/dup-$dup"
  mkdir -p "$corpus"
  for f in "$distinct"/*.json; do
    b="$(basename "$f" .json)"
    for k in 1 2 3 4; do cp "$f" "$corpus/$b-$k.json"; done
  done
  export BENCH_OUT="$work/regorun-dup.out"
  # shellcheck disable=SC2086
  read -r d_wall d_rss d_rc < <(measure "$reps" "$regorun" test --no-color --jobs "$jobs" \
    -o "$format" -p "$policy" ${REGORUN_FLAGS:-} "$corpus")
  printf '%-8s %-8s %10s %10s %8s %5s  %s\n' "$dup" dup75 "$d_wall" "$d_rss" \
    "$(files_per_s "$dup" "$d_wall")" "$d_rc" "$(summary "$BENCH_OUT") (75% duplicates)"
fi
