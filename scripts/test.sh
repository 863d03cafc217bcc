#!/usr/bin/env bash
# The test command: sets up (installs, builds), then runs every suite (lit +
# FileCheck, gtest, pytest) and ends with one line `N passed, N failed`.
# Usage: scripts/test.sh [BUILD_DIR]   (default: build)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cd "$root"

"$root/scripts/setup.sh" "$build" || { echo "setup or build failed"; echo "0 passed, 1 failed"; exit 1; }

results="$build/test-results"
rm -rf "$results" && mkdir -p "$results"
export MPC_BUILD_DIR="$build"
export PATH="$build/bin:$PATH"

echo "== lit (FileCheck) =="
/usr/lib/llvm-22/bin/lit -sv --xunit-xml-output "$results/lit.xml" "$build/test" 2>&1 | tail -n 25

echo "== gtest =="
if [ -x "$build/bin/mpc-unittests" ]; then
  "$build/bin/mpc-unittests" --gtest_brief=1 --gtest_output="xml:$results/gtest.xml" 2>&1 | tail -n 15
else
  echo "mpc-unittests was not built" | tee "$results/gtest-missing"
fi

echo "== pytest =="
.venv/bin/python -m pytest -q -p no:cacheprovider --junitxml="$results/pytest.xml" test/e2e python/tests 2>&1 | tail -n 15

.venv/bin/python "$root/scripts/summarize_results.py" "$results"
