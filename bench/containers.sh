#!/usr/bin/env bash
# Containers, one run, side by side: tandem's Docker runtime against docker-compose v1 and a
# hand-made entr + docker CLI loop, on one small site served by busybox httpd in a FROM-scratch
# image (Debian's static busybox).
#
#  1. save -> serving, sync path: site/index.html is saved with a new body; the clock stops when
#     GET /index.html answers it. tandem: a watch rule `{paths: [site/**], action: sync,
#     target: /srv}` copies it into the running container. compose: `docker-compose up -d
#     --build web` run right after the save (compose v1 has no sync). entr: `docker cp site/.
#     NAME:/srv && docker restart -t 1 NAME` on every save. For reference, tandem's process
#     runtime running the same busybox httpd as a local process with the same sync rule.
#  2. save -> serving, rebuild path: app/version.txt reaches the container only through the
#     image (COPY app /srv/app). tandem: a rebuild rule; compose: the same `up -d --build web`;
#     entr: `docker build` + `docker rm -f` + `docker run`.
#  3. rolling replace under load: wrk for LOAD_S seconds against the service port while
#     REPLACES replaces happen: tandem (2 replicas, `devloop up --policy harness`, each replace a
#     `devloop restart web`) and `docker-compose up -d --force-recreate web`.
#
# Prints one table (path, tool, median, p90, failures, ratio to tandem's containers) and the
# rolling table (requests, socket errors, non-2xx). A benchmark, not a test: needs root for
# apt-get (entr, wrk, docker-compose, busybox-static) and a Docker daemon on
# /var/run/docker.sock (when none answers it starts one with tests/support/dockerd.sh and stops
# it at the end). Everything it makes is labelled tandem.bench=<run id> (tandem's own objects:
# tandem.project=<its project>) and removed at the end, with its temp dir.
#
#   bench/containers.sh                        # SAVES=10 LOAD_S=20 REPLACES=3
#   DEVLOOP=/path/to/devloop bench/containers.sh
#   PARTS=saves TOOLS="tandem process" SAMPLES=1 bench/containers.sh
#   KEEP=1 bench/containers.sh                 # keep the logs (printed path), remove the rest
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEVLOOP=${DEVLOOP:-$ROOT/build/wip_frontend/devloop}
SAVES=${SAVES:-10}
PAUSE_MS=${PAUSE_MS:-300}                  # after a sync-path save is served (and the tool is idle)
REBUILD_PAUSE_MS=${REBUILD_PAUSE_MS:-1500} # after a rebuild-path save: the old container's 1 s stop grace
TIMEOUT_MS=${TIMEOUT_MS:-30000}
LOAD_S=${LOAD_S:-20}
REPLACES=${REPLACES:-3}
CONNECTIONS=${CONNECTIONS:-20}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}       # a request slower than this is a socket error (timeout)
PARTS=${PARTS:-saves rolling}
TOOLS=${TOOLS:-tandem process compose entr}
SAMPLES=${SAMPLES:-0}
KEEP=${KEEP:-0}
SAVER=$ROOT/bench/containers_saves.py

# Debian's client matches the daemon (20.10, API 1.41); /usr/local/bin/docker may be a newer
# client that this daemon refuses.
DOCKER=/usr/bin/docker
SOCK=/var/run/docker.sock
export DOCKER_HOST=unix://$SOCK
export COMPOSE_INTERACTIVE_NO_CLI=1

for tool in $TOOLS; do
    case $tool in
        tandem|process) [[ -x $DEVLOOP ]] || { echo "no devloop at $DEVLOOP (set DEVLOOP=PATH)" >&2; exit 2; } ;;
        compose) need docker-compose docker-compose ;;
        entr) need entr entr ;;
        *) echo "unknown tool '$tool' in TOOLS" >&2; exit 2 ;;
    esac
done
[[ " $PARTS " == *" rolling "* ]] && need wrk wrk
[[ -x $DOCKER ]] || need /usr/bin/docker docker.io
# A static busybox: the image has nothing else.
if ! [[ -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then need busybox-static busybox-static; fi
if ldd /bin/busybox >/dev/null 2>&1; then echo "/bin/busybox is not static (apt-get install busybox-static)" >&2; exit 2; fi

RUN_ID=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
LABEL=tandem.bench=$RUN_ID
# tandem's projects: the project key and the project directory's name (the Docker runtime names
# and labels its containers, images and network after the directory).
TPROJ=cbench-$RUN_ID
CPROJ=cbenchcompose$RUN_ID    # compose's project
WORK=$(mktemp -d /tmp/tandem-containers-bench.XXXXXX)
LOGS=$WORK/logs
mkdir -p "$LOGS"
DOCKERD_STATE=/tmp/bench-dockerd-state
if [[ " $TOOLS " == *" tandem "* || " $TOOLS " == *" process "* ]]; then
    # A copy, so that a rebuild of the tree during the run does not change the binary under it.
    cp "$DEVLOOP" "$WORK/devloop"
    DEVLOOP=$WORK/devloop
fi
STARTED_DOCKERD=0

answers() { curl -sf --max-time 2 --unix-socket "$SOCK" http://docker/_ping >/dev/null 2>&1; }

DEVLOOP_PID=""   # the devloop running now (SIGINT: it stops and removes its containers)
GROUPS_RUNNING=() # process groups started with setsid (entr loops, restart loops, wrk)

stop_devloop_now() {
    [[ -n $DEVLOOP_PID ]] || return 0
    stop_devloop "$DEVLOOP_PID"
    DEVLOOP_PID=""
}
stop_groups() {
    local g
    for g in "${GROUPS_RUNNING[@]}"; do
        kill -TERM -- "-$g" 2>/dev/null || true
        wait "$g" 2>/dev/null || true
    done
    GROUPS_RUNNING=()
}
remove_ids() {  # remove_ids "DOCKER SUBCOMMAND..." LISTING...: removes the IDs the listings print
    local -a remove ids
    read -ra remove <<<"$1"
    shift
    mapfile -t ids < <(for listing in "$@"; do eval "$DOCKER $listing"; done | sort -u | sed '/^$/d')
    ((${#ids[@]} == 0)) || "$DOCKER" "${remove[@]}" "${ids[@]}" >>"$LOGS/cleanup.log" 2>&1 || true
}
remove_docker_objects() {
    answers || return 0
    if [[ -f $WORK/compose/docker-compose.yml ]]; then
        (cd "$WORK/compose" && docker-compose -p "$CPROJ" down --rmi all -v --remove-orphans) >>"$LOGS/cleanup.log" 2>&1 || true
    fi
    remove_ids "rm -f" "ps -aq --filter label=$LABEL" "ps -aq --filter label=tandem.project=$TPROJ" \
        "ps -aq --filter label=tandem.project=$TPROJ-rolling" "ps -aq --filter label=com.docker.compose.project=$CPROJ"
    remove_ids "network rm" "network ls -q --filter label=tandem.project=$TPROJ" \
        "network ls -q --filter label=tandem.project=$TPROJ-rolling" "network ls -q --filter label=com.docker.compose.project=$CPROJ"
    remove_ids "volume rm -f" "volume ls -q --filter label=tandem.project=$TPROJ" \
        "volume ls -q --filter label=tandem.project=$TPROJ-rolling" "volume ls -q --filter label=com.docker.compose.project=$CPROJ"
    remove_ids "rmi -f" "images -q --filter label=$LABEL" "images -q --filter label=tandem.project=$TPROJ" \
        "images -q --filter label=tandem.project=$TPROJ-rolling"
}
cleanup() {
    trap - EXIT INT TERM
    stop_devloop_now
    stop_groups
    kill_leftovers
    remove_docker_objects
    if [[ $STARTED_DOCKERD == 1 ]]; then bash "$ROOT/tests/support/dockerd.sh" stop "$DOCKERD_STATE" >&2 || true; fi
    if [[ $KEEP == 1 ]]; then
        find "$WORK" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
        echo "kept the logs in $LOGS" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! answers; then
    bash "$ROOT/tests/support/dockerd.sh" start "$DOCKERD_STATE" >&2
    [[ -f $DOCKERD_STATE/started ]] && STARTED_DOCKERD=1
    answers || { echo "no Docker daemon: $(cat "$DOCKERD_STATE/unavailable" 2>/dev/null)" >&2; exit 1; }
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
now_ms() { date +%s%3N; }

# make_site DIR: the build context every tool uses: bin/ (static busybox, sh and rm links to it:
# tandem's sync runs `rm` and `sh` in the container), site/ (served from /srv), app/ (in the
# image only, at /srv/app). The LABEL comes first, so the run's layers are its own.
make_site() {
    mkdir -p "$1/bin" "$1/site" "$1/app"
    cp /bin/busybox "$1/bin/busybox"
    ln -s busybox "$1/bin/sh"
    ln -s busybox "$1/bin/rm"
    echo "<html><body>initial</body></html>" >"$1/site/index.html"
    echo "version initial" >"$1/app/version.txt"
    cat >"$1/Dockerfile" <<EOF
FROM scratch
LABEL $LABEL
COPY bin /bin
ENV PATH=/bin
COPY site /srv
COPY app /srv/app
EOF
    printf '%s\n' .tandem tandem.yaml docker-compose.yml files.txt >"$1/.dockerignore"
}

wait_served() {  # wait_served PORT PATH TEXT WHAT: 0 when served within 120 s
    python3 "$SAVER" wait --url "http://127.0.0.1:$1$2" --contains "$3" --timeout-ms 120000 &
    if wait $!; then return 0; fi
    echo "  $4 never served $2 on port $1" >&2
    return 1
}

saves() {  # saves LABEL FILE URL PAUSE_MS [saver args...]: runs the saves, leaves $LOGS/LABEL.result
    local label=$1 file=$2 url=$3 pause=$4
    shift 4
    local args=(saves --file "$file" --url "$url" --saves "$SAVES" --label "$label" --pause-ms "$pause"
                --timeout-ms "$TIMEOUT_MS" "$@")
    [[ $SAMPLES == 1 ]] && args+=(--samples)
    echo "  $label: $SAVES saves ..." >&2
    # In the background and waited for, so that a signal runs the cleanup at once.
    python3 "$SAVER" "${args[@]}" >"$LOGS/$label.out" 2>&1 &
    wait $! || true
    [[ $SAMPLES == 1 ]] && grep -v '^RESULT' "$LOGS/$label.out" >&2
    grep '^RESULT' "$LOGS/$label.out" >"$LOGS/$label.result" ||
        echo "RESULT label=$label saves=$SAVES failures=$SAVES median_ms=nan p90_ms=nan" >"$LOGS/$label.result"
}
no_result() {  # no_result LABEL...: the tool did not come up
    local label
    for label in "$@"; do echo "RESULT label=$label saves=$SAVES failures=$SAVES median_ms=nan p90_ms=nan" >"$LOGS/$label.result"; done
}

start_devloop_up() {  # start_devloop_up DIR LOG [up's extra arguments]
    local dir=$1 log=$2
    shift 2
    (cd "$dir" && exec setsid "$DEVLOOP" -f tandem.yaml up --http-port 0 "$@") >"$log" 2>&1 </dev/null &
    DEVLOOP_PID=$!
}

# --- 1 + 2: save -> serving ---------------------------------------------------------------------

saves_tandem() {
    local dir=$WORK/$TPROJ port
    port=$(free_port)
    make_site "$dir"
    cat >"$dir/tandem.yaml" <<EOF
version: 1
project: $TPROJ
services:
  web:
    build: {context: .}
    command: [/bin/busybox, httpd, -f, -p, "\${port}", -h, /srv]
    port: $port
    health: {http: /index.html, interval: 100ms}
    stop_grace: 1s
    watch:
      - {paths: ["site/**"], action: sync, target: /srv}
      - {paths: ["app/**"], action: rebuild}
EOF
    echo "tandem, Docker runtime (port $port) ..." >&2
    start_devloop_up "$dir" "$LOGS/tandem.log"
    if wait_served "$port" /index.html initial "tandem"; then
        saves tandem_sync "$dir/site/index.html" "http://127.0.0.1:$port/index.html" "$PAUSE_MS"
        saves tandem_rebuild "$dir/app/version.txt" "http://127.0.0.1:$port/app/version.txt" "$REBUILD_PAUSE_MS"
    else
        tail -n 20 "$LOGS/tandem.log" >&2
        no_result tandem_sync tandem_rebuild
    fi
    stop_devloop_now
}

saves_process() {
    local dir=$WORK/$TPROJ-process port
    port=$(free_port)
    make_site "$dir"
    cat >"$dir/tandem.yaml" <<EOF
version: 1
project: $TPROJ-process
services:
  web:
    run: [/bin/busybox, httpd, -f, -p, "127.0.0.1:\${port}", -h, site]
    port: $port
    health: {http: /index.html, interval: 100ms}
    stop_grace: 1s
    watch:
      - {paths: ["site/**"], action: sync}
EOF
    echo "tandem, process runtime (port $port) ..." >&2
    start_devloop_up "$dir" "$LOGS/process.log"
    if wait_served "$port" /index.html initial "tandem (process)"; then
        saves process_sync "$dir/site/index.html" "http://127.0.0.1:$port/index.html" "$PAUSE_MS"
    else
        tail -n 20 "$LOGS/process.log" >&2
        no_result process_sync
    fi
    stop_devloop_now
}

write_compose() {  # write_compose DIR PORT
    cat >"$1/docker-compose.yml" <<EOF
version: "2.4"
services:
  web:
    build: {context: ., labels: {tandem.bench: "$RUN_ID"}}
    image: $CPROJ-web:latest
    command: [/bin/busybox, httpd, -f, -p, "$2", -h, /srv]
    ports: ["127.0.0.1:$2:$2"]
    stop_grace_period: 1s
    labels: {tandem.bench: "$RUN_ID"}
EOF
}

saves_compose() {
    local dir=$WORK/compose port up
    port=$(free_port)
    make_site "$dir"
    write_compose "$dir" "$port"
    up="cd $dir && docker-compose -p $CPROJ up -d --build web >>$LOGS/compose-hook.log 2>&1"
    echo "docker-compose (port $port) ..." >&2
    (cd "$dir" && docker-compose -p "$CPROJ" up -d --build web) >"$LOGS/compose.log" 2>&1 || true
    if wait_served "$port" /index.html initial "docker-compose"; then
        saves compose_sync "$dir/site/index.html" "http://127.0.0.1:$port/index.html" "$PAUSE_MS" --hook "$up"
        saves compose_rebuild "$dir/app/version.txt" "http://127.0.0.1:$port/app/version.txt" "$REBUILD_PAUSE_MS" --hook "$up"
    else
        tail -n 20 "$LOGS/compose.log" >&2
        no_result compose_sync compose_rebuild
    fi
    (cd "$dir" && docker-compose -p "$CPROJ" down --rmi all -v --remove-orphans) >>"$LOGS/compose.log" 2>&1 || true
}

saves_entr() {
    local dir=$WORK/entr port image=$CPROJ-entr:latest name=$CPROJ-entr run
    port=$(free_port)
    make_site "$dir"
    run="$DOCKER run -d --name $name --label $LABEL -p 127.0.0.1:$port:$port $image /bin/busybox httpd -f -p $port -h /srv"
    echo "entr + docker CLI (port $port) ..." >&2
    (cd "$dir" && "$DOCKER" build -q -t "$image" . && $run) >"$LOGS/entr.log" 2>&1 || true
    if ! wait_served "$port" /index.html initial "entr + docker"; then
        tail -n 20 "$LOGS/entr.log" >&2
        no_result entr_sync entr_rebuild
        return
    fi
    # Sync path: copy the site in, restart (1 s stop grace, as tandem's stop_grace). A cycle ends
    # with a line in cycles-sync.log, whatever its outcome.
    ls "$dir"/site/* >"$dir/files.txt"
    (cd "$dir" && exec setsid entr -pn sh -c "{ $DOCKER cp site/. $name:/srv && $DOCKER restart -t 1 $name; } >>$LOGS/entr.log 2>&1; echo >>$LOGS/cycles-sync.log" <files.txt) \
        >>"$LOGS/entr.log" 2>&1 &
    GROUPS_RUNNING+=($!)
    sleep 0.5  # entr has its watches
    saves entr_sync "$dir/site/index.html" "http://127.0.0.1:$port/index.html" "$PAUSE_MS" --done-file "$LOGS/cycles-sync.log"
    stop_groups
    # Rebuild path: build, remove, run again.
    ls "$dir"/app/* >"$dir/files.txt"
    (cd "$dir" && exec setsid entr -pn sh -c "{ $DOCKER build -q -t $image . && $DOCKER rm -f $name && $run; } >>$LOGS/entr.log 2>&1; echo >>$LOGS/cycles-rebuild.log" <files.txt) \
        >>"$LOGS/entr.log" 2>&1 &
    GROUPS_RUNNING+=($!)
    sleep 0.5
    saves entr_rebuild "$dir/app/version.txt" "http://127.0.0.1:$port/app/version.txt" "$REBUILD_PAUSE_MS" --done-file "$LOGS/cycles-rebuild.log"
    stop_groups
    "$DOCKER" rm -f "$name" >>"$LOGS/entr.log" 2>&1 || true
    "$DOCKER" rmi -f "$image" >>"$LOGS/entr.log" 2>&1 || true
}

# --- 3: rolling replace under load --------------------------------------------------------------

# wrk runs from before the first replace until TAIL_S after the last one has returned, and at least
# LOAD_S seconds; the replaces run one after the other, the first FIRST_S s in, GAP_S s apart.
FIRST_S=3
GAP_S=${GAP_S:-2}
TAIL_S=2
under_load() {  # under_load PORT NAME CMD...: wrk on PORT while REPLACES times CMD; $LOGS/NAME.{wrk,replaces}
    local port=$1 name=$2 i start rc wrk_pid
    shift 2
    wrk -t2 -c"$CONNECTIONS" -d"$((LOAD_S * 10))s" --timeout "$WRK_TIMEOUT" -H "Connection: close" "http://127.0.0.1:$port/index.html" \
        >"$LOGS/$name.wrk" 2>&1 &
    wrk_pid=$!
    local began=$SECONDS
    sleep "$FIRST_S"
    for i in $(seq "$REPLACES"); do
        start=$(now_ms)
        rc=0
        "$@" >>"$LOGS/$name.replaces.out" 2>&1 || rc=$?
        echo "replace $i: exit $rc after $(( $(now_ms) - start )) ms" >>"$LOGS/$name.replaces"
        [[ $i == "$REPLACES" ]] || sleep "$GAP_S"
    done
    sleep "$TAIL_S"
    (( SECONDS - began >= LOAD_S )) || sleep $(( LOAD_S - (SECONDS - began) ))
    kill -INT "$wrk_pid" 2>/dev/null || true  # wrk prints its figures on SIGINT
    wait "$wrk_pid" || true
}

rolling_tandem() {
    local dir=$WORK/$TPROJ-rolling port
    port=$(free_port)
    make_site "$dir"
    cat >"$dir/tandem.yaml" <<EOF
version: 1
project: $TPROJ-rolling
services:
  web:
    build: {context: .}
    command: [/bin/busybox, httpd, -f, -p, "\${port}", -h, /srv]
    port: $port
    replicas: 2
    health: {http: /index.html, interval: 100ms}
    stop_grace: 1s
EOF
    echo "rolling: tandem, 2 replicas, --policy harness (port $port) ..." >&2
    start_devloop_up "$dir" "$LOGS/rolling-tandem.log" --policy harness --bootstrap
    if ! wait_served "$port" /index.html initial "tandem (harness)"; then
        tail -n 20 "$LOGS/rolling-tandem.log" >&2
        stop_devloop_now
        return
    fi
    sleep 2  # both replicas up and healthy
    (cd "$dir" && under_load "$port" rolling-tandem "$DEVLOOP" -f tandem.yaml restart web) &
    wait $! || true
    stop_devloop_now
}

rolling_compose() {
    local dir=$WORK/rolling-compose port
    port=$(free_port)
    make_site "$dir"
    write_compose "$dir" "$port"
    echo "rolling: docker-compose up -d --force-recreate (port $port) ..." >&2
    (cd "$dir" && docker-compose -p "$CPROJ" up -d --build web) >"$LOGS/rolling-compose.log" 2>&1 || true
    if ! wait_served "$port" /index.html initial "docker-compose"; then
        tail -n 20 "$LOGS/rolling-compose.log" >&2
    else
        sleep 2
        (cd "$dir" && under_load "$port" rolling-compose docker-compose -p "$CPROJ" up -d --force-recreate web) &
        wait $! || true
    fi
    (cd "$dir" && docker-compose -p "$CPROJ" down --rmi all -v --remove-orphans) >>"$LOGS/rolling-compose.log" 2>&1 || true
}

# --- run ----------------------------------------------------------------------------------------

echo "load average before: $(load)" >&2
if [[ " $PARTS " == *" saves "* ]]; then
    for tool in $TOOLS; do "saves_$tool"; done
fi
if [[ " $PARTS " == *" rolling "* ]]; then
    [[ " $TOOLS " == *" tandem "* ]] && rolling_tandem
    [[ " $TOOLS " == *" compose "* ]] && rolling_compose
fi
echo "load average after: $(load)" >&2

field() { [[ -f $LOGS/$1.result ]] && sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$LOGS/$1.result"; }
row() {  # row PATH NAME LABEL BASE_LABEL
    [[ -f $LOGS/$3.result ]] || return 0
    awk -v p="$1" -v n="$2" -v m="$(field "$3" median_ms)" -v q="$(field "$3" p90_ms)" \
        -v f="$(field "$3" failures)/$(field "$3" saves)" -v b="$(field "$4" median_ms)" 'BEGIN {
        ratio = (b == "" || b == "nan" || m == "nan" || b + 0 == 0) ? "n/a" : sprintf("%.2f", m / b)
        printf "%-9s %-44s %10s %10s %9s %9s\n", p, n, m, q, f, ratio }'
}
if [[ " $PARTS " == *" saves "* ]]; then
    echo
    echo "Save to serving: $SAVES saves per row (in-place writes, polled every 2 ms on fresh connections); $(nproc) CPUs, load $(load)"
    printf "%-9s %-44s %10s %10s %9s %9s\n" "path" "tool" "median ms" "p90 ms" "failures" "/tandem"
    row sync "tandem (Docker runtime, sync rule)" tandem_sync tandem_sync
    row sync "tandem (process runtime, sync rule; ref.)" process_sync tandem_sync
    row sync "docker-compose up -d --build" compose_sync tandem_sync
    row sync "entr + docker cp + docker restart" entr_sync tandem_sync
    row rebuild "tandem (Docker runtime, rebuild rule)" tandem_rebuild tandem_rebuild
    row rebuild "docker-compose up -d --build" compose_rebuild tandem_rebuild
    row rebuild "entr + docker build + rm -f + run" entr_rebuild tandem_rebuild
    c=$(field tandem_sync median_ms) p=$(field process_sync median_ms)
    if [[ -n $c && -n $p && $c != nan && $p != nan ]]; then
        awk -v c="$c" -v p="$p" 'BEGIN { printf "tandem sync path, containers minus processes: %+.1f ms (goal: within a few tens of ms, ahead of both peers)\n", c - p }'
    fi
fi
summarize() {  # summarize NAME LOGNAME
    local wrk=$LOGS/$2.wrk replaces=$LOGS/$2.replaces
    [[ -f $wrk ]] || { printf "%-40s %s\n" "$1" "did not run"; return; }
    local requests seconds errors non2xx ok median
    requests=$(awk '/requests in/ {print $1}' "$wrk")
    seconds=$(awk '/requests in/ {sub(",", "", $4); sub("s$", "", $4); print $4}' "$wrk")
    errors=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' "$wrk")
    non2xx=$(awk '/Non-2xx/ {print $5}' "$wrk")
    ok=$(grep -c 'exit 0' "$replaces" 2>/dev/null || true)
    median=$(sed -n 's/.* after \([0-9]*\) ms/\1/p' "$replaces" 2>/dev/null | sort -n | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]; else print "-"}')
    printf "%-40s %9s %8s %14s %8s %9s %11s\n" "$1" "${requests:-0}" "${seconds:-?}" "${errors:-0}" "${non2xx:-0}" \
        "${ok:-0}/$REPLACES" "$median"
}
if [[ " $PARTS " == *" rolling "* ]]; then
    echo
    echo "Replace under load: wrk -t2 -c$CONNECTIONS --timeout $WRK_TIMEOUT -H 'Connection: close' GET /index.html, $REPLACES replaces one after the other (${FIRST_S} s in, ${GAP_S} s apart), load until ${TAIL_S} s after the last (at least ${LOAD_S} s)"
    printf "%-40s %9s %8s %14s %8s %9s %11s\n" "contender" "requests" "seconds" "socket errors" "non-2xx" "replaces" "replace ms"
    [[ " $TOOLS " == *" tandem "* ]] && summarize "tandem (2 replicas, harness: rolling)" rolling-tandem
    [[ " $TOOLS " == *" compose "* ]] && summarize "docker-compose up -d --force-recreate" rolling-compose
    echo "tandem target: 0 socket errors and 0 non-2xx"
fi
