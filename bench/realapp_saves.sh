#!/usr/bin/env bash
# Save to serving on a real app, one run, side by side: examples/shop's web app (Flask under
# gunicorn, 2 workers) restarted on each save of web/app.py by devloop (a restart watch rule,
# served through its proxy behind an http health gate; under wip, and under harness as
# `devloop_harness`), `entr -r` and `nodemon`. For each tool:
# 20 in-place saves 300 ms apart, the time until GET /version answers the new VERSION, and the
# requests that failed meanwhile from a client hammering GET /version (bench/realapp_saves.py).
# Every tool runs the same gunicorn command; a save touches only the web app, so redis and
# postgres are not part of it. Tools run one after the other, each alone, on 127.0.0.1.
# A benchmark, not a test; needs root (or the peers installed) for apt-get, and npm for nodemon.
#
#   bench/realapp_saves.sh   # SAVES=20 PAUSE_MS=300 TOOLS="devloop devloop_harness entr nodemon"
#   DEVLOOP_BIN=build/wip_frontend/devloop bench/realapp_saves.sh   # skip the Release build
#   KEEP=1 bench/realapp_saves.sh             # keep the tools' logs (printed path)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TANDEM_BUILD_DIR:-$ROOT/build-bench}
SAVES=${SAVES:-20}
PAUSE_MS=${PAUSE_MS:-300}
TOOLS=${TOOLS:-devloop devloop_harness entr nodemon}
DEPS=$ROOT/bench/.deps
PY=/usr/bin/python3   # Debian's, with Debian's flask

bash "$ROOT/examples/shop/install-deps.sh" >&2
need_npm() {  # need_npm BIN PACKAGE@VERSION: npm install into bench/.deps if missing
    [[ -x $DEPS/node_modules/.bin/$1 ]] && return
    echo "installing $2 into bench/.deps ..." >&2
    mkdir -p "$DEPS" && (cd "$DEPS" && npm install --silent --no-audit --no-fund "$2" >/dev/null)
}
for tool in $TOOLS; do
    case $tool in
        entr) need entr entr ;;
        nodemon) need npm npm; need_npm nodemon nodemon@3 ;;
        devloop|devloop_harness) ;;
        *) echo "unknown tool '$tool' in TOOLS" >&2; exit 2 ;;
    esac
done

WORK=$(mktemp -d /tmp/tandem-realapp-bench.XXXXXX)
if [[ " $TOOLS " == *" devloop"* && -z ${DEVLOOP_BIN:-} ]]; then
    build_bench devloop
    DEVLOOP_BIN=$BUILD/wip_frontend/devloop
fi
GROUP="" DEVLOOP=""
stop_tool() {
    stop_devloop "$DEVLOOP"; DEVLOOP=""
    if [[ -n $GROUP ]]; then kill -TERM -- "-$GROUP" 2>/dev/null || true; wait "$GROUP" 2>/dev/null || true; GROUP=""; fi
    kill_leftovers
}
cleanup() {
    stop_tool
    if [[ ${KEEP:-0} == 1 ]]; then echo "kept the tools' logs in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The environment the app reads at import; /version touches neither redis nor postgres.
export REDIS_URL=redis://127.0.0.1:1/0 DATABASE_URL=postgresql://postgres@127.0.0.1:1/postgres
export RECEIPTS_DIR=receipts PYTHONDONTWRITEBYTECODE=1
gunicorn_args() { echo "gunicorn -b 127.0.0.1:$1 -w 2 --graceful-timeout 3 --chdir web app:app"; }

# start_TOOL DIR PORT: starts the tool in DIR (a copy of examples/shop) serving on PORT.
start_devloop() {  # start_devloop DIR PORT [devloop up's extra arguments]
    cat >"$1/tandem.yaml" <<YAML
version: 1
project: shopbench
services:
  web:
    run: [gunicorn, -b, "127.0.0.1:\${port}", -w, "2", --graceful-timeout, "3", --chdir, web, app:app]
    port: $2
    health: {http: /healthz, interval: 200ms}
    watch:
      - paths: [web/*.py]
        action: restart
YAML
    (cd "$1" && exec setsid "$DEVLOOP_BIN" up --http-port off "${@:3}") >"$1/tool.log" 2>&1 </dev/null &
    GROUP=$! DEVLOOP=$!
}
start_devloop_harness() { start_devloop "$1" "$2" --policy harness --bootstrap; }
start_entr() {
    echo web/app.py >"$1/files.txt"  # not a pipe: $! must be entr itself
    # shellcheck disable=SC2046
    (cd "$1" && exec setsid entr -rn $(gunicorn_args "$2") <files.txt) >"$1/tool.log" 2>&1 &
    GROUP=$!
}
start_nodemon() {
    (cd "$1" && exec setsid "$DEPS/node_modules/.bin/nodemon" --no-stdin --watch web --ext py \
        --signal SIGTERM --exec "exec $(gunicorn_args "$2")") >"$1/tool.log" 2>&1 </dev/null &
    GROUP=$!
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average before: $(load)" >&2
for tool in $TOOLS; do
    dir=$WORK/$tool
    cp -r "$ROOT/examples/shop" "$dir"
    port=$(free_port)
    echo "  running $tool (port $port) ..." >&2
    "start_$tool" "$dir" "$port"
    $PY "$ROOT/bench/realapp_saves.py" --app "$dir/web/app.py" --port "$port" --saves "$SAVES" \
        --pause-ms "$PAUSE_MS" --label "$tool" >"$WORK/$tool.out" 2>&1 || true
    grep '^RESULT' "$WORK/$tool.out" >"$WORK/$tool.result" ||
        echo "RESULT label=$tool saves=$SAVES served=0 median_ms=nan p95_ms=nan max_ms=nan requests=0 failed_requests=nan" >"$WORK/$tool.result"
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
echo "Save to serving on examples/shop (gunicorn, 2 workers): $SAVES in-place saves, ${PAUSE_MS} ms apart,"
echo "a client hammering GET /version; $(nproc) CPUs, load $(load)"
printf "%-24s %10s %10s %10s %8s %10s %18s\n" "tool" "median ms" "p95 ms" "max ms" "served" "/devloop" "failed requests"
for tool in $TOOLS; do
    case $tool in
        devloop) name="devloop (restart rule)" ;;
        devloop_harness) name="devloop --policy harness" ;;
        entr) name="entr -r" ;;
        nodemon) name="nodemon" ;;
    esac
    awk -v n="$name" -v m="$(field "$tool" median_ms)" -v p="$(field "$tool" p95_ms)" -v x="$(field "$tool" max_ms)" \
        -v s="$(field "$tool" served)/$(field "$tool" saves)" -v b="$base" \
        -v f="$(field "$tool" failed_requests)/$(field "$tool" requests)" 'BEGIN {
        ratio = (b == "nan" || m == "nan" || b + 0 == 0) ? "n/a" : sprintf("%.2f", m / b)
        printf "%-24s %10s %10s %10s %8s %10s %18s\n", n, m, p, x, s, ratio, f }'
done
echo
echo "devloop target (issue 12): 0 failed requests across the saves, under wip as under harness"
