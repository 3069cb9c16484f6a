#!/usr/bin/env bash
# A Docker daemon for the docker tests (tests/runtime/docker/), run as CTest fixtures.
#   dockerd.sh start STATE_DIR  when no daemon answers on /var/run/docker.sock, starts dockerd
#                               (root) in the background with its pidfile, log, data and exec
#                               roots under a temp dir, waits until /_ping answers and records
#                               that it started it. When docker is missing or will not start,
#                               writes the reason to STATE_DIR/unavailable: the tests skip (77)
#                               and print it.
#   dockerd.sh stop STATE_DIR   removes every container, network, volume and image labelled
#                               tandem.test, then stops the daemon only if `start` started it.
set -uo pipefail

action=${1:?usage: dockerd.sh start|stop STATE_DIR}
state=${2:?usage: dockerd.sh start|stop STATE_DIR}
sock=/var/run/docker.sock
label=tandem.test
export PATH="$PATH:/usr/sbin:/sbin"

answers() { curl -sf --max-time 2 --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1; }

unavailable() {
  echo "$1" >"$state/unavailable"
  echo "dockerd.sh: docker tests will be skipped: $1"
  exit 0
}

start() {
  mkdir -p "$state"
  rm -f "$state/unavailable" "$state/started"
  if answers; then
    echo "dockerd.sh: a daemon already answers on $sock; using it"
    return 0
  fi
  command -v curl >/dev/null || unavailable "curl is not installed"
  command -v dockerd >/dev/null || unavailable "dockerd is not installed (scripts/install-deps.sh installs docker.io)"
  [ "$(id -u)" -eq 0 ] || unavailable "no daemon answers on $sock and starting dockerd needs root"
  local tmp
  tmp=$(mktemp -d /tmp/tandem-dockerd.XXXXXX)
  # overlay2 on the ext4 root (the default dockerd picks); the daemon's own process group, its
  # output to a log so CTest does not wait on our pipes.
  setsid dockerd --host "unix://$sock" --pidfile "$tmp/dockerd.pid" --data-root "$tmp/data" \
    --exec-root "$tmp/exec" </dev/null >"$tmp/dockerd.log" 2>&1 &
  echo "$tmp" >"$state/started"
  ip link show docker0 >/dev/null 2>&1 || touch "$tmp/made-docker0"
  for _ in $(seq 1 150); do
    if answers; then
      echo "dockerd.sh: started dockerd (pid $(cat "$tmp/dockerd.pid"), log $tmp/dockerd.log)"
      return 0
    fi
    sleep 0.2
  done
  local log
  log=$(tail -n 5 "$tmp/dockerd.log")
  stop_daemon
  unavailable "dockerd did not answer on $sock within 30 s: $log"
}

remove_labelled() {
  answers || return 0
  local docker=docker
  [ -x /usr/bin/docker ] && docker=/usr/bin/docker  # Debian's client, the daemon's own version
  export DOCKER_HOST="unix://$sock"
  local ids
  ids=$($docker ps -aq --filter "label=$label"); [ -z "$ids" ] || $docker rm -f $ids >/dev/null
  ids=$($docker network ls -q --filter "label=$label"); [ -z "$ids" ] || $docker network rm $ids >/dev/null
  ids=$($docker volume ls -q --filter "label=$label"); [ -z "$ids" ] || $docker volume rm -f $ids >/dev/null
  ids=$($docker images -q --filter "label=$label" | sort -u); [ -z "$ids" ] || $docker rmi -f $ids >/dev/null
  true
}

stop_daemon() {
  [ -f "$state/started" ] || return 0
  local tmp pid
  tmp=$(cat "$state/started")
  pid=$(cat "$tmp/dockerd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Whatever dockerd left mounted under its roots, then the roots themselves.
  grep -o " $tmp/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  if [ -f "$tmp/made-docker0" ]; then ip link delete docker0 2>/dev/null || true; fi
  rm -rf "$tmp"
  rm -f "$state/started"
  echo "dockerd.sh: stopped the dockerd it started"
}

case "$action" in
  start) start ;;
  stop) remove_labelled; stop_daemon; rm -f "$state/unavailable" ;;
  *) echo "usage: dockerd.sh start|stop STATE_DIR" >&2; exit 2 ;;
esac
