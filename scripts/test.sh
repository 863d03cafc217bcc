#!/usr/bin/env bash
# The test command: sets up (installs, builds), then runs every suite and ends
# with one line `N passed, N failed`.
#
# Usage: scripts/test.sh [--no-sanitize | --sanitize-only] [--full] [BUILD_DIR]
#   (default BUILD_DIR: build)
#
# Two runs, their results summed in the last line:
#   1. BUILD_DIR, a release build: lit + FileCheck, gtest, pytest (test/e2e,
#      python/tests).
#   2. BUILD_DIR-asan, every target built with AddressSanitizer and UBSan (the
#      trainers mpc-compile links too): lit, gtest and the end-to-end tests but
#      those of scripts/sanitize-skip.txt (big models, math-accuracy sweeps).
#      A sanitizer report aborts the process that made it, so the test that
#      ran it fails.
# --no-sanitize skips run 2, --sanitize-only skips run 1; --full runs every
# end-to-end test under the sanitizers too, and in both runs the pytest cases
# marked `full` (pytest --full: the expensive parametrizations, e.g. the real
# models in bf16/fp16 through the CUDA target) (the longer check to run before
# resolving an issue: a few minutes more).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
normal=1 sanitized=1 full=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-sanitize) sanitized=0 ;;
    --sanitize-only) normal=0 ;;
    --full) full=1 ;;
    -*) echo "scripts/test.sh: unknown option '$1'"; exit 2 ;;
    *) break ;;
  esac
  shift
done
build=${1:-$root/build}
pytest_full=()
((full)) && pytest_full=(--full)
cd "$root"

# run_suites BUILD_DIR RESULTS_DIR PYTEST_ARGS...
run_suites() {
  local dir=$1 results=$2
  shift 2
  rm -rf "$results" && mkdir -p "$results"
  echo "== lit (FileCheck): $dir =="
  /usr/lib/llvm-22/bin/lit -sv --xunit-xml-output "$results/lit.xml" "$dir/test" 2>&1 | tail -n 25
  echo "== gtest: $dir =="
  if [ -x "$dir/bin/mpc-unittests" ]; then
    "$dir/bin/mpc-unittests" --gtest_brief=1 --gtest_output="xml:$results/gtest.xml" 2>&1 | tail -n 15
  else
    echo "mpc-unittests was not built" | tee "$results/gtest-missing"
  fi
  echo "== pytest: $dir =="
  MPC_BUILD_DIR="$dir" PATH="$dir/bin:$PATH" \
    .venv/bin/python -m pytest -q -p no:cacheprovider --junitxml="$results/pytest.xml" "$@" 2>&1 | tail -n 15
}

result_dirs=()
if ((normal)); then
  "$root/scripts/setup.sh" "$build" || { echo "setup or build failed"; echo "0 passed, 1 failed"; exit 1; }
  run_suites "$build" "$build/test-results" test/e2e python/tests "${pytest_full[@]}"
  result_dirs+=("$build/test-results")
fi

if ((sanitized)); then
  asan="$build-asan"
  MPC_CMAKE_ARGS="-DMPC_SANITIZE=address,undefined" "$root/scripts/setup.sh" "$asan" ||
    { echo "sanitizer setup or build failed"; echo "0 passed, 1 failed"; exit 1; }
  suites=(test/e2e python/tests "${pytest_full[@]}")
  if ((!full)); then
    while read -r skip; do suites+=("--ignore=$skip"); done < <(grep -vE '^\s*(#|$)' "$root/scripts/sanitize-skip.txt")
  fi
  # abort_on_error: a report ends the process with SIGABRT, which neither an
  # expected error exit (1) nor lit's `not` can mistake for a clean failure.
  ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1" \
  UBSAN_OPTIONS="abort_on_error=1:halt_on_error=1:print_stacktrace=1" \
    run_suites "$asan" "$asan/test-results" "${suites[@]}"
  result_dirs+=("$asan/test-results")
fi

.venv/bin/python "$root/scripts/summarize_results.py" "${result_dirs[@]}"
