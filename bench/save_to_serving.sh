#!/usr/bin/env bash
# Save to serving, one run, side by side: the time from writing a new version into version.txt
# to the test service answering it on GET /version, for devloop (a restart watch rule), entr -r,
# nodemon, pm2 --watch (fork mode) and a bare inotifywait loop (the lower bound). Every tool runs
# the same service (tests/fixtures/test_service.cpp --version-file version.txt) and is measured
# by the same program (bench/save_to_serving.cpp: in-place write with O_TRUNC, then a fresh
# connection every ~0.2 ms). Tools run one after the other, each alone, on 127.0.0.1. Prints
# median, p95, failures and the ratio to devloop. A benchmark, not a test; needs root (or the
# peers installed) for apt-get, and npm for nodemon and pm2 (installed under bench/.deps/).
#
#   bench/save_to_serving.sh                      # SAVES=30 PAUSE_MS=300 TIMEOUT_MS=10000
#   SAVES=50 TOOLS="devloop inotifywait" bench/save_to_serving.sh
#   WRITE=rename SAMPLES=1 bench/save_to_serving.sh   # rename-over saves; print every sample
#   KEEP=1 TOOLS=devloop bench/save_to_serving.sh      # keep the tools' logs (printed path)
#   DEVLOOP_BEFORE=/old/build/wip_frontend/devloop TOOLS="devloop devloop_before entr" bench/save_to_serving.sh
#       # another devloop (an older build) side by side with this tree's, as the tool devloop_before
#   TANDEM_BUILD_DIR=build TANDEM_BUILD_TYPE=RelWithDebInfo ...  # reuse a build of that type as it is
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TANDEM_BUILD_DIR:-$ROOT/build-bench}
SAVES=${SAVES:-30}
PAUSE_MS=${PAUSE_MS:-300}
TIMEOUT_MS=${TIMEOUT_MS:-10000}
WRITE=${WRITE:-inplace}
SAMPLES=${SAMPLES:-0}
TOOLS=${TOOLS:-devloop entr nodemon pm2 inotifywait}
SERVICE_BIN=$BUILD/tests/tandem_test_service
BENCH_BIN=$BUILD/bench/tandem_save_bench
DEVLOOP_BIN=$BUILD/wip_frontend/devloop
DEVLOOP_BEFORE=${DEVLOOP_BEFORE:-}
DEPS=$ROOT/bench/.deps

need_npm() {  # need_npm BIN PACKAGE@VERSION: npm install into bench/.deps if missing
    [[ -x $DEPS/node_modules/.bin/$1 ]] && return
    echo "installing $2 into bench/.deps ..." >&2
    mkdir -p "$DEPS" && (cd "$DEPS" && npm install --silent --no-audit --no-fund "$2" >/dev/null)
}
for tool in $TOOLS; do
    case $tool in
        entr) need entr entr ;;
        inotifywait) need inotifywait inotify-tools ;;
        nodemon) need npm npm; need_npm nodemon nodemon@3 ;;
        pm2) need npm npm; need_npm pm2 pm2@5 ;;
        devloop) ;;
        devloop_before) [[ -x $DEVLOOP_BEFORE ]] || { echo "devloop_before needs DEVLOOP_BEFORE=PATH of a devloop binary" >&2; exit 2; } ;;
        *) echo "unknown tool '$tool' in TOOLS" >&2; exit 2 ;;
    esac
done

WORK=$(mktemp -d /tmp/tandem-save-bench.XXXXXX)
echo "building tandem_test_service and tandem_save_bench in $BUILD ..." >&2
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE="${TANDEM_BUILD_TYPE:-Release}" -DTANDEM_BUILD_BENCH=ON >/dev/null
ninja -C "$BUILD" tandem_test_service tandem_save_bench >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log" >&2; exit 1; }
if [[ " $TOOLS " == *" devloop "* ]]; then
    echo "building devloop ..." >&2
    if ! ninja -C "$BUILD" devloop >"$WORK/build.log" 2>&1; then
        # The peers still run: a broken tree should not cost the whole comparison.
        grep -E 'error|FAILED' "$WORK/build.log" | head -n 5 >&2
        echo "devloop does not build; running the peers only" >&2
        TOOLS=$(echo " $TOOLS " | sed 's/ devloop / /')
    fi
fi
export PM2_HOME=$WORK/pm2-home
GROUP=""     # process group of the tool running now (each tool is started with setsid)
DEVLOOP=""   # devloop's pid while it runs (it gets SIGINT, so it stops its own services)
stop_tool() {
    if [[ -n $DEVLOOP ]]; then
        kill -INT "$DEVLOOP" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$DEVLOOP" 2>/dev/null || break; sleep 0.05; done
        DEVLOOP=""
    fi
    if [[ -n $GROUP ]]; then
        kill -TERM -- "-$GROUP" 2>/dev/null || true
        wait "$GROUP" 2>/dev/null || true
        GROUP=""
    fi
    [[ -x $DEPS/node_modules/.bin/pm2 && -d $PM2_HOME ]] && "$DEPS/node_modules/.bin/pm2" kill >/dev/null 2>&1 || true
    kill_leftovers
}
cleanup() {
    stop_tool
    if [[ ${KEEP:-0} == 1 ]]; then echo "kept the tools' logs in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_TOOL DIR PORT: starts the tool in DIR (which holds version.txt) with the service on PORT.
start_devloop() {
    cat >"$1/tandem.yaml" <<EOF
version: 1
project: savebench
services:
  web:
    run: ["$SERVICE_BIN", "--port", "\${port}", "--version-file", "version.txt"]
    port: $2
    watch:
      - paths: [version.txt]
        action: restart
EOF
    (cd "$1" && exec setsid "$DEVLOOP_BIN" --file tandem.yaml up) >"$1/tool.log" 2>&1 </dev/null &
    GROUP=$! DEVLOOP=$!
}
start_devloop_before() {
    local this=$DEVLOOP_BIN
    DEVLOOP_BIN=$DEVLOOP_BEFORE
    start_devloop "$@"
    DEVLOOP_BIN=$this
}
start_entr() {
    echo version.txt >"$1/files.txt"  # not a pipe: $! must be entr itself
    (cd "$1" && exec setsid entr -rn "$SERVICE_BIN" --port "$2" --version-file version.txt <files.txt) \
        >"$1/tool.log" 2>&1 &
    GROUP=$!
}
start_nodemon() {
    (cd "$1" && exec setsid "$DEPS/node_modules/.bin/nodemon" --no-stdin --watch version.txt --ext txt --signal SIGTERM \
        --exec "exec $SERVICE_BIN --port $2 --version-file version.txt") >"$1/tool.log" 2>&1 </dev/null &
    GROUP=$!
}
start_pm2() {
    (cd "$1" && "$DEPS/node_modules/.bin/pm2" start "$SERVICE_BIN" --name web --cwd "$1" --watch version.txt \
        -- --port "$2" --version-file version.txt) >"$1/tool.log" 2>&1 </dev/null
}
start_inotifywait() {
    # The lower bound: kill and start again on every close_write, nothing else.
    cat >"$1/loop.sh" <<EOF
#!/usr/bin/env bash
"$SERVICE_BIN" --port $2 --version-file version.txt & service=\$!
inotifywait -m -q -e close_write --format %e version.txt | while read -r _; do
    kill \$service; wait \$service 2>/dev/null
    "$SERVICE_BIN" --port $2 --version-file version.txt & service=\$!
done
EOF
    (cd "$1" && exec setsid bash loop.sh) >"$1/tool.log" 2>&1 </dev/null &
    GROUP=$!
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average before: $(load)" >&2
for tool in $TOOLS; do
    dir=$WORK/$tool
    mkdir -p "$dir"
    echo "v0" >"$dir/version.txt"
    port=$(free_port)
    echo "  running $tool (port $port) ..." >&2
    "start_$tool" "$dir" "$port"
    args=(--file "$dir/version.txt" --port "$port" --saves "$SAVES" --pause-ms "$PAUSE_MS" --timeout-ms "$TIMEOUT_MS"
          --write "$WRITE" --label "$tool")
    [[ $SAMPLES == 1 ]] && args+=(--samples)
    "$BENCH_BIN" "${args[@]}" >"$WORK/$tool.out" 2>&1 || true
    [[ $SAMPLES == 1 ]] && grep -v '^RESULT' "$WORK/$tool.out" >&2
    grep '^RESULT' "$WORK/$tool.out" >"$WORK/$tool.result" || echo "RESULT label=$tool saves=$SAVES failures=$SAVES median_ms=nan p95_ms=nan" >"$WORK/$tool.result"
    if grep -q 'nothing answers' "$WORK/$tool.out"; then
        echo "  $tool never served; its log:" >&2; tail -n 20 "$dir/tool.log" >&2 || true
    fi
    stop_tool
done
echo "load average after: $(load)" >&2

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$WORK/$1.result"; }
base=nan
[[ " $TOOLS " == *" devloop "* ]] && base=$(field devloop median_ms)
echo
echo "Save to serving: $SAVES saves ($WRITE write), ${PAUSE_MS} ms apart, ${TIMEOUT_MS} ms timeout; $(nproc) CPUs, load $(load)"
printf "%-26s %10s %10s %10s %10s %10s\n" "tool" "median ms" "p95 ms" "max ms" "failures" "/devloop"
for tool in $TOOLS; do
    case $tool in
        devloop) name="devloop (restart rule)" ;;
        devloop_before) name="devloop before (same rule)" ;;
        entr) name="entr -r" ;;
        nodemon) name="nodemon" ;;
        pm2) name="pm2 --watch (fork)" ;;
        inotifywait) name="inotifywait loop (floor)" ;;
    esac
    awk -v n="$name" -v m="$(field "$tool" median_ms)" -v p="$(field "$tool" p95_ms)" -v x="$(field "$tool" max_ms)" \
        -v f="$(field "$tool" failures)/$(field "$tool" saves)" -v b="$base" 'BEGIN {
        ratio = (b == "nan" || m == "nan" || b + 0 == 0) ? "n/a" : sprintf("%.2f", m / b)
        printf "%-26s %10s %10s %10s %10s %10s\n", n, m, p, (x == "" ? "nan" : x), f, ratio }'
done
echo
echo "devloop target (issue 6): median under 20 ms and below every peer's"
