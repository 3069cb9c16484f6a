#!/usr/bin/env bash
# A compose project with no tandem.yaml, end to end on a real Docker daemon (issue 16):
#   compose_e2e.sh devloop   devloop up: web (built, develop.watch), cache (image), db (image,
#                            named volume, healthcheck), migrate (a one-shot job others wait for);
#                            saves take the watch actions (sync, sync+restart, rebuild); Ctrl+C
#                            leaves no container.
#   compose_e2e.sh shipper   shipper run deploys the same project from git, every image pinned by
#                            ID; killed, the next shipper removes its containers; the next commit.
#   compose_e2e.sh previews  shipper run --previews: a branch's own containers, volume, network and
#                            ports beside main's, deployed on push, removed with the branch.
# DEVLOOP, SHIPPER: the binaries; DOCKER_STATE: the docker fixture's state dir (tests/support/dockerd.sh).
set -euo pipefail

scenario=${1:?usage: compose_e2e.sh devloop|shipper|previews|procfile}
if [[ $scenario == procfile ]]; then
    :  # processes only: no daemon needed
elif [[ -f ${DOCKER_STATE:-/nonexistent}/unavailable ]]; then
    echo "skipped: $(cat "$DOCKER_STATE/unavailable")"
    exit 77
fi
if [[ $scenario != procfile ]]; then
    command -v docker >/dev/null || { echo "skipped: no docker CLI"; exit 77; }
    curl -sf --max-time 2 --unix-socket /var/run/docker.sock http://docker/_ping >/dev/null ||
        { echo "skipped: no Docker daemon answers on /var/run/docker.sock"; exit 77; }
    [[ -x /bin/busybox ]] || { echo "skipped: /bin/busybox (busybox-static) is missing"; exit 77; }
fi
DOCKER=/usr/bin/docker

WORK=$(mktemp -d /tmp/tandem-compose.XXXXXX)
RUN=$(basename "$WORK" | tr 'A-Z.' 'a-z-')
STORE_IMAGE="tandem-e2e-store:$RUN"
ENGINE=""
EXTRA_PROJECTS=""  # projects the scenario makes besides PROJECT_NAME (previews), removed at the end

exec 3>&2
fail() {
    {
        echo "FAIL: $*"
        echo "--- containers"; $DOCKER ps -a --filter "label=tandem.project" --format '{{.Names}} {{.Status}} {{.Image}}' || true
        [[ -f $WORK/engine.log ]] && { echo "--- engine log (last 80 lines)"; tail -n 80 "$WORK/engine.log"; }
    } >&3 2>&1
    exit 1
}

ours() { [[ $scenario == procfile ]] || $DOCKER ps -aq --filter "label=tandem.project=$PROJECT_NAME"; }

cleanup() {
    local code=$?
    if [[ -n $ENGINE ]] && kill -0 "$ENGINE" 2>/dev/null; then
        kill -INT "$ENGINE" 2>/dev/null || true
        for _ in $(seq 300); do kill -0 "$ENGINE" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$ENGINE" 2>/dev/null || true
        wait "$ENGINE" 2>/dev/null || true
    fi
    local left
    [[ $scenario == procfile ]] && { rm -rf "$WORK"; exit $code; }
    left=$(ours || true)
    [[ -n $left ]] && $DOCKER rm -f $left >/dev/null 2>&1 || true
    local project
    for project in "$PROJECT_NAME" $EXTRA_PROJECTS; do
        left=$($DOCKER ps -aq --filter "label=tandem.project=$project" || true)
        [[ -n $left ]] && $DOCKER rm -f $left >/dev/null 2>&1 || true
        $DOCKER volume ls -q --filter "label=tandem.project=$project" | xargs -r $DOCKER volume rm -f >/dev/null 2>&1 || true
        $DOCKER network ls -q --filter "label=tandem.project=$project" | xargs -r $DOCKER network rm >/dev/null 2>&1 || true
    done
    $DOCKER images -q --filter "reference=$PROJECT_NAME-*" | sort -u | xargs -r $DOCKER rmi -f >/dev/null 2>&1 || true
    $DOCKER rmi -f "$STORE_IMAGE" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit $code
}
trap cleanup EXIT
trap 'exit 130' INT TERM

eventually() {  # eventually SECONDS WHAT COMMAND...
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "$what: not within ${seconds}s"
        sleep 0.2
    done
}
body() { curl -s --max-time 3 "http://127.0.0.1:$1$2"; }
serves() { [[ $(body "$1" "$2") == "$3" ]]; }
container_of() { $DOCKER ps -q --filter "label=tandem.project=$PROJECT_NAME" --filter "label=tandem.service=$1"; }

free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
PY
}
read -r WEB_PORT DB_PORT <<<"$(free_ports 2)"
PROJECT_NAME="e2e-$RUN"

# busybox in a FROM scratch root, with sh and rm (sync deletes run rm in the container).
make_bin() {
    mkdir -p "$1/bin"
    cp /bin/busybox "$1/bin/busybox"
    ln -sf busybox "$1/bin/sh"
    ln -sf busybox "$1/bin/rm"
}

# The store image (cache, db, migrate): built here, never pulled.
STORE=$WORK/store
make_bin "$STORE"
# A first layer of this run's own: `docker rmi` below prunes parents, which must never be
# layers a test running beside this one builds on (the same busybox COPY would share them).
printf 'FROM scratch\nLABEL tandem.test=1 tandem.run=%s\nENV PATH=/bin\nCOPY bin /bin\n' "$RUN" >"$STORE/Dockerfile"
mkdir -p "$STORE/srv" && echo cache >"$STORE/srv/index.html"
printf 'COPY srv /srv\n' >>"$STORE/Dockerfile"
[[ $scenario == procfile ]] || $DOCKER build -q -t "$STORE_IMAGE" "$STORE" >/dev/null || fail "cannot build the store image"

APP=$WORK/app
write_app() {
    mkdir -p "$APP/site/drafts" "$APP/conf"
    make_bin "$APP"
    cat >"$APP/compose.yaml" <<YAML
name: $PROJECT_NAME
x-quick: &quick
  stop_grace_period: 1s
services:
  web:
    <<: *quick
    build:
      context: .
      args:
        GREETING: hello
    command: /bin/busybox httpd -f -p 8080 -h /srv
    ports: ["\${WEB_PORT:?set WEB_PORT in .env}:8080"]
    env_file: web.env
    depends_on:
      migrate: {condition: service_completed_successfully}
      db: {condition: service_healthy}
      cache: {condition: service_started}
    healthcheck:
      test: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"]
      interval: 200ms
      timeout: 2s
      retries: 3
    develop:
      watch:
        - path: ./site
          action: sync
          target: /srv
          ignore: [drafts/]
        - path: ./conf
          action: sync+restart
          target: /etc/web
        - path: ./Dockerfile
          action: rebuild
  cache:
    <<: *quick
    image: \${STORE_IMAGE}
    command: ["/bin/busybox", "httpd", "-f", "-p", "6379", "-h", "/srv"]
    expose: ["6379"]
  db:
    <<: *quick
    image: \${STORE_IMAGE}
    command: ["/bin/sh", "-c", "echo up > /data/boot; exec /bin/busybox httpd -f -p 5432 -h /data"]
    ports: ["\${DB_PORT}:5432"]
    volumes: [dbdata:/data]
    healthcheck:
      test: ["CMD-SHELL", "test -e /data/boot"]
      interval: 200ms
  migrate:
    image: \${STORE_IMAGE}
    command: ["/bin/sh", "-c", "wget -q -O - http://db:5432/boot && echo migrated >> /data/migrations"]
    volumes: [dbdata:/data]
    depends_on:
      db: {condition: service_healthy}
    restart: "no"
volumes:
  dbdata:
YAML
    printf 'WEB_PORT=%s\nDB_PORT=%s\nSTORE_IMAGE=%s\n' "$WEB_PORT" "$DB_PORT" "$STORE_IMAGE" >"$APP/.env"
    echo "MESSAGE=from the env file" >"$APP/web.env"
    printf 'FROM scratch\nLABEL tandem.test=1 tandem.run=%s\nENV PATH=/bin\nARG GREETING\nCOPY bin /bin\nCOPY site /srv\nCOPY conf /etc/web\n' "$RUN" >"$APP/Dockerfile"
    printf '.tandem\n.shipper\ncompose.yaml\n' >"$APP/.dockerignore"
    echo one >"$APP/site/index.html"
    echo draft >"$APP/site/drafts/wip.html"
    echo "level=1" >"$APP/conf/app.conf"
}

scenario_devloop() {
    write_app
    (cd "$APP" && "$DEVLOOP" validate) >"$WORK/validate.out" 2>"$WORK/validate.err" || fail "validate: $(cat "$WORK/validate.err")"
    grep -q "compose.yaml is valid: project '$PROJECT_NAME', 4 services" "$WORK/validate.out" || fail "validate said: $(cat "$WORK/validate.out")"
    # compose publishes on every interface, tandem on 127.0.0.1: said once per port, with its line.
    grep -q "warning: compose.yaml:[0-9]*:[0-9]*: 'services.web.ports.0': published on 127.0.0.1 only" "$WORK/validate.err" ||
        fail "no warning for the web port: $(cat "$WORK/validate.err")"
    (cd "$APP" && exec setsid "$DEVLOOP" up --http-port off) >>"$WORK/engine.log" 2>&1 </dev/null &
    ENGINE=$!
    eventually 90 "web serves site/index.html" serves "$WEB_PORT" /index.html one
    serves "$DB_PORT" /migrations migrated || fail "the migration job did not run before web (db's /data/migrations)"
    local web
    web=$(container_of web)
    [[ -n $web ]] || fail "no web container"
    $DOCKER exec "$web" /bin/busybox env | grep -q "^MESSAGE=from the env file$" || fail "web lacks MESSAGE from web.env"
    [[ -z $(container_of migrate) ]] || fail "the migration job's container is still running"

    # sync: copied into the running container, no restart.
    echo two >"$APP/site/index.html"
    eventually 20 "the synced index.html served" serves "$WEB_PORT" /index.html two
    [[ $(container_of web) == "$web" ]] || fail "a sync rule restarted web"
    # an ignored path of the sync rule: not copied.
    echo draft2 >"$APP/site/drafts/wip.html"
    sleep 1
    serves "$WEB_PORT" /drafts/wip.html draft || fail "site/drafts/ is ignored by the sync rule, yet it was copied"

    # sync+restart: the file goes in, then a new container, which has it.
    echo "level=2" >"$APP/conf/app.conf"
    changed() { local now; now=$(container_of web); [[ -n $now && $now != "$web" ]]; }
    eventually 30 "web restarted after conf/app.conf (sync+restart)" changed
    web=$(container_of web)
    eventually 20 "the new web container serving" serves "$WEB_PORT" /index.html two
    [[ $($DOCKER exec "$web" /bin/busybox cat /etc/web/app.conf) == "level=2" ]] || fail "the restarted web lacks conf/app.conf level=2"

    # rebuild: a new image.
    local image
    image=$($DOCKER inspect --format '{{.Image}}' "$web")
    echo "LABEL rebuilt=1" >>"$APP/Dockerfile"
    rebuilt() { local now; now=$(container_of web); [[ -n $now ]] && [[ $($DOCKER inspect --format '{{.Image}}' "$now") != "$image" ]]; }
    eventually 60 "web runs a new image after the Dockerfile changed" rebuilt
    eventually 20 "the rebuilt web serving" serves "$WEB_PORT" /index.html two

    # A file the project was read from (an env_file): the project reloads and web gets the new env.
    echo "MESSAGE=changed" >"$APP/web.env"
    has_message() { local now; now=$(container_of web); [[ -n $now ]] && $DOCKER exec "$now" /bin/busybox env | grep -q "^MESSAGE=changed$"; }
    eventually 40 "web restarted with MESSAGE=changed after web.env changed" has_message
    grep -q "reloaded compose.yaml (web.env changed)" "$WORK/engine.log" || fail "no 'reloaded compose.yaml (web.env changed)' in the engine's output"

    kill -INT "$ENGINE"
    for _ in $(seq 300); do kill -0 "$ENGINE" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$ENGINE" 2>/dev/null && fail "devloop did not stop within 30 s of Ctrl+C"
    wait "$ENGINE" || true
    ENGINE=""
    [[ -z $(ours) ]] || fail "containers left after Ctrl+C: $($DOCKER ps -a --filter label=tandem.project=$PROJECT_NAME --format '{{.Names}}')"
    $DOCKER volume ls -q | grep -q "_dbdata$" || fail "the named volume dbdata is gone (it is kept across runs)"
    echo "devloop: compose project served, sync/sync+restart/rebuild taken, nothing left"
}

scenario_shipper() {
    write_app
    local repo=$WORK/repo
    mkdir -p "$repo"
    cp -r "$APP"/. "$repo"/
    rm -rf "$APP"
    git -C "$repo" init -q -b main
    git -C "$repo" -c user.name=t -c user.email=t@t add -A
    git -C "$repo" -c user.name=t -c user.email=t@t commit -q -m "first"
    (exec setsid "$SHIPPER" run --repo "$repo" --ref main --state-dir "$WORK/state" --bootstrap --poll 300ms \
        --http-port off) >>"$WORK/engine.log" 2>&1 </dev/null &
    ENGINE=$!
    eventually 120 "web serves the first commit" serves "$WEB_PORT" /index.html one
    serves "$DB_PORT" /migrations migrated || fail "the migration job did not run"
    local id
    for service in web cache db; do
        id=$(container_of $service)
        [[ -n $id ]] || fail "no $service container"
        [[ $($DOCKER inspect --format '{{.Config.Image}}' "$id") == sha256:* ]] ||
            fail "$service runs '$($DOCKER inspect --format '{{.Config.Image}}' "$id")', not an image pinned by ID"
    done
    grep -q "sha256:" "$WORK/state/audit.log" 2>/dev/null || grep -rqs "sha256:" "$WORK/state" ||
        fail "no image digest recorded under the state dir"
    # Killed: its containers run on. The next shipper on the state dir removes them, although
    # they carry the compose file's name and it starts knowing only the repository's.
    local before
    before=$(container_of web)
    kill -KILL -- "-$ENGINE"
    wait "$ENGINE" 2>/dev/null || true
    (exec setsid "$SHIPPER" run --repo "$repo" --ref main --state-dir "$WORK/state" --poll 300ms \
        --http-port off) >>"$WORK/engine.log" 2>&1 </dev/null &
    ENGINE=$!
    eventually 120 "web serves again after shipper was killed and started again" serves "$WEB_PORT" /index.html one
    one_web() { [[ $(container_of web | wc -l) == 1 && $(container_of web) != "$before" ]]; }
    eventually 30 "the killed shipper's web container removed" one_web
    echo two >"$repo/site/index.html"
    git -C "$repo" -c user.name=t -c user.email=t@t commit -q -am "second"
    eventually 120 "web serves the second commit" serves "$WEB_PORT" /index.html two
    kill -INT "$ENGINE"
    for _ in $(seq 300); do kill -0 "$ENGINE" 2>/dev/null || break; sleep 0.1; done
    wait "$ENGINE" || true
    ENGINE=""
    echo "shipper: compose project deployed from git with images pinned by ID, and the next commit"
}

# Deploy previews of a container project: a branch gets its own containers, volume, network and
# ports beside main's (the project renamed <project>-<preview>), reached by Host on the routing
# port; a push deploys the preview; the branch deleted takes its containers away, main's stay.
scenario_previews() {
    write_app
    local repo=$WORK/repo route preview_project=$PROJECT_NAME-feature-x
    EXTRA_PROJECTS=$preview_project
    route=$(free_ports 1)
    mkdir -p "$repo"
    cp -r "$APP"/. "$repo"/
    rm -rf "$APP"
    commit() { git -C "$repo" -c user.name=t -c user.email=t@t "$@"; }
    git -C "$repo" init -q -b main
    commit add -A
    commit commit -q -m "first"
    git -C "$repo" checkout -q -b feature/x
    echo preview-x >"$repo/site/index.html"
    commit commit -q -am "the preview's page"
    git -C "$repo" checkout -q main
    (exec setsid "$SHIPPER" run --repo "$repo" --ref main --state-dir "$WORK/state" --bootstrap --poll 300ms \
        --previews 'feature/*' --preview-port "$route" --http-port off) >>"$WORK/engine.log" 2>&1 </dev/null &
    ENGINE=$!
    by_host() { [[ $(curl -s --max-time 3 -H "Host: $1" "http://127.0.0.1:$route$2") == "$3" ]]; }
    eventually 120 "main's web serves the first commit" serves "$WEB_PORT" /index.html one
    eventually 120 "the preview serves its branch through the routing port" by_host feature-x.localhost /index.html preview-x
    serves "$WEB_PORT" /index.html one || fail "main's web serves another page once the preview runs"
    # Its own containers, volume and network, apart from main's.
    of_project() { $DOCKER "$1" ls -q --filter "label=tandem.project=$2"; }
    local preview_web
    preview_web=$($DOCKER ps -q --filter "label=tandem.project=$preview_project" --filter "label=tandem.service=web")
    [[ -n $preview_web ]] || fail "no web container labelled tandem.project=$preview_project"
    [[ $preview_web != "$(container_of web)" ]] || fail "the preview and main share a web container"
    $DOCKER volume ls -q | grep -qx "${preview_project}_dbdata" || fail "no volume ${preview_project}_dbdata: $($DOCKER volume ls -q)"
    $DOCKER volume ls -q | grep -qx "${PROJECT_NAME}_dbdata" || fail "main's volume ${PROJECT_NAME}_dbdata is missing"
    [[ -n $(of_project network "$preview_project") ]] || fail "no network of $preview_project"
    # Its own ports: shipper previews names them, and its db answers its own migration there.
    "$SHIPPER" previews --state-dir "$WORK/state" -o json >"$WORK/previews.json" || fail "shipper previews failed"
    local preview_db
    preview_db=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print([x for x in p if x["name"]=="feature-x"][0]["ports"]["db"])' "$WORK/previews.json") ||
        fail "no db port of feature-x in: $(cat "$WORK/previews.json")"
    [[ $preview_db != "$DB_PORT" ]] || fail "the preview publishes db on main's port"
    serves "$preview_db" /migrations migrated || fail "the preview's db (port $preview_db) has no migration of its own"
    # A push to the branch deploys the preview, not main.
    git -C "$repo" checkout -q feature/x
    echo preview-x2 >"$repo/site/index.html"
    commit commit -q -am "the preview's page, again"
    git -C "$repo" checkout -q main
    eventually 120 "the preview serves the push" by_host feature-x.localhost /index.html preview-x2
    serves "$WEB_PORT" /index.html one || fail "a push to feature/x changed main's page"
    # The branch deleted: the preview's containers go, main's stay and serve.
    git -C "$repo" branch -q -D feature/x
    gone() { [[ -z $($DOCKER ps -aq --filter "label=tandem.project=$preview_project") ]]; }
    eventually 60 "the preview's containers removed after its branch was deleted" gone
    eventually 30 "the preview's state directory removed" test ! -d "$WORK/state/previews/feature-x"
    [[ -z $(of_project volume "$preview_project") ]] || fail "the torn-down preview's volumes are left: $(of_project volume "$preview_project")"
    [[ -z $(of_project network "$preview_project") ]] || fail "the torn-down preview's network is left"
    $DOCKER volume ls -q | grep -qx "${PROJECT_NAME}_dbdata" || fail "main's volume went with the preview"
    serves "$WEB_PORT" /index.html one || fail "main's web stopped serving when the preview was torn down"
    [[ -n $(container_of web) ]] || fail "main's web container went with the preview"
    kill -INT "$ENGINE"
    for _ in $(seq 300); do kill -0 "$ENGINE" 2>/dev/null || break; sleep 0.1; done
    wait "$ENGINE" || true
    ENGINE=""
    echo "previews: a branch's containers, volume, network and ports beside main's, updated on push, gone with the branch"
}

# A Procfile with no tandem.yaml: processes with foreman's PORT, the routed one served.
scenario_procfile() {
    mkdir -p "$APP"
    cat >"$APP/Procfile" <<'PROCFILE'
# a comment, as foreman allows
web: exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory site
clock: while true; do echo "tick $(printenv PORT) $GREETING"; sleep 1; done
PROCFILE
    mkdir -p "$APP/site" && echo procfile >"$APP/site/index.html"
    printf 'PORT=%s\nGREETING=hello\n' "$WEB_PORT" >"$APP/.env"
    (cd "$APP" && exec setsid env -u PORT "$DEVLOOP" up --http-port off) >>"$WORK/engine.log" 2>&1 </dev/null &
    ENGINE=$!
    eventually 30 "web serves on the Procfile's base port from .env" serves "$WEB_PORT" /index.html procfile
    local clock_port=$((WEB_PORT + 100))
    eventually 10 "clock says its PORT (base + 100) and .env's GREETING" grep -q "tick $clock_port hello" "$WORK/engine.log"
    (cd "$APP" && "$DEVLOOP" convert) >"$WORK/converted.yaml" || fail "devloop convert of a Procfile failed"
    grep -q "port: $WEB_PORT" "$WORK/converted.yaml" || fail "convert: $(cat "$WORK/converted.yaml")"
    kill -INT "$ENGINE"
    for _ in $(seq 100); do kill -0 "$ENGINE" 2>/dev/null || break; sleep 0.1; done
    wait "$ENGINE" || true
    ENGINE=""
    echo "procfile: web served on PORT from .env, clock got base+100, convert printed it"
}

"scenario_$scenario"
