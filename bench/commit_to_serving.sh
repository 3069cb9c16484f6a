#!/usr/bin/env bash
# Commit to serving, one run: the time from `git commit` in the repository shipper follows to the
# new version answering GET /version through shipper's proxy, in two modes one after the other:
# `shipper run --poll 1s` (it finds the commit by polling) and `shipper run --poll 0` with
# `shipper sync` run right after each commit. The project is one `web` service (2 replicas of
# tests/fixtures/test_service.cpp, an HTTP health probe every 100 ms) whose build copies the
# binary and version.txt into out/, under the harness policy with short rollout timeouts (the
# release tests' `release` set). CASE=data changes what a commit touches: version.txt is then a
# data file the service reads from the commit's tree (a watch rule restarts web on it), not a
# build input; the build compiles src/hello.c with cc besides copying the binary, and its
# inputs are src/** (a commit of data only: the build's inputs are unchanged).
# bench/commit_to_serving.cpp commits, polls the port and splits each sample with the deploy's
# audit record: detect (commit -> deploy started), build, rollout.
# No peer tool: Argo CD and Flux need a Kubernetes API server, which cannot be installed here;
# the poll interval is the reference. A benchmark, not a test; uses 127.0.0.1 only.
#
#   bench/commit_to_serving.sh                  # COMMITS=20 POLL=1s PAUSE_MS=300
#   COMMITS=50 MODES=poll POLL=2s bench/commit_to_serving.sh
#   SAMPLES=1 bench/commit_to_serving.sh        # print every commit's split
#   KEEP=1 bench/commit_to_serving.sh           # keep shipper's logs and state (printed path)
#   CASE=data MODES=sync bench/commit_to_serving.sh  # commits that change a data file only
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TANDEM_BUILD_DIR:-$ROOT/build-bench}
BUILD_TYPE=${BUILD_TYPE:-Release}  # RelWithDebInfo: reuse a developer's build directory as it is
COMMITS=${COMMITS:-20}
POLL=${POLL:-1s}
PAUSE_MS=${PAUSE_MS:-300}
TIMEOUT_MS=${TIMEOUT_MS:-30000}
REPLICAS=${REPLICAS:-2}
MODES=${MODES:-poll sync}
SAMPLES=${SAMPLES:-0}
CASE=${CASE:-version}
SERVICE_BIN=$BUILD/tests/tandem_test_service
BENCH_BIN=$BUILD/bench/tandem_commit_bench
SHIPPER_BIN=$BUILD/harness_frontend/shipper

case $POLL in
    *ms) POLL_MS=${POLL%ms} ;;
    *s) POLL_MS=$(( ${POLL%s} * 1000 )) ;;
    *) echo "POLL takes a duration like 1s or 500ms, not '$POLL'" >&2; exit 2 ;;
esac
for mode in $MODES; do
    [[ $mode == poll || $mode == sync ]] || { echo "unknown mode '$mode' in MODES (poll, sync)" >&2; exit 2; }
done
[[ $CASE == version || $CASE == data ]] || { echo "unknown CASE '$CASE' (version, data)" >&2; exit 2; }
need git git
[[ $CASE == data ]] && need cc gcc

WORK=$(mktemp -d /tmp/tandem-commit-bench.XXXXXX)
SHIPPER=""  # shipper's pid while it runs (started with setsid: its pid is its process group)
stop_shipper() {
    if [[ -n $SHIPPER ]]; then
        kill -TERM "$SHIPPER" 2>/dev/null || true  # it stops its replicas itself
        for _ in $(seq 200); do kill -0 "$SHIPPER" 2>/dev/null || break; sleep 0.05; done
        kill -KILL -- "-$SHIPPER" 2>/dev/null || true
        wait "$SHIPPER" 2>/dev/null || true
        SHIPPER=""
    fi
    kill_leftovers
}
cleanup() {
    stop_shipper
    if [[ ${KEEP:-0} == 1 ]]; then echo "kept shipper's logs and state in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM

echo "building shipper, tandem_test_service and tandem_commit_bench in $BUILD ..." >&2
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DTANDEM_BUILD_BENCH=ON >/dev/null
ninja -C "$BUILD" shipper tandem_test_service tandem_commit_bench >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The web service of CASE=version: its build copies the binary and version.txt (a build input).
web_of_version_case() {
    cat <<EOF
    build:
      command: mkdir -p out && cp $SERVICE_BIN out/svc && cp version.txt out/version
      inputs: [version.txt]
      outputs: [out]
    run: [out/svc, --port, "\${port}", --version-file, out/version]
EOF
}

# The web service of CASE=data: version.txt is data read from the commit's tree, restarted on.
web_of_data_case() {
    cat <<EOF
    build:
      command: mkdir -p out && cp $SERVICE_BIN out/svc && cc -O2 -o out/hello src/hello.c
      inputs: [src/**]
      outputs: [out]
    run: [out/svc, --port, "\${port}", --version-file, version.txt]
    watch:
      - paths: [version.txt]
        action: restart
EOF
}

# make_repo DIR PORT: the watched repository, with tandem.yaml, version.txt and src/hello.c
# committed on main.
make_repo() {
    git init -q -b main "$1"
    git -C "$1" config user.name "Bench"
    git -C "$1" config user.email "bench@example.com"
    git -C "$1" config commit.gpgsign false
    cat >"$1/tandem.yaml" <<EOF
version: 1
project: commitbench
policy: release
policies:
  release:
    from: harness
    rollout:
      gate_timeout: 2s
      drain_timeout: 200ms
    auto_revert:
      window: 3s
      max_errors: 3
services:
  web:
$(web_of_${CASE}_case)
    port: $2
    replicas: $REPLICAS
    stop_grace: 1s
    health:
      http: /healthz
      interval: 100ms
      failure_threshold: 2
EOF
    echo "v0" >"$1/version.txt"
    mkdir -p "$1/src"
    printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' >"$1/src/hello.c"
    git -C "$1" add -A
    git -C "$1" commit -q -m "first"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average before: $(load)" >&2
for mode in $MODES; do
    dir=$WORK/$mode
    mkdir -p "$dir"
    port=$(free_port)
    make_repo "$dir/repo" "$port"
    poll=$POLL
    args=(--repo "$dir/repo" --port "$port" --audit "$dir/state/audit.jsonl" --commits "$COMMITS" --pause-ms "$PAUSE_MS"
          --jitter-ms "$POLL_MS" --timeout-ms "$TIMEOUT_MS" --label "$mode")
    if [[ $mode == sync ]]; then
        poll=0
        args+=(--sync "$SHIPPER_BIN" --state-dir "$dir/state")
    fi
    [[ $SAMPLES == 1 ]] && args+=(--samples)
    echo "  running shipper --poll $poll (port $port) ..." >&2
    (exec setsid "$SHIPPER_BIN" run --repo "$dir/repo" --ref main --state-dir "$dir/state" --poll "$poll" --bootstrap) \
        >"$dir/shipper.log" 2>&1 </dev/null &
    SHIPPER=$!
    "$BENCH_BIN" "${args[@]}" >"$WORK/$mode.out" 2>&1 || true
    grep -v '^RESULT' "$WORK/$mode.out" | { if [[ $SAMPLES == 1 ]]; then cat; else grep -v "^$mode commit " || true; fi; } >&2
    grep '^RESULT' "$WORK/$mode.out" >"$WORK/$mode.result" ||
        echo "RESULT label=$mode commits=$COMMITS failures=$COMMITS total_median_ms=nan" >"$WORK/$mode.result"
    if ! grep -q "failures=0 " "$WORK/$mode.result"; then
        echo "  shipper --poll $poll had failures; the end of its log:" >&2; tail -n 20 "$dir/shipper.log" >&2 || true
    fi
    stop_shipper
done
echo "load average after: $(load)" >&2

field() { local v; v=$(sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$WORK/$1.result"); echo "${v:-nan}"; }
echo
echo "Commit to serving: $COMMITS commits per mode (CASE=$CASE), web with $REPLICAS replicas (HTTP probe every 100 ms), harness policy"
echo "with gate_timeout 2s / drain_timeout 200ms, rolling; $(nproc) CPUs, load $(load)"
printf "%-26s %10s %10s %10s %10s %10s %10s %10s\n" "mode" "median ms" "p95 ms" "detect" "prep" "build" "rollout" "failures"
for mode in $MODES; do
    case $mode in
        poll) name="shipper --poll $POLL" ;;
        sync) name="shipper --poll 0 + sync" ;;
    esac
    printf "%-26s %10s %10s %10s %10s %10s %10s %10s\n" "$name" "$(field "$mode" total_median_ms)" \
        "$(field "$mode" total_p95_ms)" "$(field "$mode" detect_median_ms)" "$(field "$mode" prep_median_ms)" \
        "$(field "$mode" build_median_ms)" "$(field "$mode" rollout_median_ms)" \
        "$(field "$mode" failures)/$(field "$mode" commits)"
done
echo "(median and p95 of commit -> new version served; detect, prep, build, rollout are medians from the audit log)"
for mode in $MODES; do
    echo "$mode: rollout p95 $(field "$mode" rollout_p95_ms) ms, detect p95 $(field "$mode" detect_p95_ms) ms," \
        "commit -> deploy recorded median $(field "$mode" done_median_ms) ms"
done
echo
echo "No peer tool (Argo CD and Flux need a Kubernetes API server, not installable here). Reference: the poll"
echo "interval, $POLL_MS ms: with polling, detect's median should be about half of it ($(( POLL_MS / 2 )) ms)."
