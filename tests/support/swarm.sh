#!/usr/bin/env bash
# A Docker Swarm of several nodes on this one machine, for the swarm tests (issue 17), and a
# registry beside it. Each node is a dockerd of its own in a network namespace of its own
# (own data root, exec root, pidfile and socket), joined to a bridge by a veth pair; the first
# node inits the swarm as its manager, the others join as workers. The registry (Debian's
# docker-registry) listens on the bridge's address, where every node may push and pull.
#   swarm.sh start STATE [NODES]   makes it (NODES default 3) and writes STATE/env: SWARM_NODES,
#                                  SWARM_SOCKET_<i> (unix socket of node i), SWARM_ADDR_<i> (its
#                                  address), SWARM_REGISTRY (host:port). Says why on failure and
#                                  writes STATE/unavailable (the tests then skip, 77).
#   swarm.sh stop STATE            stops every node and the registry, removes the namespaces,
#                                  links, mounts and STATE's files. Safe to run twice.
#   swarm.sh restart-node STATE I  stops node I's dockerd (SIGTERM: its tasks stop, no
#                                  live-restore) and starts it again on the same roots; waits
#                                  until it answers and the manager counts every live node Ready.
#   swarm.sh kill-node STATE I     a power cut of node I: SIGKILL to everything it runs (dockerd,
#                                  containerd, shims, port proxies and its containers' processes),
#                                  nothing stopped in order; `stop` (or restart-node) cleans up.
# Only the network namespace is entered (nsenter --net): `ip netns exec` remounts /sys and
# hides the cgroup mounts dockerd needs.
#
# What this machine's kernel allows (found 2026-12-02, kernel 6.18 without IPVS, no modprobe):
# swarm init/join, overlay networks across nodes, task scheduling on every node, pushing to and
# pulling from the registry, and publishing in host mode (`--publish mode=host,...`) all work;
# the ingress routing mesh and service VIPs need IPVS and do NOT work (a default-mode service's
# name does not answer; a routing-mesh port refuses). Use `endpoint_mode: dnsrr` and host-mode
# ports, or tandem's own proxy in front of the nodes.
# Found with kill-node (2026-12-02): the manager sees a node whose processes all died as Down
# after ~15-18 s and places its tasks elsewhere within ~2 s more. A node that dies in the middle of
# a rolling update can leave the update `updating` for good (no progress in 4 minutes): the
# updater waits on a new task that was assigned to the dead node; `docker service rollback` (or a
# newer update) ends it. With restart-node, a manager's dockerd stops and is back, all nodes Ready,
# in ~15 s; its tasks stop with it and swarm starts them again (at new published ports).
set -uo pipefail

usage="usage: swarm.sh start STATE [NODES] | stop STATE | restart-node STATE I | kill-node STATE I"
action=${1:?$usage}
state=${2:?$usage}
nodes=${3:-3}
export PATH="$PATH:/usr/sbin:/sbin"

# Names from the state dir, so two runs (or two checkouts) never share them.
id=$(printf '%s' "$(realpath -m "$state")" | sha256sum | cut -c1-6)
bridge="tsw${id}"
subnet_octet=$(( (16#${id:0:2} % 200) + 20 ))   # 10.<20..219>.0.0/24
prefix="10.${subnet_octet}.0"
registry_addr="${prefix}.1:5000"

netns() { echo "tsw-${id}-$1"; }
sock() { echo "$state/node-$1/docker.sock"; }
addr() { echo "${prefix}.$((10 + $1))"; }
docker_at() { local i=$1; shift; docker -H "unix://$(sock "$i")" "$@"; }
answers() { curl -sf --max-time 2 --unix-socket "$(sock "$1")" http://docker/_ping >/dev/null 2>&1; }

unavailable() {
    mkdir -p "$state"
    echo "$1" >"$state/unavailable"
    echo "swarm.sh: swarm tests will be skipped: $1"
    stop_all
    mkdir -p "$state" && echo "$1" >"$state/unavailable"
    exit 0
}

start_node() {
    local i=$1 ns
    ns=$(netns "$i")
    mkdir -p "$state/node-$i"
    ip netns add "$ns" || return 1
    ip link add "v${id}n${i}" type veth peer name "v${id}p${i}" || return 1
    ip link set "v${id}p${i}" master "$bridge" up
    ip link set "v${id}n${i}" netns "$ns"
    nsenter --net="/var/run/netns/$ns" ip link set lo up
    nsenter --net="/var/run/netns/$ns" ip link set "v${id}n${i}" name eth0
    nsenter --net="/var/run/netns/$ns" ip addr add "$(addr "$i")/24" dev eth0
    nsenter --net="/var/run/netns/$ns" ip link set eth0 up
    nsenter --net="/var/run/netns/$ns" ip route add default via "${prefix}.1"
    start_daemon "$i"
}

# Node I's dockerd in its namespace (made by start_node), until it answers.
start_daemon() {
    local i=$1 dir="$state/node-$1"
    # Its own bridge range too, so the nodes' docker0 never overlap the host's.
    setsid nsenter --net="/var/run/netns/$(netns "$i")" dockerd --host "unix://$(sock "$i")" \
        --pidfile "$dir/dockerd.pid" --data-root "$dir/data" --exec-root "$dir/exec" \
        --bip "172.$((30 + i)).0.1/24" --insecure-registry "$registry_addr" \
        </dev/null >>"$dir/dockerd.log" 2>&1 &
    for _ in $(seq 1 150); do
        answers "$i" && return 0
        sleep 0.2
    done
    echo "node $i: dockerd did not answer within 30 s: $(tail -n 3 "$dir/dockerd.log")"
    return 1
}

start_registry() {
    mkdir -p "$state/registry"
    cat >"$state/registry/config.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $state/registry/data
http:
  addr: $registry_addr
EOF
    setsid docker-registry serve "$state/registry/config.yml" </dev/null >"$state/registry/log" 2>&1 &
    echo $! >"$state/registry/pid"
    for _ in $(seq 1 50); do
        curl -sf --max-time 1 "http://$registry_addr/v2/" >/dev/null && return 0
        sleep 0.2
    done
    echo "the registry did not answer on $registry_addr: $(tail -n 3 "$state/registry/log")"
    return 1
}

start() {
    rm -f "$state/unavailable"
    [ "$(id -u)" -eq 0 ] || unavailable "a swarm of namespaced dockerds needs root"
    for tool in dockerd docker nsenter ip curl docker-registry; do
        command -v "$tool" >/dev/null || unavailable "'$tool' is not installed (scripts/install-deps.sh installs it)"
    done
    stop_all  # what an earlier run of the same STATE left
    mkdir -p "$state"
    ip link add "$bridge" type bridge || unavailable "cannot make the bridge $bridge"
    ip addr add "${prefix}.1/24" dev "$bridge"
    ip link set "$bridge" up
    # A host dockerd sets FORWARD's policy to DROP, and with br_netfilter bridged frames pass
    # that chain: the nodes' traffic to each other is let through explicitly.
    iptables -I FORWARD 1 -i "$bridge" -o "$bridge" -j ACCEPT 2>/dev/null
    start_registry || unavailable "the registry would not start"
    local i why
    for i in $(seq 1 "$nodes"); do
        why=$(start_node "$i") || unavailable "${why:-node $i would not start}"
    done
    docker_at 1 swarm init --advertise-addr "$(addr 1)" >/dev/null 2>"$state/swarm-init.err" ||
        unavailable "docker swarm init failed: $(cat "$state/swarm-init.err")"
    local token
    token=$(docker_at 1 swarm join-token -q worker)
    for i in $(seq 2 "$nodes"); do
        docker_at "$i" swarm join --advertise-addr "$(addr "$i")" --token "$token" "$(addr 1):2377" >/dev/null \
            2>"$state/join-$i.err" || unavailable "node $i could not join: $(cat "$state/join-$i.err")"
    done
    wait_ready "$nodes" || unavailable "only $(ready_nodes) of $nodes nodes became Ready"
    {
        echo "SWARM_NODES=$nodes"
        for i in $(seq 1 "$nodes"); do
            echo "SWARM_SOCKET_$i=$(sock "$i")"
            echo "SWARM_ADDR_$i=$(addr "$i")"
        done
        echo "SWARM_REGISTRY=$registry_addr"
    } >"$state/env"
    echo "swarm.sh: $nodes nodes Ready (manager $(addr 1), sockets under $state), registry $registry_addr"
}

ready_nodes() { docker_at 1 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$'; }

# wait_ready N: until the manager counts N nodes Ready (30 s at most).
wait_ready() {
    for _ in $(seq 1 100); do
        [ "$(ready_nodes)" -ge "$1" ] && return 0
        sleep 0.3
    done
    return 1
}

# The processes of the containers node DIR made (their cgroups name the container's id): a
# dockerd that was killed leaves them running, outside the node's network namespace.
container_pids() {
    local ids
    ids=$(ls "$1/data/containers" 2>/dev/null)
    [ -n "$ids" ] || return 0
    grep -l -F -f <(echo "$ids") /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3
}

stop_node_daemon() {
    local dir=$1 pid
    if [ -f "$dir/dockerd.pid" ]; then
        pid=$(cat "$dir/dockerd.pid" 2>/dev/null)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
        for _ in $(seq 1 100); do
            [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    fi
    container_pids "$dir" | xargs -r kill -KILL 2>/dev/null
    # What a killed daemon leaves mounted below its roots.
    grep -o " $dir/[^ ]*" /proc/mounts | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null; done
}

restart_node() {
    local i=$1 dir="$state/node-$1" ns live=0 j
    if [ ! -f "$state/env" ] || [ ! -d "$dir" ]; then echo "swarm.sh: no node $i under $state"; exit 1; fi
    ns=$(netns "$i")
    stop_node_daemon "$dir"
    # What a power cut left in the namespace (containerd, shims, port proxies).
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    rm -f "$dir/killed" "$dir/dockerd.pid"
    start_daemon "$i" || exit 1
    for j in $(seq 1 "$(sed -n 's/^SWARM_NODES=//p' "$state/env")"); do
        [ -f "$state/node-$j/killed" ] || live=$((live + 1))
    done
    wait_ready "$live" || { echo "swarm.sh: node $i restarted, but the manager counts $(ready_nodes) of $live nodes Ready"; exit 1; }
    echo "swarm.sh: node $i restarted; $live nodes Ready"
}

kill_node() {
    local i=$1 dir="$state/node-$1" pids
    [ -d "$dir" ] || { echo "swarm.sh: no node $i under $state"; exit 1; }
    pids="$(ip netns pids "$(netns "$i")" 2>/dev/null) $(container_pids "$dir")"
    # shellcheck disable=SC2086  # one pid a word
    kill -KILL $pids 2>/dev/null
    touch "$dir/killed"
    echo "swarm.sh: node $i killed (pids $(echo $pids))"
}

stop_all() {
    local dir ns
    # Every node asked at once, then each waited for: a swarm node takes seconds to stop.
    for dir in "$state"/node-*; do
        [ -f "$dir/dockerd.pid" ] && kill "$(cat "$dir/dockerd.pid")" 2>/dev/null
    done
    for dir in "$state"/node-*; do
        [ -d "$dir" ] && stop_node_daemon "$dir"
    done
    if [ -f "$state/registry/pid" ]; then
        local registry_pid
        registry_pid=$(cat "$state/registry/pid")
        kill "$registry_pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$registry_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^tsw-${id}-"); do
        # Anything still in the namespace (a container's shim) goes with it.
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns delete "$ns" 2>/dev/null
    done
    while iptables -D FORWARD -i "$bridge" -o "$bridge" -j ACCEPT 2>/dev/null; do :; done
    ip link show "$bridge" >/dev/null 2>&1 && ip link delete "$bridge"
    for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^v${id}p"); do
        ip link delete "$link" 2>/dev/null
    done
    rm -rf "$state"
}

case "$action" in
    start) start ;;
    stop) stop_all && echo "swarm.sh: stopped" ;;
    restart-node) restart_node "${3:?$usage}" ;;
    kill-node) kill_node "${3:?$usage}" ;;
    *) echo "$usage" >&2; exit 2 ;;
esac
