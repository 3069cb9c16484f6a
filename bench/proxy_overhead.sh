#!/usr/bin/env bash
# Proxy overhead, one run: wrk against the test service directly, through tandem's TCP proxy and
# through haproxy (mode tcp, same backend), all on 127.0.0.1; prints requests/s, p50, p99 and the
# ratio to haproxy. A benchmark, not a test. Needs root (or wrk/haproxy installed) for apt-get.
#
#   bench/proxy_overhead.sh            # DURATION=10s THREADS=2 CONNECTIONS=50 by default
#   TANDEM_BUILD_DIR=build-bench DURATION=30s bench/proxy_overhead.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TANDEM_BUILD_DIR:-$ROOT/build-bench}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
SERVICE_BIN=${SERVICE_BIN:-$BUILD/tests/tandem_test_service}
PROXY_BIN=${PROXY_BIN:-$BUILD/bench/tandem_proxy_bench}

need wrk wrk
need haproxy haproxy

if [[ ! -x $SERVICE_BIN || ! -x $PROXY_BIN ]]; then
    echo "building tandem_test_service and tandem_proxy_bench in $BUILD ..." >&2
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTANDEM_BUILD_BENCH=ON >/dev/null
    ninja -C "$BUILD" tandem_test_service tandem_proxy_bench >/dev/null
fi

WORK=$(mktemp -d /tmp/tandem-proxy-bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_ports() {  # four consecutive free ports
    local base
    for _ in $(seq 50); do
        base=$((20000 + RANDOM % 30000))
        if port_free "$base" && port_free $((base + 1)) && port_free $((base + 2)) && port_free $((base + 3)); then
            echo "$base"; return
        fi
    done
    echo "no free ports found" >&2; exit 1
}
wait_listening() {  # wait_listening PORT NAME: up to 5 s
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
        sleep 0.05
    done
    echo "$2 did not start listening on $1; see $WORK" >&2; exit 1
}

BASE=$(pick_ports)
SERVICE_PORT=$BASE TANDEM_PORT=$((BASE + 1)) HAPROXY1_PORT=$((BASE + 2)) HAPROXY_PORT=$((BASE + 3))

"$SERVICE_BIN" --port "$SERVICE_PORT" >"$WORK/service.log" 2>&1 & PIDS+=($!)
"$PROXY_BIN" --port "$TANDEM_PORT" --backend "$SERVICE_PORT" >"$WORK/tandem.log" 2>&1 & PIDS+=($!)

haproxy_config() {  # haproxy_config PORT NBTHREAD_LINE
    cat <<EOF
global
    maxconn 4096
    $2
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend proxy
    bind 127.0.0.1:$1
    default_backend service
backend service
    balance roundrobin
    server s1 127.0.0.1:$SERVICE_PORT
EOF
}
# One thread, like tandem's single event loop: the like-for-like row. The second row is
# haproxy's default (one thread per CPU), for reference.
haproxy_config "$HAPROXY1_PORT" "nbthread 1" >"$WORK/haproxy1.cfg"
haproxy_config "$HAPROXY_PORT" "" >"$WORK/haproxy.cfg"
haproxy -db -f "$WORK/haproxy1.cfg" >"$WORK/haproxy1.log" 2>&1 & PIDS+=($!)
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 & PIDS+=($!)

wait_listening "$SERVICE_PORT" tandem_test_service
wait_listening "$TANDEM_PORT" tandem_proxy_bench
wait_listening "$HAPROXY1_PORT" haproxy
wait_listening "$HAPROXY_PORT" haproxy
curl -fsS "http://127.0.0.1:$TANDEM_PORT/" | grep -q "hello from v1" || { echo "proxy does not forward" >&2; exit 1; }

# run_wrk NAME PORT: writes "rps p50_ms p99_ms errors" to $WORK/NAME.result
run_wrk() {
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$2/" >"$WORK/$1.wrk" 2>&1
    awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
            return v
        }
        /Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /Socket errors:/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { errors += $5 }
        END { printf "%s %s %s %d\n", rps, p50, p99, errors }
    ' "$WORK/$1.wrk" >"$WORK/$1.result"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, GET / (keep-alive), all on 127.0.0.1" >&2
for name in direct tandem haproxy_1thread haproxy_default; do
    case $name in
        direct) port=$SERVICE_PORT ;;
        tandem) port=$TANDEM_PORT ;;
        haproxy_1thread) port=$HAPROXY1_PORT ;;
        haproxy_default) port=$HAPROXY_PORT ;;
    esac
    echo "  running $name ..." >&2
    run_wrk "$name" "$port"
done

read -r H_RPS _ H_P99 _ <"$WORK/haproxy_1thread.result"
printf '\n%-22s %12s %10s %10s %8s %14s %14s\n' "target" "requests/s" "p50 ms" "p99 ms" "errors" "rps/haproxy" "p99/haproxy"
for name in direct tandem haproxy_1thread haproxy_default; do
    read -r rps p50 p99 errors <"$WORK/$name.result"
    awk -v n="$name" -v r="$rps" -v a="$p50" -v b="$p99" -v e="$errors" -v hr="$H_RPS" -v hp="$H_P99" \
        'BEGIN { printf "%-22s %12.0f %10.3f %10.3f %8d %14.2f %14.2f\n", n, r, a, b, e, r / hr, b / hp }'
done
echo
echo "ratios are to haproxy with nbthread 1 (tandem's proxy runs one event loop); $(nproc) CPUs shared by wrk, proxy and service"
