#!/usr/bin/env bash
# Benchmark (not a test): compiles a synthetic rules file of N rules (default
# 100000) to every target and prints wall time and peak memory per target.
# usage: tests/bench/run.sh [RULES]
set -euo pipefail
cd "$(dirname "$0")/../.."
rules=${1:-100000}
# An optimised build, linked as bazel-opt-bin/ so bazel-bin stays as it is.
./bazelw build -c opt --symlink_prefix=bazel-opt- //:netpolc >/dev/null 2>&1
bin=bazel-opt-bin/compiler/netpolc
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 tests/bench/gen_rules.py "$rules" > "$dir/big.netpol"
echo "input: $rules rules, $(wc -c < "$dir/big.netpol") bytes"
for target in $("$bin" targets | awk '{print $1}'); do
  if /usr/bin/time -f "%e s %M KiB" -o "$dir/time" "$bin" build "$dir/big.netpol" \
      --target "$target" -o "$dir/out.$target" 2>"$dir/err"; then
    printf '%-10s %s, output %s bytes\n' "$target" "$(tail -1 "$dir/time")" "$(wc -c < "$dir/out.$target")"
  else
    printf '%-10s failed: %s\n' "$target" "$(head -1 "$dir/err")"
  fi
done
