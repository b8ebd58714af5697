#!/usr/bin/env bash
# Benchmark (not a test): figures, never pass/fail on time.
#
# usage: tests/bench/run.sh [N] [RUNS]
#
# With NETPOLC_BENCH_KIT set to the benchmark kit (the directory holding
# compare.sh, synth.py, to_netpol.py and the Jinja2 peer), runs its compare.sh
# on an optimised build: a synthetic product of N components (default 10000:
# 100k ingress + 50k egress rules), hyperfine's relative speed of the k8s
# target against the peer, then wall time and peak memory of every target,
# `check` and the peer, all in one run. Without the kit, compiles a file of
# the same size made by tests/bench/gen_rules.py (no peer).
#
# Either way it then adds what compare.sh does not measure: `fmt`, and the k8s
# target with one thread against every core (NETPOLC_THREADS).
# Shared machines are noisy: quote ratios from one run, not lone times.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-10000}
runs=${2:-3}
# An optimised build, linked as bazel-opt-bin/ so bazel-bin stays as it is.
./bazelw build -c opt --symlink_prefix=bazel-opt- //:netpolc >/dev/null 2>&1
bin=$(readlink -f bazel-opt-bin/compiler/cli/netpolc)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"

if [ -n "${NETPOLC_BENCH_KIT:-}" ]; then
  BENCH_DIR=$dir bash "$NETPOLC_BENCH_KIT/compare.sh" "$bin" "$n" "$runs"
  rules=$dir/synth_$n.netpol
else
  rules=$dir/big.netpol
  python3 tests/bench/gen_rules.py $((n * 15)) "$n" > "$rules"
  echo "input: $n components, $((n * 15)) rules, $(wc -c < "$rules") bytes (gen_rules.py; no peer)"
  for target in $("$bin" targets | awk '{print $1}'); do
    /usr/bin/time -f "netpolc $target: %e s wall, %M KiB peak" "$bin" build "$rules" \
      --target "$target" -o "$dir/out.$target" 2>&1 | tail -1
  done
  /usr/bin/time -f "netpolc check: %e s wall, %M KiB peak" "$bin" check "$rules" \
    > "$dir/check.txt" 2>&1 || true
  tail -1 "$dir/check.txt"
fi
/usr/bin/time -f "netpolc fmt: %e s wall, %M KiB peak" "$bin" fmt "$rules" \
  2>&1 >/dev/null | tail -1
for threads in 1 "$(nproc)"; do
  NETPOLC_THREADS=$threads /usr/bin/time -f "netpolc k8s, $threads thread(s): %e s wall, %U s user, %M KiB peak" \
    "$bin" build "$rules" --target k8s -o "$dir/out.k8s" 2>&1 | tail -1
done
