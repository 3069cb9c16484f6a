#!/usr/bin/env bash
# Configures and builds tandem into ./build (or $TANDEM_BUILD_DIR) with Ninja: every target, or
# only the targets named (`bash scripts/build.sh devloop`) and what they link.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${TANDEM_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
