#!/usr/bin/env bash
# Commit -> every replica updated, on a 3-node Docker Swarm, one run, side by side (issue 17). The
# app: web (3 replicas, a port), api (2 replicas, a port) and worker (1 replica), each busybox
# (Debian's static one) in a FROM scratch image whose files carry a version; web and api serve
# /srv with `busybox httpd` behind a healthcheck (`wget` of /health.txt every 500 ms). Each of
# COMMITS rounds changes the version of all three services.
#
#  swarm    `shipper run --runtime swarm` following a git repository: the clock starts when `git
#           commit` returns and stops when every task of the three swarm services runs a new
#           image ("updated": all replicas on the new version) and then when no update is under
#           way ("completed": swarm's monitor period over); "recorded" is shipper's audit record.
#  process  the same app as local processes (the same busybox httpd, a restart watch rule per
#           service), `shipper run` on the process runtime: "updated" is the deploy's audit
#           record (its rolling replace of every replica is over by then); each replica then
#           answers the new version at its own port, or the round fails.
#  stack    no tandem: `docker build` and `docker push` of the three images on the manager (the
#           "build" column, what shipper does after the commit), then `docker stack deploy -c
#           compose.yaml` of the same app with the same healthcheck and update policy (start-first,
#           parallelism 1, failure action rollback, monitor 5s): "updated" and "completed" are
#           build + push + the time from the deploy command to the same two swarm milestones.
#
# The swarm (tests/support/swarm.sh: three dockerds in network namespaces, a registry beside them)
# has no IPVS here, so every port is published in host mode with endpoint_mode dnsrr; shipper
# serves the public port itself. One compose file cannot describe both runs: shipper's public
# port is its own proxy's on 127.0.0.1, while a stack with a fixed host-mode port could not
# start a second task of a service on a node (start-first), so the stack publishes none.
#
# A benchmark, not a test: needs root (the swarm), installs docker-registry, busybox-static and
# git when missing, uses /usr/bin/docker (Debian's 20.10 client, the nodes' version) and a copy
# of SHIPPER (not built by the script). Everything (swarm, shipper, temp dir) is removed at the end.
#
#   bench/swarm_bench.sh                                   # COMMITS=10 POLL=500ms
#   SHIPPER=build/harness_frontend/shipper CONTENDERS="stack process" bench/swarm_bench.sh
#   COMMITS=3 SAMPLES=1 KEEP=1 bench/swarm_bench.sh        # every round; keep the logs
#   CONTENDERS=swarm MAX_PARALLEL=3 bench/swarm_bench.sh    # shipper updating 3 services at once
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHIPPER=${SHIPPER:-$ROOT/build/harness_frontend/shipper}
COMMITS=${COMMITS:-10}
POLL=${POLL:-500ms}
PAUSE_S=${PAUSE_S:-2}           # between rounds, once the one before is over
TIMEOUT_S=${TIMEOUT_S:-300}     # a round not updated by then fails
CONTENDERS=${CONTENDERS:-swarm stack process}
SAMPLES=${SAMPLES:-0}
KEEP=${KEEP:-0}
MAX_PARALLEL=${MAX_PARALLEL:-}  # set: the shipper contenders' updates.max_parallel (else harness's 1)
STATE_PY=$ROOT/tests/swarm/swarm_state.py
HELPER=$ROOT/bench/swarm_bench.py
DOCKER=/usr/bin/docker

[[ $(id -u) == 0 ]] || { echo "swarm_bench.sh needs root (a swarm of namespaced dockerds)" >&2; exit 2; }
for contender in $CONTENDERS; do
    case $contender in
        swarm|process) [[ -x $SHIPPER ]] || { echo "no shipper at $SHIPPER (set SHIPPER=PATH)" >&2; exit 2; } ;;
        stack) ;;
        *) echo "unknown contender '$contender' in CONTENDERS (swarm, process, stack)" >&2; exit 2 ;;
    esac
done
need docker-registry docker-registry
need git git
[[ -x $DOCKER ]] || need /usr/bin/docker docker.io
if ! [[ -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then need busybox-static busybox-static; fi
if ldd /bin/busybox >/dev/null 2>&1; then echo "/bin/busybox is not static (apt-get install busybox-static)" >&2; exit 2; fi

WORK=$(mktemp -d /tmp/tandem-swarm-bench.XXXXXX)
LOGS=$WORK/logs
RESULTS=$LOGS/results
mkdir -p "$LOGS"
SHIPPER_PID=""
STACK=swb

stop_shipper() {
    [[ -n $SHIPPER_PID ]] || return 0
    kill -INT "$SHIPPER_PID" 2>/dev/null || true  # the swarm services stay; the swarm goes at the end
    for _ in $(seq 300); do kill -0 "$SHIPPER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SHIPPER_PID" 2>/dev/null || true
    wait "$SHIPPER_PID" 2>/dev/null || true
    SHIPPER_PID=""
}
cleanup() {
    trap - EXIT INT TERM
    stop_shipper
    bash "$ROOT/tests/support/swarm.sh" stop "$WORK/swarm" >/dev/null 2>&1 || true
    kill_leftovers
    if [[ $KEEP == 1 ]]; then
        find "$WORK" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
        echo "kept the logs in $LOGS" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ " $CONTENDERS " == *" swarm "* || " $CONTENDERS " == *" process "* ]]; then
    cp "$SHIPPER" "$WORK/shipper"  # a rebuild during the run does not change what runs
    SHIPPER=$WORK/shipper
fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
now_ms() { date +%s%3N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

echo "starting a 3-node swarm ..." >&2
bash "$ROOT/tests/support/swarm.sh" start "$WORK/swarm" 3 >"$LOGS/swarm.log" 2>&1 || true
[[ -f $WORK/swarm/env ]] || { echo "no swarm: $(cat "$WORK/swarm/unavailable" "$LOGS/swarm.log" 2>/dev/null)" >&2; exit 1; }
# shellcheck source=/dev/null
source "$WORK/swarm/env"
mgr() { $DOCKER -H "unix://$SWARM_SOCKET_1" "$@"; }
swarm_state() {  # swarm_state LABEL COMMAND ...
    local label=$1
    shift
    python3 "$STATE_PY" --socket "$SWARM_SOCKET_1" --label "$label" "$@"
}
APP=(web=3 api=2 worker=1)

# make_contexts DIR: web/, api/ and worker/, each an image's build context (bin/busybox with an
# sh link, srv/ with index.html, version.txt and health.txt, a Dockerfile) and a process's workdir.
make_contexts() {
    local service
    for service in web api worker; do
        mkdir -p "$1/$service/bin" "$1/$service/srv"
        cp /bin/busybox "$1/$service/bin/busybox"
        ln -sf busybox "$1/$service/bin/sh"
        echo ok >"$1/$service/srv/health.txt"
        printf 'FROM scratch\nLABEL tandem.bench=1\nENV PATH=/bin\nCOPY bin /bin\nCOPY srv /srv\n' >"$1/$service/Dockerfile"
    done
    set_version "$1" v0
}
set_version() {  # set_version DIR VERSION: every service's files say VERSION
    local service
    for service in web api worker; do
        echo "$service $2" >"$1/$service/srv/index.html"
        echo "$2" >"$1/$service/srv/version.txt"
    done
}
policy_yaml() {
    cat <<YAML
version: 1
project: $1
policy: bench
policies:
  bench:
    from: harness
    rollout: {gate_timeout: 60s, drain_timeout: 1s}
    auto_revert: {window: 5s}
${MAX_PARALLEL:+    updates: {max_parallel: $MAX_PARALLEL\}
}services:
YAML
}
WORKER_LOOP="trap 'exit 0' TERM; while true; do /bin/busybox sleep 1; done"

container_yaml() {  # container_yaml PROJECT WEB_PORT API_PORT
    policy_yaml "$1"
    local service replicas port
    for service in web:3:$2 api:2:$3; do
        IFS=: read -r service replicas port <<<"$service"
        cat <<YAML
  $service:
    build: {context: $service}
    command: [/bin/busybox, httpd, -f, -p, "8080", -h, /srv]
    port: $port
    container_port: 8080
    replicas: $replicas
    stop_grace: 1s
    health: {exec: [/bin/busybox, wget, -q, -O, /dev/null, "http://127.0.0.1:8080/health.txt"], interval: 500ms, timeout: 5s, failure_threshold: 3}
YAML
    done
    cat <<YAML
  worker:
    build: {context: worker}
    command: [/bin/busybox, sh, -c, "$WORKER_LOOP"]
    replicas: 1
    stop_grace: 1s
YAML
}

process_yaml() {  # process_yaml PROJECT WEB_PORT API_PORT
    policy_yaml "$1"
    local service replicas port
    for service in web:3:$2 api:2:$3; do
        IFS=: read -r service replicas port <<<"$service"
        cat <<YAML
  $service:
    workdir: $service
    run: [/bin/busybox, httpd, -f, -p, "127.0.0.1:\${port}", -h, srv]
    port: $port
    replicas: $replicas
    stop_grace: 1s
    health: {http: /health.txt, interval: 500ms, timeout: 5s, failure_threshold: 3}
    watch: [{paths: ["$service/**"], action: restart}]
YAML
    done
    cat <<YAML
  worker:
    workdir: worker
    run: [/bin/busybox, sh, -c, "$WORKER_LOOP"]
    replicas: 1
    stop_grace: 1s
    watch: [{paths: ["worker/**"], action: restart}]
YAML
}

git_commit() {  # git_commit DIR MESSAGE: prints the commit id
    git -C "$1" add -A
    git -C "$1" -c user.name=Bench -c user.email=bench@example.com -c commit.gpgsign=false commit -q -m "$2"
    git -C "$1" rev-parse HEAD
}

start_shipper() {  # start_shipper DIR LOG [run options]
    local dir=$1 log=$2
    shift 2
    (exec setsid "$SHIPPER" run --repo "$dir/repo" --ref main --state-dir "$dir/state" --poll "$POLL" \
        --http-port off --bootstrap "$@") >"$log" 2>&1 </dev/null &
    SHIPPER_PID=$!
}

# The first commit deployed (bootstrap), else the contender is left out.
first_deploy() {  # first_deploy DIR LOG COMMIT
    local out
    out=$(python3 "$HELPER" record --audit "$1/state/audit.jsonl" --commit "$3" --since-ms 0 --timeout-s "$TIMEOUT_S") || true
    [[ $(field outcome "$out") == succeeded ]] && return 0
    echo "  the first deploy did not succeed ($out); the end of shipper's log:" >&2
    tail -n 20 "$2" >&2
    return 1
}

result() {  # result CONTENDER ROUND key=value ...
    local contender=$1 round=$2
    shift 2
    echo "RESULT contender=$contender round=$round $*" >>"$RESULTS"
    [[ $SAMPLES == 1 ]] && tail -n 1 "$RESULTS" >&2
    return 0
}

# --- swarm: shipper --runtime swarm ---------------------------------------------------------------

bench_swarm() {
    local dir=$WORK/swarm-app project=swbench web_port api_port first round commit t0 out rec ok
    web_port=$(free_port) api_port=$(free_port)
    mkdir -p "$dir/repo" && git -C "$dir/repo" init -q -b main
    make_contexts "$dir/repo"
    container_yaml "$project" "$web_port" "$api_port" >"$dir/repo/tandem.yaml"
    first=$(git_commit "$dir/repo" v0)
    echo "shipper --runtime swarm (ports $web_port, $api_port) ..." >&2
    start_shipper "$dir" "$LOGS/shipper-swarm.log" --runtime swarm --swarm-host "unix://$SWARM_SOCKET_1" \
        --registry "$SWARM_REGISTRY"
    first_deploy "$dir" "$LOGS/shipper-swarm.log" "$first" || { stop_shipper; return 0; }
    for _ in $(seq "$TIMEOUT_S"); do swarm_state "tandem.project=$project" converged "${APP[@]}" 2>/dev/null && break; sleep 1; done
    echo "  web's update config: $(mgr service inspect "$project-web" --format '{{json .Spec.UpdateConfig}}')" >&2
    for round in $(seq "$COMMITS"); do
        swarm_state "tandem.project=$project" images >"$dir/baseline.json"
        set_version "$dir/repo" "r$round"
        commit=$(git_commit "$dir/repo" "r$round")
        t0=$(now_ms)
        out=$(swarm_state "tandem.project=$project" wait-updated --baseline "$dir/baseline.json" --since-ms "$t0" \
            --timeout-s "$TIMEOUT_S" "${APP[@]}" 2>>"$LOGS/swarm-rounds.log") || true
        rec=$(python3 "$HELPER" record --audit "$dir/state/audit.jsonl" --commit "$commit" --since-ms "$t0" \
            --timeout-s "$TIMEOUT_S") || true
        ok=0
        [[ $(field completed_ms "$out") != nan && $(field outcome "$rec") == succeeded ]] && ok=1
        result swarm "$round" "updated_ms=$(field tasks_ms "$out")" "completed_ms=$(field completed_ms "$out")" \
            "recorded_ms=$(field recorded_ms "$rec")" "build_ms=$(field build_ms "$rec")" "ok=$ok"
        [[ $ok == 1 ]] || echo "  round $round: $out $rec" >&2
        sleep "$PAUSE_S"
    done
    stop_shipper
}

# --- process: shipper on the process runtime ------------------------------------------------------

bench_process() {
    local dir=$WORK/process-app project=swbenchproc web_port api_port first round commit t0 rec ok why
    web_port=$(free_port) api_port=$(free_port)
    mkdir -p "$dir/repo" && git -C "$dir/repo" init -q -b main
    make_contexts "$dir/repo"
    process_yaml "$project" "$web_port" "$api_port" >"$dir/repo/tandem.yaml"
    first=$(git_commit "$dir/repo" v0)
    echo "shipper, process runtime (ports $web_port, $api_port) ..." >&2
    start_shipper "$dir" "$LOGS/shipper-process.log"
    first_deploy "$dir" "$LOGS/shipper-process.log" "$first" || { stop_shipper; return 0; }
    for round in $(seq "$COMMITS"); do
        set_version "$dir/repo" "r$round"
        commit=$(git_commit "$dir/repo" "r$round")
        t0=$(now_ms)
        rec=$(python3 "$HELPER" record --audit "$dir/state/audit.jsonl" --commit "$commit" --since-ms "$t0" \
            --timeout-s "$TIMEOUT_S") || true
        ok=0
        if [[ $(field outcome "$rec") == succeeded ]]; then
            "$SHIPPER" status --state-dir "$dir/state" -o json >"$dir/status.json" 2>/dev/null || true
            if why=$(python3 "$HELPER" replicas-serve --status "$dir/status.json" --text "r$round" web api); then
                ok=1
            else
                echo "  round $round: recorded, but $why" >&2
            fi
        else
            echo "  round $round: $rec" >&2
        fi
        result process "$round" "updated_ms=$(field recorded_ms "$rec")" "completed_ms=$(field recorded_ms "$rec")" \
            "recorded_ms=$(field recorded_ms "$rec")" "build_ms=$(field build_ms "$rec")" "ok=$ok"
        sleep "$PAUSE_S"
    done
    stop_shipper
}

# --- stack: build, push, docker stack deploy --------------------------------------------------------

write_compose() {  # write_compose DIR
    cat >"$1/compose.yaml" <<YAML
version: "3.8"
x-http: &http
  command: [/bin/busybox, httpd, -f, -p, "8080", -h, /srv]
  ports: [{target: 8080, protocol: tcp, mode: host}]
  stop_grace_period: 1s
  healthcheck:
    test: [CMD, /bin/busybox, wget, -q, -O, /dev/null, "http://127.0.0.1:8080/health.txt"]
    interval: 500ms
    timeout: 5s
    retries: 3
x-deploy: &deploy
  endpoint_mode: dnsrr
  update_config: {parallelism: 1, order: start-first, failure_action: rollback, monitor: 5s}
  rollback_config: {parallelism: 1, order: start-first}
services:
  web:
    <<: *http
    image: \${REGISTRY}/$STACK-web:\${TAG}
    deploy: {<<: *deploy, replicas: 3}
  api:
    <<: *http
    image: \${REGISTRY}/$STACK-api:\${TAG}
    deploy: {<<: *deploy, replicas: 2}
  worker:
    image: \${REGISTRY}/$STACK-worker:\${TAG}
    command: [/bin/busybox, sh, -c, "$WORKER_LOOP"]
    stop_grace_period: 1s
    deploy: {<<: *deploy, replicas: 1}
networks:
  default:
    driver: overlay
YAML
}

build_push() {  # build_push DIR TAG: the three images built on the manager and pushed
    local service
    for service in web api worker; do
        mgr build -q -t "$SWARM_REGISTRY/$STACK-$service:$2" "$1/$service" >>"$LOGS/stack.log" 2>&1 || return 1
        mgr push -q "$SWARM_REGISTRY/$STACK-$service:$2" >>"$LOGS/stack.log" 2>&1 || return 1
    done
}

stack_deploy() {  # stack_deploy DIR TAG
    (cd "$1" && REGISTRY=$SWARM_REGISTRY TAG=$2 mgr stack deploy --resolve-image always -c compose.yaml "$STACK") \
        >>"$LOGS/stack.log" 2>&1
}

bench_stack() {
    local dir=$WORK/stack-app round s build_ms t0 out ok
    mkdir -p "$dir"
    make_contexts "$dir"
    write_compose "$dir"
    echo "build + push + docker stack deploy ..." >&2
    if ! build_push "$dir" v0 || ! stack_deploy "$dir" v0; then
        echo "  the first stack deploy failed: $(tail -n 5 "$LOGS/stack.log")" >&2
        return 0
    fi
    for _ in $(seq "$TIMEOUT_S"); do swarm_state "com.docker.stack.namespace=$STACK" converged "${APP[@]}" 2>/dev/null && break; sleep 1; done
    echo "  web's update config: $(mgr service inspect "${STACK}_web" --format '{{json .Spec.UpdateConfig}}')" >&2
    for round in $(seq "$COMMITS"); do
        swarm_state "com.docker.stack.namespace=$STACK" images >"$dir/baseline.json"
        set_version "$dir" "r$round"
        s=$(now_ms)
        build_push "$dir" "r$round" || { result stack "$round" ok=0; echo "  round $round: build or push failed" >&2; continue; }
        t0=$(now_ms)
        build_ms=$((t0 - s))
        stack_deploy "$dir" "r$round" || echo "  round $round: docker stack deploy failed" >&2
        out=$(swarm_state "com.docker.stack.namespace=$STACK" wait-updated --baseline "$dir/baseline.json" \
            --since-ms "$t0" --timeout-s "$TIMEOUT_S" "${APP[@]}" 2>>"$LOGS/stack-rounds.log") || true
        ok=0
        [[ $(field completed_ms "$out") != nan ]] && ok=1
        local updated completed
        updated=$(field tasks_ms "$out") completed=$(field completed_ms "$out")
        result stack "$round" "updated_ms=$( [[ $updated == nan ]] && echo nan || echo $((build_ms + updated)) )" \
            "completed_ms=$( [[ $completed == nan ]] && echo nan || echo $((build_ms + completed)) )" \
            "build_ms=$build_ms" "deploy_updated_ms=$updated" "deploy_completed_ms=$completed" "ok=$ok"
        [[ $ok == 1 ]] || echo "  round $round: $out" >&2
        sleep "$PAUSE_S"
    done
    mgr stack rm "$STACK" >>"$LOGS/stack.log" 2>&1 || true
}

echo "load average before: $(load)" >&2
for contender in $CONTENDERS; do "bench_$contender"; done
echo "load average after: $(load)" >&2

echo
echo "Commit -> every replica of web (3), api (2) and worker (1) on the new version, $COMMITS commits per row;"
echo "3-node swarm on one machine (dockerd 20.10 per network namespace, local registry), shipper --poll $POLL; $(nproc) CPUs, load $(load)"
if [[ -f $RESULTS ]]; then
    python3 "$HELPER" summary --results "$RESULTS" --commits "$COMMITS"
else
    echo "(no contender ran)"
fi
echo "updated: every task (replica) runs the new version (swarm: its image; process: shipper's deploy record);"
echo "completed: and no swarm update is under way (its monitor period over); recorded: shipper's audit record;"
echo "build: shipper's build_ms of the record (swarm, process) or the docker build + push of the three images (stack)."
