#!/usr/bin/env bash
# The README's second command: installs what is missing, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash examples/shop/install-deps.sh   # the real-app tests (tests/realapp/) run examples/shop
start=$(date +%s)
bash scripts/build.sh
echo "test: build took $(( $(date +%s) - start )) s"
build_dir=${TANDEM_BUILD_DIR:-build}
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 300

# The web page's browser tests (tests/browser/): Debian's chromium and Node.js, and
# playwright-core from npm (no browser download); each installed only when missing.
browser_packages=()
[ -x /usr/bin/chromium ] || browser_packages+=(chromium)
command -v node >/dev/null || browser_packages+=(nodejs)
command -v npm >/dev/null || browser_packages+=(npm)
if [ ${#browser_packages[@]} -gt 0 ]; then
  echo "test: installing ${browser_packages[*]} for the browser tests"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${browser_packages[@]}"
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi
bash tests/browser/run.sh "$build_dir/wip_frontend/devloop" "$build_dir/tests/tandem_test_service"
