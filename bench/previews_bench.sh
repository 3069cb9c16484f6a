#!/usr/bin/env bash
# Deploy previews, one run, side by side: `shipper run --previews 'feature/*' --preview-port P
# --poll 1s` following a local git repository (docs/previews.md), against the main branch of the
# same shipper and against the naive alternative for a branch, a second `shipper run --ref
# feature/x` with a state directory of its own.
#
#  new        a branch feature/bN made off main with a new version.txt (committed on a detached
#             HEAD, then `git branch` at that commit, so the branch appears at its commit in one
#             step): from `git branch`'s return until GET /version with `Host:
#             feature-bN.localhost` on the routing port answers the new version (raw HTTP over a
#             fresh socket every GAP_MS). NEW branches.
#  preview    PUSHES commits to feature/b1, each timed from `git commit`'s return until the
#             routing port answers it for feature-b1.localhost; alternated with
#  main       PUSHES commits to main, timed until main's own port (shipper's proxy) answers them.
#  second     shipper stopped, a second `shipper run --ref feature/x --bootstrap` with its own
#             state dir: feature/x carries a tandem.yaml whose web port is another one (the file
#             is the same otherwise); launch -> serving, then PUSHES commits -> serving.
#  gone       after the pushes, the branches beyond the first K deleted one by one: until the
#             preview's state directory is removed and the routing port no longer answers it.
#  idle       shipper's own CPU (utime+stime, % of one core) and VmRSS over WINDOW_S seconds with
#             0 previews (right after main's bootstrap, no branch matching) and with K previews
#             (after the K-th new branch), the delta per preview, the RSS of the previews'
#             services (processes whose cwd or command line is under STATE/previews/); and the
#             second shipper's own process idle over the same window length.
#
# The project is commit_to_serving.sh's CASE=version: one `web` service, 2 replicas of
# tests/fixtures/test_service.cpp, a build copying the binary and version.txt into out/, an HTTP
# probe every 100 ms, under the `release` set (harness with gate_timeout 2s / drain_timeout
# 200ms). Previews run under the built-in `wip` set (the default). A benchmark, not a test; uses
# 127.0.0.1 only. bench/previews_bench.py commits, times and prints the tables.
#
#   bench/previews_bench.sh                          # NEW=5 PUSHES=10 K=3 WINDOW_S=30
#   TANDEM_BUILD_DIR=build NO_BUILD=1 bench/previews_bench.sh   # use binaries already built there
#   NEW=3 PUSHES=5 WINDOW_S=10 KEEP=1 bench/previews_bench.sh   # quicker; keep the logs and state
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TANDEM_BUILD_DIR:-$ROOT/build-bench}
NEW=${NEW:-5}
PUSHES=${PUSHES:-10}
K=${K:-3}
WINDOW_S=${WINDOW_S:-30}
SETTLE_S=${SETTLE_S:-3}
POLL=${POLL:-1s}
REPLICAS=${REPLICAS:-2}
KEEP=${KEEP:-0}
export GAP_MS=${GAP_MS:-5} TIMEOUT_S=${TIMEOUT_S:-60} PAUSE_MS=${PAUSE_MS:-300}
case $POLL in
    *ms) export JITTER_MS=${POLL%ms} ;;
    *s) export JITTER_MS=$(( ${POLL%s} * 1000 )) ;;
    *) echo "POLL takes a duration like 1s or 500ms, not '$POLL'" >&2; exit 2 ;;
esac
(( NEW >= 1 && PUSHES >= 1 && K >= 1 )) || { echo "NEW, PUSHES and K must be at least 1" >&2; exit 2; }
HELPER=$ROOT/bench/previews_bench.py
need git git

WORK=$(mktemp -d /tmp/tandem-previews-bench.XXXXXX)
RESULTS=$WORK/results
SHIPPER=""  # the running shipper's pid (started with setsid: its pid is its process group)
stop_shipper() {
    [[ -n $SHIPPER ]] || return 0
    kill -TERM "$SHIPPER" 2>/dev/null || true  # it stops its services and its previews' itself
    for _ in $(seq 200); do kill -0 "$SHIPPER" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$SHIPPER" 2>/dev/null && echo "  shipper $SHIPPER still running 10 s after SIGTERM: killed" >&2
    kill -KILL -- "-$SHIPPER" 2>/dev/null || true
    wait "$SHIPPER" 2>/dev/null || true
    SHIPPER=""
}
cleanup() {
    trap - EXIT INT TERM
    stop_shipper
    kill_leftovers
    if [[ $KEEP == 1 ]]; then echo "kept the logs and state in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ ${NO_BUILD:-0} == 1 && -x $BUILD/harness_frontend/shipper && -x $BUILD/tests/tandem_test_service ]]; then
    echo "NO_BUILD=1: using shipper and tandem_test_service of $BUILD as they are" >&2
else
    build_bench shipper tandem_test_service
fi
# A copy of shipper: a rebuild during the run does not change what runs. The test service is
# used where it is: harness builds run sandboxed with a /tmp of their own, so the build command
# cannot copy it from WORK.
mkdir -p "$WORK/bin"
cp "$BUILD/harness_frontend/shipper" "$WORK/bin/"
SHIPPER_BIN=$WORK/bin/shipper
"$SHIPPER_BIN" --version >/dev/null || { echo "$BUILD/harness_frontend/shipper does not run (being linked?)" >&2; exit 1; }
SERVICE_BIN=$BUILD/tests/tandem_test_service

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
now_ms() { date +%s%3N; }
py() { python3 "$HELPER" "$@"; }

# tandem_yaml PORT: commit_to_serving.sh's CASE=version project on PORT.
tandem_yaml() {
    cat <<EOF
version: 1
project: previewbench
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
    build:
      command: mkdir -p out && cp $SERVICE_BIN out/svc && cp version.txt out/version
      inputs: [version.txt]
      outputs: [out]
    run: [out/svc, --port, "\${port}", --version-file, out/version]
    port: $1
    replicas: $REPLICAS
    stop_grace: 1s
    health:
      http: /healthz
      interval: 100ms
      failure_threshold: 2
EOF
}

# start_shipper NAME ARGS...: shipper run in its own process group, its output in WORK/NAME.log.
start_shipper() {
    local name=$1
    shift
    (exec setsid "$SHIPPER_BIN" run --poll "$POLL" --bootstrap --http-port 0 "$@") >"$WORK/$name.log" 2>&1 </dev/null &
    SHIPPER=$!
}

REPO=$WORK/repo
git init -q -b main "$REPO"
git -C "$REPO" config user.name "Bench"
git -C "$REPO" config user.email "bench@example.com"
git -C "$REPO" config commit.gpgsign false
MAIN_PORT=$(free_port)
ROUTE_PORT=$(free_port)
tandem_yaml "$MAIN_PORT" >"$REPO/tandem.yaml"
echo "main-v0" >"$REPO/version.txt"
git -C "$REPO" add -A
git -C "$REPO" commit -q -m "first"

LOAD_BEFORE=$(load)
UPTIME_BEFORE=$(uptime)
echo "$UPTIME_BEFORE" >&2
BRANCHES=$(( NEW > K ? NEW : K ))
STATE=$WORK/state
echo "shipper --previews 'feature/*' --preview-port $ROUTE_PORT (main on port $MAIN_PORT) ..." >&2
t0=$(now_ms)
start_shipper shipper --repo "$REPO" --ref main --state-dir "$STATE" --previews 'feature/*' \
    --preview-port "$ROUTE_PORT" --preview-max $(( BRANCHES + 1 ))
py serve --port "$MAIN_PORT" --text main-v0 --since-ms "$t0" --label main_launch --repo "$REPO" --branch main \
    --results "$RESULTS" || { tail -n 30 "$WORK/shipper.log" >&2; exit 1; }
sleep "$SETTLE_S"  # settle: startup work is not idle cost
echo "  idle for ${WINDOW_S}s with 0 previews ..." >&2
py idle --pid "$SHIPPER" --window-s "$WINDOW_S" --services-under "$STATE/previews/" --label idle_0 --results "$RESULTS"

echo "new branches (NEW=$NEW; the idle measurement after the ${K}th) ..." >&2
py branches --repo "$REPO" --route-port "$ROUTE_PORT" --count "$BRANCHES" --timed "$NEW" --idle-after "$K" \
    --settle-s "$SETTLE_S" --window-s "$WINDOW_S" --pid "$SHIPPER" --services-under "$STATE/previews/" \
    --results "$RESULTS"

echo "pushes (PUSHES=$PUSHES), alternately to feature/b1 and main ..." >&2
py pushes --repo "$REPO" --count "$PUSHES" --target "preview,feature/b1,$ROUTE_PORT,feature-b1.localhost" \
    --target "main,main,$MAIN_PORT,127.0.0.1" --results "$RESULTS"

if (( BRANCHES > K )); then
    echo "deleting feature/b$(( K + 1 )) .. feature/b$BRANCHES ..." >&2
    for j in $(seq $(( K + 1 )) "$BRANCHES"); do
        py gone --repo "$REPO" --branch "feature/b$j" --route-port "$ROUTE_PORT" --dir "$STATE/previews/feature-b$j" \
            --n $(( j - K )) --results "$RESULTS"
    done
fi
stop_shipper
kill_leftovers

echo "the alternative: a second shipper --ref feature/x with its own state dir ..." >&2
SECOND_PORT=$(free_port)
git -C "$REPO" checkout -q -b feature/x main
tandem_yaml "$SECOND_PORT" >"$REPO/tandem.yaml"
echo "feature/x-v0" >"$REPO/version.txt"
git -C "$REPO" commit -q -a -m "feature/x: its own port"
git -C "$REPO" checkout -q main
t0=$(now_ms)
start_shipper second --repo "$REPO" --ref feature/x --state-dir "$WORK/state2"
py serve --port "$SECOND_PORT" --text feature/x-v0 --since-ms "$t0" --label second_launch --repo "$REPO" \
    --branch feature/x --results "$RESULTS" || tail -n 20 "$WORK/second.log" >&2
py pushes --repo "$REPO" --count "$PUSHES" --target "second,feature/x,$SECOND_PORT,127.0.0.1" --results "$RESULTS"
sleep "$SETTLE_S"
echo "  idle for ${WINDOW_S}s: the second shipper ..." >&2
py idle --pid "$SHIPPER" --window-s "$WINDOW_S" --services-under "$WORK/state2/" --label idle_second \
    --results "$RESULTS"
stop_shipper

UPTIME_AFTER=$(uptime)
echo "$UPTIME_AFTER" >&2
echo
echo "Deploy previews: shipper run --poll $POLL --previews 'feature/*' --preview-port N; web with $REPLICAS replicas"
echo "(HTTP probe every 100 ms); main and the 2nd shipper under harness (release: gate 2s, drain 200ms), previews"
echo "under wip; NEW=$NEW PUSHES=$PUSHES K=$K WINDOW_S=$WINDOW_S; $(nproc) CPUs, load $LOAD_BEFORE before, $(load) after"
echo "main's bootstrap under the same shipper (launch -> serving): $(sed -n 's/^SAMPLE label=main_launch .* ms=\([0-9]*\).*/\1/p' "$RESULTS") ms"
py summary --results "$RESULTS" --audit-dir "$WORK" --window-s "$WINDOW_S"
if grep -qiE 'error|fail|warn' "$WORK/shipper.log" "$WORK/second.log"; then
    echo
    echo "shipper's lines with error/fail/warn (first 20):"
    grep -hiE 'error|fail|warn' "$WORK/shipper.log" "$WORK/second.log" | head -n 20
fi
