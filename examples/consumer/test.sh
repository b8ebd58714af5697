#!/usr/bin/env bash
# Builds and tests examples/consumer, a workspace that uses netpolc as the
# external repository @netpolc, then checks that its builds are hermetic,
# deterministic and cacheable:
#
#   1. a clean build with an empty --disk_cache (every action runs), then
#      `bazel test //...`;
#   2. a second clean build, in a new output base and from a copy of the
#      checkout at another path (as on another machine), with the same disk
#      cache: every action must come from the cache, and every output must be
#      byte-identical to the first build's;
#   3. the outputs name no path of the build (output bases, checkouts, home)
#      and pass netpolc's own hermeticity check (bazel/tests/hermetic_test.sh).
#
# The builds run on copies of this checkout (its files known to git, or all
# but bazel-* without git), so that edits made meanwhile do not disturb them,
# each in its own output base under a temporary directory: the main
# workspace's Bazel server and outputs are not touched. The servers the
# script starts are shut down at the end, and the directory removed.
#
# Usage: examples/consumer/test.sh          (from anywhere)
# Ends with a line "consumer: N passed, N failed; ..."; exits 1 on failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
consumer=${here#"$root"/}  # examples/consumer

# The Debian packages netpolc builds with (installed when missing; `bazel
# --version` starts no server).
"$root/bazelw" --version >/dev/null || exit 1

work=$(mktemp -d "${TMPDIR:-/tmp}/netpolc-consumer.XXXXXX")
started=()
cleanup() {
  local base
  for base in "${started[@]}"; do
    bazel --output_base="$base" shutdown >/dev/null 2>&1 || true
  done
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

problems=()
problem() {
  echo "consumer: FAIL: $*" >&2
  problems+=("$*")
}

# copy_checkout DEST: the checkout's files, as a fresh clone (plus the
# changes not yet committed) would have them.
copy_checkout() {
  mkdir -p "$1"
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
      tar --null --no-recursion -T - -cf -) | tar -C "$1" -xf -
  else
    tar -C "$root" --exclude='bazel-*' --exclude=.git -cf - . | tar -C "$1" -xf -
  fi
}

# bzl N COMMAND ARGS...: Bazel on copy N of the checkout, in output base N,
# with the shared disk cache and no bazel-* symlinks.
bzl() {
  local n=$1 command=$2
  shift 2
  local base=$work/base$n
  [[ " ${started[*]} " == *" $base "* ]] || started+=("$base")
  (cd "${checkouts[$n]}/$consumer" &&
    bazel --output_base="$base" --max_idle_secs=900 "$command" \
      --disk_cache="$work/cache" --symlink_prefix=/ "$@")
}

# The regular files of an output tree with their SHA-256, less the runfiles
# manifests (they hold absolute paths by design, and are not outputs).
checksums() {
  (cd "$1" && find . -type f ! -name '*.runfiles_manifest' ! -path '*.runfiles/MANIFEST' \
    -print0 | sort -z | xargs -0 sha256sum)
}

checkouts=("" "$work/one/netpolc" "$work/two/another/netpolc")
copy_checkout "${checkouts[1]}"
copy_checkout "${checkouts[2]}"

echo "=== 1. Clean build, empty disk cache"
bzl 1 build //... 2>&1 | tee "$work/build1.log"
(( PIPESTATUS[0] == 0 )) || problem "the first build failed"

echo "=== Tests"
bzl 1 test //... 2>&1 | tee "$work/test.log"
test_status=${PIPESTATUS[0]}
passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$work/test.log")
failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FLAKY|FAILED TO BUILD)' \
  "$work/test.log")
if (( test_status != 0 )); then
  (( failed > 0 )) || failed=1
  problem "bazel test exited with status $test_status"
fi

echo "=== 2. Clean build, new output base, another copy of the checkout, same disk cache"
bzl 2 build //... 2>&1 | tee "$work/build2.log"
(( PIPESTATUS[0] == 0 )) || problem "the second build failed"

# "INFO: 122 processes: 91 remote cache hit, 31 internal." (Bazel 4 counts
# disk cache hits as "remote cache hit"; later versions say "disk cache hit".)
processes=$(grep -E '^INFO: [0-9]+ process' "$work/build2.log" | tail -n 1)
hits=$(grep -oE '[0-9]+ (disk|remote) cache hit' <<<"$processes" | grep -oE '^[0-9]+' || echo 0)
# Processes that ran: any but cache hits and Bazel's internal ones.
executed=$(sed -E 's/^INFO: [0-9]+ processes?: //; s/\.$//' <<<"$processes" | tr ',' '\n' |
  grep -vE 'cache hit|internal' | grep -oE '^ *[0-9]+' | awk '{ n += $1 } END { print n + 0 }')
echo "second build: $processes"
(( hits > 0 )) || problem "the second build had no disk cache hit"
(( executed == 0 )) || problem "the second build ran $executed processes instead of taking them from the disk cache"

bin1=$(bzl 1 info bazel-bin 2>/dev/null)
bin2=$(bzl 2 info bazel-bin 2>/dev/null)
checksums "$bin1" >"$work/sums1"
checksums "$bin2" >"$work/sums2"
files=$(wc -l <"$work/sums1")
if ! diff -u "$work/sums1" "$work/sums2" >"$work/sums.diff"; then
  cat "$work/sums.diff"
  problem "the two builds' outputs differ"
fi

echo "=== 3. Outputs"
outputs=()
for file in "$bin1"/*.yaml "$bin1"/*.ir "$bin1"/*.md; do
  [[ -f $file ]] && outputs+=("$file")
done
(( ${#outputs[@]} > 0 )) || problem "no netpolc outputs in $bin1"
for file in "${outputs[@]}"; do
  echo "$(sha256sum <"$file" | cut -c1-16)  ${file#"$bin1"/}"
  for path in "$work" "$root" ${HOME:+"$HOME"}; do
    if [[ $path != / ]] && grep -qF "$path" "$file"; then
      problem "${file#"$bin1"/} holds the path $path"
    fi
  done
done
bash "$root/bazel/tests/hermetic_test.sh" "${outputs[@]}" >"$work/hermetic.log" ||
  { cat "$work/hermetic.log"; problem "the outputs are not hermetic"; }

if (( ${#problems[@]} == 0 )); then
  determinism="determinism: ok ($files files byte-identical; second build: $hits disk cache hits, $executed executed)"
else
  determinism="determinism: ${#problems[@]} problem(s): $(IFS=';'; echo "${problems[*]}")"
fi
echo "consumer: $passed passed, $failed failed; $determinism"
(( ${#problems[@]} == 0 && failed == 0 ))
