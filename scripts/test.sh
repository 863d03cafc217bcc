#!/usr/bin/env bash
# The test command: sets up (installs, builds), then runs every suite (lit +
# FileCheck, gtest, pytest) and ends with one line `N passed, N failed`.
#
# Usage: scripts/test.sh [--sanitize] [BUILD_DIR]   (default: build)
#   --sanitize  a second build, BUILD_DIR-asan, with AddressSanitizer and
#               UBSan on every target (the trainers mpc-compile links too);
#               runs lit, gtest and the end-to-end tests that compile models
#               (scripts/sanitize-tests.txt). A sanitizer report aborts the
#               process that made it, so the test that ran it fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sanitize=0
if [ "${1:-}" = "--sanitize" ]; then
  sanitize=1
  shift
fi
build=${1:-$root/build}
cd "$root"

if ((sanitize)); then
  build="$build-asan"
  export MPC_CMAKE_ARGS="-DMPC_SANITIZE=address,undefined"
  # abort_on_error: a report ends the process with SIGABRT, which neither an
  # expected error exit (1) nor lit's `not` can mistake for a clean failure.
  export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
  export UBSAN_OPTIONS="abort_on_error=1:halt_on_error=1:print_stacktrace=1"
  export MPC_SANITIZED=1
fi

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
if ((sanitize)); then
  mapfile -t suites < <(grep -vE '^\s*(#|$)' "$root/scripts/sanitize-tests.txt")
else
  suites=(test/e2e python/tests)
fi
.venv/bin/python -m pytest -q -p no:cacheprovider --junitxml="$results/pytest.xml" "${suites[@]}" 2>&1 | tail -n 15

.venv/bin/python "$root/scripts/summarize_results.py" "$results"
