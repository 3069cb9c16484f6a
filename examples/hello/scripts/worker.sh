#!/usr/bin/env bash
# worker: the example's background job. Every few seconds it bumps a counter in the store
# and says so; it has no port of its own.
set -eu
host=${STORE_ADDR%:*}
port=${STORE_ADDR#*:}
interval=${WORKER_INTERVAL:-5}
while :; do
    if exec 3<>"/dev/tcp/$host/$port" 2>/dev/null; then
        printf 'INCR jobs\n' >&3
        read -r count <&3 || count='?'
        exec 3>&-
        echo "worker: job $count done"
    else
        echo "worker: store at $STORE_ADDR unreachable" >&2
    fi
    sleep "$interval"
done
