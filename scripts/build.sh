#!/usr/bin/env bash
# Configures and builds tandem into ./build (or $TANDEM_BUILD_DIR) with Ninja: every target, or
# only the targets named (`bash scripts/build.sh devloop`) and what they link.
# Compiles through ccache when it is installed (scripts/install-deps.sh installs it). Paths are
# hashed relative to this checkout, so a fresh clone anywhere on the machine reuses what an
# earlier build compiled; TANDEM_CCACHE=0 turns it off.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${TANDEM_BUILD_DIR:-build}
launcher=()
if [ "${TANDEM_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} "${launcher[@]}" >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
