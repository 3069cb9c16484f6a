#!/usr/bin/env bash
# Audit verify: `shipper audit verify` must check a log of 100,000 records in well under a second.
# Writes the records through AuditLog::append (timed) for at most APPEND_S seconds, the rest
# through the same line formatter without a per-record fsync, then times AuditLog::verify RUNS
# times and prints the median. A benchmark, not a test.
#
#   bench/audit_verify.sh                     # RECORDS=100000 APPEND_S=120 RUNS=5
#   APPEND_S=10 bench/audit_verify.sh         # quicker: 10 s of appends
#   RECORDS=1000000 bench/audit_verify.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TANDEM_BUILD_DIR:-$ROOT/build-bench}
RECORDS=${RECORDS:-100000}
APPEND_S=${APPEND_S:-120}
RUNS=${RUNS:-5}

WORK=$(mktemp -d /tmp/tandem-audit.XXXXXX)
trap 'rm -rf "$WORK"' EXIT INT TERM

echo "building tandem_audit_bench in $BUILD ..." >&2
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTANDEM_BUILD_BENCH=ON >/dev/null
ninja -C "$BUILD" tandem_audit_bench >"$WORK/build.log" 2>&1 || { grep -E 'error|FAILED' "$WORK/build.log" | head >&2; exit 1; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD/bench/tandem_audit_bench" --records "$RECORDS" --append-seconds "$APPEND_S" --runs "$RUNS" --dir "$WORK"
