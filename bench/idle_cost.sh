#!/usr/bin/env bash
# Idle cost: devloop up with 10 services (the test service, each with an HTTP health probe every
# second and a restart watch rule) and nothing changing for WINDOW_S seconds. Reports devloop's
# own CPU over the window as a percentage of one core (utime + stime from /proc/PID/stat, read at
# both ends of the window) and its RSS (VmRSS at the end, VmHWM as the peak). The services'
# own CPU is not counted: it is the user's, and the same under any tool. A benchmark, not a test.
#
#   bench/idle_cost.sh                  # SERVICES=10 WINDOW_S=60 HEALTH=1
#   HEALTH=0 bench/idle_cost.sh         # no health probes
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TANDEM_BUILD_DIR:-$ROOT/build-bench}
SERVICES=${SERVICES:-10}
WINDOW_S=${WINDOW_S:-60}
HEALTH=${HEALTH:-1}
SERVICE_BIN=$BUILD/tests/tandem_test_service
DEVLOOP_BIN=$BUILD/wip_frontend/devloop

WORK=$(mktemp -d /tmp/tandem-idle.XXXXXX)
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
PORTS=()
{
    echo "version: 1"
    echo "project: idle"
    echo "services:"
    for i in $(seq "$SERVICES"); do
        port=$(free_port) && PORTS+=("$port")
        echo "v0" >"$PROJECT/version$i.txt"
        echo "  s$i:"
        echo "    run: [\"$SERVICE_BIN\", \"--port\", \"\${port}\", \"--version-file\", \"version$i.txt\"]"
        echo "    port: $port"
        [[ $HEALTH == 1 ]] && echo "    health: {http: /healthz, interval: 1s}"
        echo "    watch: [{paths: [version$i.txt], action: restart}]"
    done
} >"$PROJECT/tandem.yaml"

(cd "$PROJECT" && exec setsid "$DEVLOOP_BIN" --file tandem.yaml up) >"$WORK/devloop.log" 2>&1 </dev/null &
DEVLOOP=$!
for port in "${PORTS[@]}"; do  # wait up to 30 s until every service answers
    for _ in $(seq 300); do curl -fs -m 1 "http://127.0.0.1:$port/version" >/dev/null 2>&1 && break; sleep 0.1; done
    curl -fs -m 1 "http://127.0.0.1:$port/version" >/dev/null || { echo "service on $port is not up; log:" >&2; tail "$WORK/devloop.log" >&2; exit 1; }
done
sleep 3  # settle: startup work is not idle cost

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # fields after "(comm)" contain no spaces here
TICKS=$(getconf CLK_TCK)
before=$(cpu_ticks "$DEVLOOP") t0=$(date +%s%N)
echo "idle for ${WINDOW_S}s with $SERVICES services ..." >&2
sleep "$WINDOW_S"
after=$(cpu_ticks "$DEVLOOP") t1=$(date +%s%N)
rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$DEVLOOP/status")
hwm=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$DEVLOOP/status")
threads=$(awk '/^Threads/ { print $2 }' "/proc/$DEVLOOP/status")
fds=$(ls "/proc/$DEVLOOP/fd" | wc -l)
cpu=$(awk -v a="$before" -v b="$after" -v hz="$TICKS" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.3f", (b - a) / hz / ((t1 - t0) / 1e9) * 100 }')

echo
echo "Idle cost: devloop up, $SERVICES services (health probe: $([[ $HEALTH == 1 ]] && echo 'http every 1s' || echo none)), ${WINDOW_S}s without changes"
echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); CPU resolution 1/$TICKS s"
printf "%-12s %12s %10s %10s %9s %6s\n" "tool" "CPU % core" "RSS MB" "peak MB" "threads" "fds"
printf "%-12s %12s %10s %10s %9s %6s\n" "devloop" "$cpu" "$rss" "$hwm" "$threads" "$fds"
echo
echo "devloop targets (issue 6): under 1% of a core, RSS under 30 MB"
