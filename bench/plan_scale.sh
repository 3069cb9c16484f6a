#!/usr/bin/env bash
# Planner scale, one run: tandem::load_project (parse + validate) and tandem::make_plan on a
# generated tandem.yaml of 1,000 services (50 depends_on chains of 20, 5 hubs with fan-in, a
# cross link per service; builds, HTTP probes, env with ${services.X.port}) under the harness
# policy: (i) from nothing with the bootstrap flag, (ii) against an observed state equal to the
# spec with one changed path, (iii) with 1,000 changed paths. Also the second plan shipper makes
# for a commit under immutable artifacts (the digests it built filled in). Median of 20 runs
# each, by bench/plan_scale.cpp, in one process; nothing else is started. A benchmark, not a test.
#
#   bench/plan_scale.sh                      # SERVICES=1000 RUNS=20
#   SERVICES=5000 RUNS=5 bench/plan_scale.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TANDEM_BUILD_DIR:-$ROOT/build-bench}
SERVICES=${SERVICES:-1000}
RUNS=${RUNS:-20}
BENCH_BIN=$BUILD/bench/tandem_plan_bench
TARGET_MS=50

WORK=$(mktemp -d /tmp/tandem-plan-bench.XXXXXX)
cleanup() { kill_leftovers; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
echo "building tandem_plan_bench in $BUILD ..." >&2
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTANDEM_BUILD_BENCH=ON >/dev/null
ninja -C "$BUILD" tandem_plan_bench >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log" >&2; exit 1; }

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average before: $(load)" >&2
"$BENCH_BIN" --services "$SERVICES" --runs "$RUNS" --dir "$WORK/project" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }
echo "load average after: $(load)" >&2

field() { local v; v=$(sed -n "s/^RESULT step=$1 .* $2=\([^ ]*\).*/\1/p" "$WORK/out"); echo "${v:-nan}"; }
shape=$(sed -n 's/^generated [^:]*: \(.*\); policy .*/\1/p' "$WORK/out")
echo
echo "Plan scale: $shape; harness policy"
echo "median of $RUNS runs each; $(nproc) CPUs, load $(load)"
printf "%-34s %10s %10s %9s %7s %12s %8s\n" "step" "median ms" "p95 ms" "actions" "waves" "2nd plan ms" "target"
row() {  # row LABEL STEP [SECOND_STEP]
    local median verdict="" second="-"
    median=$(field "$2" median_ms)
    [[ -n ${3:-} ]] && second=$(field "$3" median_ms)
    if [[ $2 != load ]]; then
        verdict=$(awk -v m="$median" -v s="$second" -v t="$TARGET_MS" 'BEGIN { print (m + 0 < t && (s == "-" || s + 0 < t)) ? "met" : "MISSED" }')
    fi
    printf "%-34s %10s %10s %9s %7s %12s %8s\n" "$1" "$median" "$(field "$2" p95_ms)" \
        "$([[ $2 == load ]] && echo - || field "$2" actions)" "$([[ $2 == load ]] && echo - || field "$2" waves)" \
        "$second" "$verdict"
}
row "load_project (parse + validate)" load
row "(i) bootstrap from nothing" bootstrap bootstrap+artifacts
row "(ii) 1 changed path" one one+artifacts
row "(iii) $SERVICES changed paths" many many+artifacts
echo "(2nd plan: the same request with PlanRequest::artifacts filled, as shipper plans again after building;"
echo " waves: the harness policy's updates.max_parallel 1 puts one step in each)"
echo
echo "target: make_plan under ${TARGET_MS} ms for $SERVICES services (no peer tool measured)"
