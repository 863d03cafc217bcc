#!/usr/bin/env bash
# The demo: sets up and builds, then imports the bundled encoder
# (examples/encoder.onnx), prints its bf16 precision report and runs it on the
# CPU in fp32 and bf16 against onnxruntime; then compiles the bundled CNN into
# a standalone bf16 trainer, trains it on bundled data (the loss falls) and
# checks the saved ONNX model with onnxruntime.
# Usage: scripts/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
"$root/scripts/setup.sh" "$build"

echo
echo "== bf16 precision report for examples/encoder.onnx (batch 16) =="
"$build/bin/mpc-opt" "$root/examples/encoder.onnx" --onnx-batch 16 \
  --mpc-assign-precision=policy=bf16 --mpc-precision-report -o /dev/null
echo
echo "== running it on the CPU =="
"$root/.venv/bin/python" "$root/examples/demo.py" "$build"
echo
echo "== training the bundled CNN in bf16 with a standalone trainer =="
"$root/.venv/bin/python" "$root/examples/train_demo.py" "$build"
