#!/usr/bin/env bash
# Output never depends on the number of threads nor on how a rules file is cut
# into pieces parsed in parallel: every golden input and a generated file give
# byte-identical stdout, stderr and exit status with NETPOLC_THREADS=1, 2 and 8,
# parsed as a whole (NETPOLC_PIECE_BYTES=0), cut between every two
# declarations (1) and cut as by default. Nor does it depend on whether a
# build holds the whole module or streams it (NETPOLC_STREAM_BYTES=1 streams
# every file: compiler/frontend/compile_pieces.h).
# usage: threads_test.sh NETPOLC GEN_RULES_PY INPUT.netpol...
set -uo pipefail
netpolc=$1
gen=$2
shift 2
dir=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
runs=0

# run NAME THREADS PIECES [STREAM] ARGS...: writes NAME.out (stdout, stderr,
# status). STREAM is `stream` (NETPOLC_STREAM_BYTES=1) or absent.
run() {
  local name=$1 threads=$2 pieces=$3
  shift 3
  local stream=
  if [ "${1:-}" = stream ]; then
    stream=1
    shift
  fi
  local -a env=(NETPOLC_THREADS="$threads")
  [ "$pieces" = default ] || env+=(NETPOLC_PIECE_BYTES="$pieces")
  [ -z "$stream" ] || env+=(NETPOLC_STREAM_BYTES=1)
  env "${env[@]}" "$netpolc" "$@" >"$dir/$name.out" 2>"$dir/$name.err"
  local status=$?
  echo "exit $status" >>"$dir/$name.err"
  # 0 to 3 are netpolc's statuses (docs/design.md); anything else is a crash
  # or a sanitizer report, which would compare equal between two runs.
  if [ "$status" -gt 3 ]; then
    echo "FAIL: netpolc $* (NETPOLC_THREADS=$threads, pieces $pieces) ended with status $status"
    tail -20 "$dir/$name.err"
    failures=$((failures + 1))
  fi
}

# compare ARGS...: the command under every setting of $settings against one
# thread, whole file.
compare() {
  run base 1 0 "$@"
  for setting in "${settings[@]}"; do
    # shellcheck disable=SC2086
    run other $setting "$@"
    runs=$((runs + 1))
    if ! cmp -s "$dir/base.out" "$dir/other.out" || ! cmp -s "$dir/base.err" "$dir/other.err"; then
      echo "FAIL: netpolc $* differs with threads/pieces $setting"
      diff "$dir/base.err" "$dir/other.err" | head -5
      failures=$((failures + 1))
    fi
  done
}

# Golden inputs are small: one piece by default, so only cuts between every
# two declarations change anything.
settings=("1 1" "8 1")
for input in "$@"; do
  compare build "$input" --target k8s
  compare check "$input"
done
# Every policy target, streamed.
settings=("2 default stream")
for input in "$@"; do
  for target in k8s cilium calico ir; do
    compare build "$input" --target "$target"
  done
done
settings=("1 1" "2 1" "8 1" "2 default" "8 default" "1 default stream" "8 default stream")

# A generated file of several pieces of the default size, with comments and
# non-ASCII text so that positions after the cuts are exercised.
big=$dir/big.netpol
python3 "$gen" 8000 > "$big"
printf '// Größe: after the last declaration\r\n/* lone CR line ends */\rflag cr_a;\rflag cr_b;\n' >> "$big"
size=$(wc -c < "$big")
[ "$size" -gt 200000 ] || { echo "FAIL: generated file too small ($size bytes)"; exit 1; }
for target in $("$netpolc" targets | awk '{print $1}'); do
  compare build "$big" --target "$target"
done
# Other values: other policies and rules, and the components' conditions.
compare build "$big" --target k8s --set f0=true --set f1=false --set f3=false --set instance=other
compare check "$big"
# Findings are rendered in batches, a round of them per thread count.
compare check "$big" --format json
compare fmt "$big"
# An error after the cuts is reported as in a whole-file parse.
printf 'component broken {\n  ingress 80 from nowhere_at_all;\n}\n' >> "$big"
compare build "$big" --target k8s
printf 'component "x" {}\n' >> "$big"
compare build "$big" --target k8s

echo "$runs comparisons, $failures failures"
[ "$failures" -eq 0 ]
