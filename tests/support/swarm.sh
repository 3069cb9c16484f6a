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
# Only the network namespace is entered (nsenter --net): `ip netns exec` remounts /sys and
# hides the cgroup mounts dockerd needs.
#
# What this machine's kernel allows (found 2026-12-02, kernel 6.18 without IPVS, no modprobe):
# swarm init/join, overlay networks across nodes, task scheduling on every node, pushing to and
# pulling from the registry, and publishing in host mode (`--publish mode=host,...`) all work;
# the ingress routing mesh and service VIPs need IPVS and do NOT work (a default-mode service's
# name does not answer; a routing-mesh port refuses). Use `endpoint_mode: dnsrr` and host-mode
# ports, or tandem's own proxy in front of the nodes.
set -uo pipefail

action=${1:?usage: swarm.sh start|stop STATE [NODES]}
state=${2:?usage: swarm.sh start|stop STATE [NODES]}
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
    local i=$1 ns dir
    ns=$(netns "$i")
    dir="$state/node-$i"
    mkdir -p "$dir"
    ip netns add "$ns" || return 1
    ip link add "v${id}n${i}" type veth peer name "v${id}p${i}" || return 1
    ip link set "v${id}p${i}" master "$bridge" up
    ip link set "v${id}n${i}" netns "$ns"
    nsenter --net="/var/run/netns/$ns" ip link set lo up
    nsenter --net="/var/run/netns/$ns" ip link set "v${id}n${i}" name eth0
    nsenter --net="/var/run/netns/$ns" ip addr add "$(addr "$i")/24" dev eth0
    nsenter --net="/var/run/netns/$ns" ip link set eth0 up
    nsenter --net="/var/run/netns/$ns" ip route add default via "${prefix}.1"
    # Its own bridge range too, so the nodes' docker0 never overlap the host's.
    setsid nsenter --net="/var/run/netns/$ns" dockerd --host "unix://$(sock "$i")" \
        --pidfile "$dir/dockerd.pid" --data-root "$dir/data" --exec-root "$dir/exec" \
        --bip "172.$((30 + i)).0.1/24" --insecure-registry "$registry_addr" \
        </dev/null >"$dir/dockerd.log" 2>&1 &
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
    local ready=0
    for _ in $(seq 1 100); do
        ready=$(docker_at 1 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$')
        [ "$ready" -ge "$nodes" ] && break
        sleep 0.3
    done
    [ "$ready" -ge "$nodes" ] || unavailable "only $ready of $nodes nodes became Ready"
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

stop_node_daemon() {
    local dir=$1 pid
    [ -f "$dir/dockerd.pid" ] || return 0
    pid=$(cat "$dir/dockerd.pid" 2>/dev/null)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    # What a killed daemon leaves mounted below its roots.
    grep -o " $dir/[^ ]*" /proc/mounts | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null; done
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
        kill "$(cat "$state/registry/pid")" 2>/dev/null
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
    *) echo "usage: swarm.sh start|stop STATE [NODES]" >&2; exit 2 ;;
esac
