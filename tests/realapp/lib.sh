# What the real-app tests share (sourced): a copy of examples/shop on free ports in a temp dir
# of its own, the engine's status, HTTP checks with deadlines, a client that hammers, and the
# cleanup that leaves no process and no file behind.
#   TANDEM_SOURCE_DIR  the repository; DEVLOOP, SHIPPER  the binaries under test
set -euo pipefail

PY=/usr/bin/python3   # Debian's, with Debian's flask, redis and psycopg2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EXAMPLE=$TANDEM_SOURCE_DIR/examples/shop

# Without the example's packages the test is skipped (CTest's SKIP_RETURN_CODE), never passed.
for tool in redis-server redis-cli gunicorn pg_isready /usr/lib/postgresql/15/bin/postgres; do
    if ! command -v "$tool" >/dev/null; then
        echo "skipped: '$tool' is missing; run examples/shop/install-deps.sh"
        exit 77
    fi
done
$PY -c 'import flask, redis, psycopg2' 2>/dev/null || { echo "skipped: run examples/shop/install-deps.sh"; exit 77; }

# Readable by the `postgres` user the db runs as, like a project in a home directory.
WORK=$(mktemp -d /tmp/tandem-realapp.XXXXXX)
chmod 755 "$WORK"
ENGINE=""   # the pid of the engine running in the background

exec 3>&2   # where fail() writes, even from a check whose output `eventually` silences
fail() {
    {
        echo "FAIL: $*"
        if declare -F status_json >/dev/null; then echo "--- status"; status_json || true; fi
        if [[ -f $WORK/engine.log ]]; then echo "--- engine log (last 60 lines)"; tail -n 60 "$WORK/engine.log"; fi
    } >&3 2>&1
    exit 1
}

# The processes of this test: anything whose working directory or command line is under $WORK.
our_processes() { $PY "$HERE/processes.py" "$WORK" | grep -vxE "$$|$BASHPID" || true; }
describe_processes() {
    local pid
    for pid in "$@"; do echo "  $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"; done
}

cleanup() {
    local code=$? pids
    if [[ -n $ENGINE ]] && kill -0 "$ENGINE" 2>/dev/null; then
        kill -INT "$ENGINE" 2>/dev/null || true
        for _ in $(seq 150); do kill -0 "$ENGINE" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$ENGINE" 2>/dev/null || true
    fi
    pids=$(our_processes)
    if [[ -n $pids ]]; then
        kill -TERM $pids 2>/dev/null || true
        for _ in $(seq 50); do [[ -z $(our_processes) ]] && break; sleep 0.1; done
        pids=$(our_processes)
        [[ -n $pids ]] && kill -KILL $pids 2>/dev/null || true
    fi
    [[ -n $ENGINE ]] && wait "$ENGINE" 2>/dev/null || true
    rm -rf "$WORK"
    exit $code
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_ports() {  # free_ports N: N distinct ports nothing listens on now
    $PY - "$1" <<'PY'
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
PY
}

# copy_example DIR: the example in DIR, its ports replaced by free ones (WEB_PORT, CACHE_PORT,
# DB_PORT). The engines run with --http-port 0 (any free port).
copy_example() {
    local dir=$1
    mkdir -p "$dir"
    cp -r "$EXAMPLE"/. "$dir"
    rm -f "$dir/install-deps.sh"
    read -r WEB_PORT CACHE_PORT DB_PORT <<<"$(free_ports 3)"
    sed -i -e "s/^    port: 7480$/    port: $WEB_PORT/" -e "s/^    port: 7481$/    port: $CACHE_PORT/" \
        -e "s/^    port: 7482$/    port: $DB_PORT/" "$dir/tandem.yaml"
    grep -q "port: $WEB_PORT" "$dir/tandem.yaml" || fail "could not move the example's ports"
}

# eventually TIMEOUT_S DESCRIPTION COMMAND...: polls COMMAND until it succeeds, or fails the test.
eventually() {
    local timeout=$1 what=$2
    shift 2
    local start=$(date +%s%N)
    local deadline=$(( start + timeout * 1000000000 ))
    until "$@" >/dev/null 2>&1; do
        (( $(date +%s%N) < deadline )) || fail "not within ${timeout}s: $what"
        [[ -z $ENGINE ]] || kill -0 "$ENGINE" 2>/dev/null || fail "the engine exited while waiting for: $what"
        sleep 0.1
    done
    echo "after $(( ($(date +%s%N) - start) / 1000000 )) ms: $what"
}

http_body() { curl -sS --max-time 5 "http://127.0.0.1:$1$2"; }   # http_body PORT PATH
serves_version() { [[ $(curl -s --max-time 2 "http://127.0.0.1:$1/version") == "$2" ]]; }

# set_version DIR VERSION: saves web/app.py in place with VERSION = "VERSION", as an editor does.
set_version() { $PY "$HERE/edit.py" "$1/web/app.py" "VERSION = \"$2\""; }

# place_order PORT ITEM: prints the new order's id.
place_order() {
    curl -sS --fail --max-time 10 -H 'Content-Type: application/json' -d "{\"item\": \"$2\"}" \
        "http://127.0.0.1:$1/orders" | $PY -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
# order_reads PORT ID ITEM: the order is in postgres and its receipt in the state directory.
order_reads() {
    curl -sS --fail --max-time 10 "http://127.0.0.1:$1/orders/$2" | $PY -c '
import json, sys
order = json.load(sys.stdin)
sys.exit(0 if order["item"] == sys.argv[1] and order["receipt"] == f"order {sys.argv[2]}: {sys.argv[1]}\n" else 1)' "$3" "$2"
}

# hammer_start PORT / hammer_stop: a client sending GET /version every 5 ms; hammer_stop
# (not in a subshell: it waits for its child) sets HAMMER_RESULT to "requests=N failures=M"
# and the first failures.
hammer_start() {
    rm -f "$WORK/hammer.stop" "$WORK/hammer.out"
    $PY "$HERE/hammer.py" "$1" "$WORK/hammer.stop" >"$WORK/hammer.out" 2>&1 &
    HAMMER=$!
}
hammer_stop() {
    touch "$WORK/hammer.stop"
    wait "$HAMMER" || true
    HAMMER_RESULT=$(cat "$WORK/hammer.out")
}

# Counts of the app's main processes under $WORK (a replica's children not counted).
count_masters() {  # count_masters PATTERN: processes whose command line matches and whose parent's does not
    local pid parent n=0
    for pid in $(our_processes); do
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE "$1" || continue
        parent=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null) || continue
        tr '\0' ' ' <"/proc/$parent/cmdline" 2>/dev/null | grep -qE "$1" && continue
        n=$((n + 1))
    done
    echo "$n"
}
gunicorns() { count_masters 'gunicorn'; }
redises() { count_masters '^redis-server'; }
postgreses() { count_masters '^/usr/lib/postgresql/15/bin/postgres'; }
