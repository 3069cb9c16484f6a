#!/usr/bin/env bash
# The README's first command: installs what is missing, builds devloop (only it and what it
# links: no tests, no benchmarks), and runs it on the bundled example (examples/hello): its
# store, api and worker come up as local processes, the api answers on http://127.0.0.1:7400/
# through tandem's proxy, and Ctrl+C stops them all. The build directory is the one
# scripts/test.sh uses, with the same options, so the tests later build only what is left.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh devloop
build_dir=${TANDEM_BUILD_DIR:-build}
devloop="$(pwd)/$build_dir/wip_frontend/devloop"
cd examples/hello
"$devloop" validate
echo "Try: curl http://127.0.0.1:7400/   (Ctrl+C here stops everything)"
exec "$devloop" up
