#!/usr/bin/env bash
# API throughput: requests per second of GET /api/v1/status from a running `devloop up` with
# SERVICES services (the test service, each with a port and an HTTP health probe), measured with
# wrk, beside GET /metrics of the same engine and a static file of the page (/style.css) as the
# server's own floor. The issue names no peer for this one: Tilt's API is not installable here.
#
#   bench/api_status.sh                 # SERVICES=100 DURATION=10s CONNECTIONS=20
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TANDEM_BUILD_DIR:-$ROOT/build-bench}
SERVICES=${SERVICES:-100}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-20}
SERVICE_BIN=$BUILD/tests/tandem_test_service
DEVLOOP_BIN=$BUILD/wip_frontend/devloop

need wrk wrk
need curl curl
WORK=$(mktemp -d /tmp/tandem-api.XXXXXX)
DEVLOOP=""
cleanup() {
    stop_devloop "$DEVLOOP"
    kill_leftovers
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

build_bench tandem_test_service devloop

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PROJECT=$WORK/project
mkdir -p "$PROJECT"
{
    echo "version: 1"
    echo "project: api-bench"
    echo "services:"
    for i in $(seq "$SERVICES"); do
        echo "  s$i:"
        echo "    run: [\"$SERVICE_BIN\", \"--port\", \"\${port}\", \"--version-string\", \"v$i\"]"
        echo "    port: $(free_port)"
        echo "    health: {http: /healthz, interval: 1s}"
    done
} >"$PROJECT/tandem.yaml"

API_PORT=$(free_port)
(cd "$PROJECT" && exec setsid "$DEVLOOP_BIN" --file tandem.yaml --http-port "$API_PORT" up) >"$WORK/devloop.log" 2>&1 </dev/null &
DEVLOOP=$!
URL=http://127.0.0.1:$API_PORT
for _ in $(seq 600); do  # up to 60 s until every service is ready
    ready=$(curl -fs -m 2 "$URL/api/v1/status" 2>/dev/null | grep -o '"state":"ready"' | wc -l || true)
    [[ $ready -ge $SERVICES ]] && break
    sleep 0.1
done
[[ $ready -ge $SERVICES ]] || { echo "only $ready of $SERVICES services ready; log:" >&2; tail "$WORK/devloop.log" >&2; exit 1; }
bytes=$(curl -fs "$URL/api/v1/status" | wc -c)
sleep 2

run_wrk() {  # PATH -> "rps p50 p99"
    wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$URL$1" >"$WORK/wrk.txt" 2>&1
    local rps p50 p99 errors
    rps=$(awk '/Requests\/sec/ { print $2 }' "$WORK/wrk.txt")
    p50=$(awk '$1 == "50%" { print $2 }' "$WORK/wrk.txt")
    p99=$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.txt")
    errors=$(awk '/Non-2xx|Socket errors/ { $1=$1; print }' "$WORK/wrk.txt" | paste -sd';' -)
    echo "$rps $p50 $p99 ${errors:-none}"
}

echo
echo "API throughput: devloop up with $SERVICES services (status document $bytes bytes), wrk -t2 -c$CONNECTIONS -d$DURATION, keep-alive"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); 2 CPUs shared by wrk and the engine"
printf '%-22s %12s %10s %10s  %s\n' "path" "requests/s" "p50" "p99" "errors"
for path in /api/v1/status /metrics /style.css; do
    read -r rps p50 p99 errors < <(run_wrk "$path")
    printf '%-22s %12s %10s %10s  %s\n' "$path" "$rps" "$p50" "$p99" "$errors"
done
