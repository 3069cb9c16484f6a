#!/usr/bin/env bash
# Rolling restart under load, one run, side by side: wrk at a steady load for DURATION against
# 2 replicas behind tandem's proxy while 5 rolling restarts happen; the same against pm2
# (fork mode, the same binary, `pm2 reload` 5 times) and against a plain stop-then-start.
# Reports requests, socket errors and non-2xx responses for each. A benchmark, not a test.
#
# wrk sends "Connection: close" so that every request is a new connection: a TCP proxy can move
# new connections to a new replica, but no proxy can move a keep-alive connection mid-stream,
# and the same rule applies to all three contenders.
#
#   bench/rolling_restart.sh            # DURATION=30s RESTARTS=5 by default
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TANDEM_BUILD_DIR:-$ROOT/build-bench}
DURATION=${DURATION:-30}
RESTARTS=${RESTARTS:-5}
FIRST_MS=3000
INTERVAL_MS=$(( (DURATION * 1000 - 2 * FIRST_MS) / RESTARTS ))
SERVICE_BIN=$BUILD/tests/tandem_test_service
BENCH_BIN=$BUILD/bench/tandem_rolling_bench

need wrk wrk
PM2_DIR=$ROOT/bench/.deps
if [[ ! -x $PM2_DIR/node_modules/.bin/pm2 ]]; then
    mkdir -p "$PM2_DIR" && (cd "$PM2_DIR" && npm install --silent --no-audit --no-fund pm2@5 >/dev/null)
fi
PM2="$PM2_DIR/node_modules/.bin/pm2"
export PM2_HOME=$(mktemp -d /tmp/tandem-pm2.XXXXXX)

if [[ ! -x $SERVICE_BIN || ! -x $BENCH_BIN ]]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTANDEM_BUILD_BENCH=ON >/dev/null
    ninja -C "$BUILD" tandem_test_service tandem_rolling_bench >/dev/null
fi

WORK=$(mktemp -d /tmp/tandem-rolling.XXXXXX)
cleanup() {
    "$PM2" kill >/dev/null 2>&1 || true
    pkill -f "$SERVICE_BIN" 2>/dev/null || true
    rm -rf "$WORK" "$PM2_HOME"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || shuf -i 20000-40000 -n 1; }

run_wrk() {  # run_wrk PORT OUTFILE
    wrk -t2 -c20 -d"${DURATION}s" -H "Connection: close" --latency "http://127.0.0.1:$1/" >"$2" 2>&1
}

summarize() {  # summarize NAME WRKFILE
    local requests errors non2xx
    requests=$(awk '/requests in/ {print $1}' "$2")
    errors=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' "$2")
    non2xx=$(awk '/Non-2xx/ {print $5}' "$2")
    printf "%-26s %10s %14s %10s\n" "$1" "${requests:-0}" "${errors:-0}" "${non2xx:-0}"
}

# 1. tandem: 2 replicas behind the proxy, rolling restarts through the library.
port=$(free_port)
coproc BENCH { "$BENCH_BIN" "$SERVICE_BIN" "$port" "$RESTARTS" "$FIRST_MS" "$INTERVAL_MS" rolling; }
read -r line <&"${BENCH[0]}"; [[ $line == ready ]] || { echo "tandem bench failed to start: $line"; exit 1; }
run_wrk "$port" "$WORK/tandem.txt"
while read -r line <&"${BENCH[0]}"; do [[ $line == done ]] && break; echo "  tandem $line"; done
exec {BENCH[1]}>&-
wait "$BENCH_PID" || true

# 2. pm2, fork mode, the same binary, `pm2 reload` at the same times.
port=$(free_port)
"$PM2" start "$SERVICE_BIN" --name web --no-autorestart -- --port "$port" >/dev/null
sleep 1
( sleep $((FIRST_MS / 1000)); for i in $(seq "$RESTARTS"); do "$PM2" reload web >/dev/null; sleep $((INTERVAL_MS / 1000)); done ) &
reloader=$!
run_wrk "$port" "$WORK/pm2.txt"
wait $reloader || true
"$PM2" delete web >/dev/null 2>&1 || true

# 3. plain stop-then-start of the same binary.
port=$(free_port)
"$SERVICE_BIN" --port "$port" >/dev/null 2>&1 & svc=$!
sleep 0.5
( sleep $((FIRST_MS / 1000)); for i in $(seq "$RESTARTS"); do
    kill "$svc"; wait "$svc" 2>/dev/null || true
    "$SERVICE_BIN" --port "$port" >/dev/null 2>&1 & svc=$!
    sleep $((INTERVAL_MS / 1000)); done; kill "$svc" ) &
restarter=$!
run_wrk "$port" "$WORK/plain.txt"
wait $restarter || true

echo
echo "Rolling restart under load: wrk -t2 -c20 -d${DURATION}s -H 'Connection: close', $RESTARTS restarts"
printf "%-26s %10s %14s %10s\n" "contender" "requests" "socket errors" "non-2xx"
summarize "tandem (2 replicas, proxy)" "$WORK/tandem.txt"
summarize "pm2 reload (fork mode)" "$WORK/pm2.txt"
summarize "plain stop-then-start" "$WORK/plain.txt"
