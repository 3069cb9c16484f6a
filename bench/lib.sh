# Helpers the benchmark scripts share; sourced, not run.

# need COMMAND PACKAGE: apt-get install the Debian package if the command is missing.
need() {
    command -v "$1" >/dev/null 2>&1 && return
    echo "installing $2 ..." >&2
    apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$2" >/dev/null; }
}

# kill_leftovers: anything still running in or on $WORK (a replica in its own process group, a
# daemonized child) is ours: stop it by pid.
kill_leftovers() {
    local dir pid
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        if [[ $(readlink "$dir/cwd" 2>/dev/null) == "$WORK"* ]] || grep -qsF "$WORK" "$dir/cmdline" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
}

# stop_devloop PID: SIGINT (devloop stops the services it started), then the process group if
# it has not gone within 10 s. Nothing when PID is empty.
stop_devloop() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -TERM -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# build_bench TARGET...: configures $BUILD (Release, benchmarks on) and builds the targets,
# showing only errors; $WORK/build.log keeps the whole output.
build_bench() {
    echo "building $* in $BUILD ..." >&2
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTANDEM_BUILD_BENCH=ON >/dev/null
    ninja -C "$BUILD" "$@" >"$WORK/build.log" 2>&1 || { grep -E 'error|FAILED' "$WORK/build.log" | head >&2; exit 1; }
}
