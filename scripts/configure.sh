#!/usr/bin/env bash
# Configures a build directory (default: build) with the project's settings.
# Usage: scripts/configure.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cmake -G Ninja -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=/usr/bin/clang-22 -DCMAKE_CXX_COMPILER=/usr/bin/clang++-22 \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DLLVM_USE_LINKER=lld \
  -DCMAKE_PREFIX_PATH=/usr/lib/llvm-22 \
  -DPython3_EXECUTABLE="$root/.venv/bin/python" ${MPC_CMAKE_ARGS:-} >/dev/null
echo "configured $build"
