#!/usr/bin/env bash
# examples/shop under shipper, end to end: the example committed to a local repository,
# `shipper run --bootstrap`, a second commit changing the app deployed, then `shipper
# rollback`; orders in postgres, receipts in a state directory and visits in redis written
# before the deploy are still readable after it and after the rollback.
# With TANDEM_SOURCE_DIR and SHIPPER set (tests/CMakeLists.txt does).
source "$(dirname "$0")/lib.sh"

REPO=$WORK/repo
STATE=$WORK/state
copy_example "$REPO"
git -C "$REPO" init -q -b main
git -C "$REPO" -c user.name=Ada -c user.email=ada@example.com add -A
git -C "$REPO" -c user.name=Ada -c user.email=ada@example.com commit -q -m "the shop, v1"
FIRST=$(git -C "$REPO" rev-parse HEAD)

shipper() { "$SHIPPER" "$@" --state-dir "$STATE"; }
status_json() { shipper status -o json; }
release_is() {  # release_is COMMIT: deployed and nothing under way; fails the test if refused
    local state
    state=$(shipper status -o json | $PY -c '
import json, sys
r = json.load(sys.stdin).get("release") or {}
if r.get("deployed") == sys.argv[1] and not r.get("busy", True): print("deployed")
elif sys.argv[1] in (r.get("history") or {}).get("rejected", {}): print(r["history"]["rejected"][sys.argv[1]])' "$1") || return 1
    [[ $state != refused* ]] || fail "$state"
    [[ $state == deployed ]]
}

(exec setsid "$SHIPPER" run --repo "$REPO" --ref main --state-dir "$STATE" --poll 200ms --bootstrap --http-port 0) \
    >>"$WORK/engine.log" 2>&1 </dev/null &
ENGINE=$!
eventually 120 "the first commit deployed" release_is "$FIRST"
eventually 30 "v1 serves" serves_version "$WEB_PORT" v1

ID=$(place_order "$WEB_PORT" tea) || fail "POST /orders failed (did the migration job run?)"
order_reads "$WEB_PORT" "$ID" tea || fail "order $ID does not read back"
http_body "$WEB_PORT" / >/dev/null
http_body "$WEB_PORT" / >/dev/null

set_version "$REPO" v2
git -C "$REPO" -c user.name=Ada -c user.email=ada@example.com commit -q -am "the shop, v2"
SECOND=$(git -C "$REPO" rev-parse HEAD)
eventually 120 "the second commit deployed" release_is "$SECOND"
eventually 30 "v2 serves" serves_version "$WEB_PORT" v2
order_reads "$WEB_PORT" "$ID" tea || fail "order $ID (postgres row and receipt file) lost by the deploy"
(( $(http_body "$WEB_PORT" /visits) >= 2 )) || fail "the visits in redis were lost by the deploy"
ID2=$(place_order "$WEB_PORT" coffee) || fail "POST /orders failed after the deploy"

# harness denies a reset: refused, nothing touched.
shipper reset db >/dev/null 2>&1 && fail "shipper reset db was not refused under harness"
order_reads "$WEB_PORT" "$ID" tea || fail "order $ID lost by a refused reset"

shipper rollback "${FIRST:0:12}" || fail "shipper rollback failed"
eventually 60 "the rollback deployed" release_is "$FIRST"
eventually 30 "v1 serves again" serves_version "$WEB_PORT" v1
order_reads "$WEB_PORT" "$ID" tea || fail "order $ID lost by the rollback"
order_reads "$WEB_PORT" "$ID2" coffee || fail "order $ID2 (placed under v2) lost by the rollback"

kill -TERM "$ENGINE"
for _ in $(seq 300); do kill -0 "$ENGINE" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ENGINE" 2>/dev/null && fail "shipper still runs 30s after SIGTERM"
wait "$ENGINE" || true
ENGINE=""
eventually 10 "no process of the test left" test -z "$(our_processes)"
echo "PASS: shipper deploy and rollback keep the data"
