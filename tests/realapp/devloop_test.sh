#!/usr/bin/env bash
# examples/shop under devloop, end to end, one scenario per CTest test:
#   devloop_test.sh SCENARIO   (up | saves | saves_harness | crash | down | sigkill)
# with TANDEM_SOURCE_DIR and DEVLOOP set (tests/CMakeLists.txt does).
source "$(dirname "$0")/lib.sh"

PROJECT=$WORK/shop
copy_example "$PROJECT"

UP_ARGS=()
start_devloop() {
    (cd "$PROJECT" && exec setsid "$DEVLOOP" up --http-port 0 "${UP_ARGS[@]}") >>"$WORK/engine.log" 2>&1 </dev/null &
    ENGINE=$!
}
status_json() { (cd "$PROJECT" && "$DEVLOOP" status -o json); }
service_is() { status_json | $PY "$HERE/status.py" "$@"; }   # service_is SERVICE COND...
web_ready() { service_is web state=ready ready=1 replicas=1 && serves_version "$WEB_PORT" "$1"; }

up_and_ready() {
    start_devloop
    # Cold start: initdb, redis, the migration job, then gunicorn.
    eventually 90 "the shop serves (web ready 1/1)" web_ready v1
    service_is cache state=ready ready=1 || fail "cache not ready (its exec probe runs redis-cli -p \${port})"
    service_is db state=ready ready=1 || fail "db not ready (its exec probe runs pg_isready -p \${port})"
}

# up: the app serves through its public port, with data in redis and postgres.
scenario_up() {
    up_and_ready
    [[ $(http_body "$WEB_PORT" /) == "shop v1: visit 1" ]] || fail "GET / did not count the first visit in redis"
    [[ $(http_body "$WEB_PORT" /) == "shop v1: visit 2" ]] || fail "GET / did not count the second visit in redis"
    local id
    id=$(place_order "$WEB_PORT" tea) || fail "POST /orders failed (did the migration job run?)"
    order_reads "$WEB_PORT" "$id" tea || fail "order $id does not read back from postgres and its receipt"
    [[ -s $PROJECT/.tandem/state/pgdata/cluster/PG_VERSION ]] ||
        fail "the postgres cluster is not in the state directory .tandem/state/pgdata"
    # The job ran to completion and is not restarted like a crashed service.
    service_is migrate restarts=0 || fail "the migration job was restarted"

    # wip allows a reset: the cluster is emptied and made again, the migration runs again
    # for it, and the order is gone.
    (cd "$PROJECT" && "$DEVLOOP" reset db) || fail "devloop reset db failed"
    order_gone() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$WEB_PORT/orders/$id") == 404 ]]; }
    eventually 90 "the order gone after devloop reset db" order_gone
    id=$(place_order "$WEB_PORT" cake) || fail "POST /orders failed after the reset (did the migration run again?)"
    order_reads "$WEB_PORT" "$id" cake || fail "order $id does not read back after the reset"
}

# saves: 20 saves of web/app.py, each served, with 0 failed requests from a hammering client.
scenario_saves() {
    up_and_ready
    hammer_start "$WEB_PORT"
    local i
    for i in $(seq 1 20); do
        set_version "$PROJECT" "save-$i"
        eventually 20 "save $i served" serves_version "$WEB_PORT" "save-$i"
    done
    hammer_stop
    echo "hammer: $HAMMER_RESULT"
    [[ $HAMMER_RESULT == *" failures=0"* ]] || fail "requests failed during the saves: $HAMMER_RESULT"
    eventually 10 "web back to one replica" service_is web state=ready replicas=1
    [[ $(gunicorns) == 1 ]] || fail "$(gunicorns) gunicorn masters run, not 1"
}

# saves_harness: the same under the harness policy (rolling, health-gated), where the new
# replica must not get traffic before it is ready either.
scenario_saves_harness() {
    UP_ARGS=(--policy harness --bootstrap)
    scenario_saves
}

# crash: a SyntaxError shows in the status with its last output lines; the fix brings web back
# to ready 1/1 with no stale error, and stays at one replica.
scenario_crash() {
    up_and_ready
    $PY "$HERE/edit.py" "$PROJECT/web/app.py" 'VERSION = ("v1"'
    eventually 30 "the crash's SyntaxError in the status JSON" service_is web crash_lines~SyntaxError
    local table
    table=$(cd "$PROJECT" && "$DEVLOOP" status)
    echo "$table"
    [[ $table == *SyntaxError* ]] || fail "'devloop status' does not show the crash's last lines (SyntaxError)"
    set_version "$PROJECT" fixed
    eventually 30 "the fixed code serves" serves_version "$WEB_PORT" fixed
    eventually 15 "web ready 1/1 with no last error" service_is web state=ready ready=1 replicas=1 last_error=
    service_is web 'crash_lines=[]' || fail "stale crash lines after the recovery"
    table=$(cd "$PROJECT" && "$DEVLOOP" status)
    echo "$table"
    grep -qE '^web +ready +1/1 .* -$' <<<"$table" || fail "'devloop status' does not say web ready 1/1 without error"
    # A crash-restart timer still pending must not add a second replica: watch through a
    # few backoff periods.
    local deadline=$(( $(date +%s) + 4 ))
    while (( $(date +%s) < deadline )); do
        service_is web replicas=1 || fail "a second replica appeared after the fix"
        [[ $(gunicorns) == 1 ]] || fail "$(gunicorns) gunicorn masters run after the fix, not 1"
        sleep 0.2
    done
}

# down: `devloop down` while a replace is in flight returns promptly, the engine exits, and
# no gunicorn, redis or postgres of the test remains.
scenario_down() {
    up_and_ready
    # A slow request in flight keeps the old replica stopping for ~3 s (gunicorn lets its
    # workers finish), the way issue 12's service with a slow SIGTERM handler did.
    curl -s --max-time 20 "http://127.0.0.1:$WEB_PORT/slow?seconds=3" >/dev/null 2>&1 &
    local slow=$!
    hammer_start "$WEB_PORT"
    sleep 0.3   # the slow request reaches a worker
    set_version "$PROJECT" v2
    local start=$(date +%s%N)
    # Down as soon as the replace shows (a second replica, or web leaving ready).
    while ! service_is web replicas=2 && service_is web state=ready && ! serves_version "$WEB_PORT" v2; do
        (( $(date +%s%N) - start < 5000000000 )) || break
    done
    echo "down after $(( ($(date +%s%N) - start) / 1000000 )) ms, web: $(status_json | $PY -c '
import json, sys
web = [s for s in json.load(sys.stdin)["services"] if s["name"] == "web"][0]
print(web["state"], [(r["id"], r["health"], r["routed"]) for r in web["replicas"]])')"
    local down_start=$(date +%s%N) code=0
    (cd "$PROJECT" && timeout 30 "$DEVLOOP" down) || code=$?
    hammer_stop
    wait "$slow" || true
    local took=$(( ($(date +%s%N) - down_start) / 1000000 ))
    echo "devloop down returned $code after $took ms"
    [[ $code == 0 ]] || fail "devloop down failed or hung (exit $code after $took ms)"
    local i
    for i in $(seq 300); do kill -0 "$ENGINE" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$ENGINE" 2>/dev/null && fail "the engine still runs 30s after devloop down"
    wait "$ENGINE" || true
    ENGINE=""
    grep -E '^(web|tandem) ' "$WORK/engine.log" | tail -n 12
    eventually 10 "no process of the test left" test -z "$(our_processes)"
}

# sigkill: the engine killed with SIGKILL, then `devloop up` again: one of each process, no
# port clash, the data still there.
scenario_sigkill() {
    up_and_ready
    local id
    id=$(place_order "$WEB_PORT" coffee) || fail "POST /orders failed"
    http_body "$WEB_PORT" / >/dev/null
    http_body "$WEB_PORT" / >/dev/null
    kill -KILL "$ENGINE"
    wait "$ENGINE" 2>/dev/null || true
    ENGINE=""
    echo "left after SIGKILL:"; describe_processes $(our_processes)
    start_devloop
    eventually 90 "the shop serves again after the restart" web_ready v1
    eventually 10 "one of each: gunicorn, redis, postgres" \
        test "$(gunicorns)$(redises)$(postgreses)" = 111
    order_reads "$WEB_PORT" "$id" coffee || fail "order $id was lost across the engine's SIGKILL"
    local visits
    visits=$(http_body "$WEB_PORT" /visits)
    (( visits >= 2 )) || fail "redis lost the visits: $visits"
    grep -qiE 'address already in use|port .* (taken|in use)' "$WORK/engine.log" && fail "a port clashed"
    service_is cache state=ready replicas=1 || fail "cache not back at one replica"
    service_is db state=ready replicas=1 || fail "db not back at one replica"
}

"scenario_$1"
echo "PASS: devloop $1"
