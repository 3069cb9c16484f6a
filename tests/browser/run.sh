#!/usr/bin/env bash
# Runs the web page's browser tests in Debian's chromium (/usr/bin/chromium, or $TANDEM_CHROMIUM):
# the page against a real `devloop up`, then against the mock API (100 services, 100,000 log
# lines). Needs node_modules (npm ci here) and chromium; scripts/test.sh installs both.
#   bash tests/browser/run.sh PATH/TO/devloop PATH/TO/tandem_test_service
# Screenshots and the measured figures go to tests/browser/out/.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 DEVLOOP_BINARY TEST_SERVICE_BINARY" >&2
  exit 2
fi
devloop=$(realpath "$1")
test_service=$(realpath "$2")
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
  echo "browser tests: no node_modules here; run: npm ci --prefix $(pwd)" >&2
  exit 1
fi
mkdir -p out
export TANDEM_DEVLOOP="$devloop" TANDEM_TEST_SERVICE="$test_service"
node --test --test-reporter=spec --test-concurrency=1 real_engine.test.mjs mock.test.mjs
echo "browser tests: screenshots and figures in $(pwd)/out/"
