#!/usr/bin/env bash
# Installs everything mpc needs on a fresh Debian 12 machine, then configures
# and builds. Safe to run again: each step is skipped when already done.
# Usage: scripts/setup.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cd "$root"

apt_packages=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22 lld-22
              libclang-rt-22-dev libonnx-dev protobuf-compiler libprotobuf-dev
              libgtest-dev ninja-build ccache cmake python3-venv
              libonnx-testdata   # ONNX node tests for test/conformance/conformance.py
              # torch exports of the real-model tests and bench/compile_speed.py
              python3-torch python3-torchvision python3-onnx)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null
fi

# The Python side: onnx/onnxruntime for test models and references, lit, pytest.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import onnx, onnxruntime, numpy, ml_dtypes, lit, pytest" 2>/dev/null; then
  echo "setup: creating the Python venv in .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r python/requirements-dev.txt
fi
.venv/bin/pip install -q --no-deps -e python >/dev/null 2>&1 || true

[ -f "$build/build.ninja" ] || "$root/scripts/configure.sh" "$build"
echo "setup: building in $build"
ninja -C "$build" -j"${MPC_JOBS:-2}" all
