#!/usr/bin/env bash
# Builds, on a build machine, everything the GPU check needs into OUT (well under
# 60 MiB): CUDA runners + kernel reports, inputs, references, mpc-cuda-probe.
# Usage: scripts/gpu-bundle.sh OUT [--batch N] [--only a,b]   (docs/gpu-check.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ]; then echo "usage: $0 OUT [--batch N] [--only NAME,...]" >&2; exit 2; fi
exec "$root/.venv/bin/python" "$root/scripts/gpu_bundle.py" "$@"
