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
