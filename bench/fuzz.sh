#!/usr/bin/env bash
# Runs every fuzz target in the module for a fixed time, one target per
# `go test` invocation (Go fuzzes one target at a time), and prints a
# markdown table: executions, executions per second, new interesting inputs
# and the result of each (the figures for BENCHMARKS.md, section Fuzzing).
#
#   bash bench/fuzz.sh              # every target, 30 s each (about 8 minutes)
#   bash bench/fuzz.sh 10           # 10 s each
#   bash bench/fuzz.sh 30 Decision  # only targets whose name matches
#
# Each target starts from its seed corpus (f.Add and testdata/fuzz/<Name>/):
# what earlier runs left in Go's fuzz cache for that target
# ($GOCACHE/fuzz/<package>/<Name>) is removed first, so runs compare. Nothing
# else is removed. Go writes a failing input to the package's
# testdata/fuzz/<Name>/; the script names every such crasher and exits 1.
# Raw `go test` output is kept in bench/out/fuzz-<Name>.txt.
#
# Go minimizes every new interesting input before it counts it, for up to
# -fuzzminimizetime (default 60 s), and only then are the executions spent
# minimizing added to the total. The realistic seeds here are 1-2 KB of JSON
# or YAML, whose minimization (quadratic in the length) runs to the limit,
# so under Go's default a 30 s run is spent minimizing its first finds and
# reports a few dozen executions. The script bounds minimization to
# FUZZ_MINIMIZE tries per input (default 100x; a duration works too, and
# FUZZ_MINIMIZE=60s is Go's default). A crasher is minimized within the same
# bound; re-run it with a larger -fuzzminimizetime to shrink it further.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
filter=${2:-.}
minimize=${FUZZ_MINIMIZE:-100x}
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/fuzz.sh [seconds] [name-regexp]" >&2; exit 2; }
mkdir -p bench/out
module=$(go list -m)
fuzzcache="$(go env GOCACHE)/fuzz"

# "dir Name" for every fuzz target, in a stable order.
mapfile -t targets < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(' . |
  sed -E 's#^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u)

rows=()
crashers=()
failed=0
for t in "${targets[@]}"; do
  read -r dir name <<<"$t"
  [[ "$name" =~ $filter ]] || continue
  out="bench/out/fuzz-${name}.txt"
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "== ./${dir} ${name} (${secs}s, load ${load})" >&2
  rm -rf "${fuzzcache:?}/${module}/${dir}/${name}"
  # The outer timeout is a backstop: fuzzing stops by itself after -fuzztime,
  # but building and gathering baseline coverage come on top of it.
  res=pass
  if ! timeout --kill-after=10s "$((secs + 600))s" \
    go test "./${dir}" -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" -fuzzminimizetime "$minimize" -timeout "$((secs + 300))s" >"$out" 2>&1; then
    res=FAIL
    # Go before 1.27 can end a run that found nothing with a bare "context
    # deadline exceeded" when -fuzztime expires (go.dev/issue/75804): no
    # input failed and none was written. Only that exact ending is let pass.
    if ! grep -q 'Failing input written to' "$out" &&
      [[ $(grep -c -- '--- FAIL' "$out") == 1 ]] &&
      grep -A1 -- "^--- FAIL: ${name} " "$out" | tail -n 1 | grep -qx '    context deadline exceeded'; then
      res="pass (Go's end-of-fuzztime race, go.dev/issue/75804)"
    fi
  fi
  [[ "$res" != FAIL ]] || failed=1
  tail -n 3 "$out" >&2
  # The last progress line carries the totals:
  # fuzz: elapsed: 30s, execs: 123456 (4115/sec), new interesting: 2 (total: 9)
  last=$(grep -E '^fuzz: elapsed: [0-9]+s, execs: ' "$out" | tail -n 1 || true)
  elapsed=$(sed -nE 's/^fuzz: elapsed: ([0-9]+)s.*/\1/p' <<<"$last")
  execs=$(sed -nE 's/.*execs: ([0-9]+) .*/\1/p' <<<"$last")
  newi=$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 (corpus \2)/p' <<<"$last")
  if [[ -z "$elapsed" ]]; then # failed before the first progress line
    elapsed=$(sed -nE "s/^--- FAIL: ${name} \(([0-9]+)\.[0-9]+s\)$/\1/p" "$out" | head -n 1)
  fi
  rate=-
  if [[ -n "$execs" && -n "$elapsed" && "$elapsed" -gt 0 ]]; then
    rate=$((execs / elapsed))
  fi
  while read -r c; do
    [[ -n "$c" ]] || continue
    crashers+=("./${dir}/${c}  (re-run: go test ./${dir} -run '^${name}/${c##*/}\$')")
    res="FAIL: ./${dir}/${c}"
  done < <(sed -nE 's/.*Failing input written to (.*)$/\1/p' "$out")
  rows+=("| ${name} | ./${dir} | ${elapsed:-?}s | ${execs:-?} | ${rate} | ${newi:-?} | ${load} | ${res} |")
done

echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version | cut -d' ' -f3); load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "Command: FUZZ_MINIMIZE=${minimize} bash bench/fuzz.sh ${secs}$([[ "$filter" == . ]] || echo " '${filter}'")"
echo "Each target: go test ./<package> -run '^\$' -fuzz '^<Name>\$' -fuzztime ${secs}s -fuzzminimizetime ${minimize}"
echo
echo "| target | package | time | executions | execs/s | new interesting | load at start | result |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if ((failed)); then
  echo >&2
  echo "fuzzing failed; see bench/out/fuzz-<Name>.txt" >&2
  for c in "${crashers[@]}"; do
    echo "crasher: ${c}" >&2
  done
  exit 1
fi
