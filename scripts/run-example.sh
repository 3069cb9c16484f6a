#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs devloop on the
# bundled example (examples/hello): it validates the project and prints the plan that brings
# it up under the wip policy set, then the same project's plan under harness.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
build_dir=${TANDEM_BUILD_DIR:-build}
devloop="$build_dir/wip_frontend/devloop"
cd examples/hello
"../../$devloop" validate
"../../$devloop" plan
echo
echo "The same project under the harness policy set (what shipper would do, with --bootstrap):"
"../../$devloop" plan --policy harness --bootstrap
