#!/usr/bin/env bash
# Runs every benchmark behind an issue's number, then the full 100-seed apply
# chaos run, and prints one markdown table (the figures for BENCHMARKS.md).
#
#   bash bench/run.sh            # all of them (about 3 minutes on 2 idle cores)
#   bash bench/run.sh Plan       # only benchmarks whose name matches
#
# Raw `go test` output is kept in bench/out/ for benchstat.
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-.}
mkdir -p bench/out
raw=bench/out/raw.txt
: >"$raw"

# package | -bench regexp | -benchtime | issue target
benches=(
  "./pkg/spec|^BenchmarkLoad10k$|3x|#2: 10,000 definitions in 100 files < 1 s, < 200 MB"
  "./pkg/emulator|^BenchmarkListDefinitions$|3s|#3: >= 2,000 list GETs/s"
  "./pkg/graphclient|^BenchmarkEmulatorList10000$|3x|#4: 10,000 definitions, 20 ms latency, <= 1.3x requests x latency"
  "./pkg/graphclient|^BenchmarkLookupUsers500$|20x|#4/#7: 500 names in few round trips"
  "./pkg/diff|^BenchmarkCompute1000|10x|#5: Compute over 1,000 definitions"
  "./cmd/arsync|^BenchmarkPlan1000$|10x|#5: plan of 1,000 at 20 ms latency <= 1.5x lower bound, < 100 MB"
  "./pkg/apply|^BenchmarkApplyCreatesThrottled|3x|#6: 1,000 creates under the throttle <= 1.2x minimum"
  "./pkg/spec|^BenchmarkResolve500Names$|20x|#7: 500 names <= 40 round trips"
  "./cmd/arsync|^BenchmarkDecisions|1x|#8: 100,000 decisions streamed < 100 MB"
  "./pkg/emulator|^BenchmarkRecordDecisions100k$|1x|#14: 100,000 decisions recorded in a persisted emulator < 5 s"
  "./cmd/arsync|^BenchmarkCoverageTenantScale$|3x|#17: coverage of 10,000 groups, 50,000 users, 200 definitions <= 650 round trips, < 150 MB"
)

for b in "${benches[@]}"; do
  IFS='|' read -r pkg re bt target <<<"$b"
  [[ "$re" =~ $filter ]] || continue
  echo "== ${pkg} ${re}   (${target})" >&2
  echo "# target ${target}" >>"$raw"
  go test "$pkg" -run '^$' -bench "$re" -benchtime "$bt" -benchmem -count 1 2>&1 | tee -a "$raw" >&2
done

if [[ "chaos" =~ $filter || "$filter" == "." ]]; then
  echo "== apply chaos, 100 seeds (#6)" >&2
  start=$(date +%s)
  if ARSYNC_CHAOS_SEEDS=100 go test ./pkg/apply -run '^TestChaos' -count 1 >&2; then res=pass; else res=FAIL; fi
  echo "# chaos 100 seeds: ${res} in $(( $(date +%s) - start ))s" >>"$raw"
fi

echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version | cut -d' ' -f3), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| benchmark | target | time/op | memory/op | other metrics |"
echo "|---|---|---|---|---|"
awk '
  /^# target / { target = substr($0, 10); next }
  /^# chaos /  { sub(/^# chaos 100 seeds: /, ""); printf "| TestChaos (100 seeds) | #6: converges, no duplicates, 0 violations | %s | | |\n", $0; next }
  /^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    t = ""; mem = ""; other = ""
    for (i = 3; i < NF; i += 2) {
      v = $i; u = $(i+1)
      if (u == "ns/op")          t = sprintf("%.1f ms", v / 1e6)
      else if (u == "B/op")      mem = sprintf("%.1f MB", v / 1048576)
      else if (u == "allocs/op") other = other sprintf("%s allocs; ", v)
      else                       other = other sprintf("%s %s; ", v, u)
    }
    printf "| %s | %s | %s | %s | %s |\n", name, target, t, mem, other
  }' "$raw"
