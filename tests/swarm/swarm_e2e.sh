#!/usr/bin/env bash
# shipper --runtime swarm end to end on a real 3-node swarm (issue 17): a swarm of three dockerds
# in network namespaces and a registry beside them (tests/support/swarm.sh), a git repository of
# three container services built FROM scratch with Debian's static busybox (nothing is pulled):
# web (3 replicas, port), api (2 replicas, port) and worker (1 replica, no port).
#   swarm_e2e.sh deploy           the first commit, its three services created at once
#                                 (updates.max_parallel: 3): every service, network, label, port and image
#                                 as promised, tasks spread over the nodes, served through
#                                 shipper's ports, shown by `shipper status`; a commit removing
#                                 worker removes its swarm service and touches nothing else;
#                                 Ctrl+C leaves the services running
#   swarm_e2e.sh rolling          a commit changing web and worker rolls out with 0 failed
#                                 requests through web's port; swarm runs it when shipper says
#                                 it is deployed; api is not touched
#   swarm_e2e.sh rollback         a commit whose web never passes its healthcheck: swarm rolls
#                                 back, shipper records a failed deploy, the old web serves
#                                 throughout and the next good commit deploys
#   swarm_e2e.sh worker-killed    a worker node powered off mid-update: the update completes on
#                                 the live nodes, or is recorded failed and the old release runs
#                                 there; shipper says which, and the next commit deploys
#   swarm_e2e.sh manager-restart  the manager's dockerd restarted: shipper keeps running, serves
#                                 again, and the next commit deploys
#   swarm_e2e.sh shipper-killed   shipper SIGKILLed mid-update and started again on its state dir:
#                                 the newest commit converges, with no duplicate service
# SHIPPER: the binary. Needs root, dockerd, docker-registry, /usr/bin/docker (Debian's docker.io)
# and a static /bin/busybox; without them it skips (77) and says why. Everything it makes (the
# swarm, its namespaces, links, mounts, shipper, the temp dir) is removed on exit.
set -euo pipefail

usage="usage: swarm_e2e.sh deploy|rolling|rollback|worker-killed|manager-restart|shipper-killed"
scenario=${1:?$usage}
case $scenario in
    deploy|rolling|rollback|worker-killed|manager-restart|shipper-killed) ;;
    *) echo "$usage" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
SWARM_SH=$HERE/../support/swarm.sh
export PATH="$PATH:/usr/sbin:/sbin"

skip() { echo "skipped: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "a swarm of namespaced dockerds needs root"
for tool in dockerd docker-registry nsenter ip iptables curl git python3; do
    command -v "$tool" >/dev/null || skip "'$tool' is not installed (scripts/install-deps.sh installs it)"
done
DOCKER=/usr/bin/docker  # Debian's client, the daemons' own version (20.10)
[[ -x $DOCKER ]] || skip "no $DOCKER (Debian's docker.io)"
if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
    skip "/bin/busybox is missing or not static (busybox-static)"
fi
[[ -x ${SHIPPER:-} ]] || { echo "FAIL: SHIPPER must name the shipper binary"; exit 1; }

# What a run killed before its cleanup could run (a CTest timeout) left: its shipper, its swarm.
for stale in /tmp/tandem-swarm.*; do
    [[ -f $stale/pid ]] || continue
    kill -0 "$(cat "$stale/pid")" 2>/dev/null && continue
    if [[ -f $stale/shipper.pid ]] && grep -qsF "$stale" "/proc/$(cat "$stale/shipper.pid")/cmdline"; then
        kill -KILL -- "-$(cat "$stale/shipper.pid")" 2>/dev/null || true
    fi
    bash "$SWARM_SH" stop "$stale/swarm" >/dev/null 2>&1 || true
    rm -rf "$stale"
done

WORK=$(mktemp -d /tmp/tandem-swarm.XXXXXX)
echo $$ >"$WORK/pid"
RUN=$(basename "$WORK" | cut -d. -f2 | tr '[:upper:]' '[:lower:]')
PROJECT="swe2e-$RUN"
SWARM_STATE=$WORK/swarm
STATE=$WORK/state
REPO=$WORK/repo
ENGINE=""       # shipper's pid (its own process group)
LOAD=""         # the load client's pid
exec 3>&2

swarm_state() { python3 "$HERE/swarm_state.py" --socket "$SWARM_SOCKET_1" --label "tandem.project=$PROJECT" "$@"; }
mgr() { $DOCKER -H "unix://$SWARM_SOCKET_1" "$@"; }

fail() {
    {
        echo "FAIL ($scenario): $*"
        # shipper's own lines first (not the services' output): what it decided and when.
        [[ -f $WORK/shipper.log ]] && { echo "--- shipper's events (last 60)"; grep -v ' out| \| err| ' "$WORK/shipper.log" | tail -n 60; }
        if [[ -n ${SWARM_SOCKET_1:-} ]]; then
            echo "--- swarm"; swarm_state summary 2>&1 || true
        fi
        if [[ -n $ENGINE ]] && kill -0 "$ENGINE" 2>/dev/null; then
            echo "--- shipper status"; "$SHIPPER" status --state-dir "$STATE" 2>&1 || true
        fi
        [[ -f $STATE/audit.jsonl ]] && { echo "--- audit (last 5)"; tail -n 5 "$STATE/audit.jsonl"; }
        [[ -f $WORK/shipper.log ]] && { echo "--- shipper log (last 40 lines)"; tail -n 40 "$WORK/shipper.log"; }
    } >&3 2>&1
    exit 1
}

stop_shipper() {  # SIGINT, as Ctrl+C; SIGKILL to its group after 30 s
    [[ -n $ENGINE ]] || return 0
    kill -INT "$ENGINE" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$ENGINE" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$ENGINE" 2>/dev/null; then
        kill -KILL -- "-$ENGINE" 2>/dev/null || true
        wait "$ENGINE" 2>/dev/null || true
        ENGINE=""
        return 1
    fi
    wait "$ENGINE" 2>/dev/null || true
    ENGINE=""
}

cleanup() {
    local code=$?
    trap - EXIT
    [[ -n $LOAD ]] && kill "$LOAD" 2>/dev/null
    stop_shipper || true
    bash "$SWARM_SH" stop "$SWARM_STATE" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the swarm --------------------------------------------------------------------------------

bash "$SWARM_SH" start "$SWARM_STATE" 3 >"$WORK/swarm-start.log" 2>&1 || true
[[ -f $SWARM_STATE/unavailable ]] && skip "$(cat "$SWARM_STATE/unavailable")"
[[ -f $SWARM_STATE/env ]] || fail "swarm.sh start wrote no env: $(cat "$WORK/swarm-start.log")"
# shellcheck source=/dev/null
source "$SWARM_STATE/env"
NODE_IDS=()  # NODE_IDS[i]: the swarm node id of node i
for i in 1 2 3; do
    socket_of_i=SWARM_SOCKET_$i
    NODE_IDS[i]=$($DOCKER -H "unix://${!socket_of_i}" info --format '{{.Swarm.NodeID}}')
done

# --- helpers ----------------------------------------------------------------------------------

eventually() {  # eventually SECONDS WHAT COMMAND...: fails the test unless COMMAND succeeds in time
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [[ -z $ENGINE ]] || kill -0 "$ENGINE" 2>/dev/null || fail "shipper exited while waiting for: $what"
        ((SECONDS < deadline)) || fail "$what: not within ${seconds}s (last: $("$@" 2>&1 | tail -n 3))"
        sleep 0.3
    done
}
body() { curl -s --max-time 5 "http://127.0.0.1:$1/"; }
serves() { [[ $(body "$1") == "$2" ]]; }
serves_steadily() {  # serves_steadily PORT TEXT: 20 requests in a row, each on a new connection
    for _ in $(seq 20); do serves "$1" "$2" || return 1; done
}
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
PY
}
read -r WEB_PORT API_PORT <<<"$(free_ports 2)"

status_json() { "$SHIPPER" status --state-dir "$STATE" -o json; }
release_field() {  # release_field FIELD: from `shipper status -o json`'s release
    status_json 2>/dev/null | python3 -c 'import json, sys; print((json.load(sys.stdin).get("release") or {}).get(sys.argv[1], ""))' "$1"
}
# deployed_state COMMIT: "deployed" (and nothing under way), "rejected: WHY", or "pending".
deployed_state() {
    status_json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin).get("release") or {}
rejected = (r.get("history") or {}).get("rejected") or {}
if r.get("deployed") == sys.argv[1] and not r.get("busy", True): print("deployed")
elif sys.argv[1] in rejected: print("rejected: " + str(rejected[sys.argv[1]]))
else: print("pending")' "$1"
}
wait_deployed() {  # wait_deployed SECONDS COMMIT: fails the test if it is rejected or never deployed
    local deadline=$((SECONDS + $1)) state
    while :; do
        state=$(deployed_state "$2" || echo "no status")
        [[ $state == deployed ]] && return 0
        [[ $state == rejected* ]] && fail "commit ${2:0:12} was not deployed: $state"
        kill -0 "$ENGINE" 2>/dev/null || fail "shipper exited while deploying ${2:0:12}"
        ((SECONDS < deadline)) || fail "commit ${2:0:12} not deployed within ${1}s (status: $state)"
        sleep 0.5
    done
}
audit_has() {  # audit_has EVENT COMMIT OUTCOME: a record of it in the audit log
    python3 - "$STATE/audit.jsonl" "$@" <<'PY'
import json, sys
path, event, commit, outcome = sys.argv[1:5]
try:
    records = [json.loads(line) for line in open(path) if line.strip()]
except OSError:
    sys.exit(1)
sys.exit(0 if any(r.get("event") == event and r.get("commit") == commit and r.get("outcome") == outcome
                  for r in records) else 1)
PY
}

git_commit() {  # git_commit MESSAGE: commits everything; prints the commit id
    git -C "$REPO" add -A
    git -C "$REPO" -c user.name=Ada -c user.email=ada@example.com commit -q -m "$1"
    git -C "$REPO" rev-parse HEAD
}

# A service's build context: busybox with an sh link, the site it serves from /srv.
make_context() {  # make_context DIR BODY
    mkdir -p "$1/bin" "$1/srv"
    cp /bin/busybox "$1/bin/busybox"
    ln -sf busybox "$1/bin/sh"
    echo "$2" >"$1/srv/index.html"
    echo ok >"$1/srv/health.txt"
    printf 'FROM scratch\nLABEL tandem.test=1\nENV PATH=/bin\nCOPY bin /bin\nCOPY srv /srv\n' >"$1/Dockerfile"
}

# web and api serve /srv with busybox httpd; the healthcheck asks for /srv/health.txt, so a
# commit that removes it makes an image that serves but never turns healthy (a 404 fails at
# once). The timeout is generous: at a load average of ~20 on two cores a good task's check took
# over 2 s, and swarm rolled a good update back.
http_service() {  # http_service NAME REPLICAS PORT
    cat <<YAML
  $1:
    build: {context: $1}
    command: [/bin/busybox, httpd, -f, -p, "8080", -h, /srv]
    port: $3
    container_port: 8080
    replicas: $2
    stop_grace: 1s
    health:
      exec: [/bin/busybox, wget, -q, -O, /dev/null, "http://127.0.0.1:8080/health.txt"]
      interval: 500ms
      timeout: 5s
      failure_threshold: 3
YAML
}
write_tandem_yaml() {  # write_tandem_yaml [no-worker]
    {
        cat <<YAML
version: 1
project: $PROJECT
policy: swarmtest
policies:
  swarmtest:
    from: harness
    rollout: {gate_timeout: 60s, drain_timeout: 1s}
    auto_revert: {window: 5s}
${MAX_PARALLEL:+    updates: {max_parallel: $MAX_PARALLEL\}
}services:
YAML
        http_service web 3 "$WEB_PORT"
        http_service api 2 "$API_PORT"
        [[ ${1:-} == no-worker ]] || cat <<'YAML'
  worker:
    build: {context: worker}
    command: [/bin/busybox, sh, -c, "trap 'exit 0' TERM; while true; do /bin/busybox sleep 1; done"]
    replicas: 1
    stop_grace: 1s
YAML
    } >"$REPO/tandem.yaml"
}

make_repo() {
    mkdir -p "$REPO"
    git -C "$REPO" init -q -b main
    make_context "$REPO/web" "web v1"
    make_context "$REPO/api" "api v1"
    make_context "$REPO/worker" "worker v1"
    write_tandem_yaml
    FIRST=$(git_commit "v1")
}

start_shipper() {  # start_shipper [more run options]
    (exec setsid "$SHIPPER" run --repo "$REPO" --ref main --state-dir "$STATE" --runtime swarm \
        --swarm-host "unix://$SWARM_SOCKET_1" --registry "$SWARM_REGISTRY" --poll 500ms --http-port off "$@") \
        >>"$WORK/shipper.log" 2>&1 </dev/null &
    ENGINE=$!
    echo "$ENGINE" >"$WORK/shipper.pid"
}

converged() { swarm_state converged "$@"; }
ALL=(web=3 api=2 worker=1)

# The first commit deployed and running as promised.
deploy_first() {
    make_repo
    start_shipper --bootstrap
    wait_deployed 300 "$FIRST"
    eventually 120 "every task of the first commit running" converged "${ALL[@]}"
    eventually 30 "web v1 served on 127.0.0.1:$WEB_PORT" serves "$WEB_PORT" "web v1"
    eventually 30 "api v1 served on 127.0.0.1:$API_PORT" serves "$API_PORT" "api v1"
}

image_of() { swarm_state images | python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
task_ids() { swarm_state tasks "$1" | awk '{print $1}' | sort | tr '\n' ' '; }
task_nodes() { swarm_state tasks "$1" | awk '{print $2}' | sort -u | wc -l; }
update_state() { swarm_state update-state "$1"; }
updating() { [[ $(update_state "$1") == updating ]]; }

# every_task_serves SERVICE TEXT: each running task answers TEXT at its node's published port.
every_task_serves() {
    local id endpoint
    while read -r id _ endpoint _; do
        [[ $(curl -s --max-time 5 "http://$endpoint/") == "$2" ]] || { echo "task ${id:0:12} at $endpoint"; return 1; }
    done < <(swarm_state tasks "$1")
}

start_load() {  # start_load PORT: GETs on fresh connections until stop_load
    rm -f "$WORK/load.stop" "$WORK/load.json"
    python3 "$HERE/http_load.py" "http://127.0.0.1:$1/" "$WORK/load.stop" "$WORK/load.json" &
    LOAD=$!
}
stop_load() {  # stop_load: waits for the tally in $WORK/load.json
    touch "$WORK/load.stop"
    wait "$LOAD" || fail "the load client failed"
    LOAD=""
}
load_field() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]; print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$WORK/load.json" "$1"; }

change_web() {  # change_web BODY: a commit serving BODY from web (health.txt kept)
    echo "$1" >"$REPO/web/srv/index.html"
    echo ok >"$REPO/web/srv/health.txt"
    git_commit "web: $1"
}

# --- scenarios --------------------------------------------------------------------------------

scenario_deploy() {
    MAX_PARALLEL=3  # the three services created at once: they share the network, made once
    deploy_first
    local breaches
    breaches=$(swarm_state layout --engine "$STATE" --registry "$SWARM_REGISTRY" --network "$PROJECT-net" \
        web=3:8080 api=2:8080 worker=1) || fail "the swarm is not as promised:"$'\n'"$breaches"
    (( $(task_nodes web) == 3 )) || fail "web's 3 tasks are not on 3 nodes: $(swarm_state tasks web)"
    (( $(task_nodes api) == 2 )) || fail "api's 2 tasks are not on 2 nodes: $(swarm_state tasks api)"
    local used
    used=$(for s in web api worker; do swarm_state tasks "$s"; done | awk '{print $2}' | sort -u | wc -l)
    (( used == 3 )) || fail "the tasks use $used of the 3 nodes"
    local out
    out=$(every_task_serves web "web v1") || fail "a web task does not serve web v1 at its own port: $out"
    out=$(every_task_serves api "api v1") || fail "an api task does not serve api v1 at its own port: $out"
    serves_steadily "$WEB_PORT" "web v1" || fail "127.0.0.1:$WEB_PORT did not answer web v1 20 times in a row"
    serves_steadily "$API_PORT" "api v1" || fail "127.0.0.1:$API_PORT did not answer api v1 20 times in a row"
    # `shipper status` shows the tasks: each service lists one replica per running task, and names
    # the task (its id, or the 12 characters `docker service ps` prints), e.g. in the handle.
    status_json >"$WORK/status.json" || fail "shipper status -o json failed"
    out=$(swarm_state status-names-tasks "$WORK/status.json") || fail "shipper status does not show the tasks:"$'\n'"$out"
    "$SHIPPER" status --state-dir "$STATE" >"$WORK/status.txt" || fail "shipper status failed"
    grep -q "^web .* 3/3" "$WORK/status.txt" || fail "shipper status does not show web 3/3: $(cat "$WORK/status.txt")"
    # A service without a port has no proxy backends: its running tasks are its ready replicas.
    grep -q "^worker .* 1/1" "$WORK/status.txt" || fail "shipper status does not show worker 1/1: $(cat "$WORK/status.txt")"
    audit_has bootstrap "$FIRST" succeeded || fail "no bootstrap record for the first commit"

    # A commit removing worker: its swarm service goes; web and api are not touched.
    local web_tasks api_tasks second
    web_tasks=$(task_ids web) api_tasks=$(task_ids api)
    write_tandem_yaml no-worker
    rm -rf "$REPO/worker"
    second=$(git_commit "no worker")
    wait_deployed 180 "$second"
    eventually 60 "worker's swarm service removed" converged web=3 api=2
    [[ $(task_ids web) == "$web_tasks" ]] || fail "removing worker replaced web's tasks: $web_tasks -> $(task_ids web)"
    [[ $(task_ids api) == "$api_tasks" ]] || fail "removing worker replaced api's tasks: $api_tasks -> $(task_ids api)"
    mgr service inspect "$PROJECT-worker" >/dev/null 2>&1 && fail "$PROJECT-worker still exists"
    audit_has deploy "$second" succeeded || fail "no successful deploy record for the commit removing worker"

    # Ctrl+C: shipper goes, the cluster keeps running what it deployed.
    stop_shipper || fail "shipper did not stop within 30 s of SIGINT"
    sleep 2
    converged web=3 api=2 || fail "the services did not outlive shipper: $(converged web=3 api=2 2>&1)"
    out=$(every_task_serves web "web v1") || fail "after shipper stopped, a web task does not serve: $out"
    echo "deploy: 3 services on 3 nodes as promised, served through shipper; removing worker removed only it; they outlive shipper"
}

scenario_rolling() {
    deploy_first
    local old api_image worker_image api_tasks second
    old=$(image_of web) api_image=$(image_of api) worker_image=$(image_of worker)
    api_tasks=$(task_ids api)
    start_load "$WEB_PORT"
    sleep 1
    # web and worker change, api does not.
    echo "worker v2" >"$REPO/worker/srv/index.html"
    second=$(change_web "web v2")
    wait_deployed 300 "$second"
    # Deployed means running: the moment shipper says so, swarm runs every replica of the new
    # images (old tasks may still be stopping, and swarm's monitor period may not be over).
    out=$(converged --settling "${ALL[@]}" 2>&1) || fail "shipper says deployed, but swarm does not run it yet: $out"
    [[ $(image_of web) != "$old" && $(image_of worker) != "$worker_image" ]] ||
        fail "shipper says deployed, but web or worker still has its old image"
    eventually 60 "every web and worker task on the new image, the update over" converged "${ALL[@]}"
    sleep 1
    stop_load
    local requests failures
    requests=$(load_field requests) failures=$(load_field failures)
    (( failures == 0 )) || fail "$failures of $requests requests failed during the rolling update: $(load_field first_failures)"
    (( requests >= 50 )) || fail "only $requests requests ran during the update: the load did not cover it"
    [[ $(load_field first_body) == "web v1" ]] || fail "the load did not start on web v1: $(load_field bodies)"
    [[ $(load_field last_body) == "web v2" ]] || fail "the load did not end on web v2: $(load_field bodies)"
    local new
    new=$(image_of web)
    [[ $new != "$old" ]] || fail "web's image did not change ($old)"
    [[ $(swarm_state tasks web | awk '{print $4}' | sort -u) == "$new" ]] || fail "not every web task runs $new"
    out=$(every_task_serves web "web v2") || fail "a web task does not serve web v2: $out"
    [[ $(update_state web) == completed ]] || fail "web's update state is '$(update_state web)', not completed"
    mgr service inspect "$PROJECT-web" --format '{{json .Spec.UpdateConfig}}' >"$WORK/update-config.json"
    grep -q '"Order":"start-first"' "$WORK/update-config.json" || fail "web does not update start-first: $(cat "$WORK/update-config.json")"
    grep -q '"FailureAction":"rollback"' "$WORK/update-config.json" || fail "web's failure action is not rollback: $(cat "$WORK/update-config.json")"
    mgr service inspect "$PROJECT-web" --format '{{json .Spec.TaskTemplate.ContainerSpec.Healthcheck}}' | grep -q 'health.txt' ||
        fail "web's task spec has no healthcheck from health.exec"
    [[ $(image_of api) == "$api_image" && $(task_ids api) == "$api_tasks" ]] || fail "a commit changing web and worker touched api"
    [[ $(swarm_state tasks worker | awk '{print $4}') == "$(image_of worker)" ]] || fail "worker does not run its new image"
    audit_has deploy "$second" succeeded || fail "no successful deploy record for the second commit"
    serves_steadily "$WEB_PORT" "web v2" || fail "127.0.0.1:$WEB_PORT does not answer web v2 steadily"
    echo "rolling: web v1 -> v2 (and worker) with 0 of $requests requests failed, running when shipper said so; every web task on $new; api untouched"
}

scenario_rollback() {
    deploy_first
    local old bad
    old=$(image_of web)
    start_load "$WEB_PORT"
    sleep 1
    # Serves, but its healthcheck never passes: /srv/health.txt is gone.
    echo "web bad" >"$REPO/web/srv/index.html"
    rm "$REPO/web/srv/health.txt"
    bad=$(git_commit "web: broken")
    eventually 300 "a failed deploy of the broken commit in the audit log" audit_has deploy "$bad" failed
    audit_has deploy "$bad" succeeded && fail "the broken commit is recorded as deployed too"
    eventually 120 "shipper idle with the first commit deployed" deployed_is_first
    eventually 120 "web back on its old image" converged "${ALL[@]}"
    sleep 1
    stop_load
    [[ $(image_of web) == "$old" ]] || fail "web's spec image is $(image_of web), not the old $old"
    [[ $(swarm_state tasks web | awk '{print $4}' | sort -u) == "$old" ]] || fail "not every web task runs the old image"
    # The broken image did reach swarm (its tasks tried and failed), and swarm's own rollback ran.
    local tried
    tried=$(swarm_state task-images web | grep -v -x -F "$old" | head -n 1)
    [[ -n $tried ]] || fail "no web task ever ran another image: the broken commit never reached swarm"
    case $(update_state web) in
        rollback_completed|completed) ;;
        *) fail "web's update state is '$(update_state web)' after the failed update" ;;
    esac
    local requests failures
    requests=$(load_field requests) failures=$(load_field failures)
    (( failures == 0 )) || fail "$failures of $requests requests failed while the broken commit rolled back: $(load_field first_failures)"
    load_field bodies | grep -q "web bad" && fail "the broken web took traffic: $(load_field bodies)"
    (( requests >= 50 )) || fail "only $requests requests ran during the failed update"
    [[ $(release_field head) == "$bad" && -n $(release_field head_rejected) ]] ||
        fail "status does not show the broken head rejected (head '$(release_field head)', head_rejected '$(release_field head_rejected)')"
    serves_steadily "$WEB_PORT" "web v1" || fail "web v1 is not served after the rollback"

    # The cluster is not stuck: the next good commit deploys.
    local next
    next=$(change_web "web v3")
    wait_deployed 300 "$next"
    eventually 60 "web on the next commit's image" converged "${ALL[@]}"
    eventually 30 "web v3 served" serves_steadily "$WEB_PORT" "web v3"
    echo "rollback: the broken web ($tried) rolled back by swarm, recorded failed, 0 of $requests requests failed; the next commit deployed"
}
deployed_is_first() { [[ $(deployed_state "$FIRST") == deployed ]]; }

# A power cut of node 3 (swarm.sh kill-node) once web's update is under way. Either outcome is
# honest, as long as shipper and swarm agree afterwards and the cluster is left converged. Found
# here: swarm's updater can stay `updating` for good when a new task was assigned to the node that
# died, so shipper must end the update itself (core/runtime/swarm/swarm_stall.cpp: 30 s after it
# sees that task, a rollback of what it has not recorded deployed, else the update started again);
# `converged` below requires that no update is under way. (A fresh-clone CI run once ended with
# that stall unresolved and no shipper log in its output: fail() now prints shipper's events first.)
scenario_worker_killed() {
    deploy_first
    local old second
    old=$(image_of web)
    second=$(change_web "web v2")
    eventually 300 "web's swarm update under way" updating web
    bash "$SWARM_SH" kill-node "$SWARM_STATE" 3 >>"$WORK/swarm-start.log" 2>&1
    # The manager sees node 3 down (~15-20 s here) and places its tasks on nodes 1 and 2.
    eventually 120 "node 3 seen down by the manager" node_down 3
    local deadline=$((SECONDS + 400)) outcome=""
    while [[ -z $outcome ]]; do
        [[ $(deployed_state "$second") == deployed ]] && outcome=deployed
        audit_has deploy "$second" failed && [[ $(release_field busy) == False ]] && outcome=failed
        kill -0 "$ENGINE" 2>/dev/null || fail "shipper exited after the node was killed"
        ((SECONDS < deadline)) || fail "the deploy of the second commit neither finished nor failed within 400 s"
        sleep 1
    done
    # (converged counts only tasks on Ready nodes: node 3's are not among them)
    eventually 180 "every service running its replicas on the live nodes" converged "${ALL[@]}"
    if [[ $outcome == deployed ]]; then
        [[ $(image_of web) != "$old" ]] || fail "shipper says the second commit deployed, but web runs its old image"
        eventually 60 "web v2 served" serves_steadily "$WEB_PORT" "web v2"
    else
        [[ $(release_field deployed) == "$FIRST" ]] || fail "the second commit failed, yet the first is not the deployed one"
        [[ $(image_of web) == "$old" ]] || fail "the second commit failed, yet web does not run the old image"
        eventually 60 "web v1 served after the failed update" serves_steadily "$WEB_PORT" "web v1"
    fi
    out=$(every_task_serves web "$([[ $outcome == deployed ]] && echo "web v2" || echo "web v1")") ||
        fail "a web task does not serve what shipper says is deployed: $out"

    # Two nodes left: the next commit still deploys.
    local third
    third=$(change_web "web v3")
    wait_deployed 300 "$third"
    eventually 120 "web on the third commit's image" converged "${ALL[@]}"
    eventually 60 "web v3 served" serves_steadily "$WEB_PORT" "web v3"
    echo "worker-killed: node 3 killed mid-update; the update $outcome (shipper and swarm agree); the next commit deployed on 2 nodes"
}
node_down() { [[ $(mgr node inspect "${NODE_IDS[$1]}" --format '{{.Status.State}}') == down ]]; }

scenario_manager_restart() {
    deploy_first
    bash "$SWARM_SH" restart-node "$SWARM_STATE" 1 >>"$WORK/swarm-start.log" 2>&1 ||
        fail "the manager did not come back: $(tail -n 3 "$WORK/swarm-start.log")"
    kill -0 "$ENGINE" 2>/dev/null || fail "shipper exited when the manager restarted"
    # The manager's own tasks stopped with it; swarm starts them again, at new published ports.
    eventually 120 "every task running again after the manager restarted" converged "${ALL[@]}"
    eventually 60 "web v1 served steadily again" serves_steadily "$WEB_PORT" "web v1"
    eventually 60 "api v1 served steadily again" serves_steadily "$API_PORT" "api v1"
    local second
    second=$(change_web "web v2")
    wait_deployed 300 "$second"
    eventually 60 "web on the second commit's image" converged "${ALL[@]}"
    eventually 30 "web v2 served" serves_steadily "$WEB_PORT" "web v2"
    out=$(every_task_serves web "web v2") || fail "a web task does not serve web v2: $out"
    echo "manager-restart: shipper kept running through a manager restart, served again, and deployed the next commit"
}

scenario_shipper_killed() {
    deploy_first
    local second
    second=$(change_web "web v2")
    eventually 300 "web's swarm update under way" updating web
    kill -KILL -- "-$ENGINE"
    wait "$ENGINE" 2>/dev/null || true
    ENGINE=""
    start_shipper  # no --bootstrap: a restart is a recovery, not a bootstrap
    wait_deployed 300 "$second"
    eventually 120 "every web task on the second commit's image" converged "${ALL[@]}"
    local names
    names=$(mgr service ls --filter "label=tandem.project=$PROJECT" --format '{{.Name}}' | sort | tr '\n' ' ')
    [[ $names == "$PROJECT-api $PROJECT-web $PROJECT-worker " ]] || fail "the project's services are: $names"
    (( $(mgr network ls --filter "name=$PROJECT-net" --format '{{.Name}}' | grep -c -x "$PROJECT-net") == 1 )) ||
        fail "not exactly one network $PROJECT-net: $(mgr network ls --format '{{.Name}}')"
    audit_has interrupted "$second" failed || fail "no 'interrupted' record for the deploy that shipper's death cut off"
    audit_has deploy "$second" succeeded || fail "no successful deploy record of the second commit after the restart"
    eventually 30 "web v2 served" serves_steadily "$WEB_PORT" "web v2"
    out=$(every_task_serves web "web v2") || fail "a web task does not serve web v2: $out"
    echo "shipper-killed: SIGKILL mid-update, restarted on its state dir: web v2 on every task, one service each, the cut recorded"
}

"scenario_${scenario//-/_}"
