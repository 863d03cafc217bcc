#!/usr/bin/env bash
# The project's one GPU check (docs/gpu-check.md): runs THERE (or here as a dry
# run) on a bundle made by scripts/gpu-bundle.sh, logs and summary into LOGDIR.
# Usage: scripts/gpu-check.sh BUNDLE LOGDIR [--budget SECONDS] [--steps a,b]
# Ends within 8 minutes: the Python side keeps a 450 s budget with a timeout per
# step; this wrapper kills it at 470 s whatever happens.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 2 ]; then echo "usage: $0 BUNDLE LOGDIR [--budget SECONDS] [--steps a,b]" >&2; exit 2; fi
py=${PYTHON:-python3}
if ! "$py" -c 'import numpy' 2>/dev/null; then
  # A build machine's /usr/bin/python3 has no numpy: the project venv does.
  py="$root/.venv/bin/python"
fi
mkdir -p "$2"
timeout -k 5 470 "$py" -u "$root/scripts/gpu_check.py" "$@"
rc=$?
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
  echo "gpu-check: killed at the 470 s limit; partial logs in $2" | tee -a "$2/gpu-check.log"
fi
exit $rc
