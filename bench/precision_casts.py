#!/usr/bin/env python3
"""Casts left by precision assignment: greedy vs. min-cut placement.

For each model and low-precision policy, runs
    mpc-opt MODEL --onnx-batch 8 --mpc-assign-precision="policy=P strategy=S"
            --mpc-insert-casts --mpc-fold-casts
and counts the mpc.cast ops left and the bytes they convert (each cast reads
its operand and writes its result: elements * (source + result bytes)).

Usage: bench/precision_casts.py [--build DIR]   (prints a Markdown table)
"""
import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
from mpc import commands  # noqa: E402

MODELS = ["torch_mlp", "torch_cnn", "torch_encoder"]
POLICIES = ["fp16", "bf16"]
STRATEGIES = ["greedy", "mincut"]
BYTES = {"f32": 4, "f16": 2, "bf16": 2, "f64": 8}

# %1 = mpc.cast %0 : tensor<8x64xf32> to tensor<8x64xbf16>
CAST = re.compile(r"mpc\.cast .*:\s*tensor<([0-9x]*?)x?(f32|f16|bf16|f64)>\s+to\s+"
                  r"tensor<[0-9x]*?x?(f32|f16|bf16|f64)>")


def elements(shape):
    count = 1
    for dim in filter(None, shape.split("x")):
        count *= int(dim)
    return count


def measure(mpc_opt, model, policy, strategy):
    command = commands.mpc_opt(mpc_opt, model, [commands.assign_precision(policy, strategy),
                                                 "--mpc-insert-casts", "--mpc-fold-casts"], batch=8)
    ir = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    casts = [line for line in ir.splitlines() if "mpc.cast" in line and "=" in line]
    converted = 0
    for line in casts:
        match = CAST.search(line)
        if not match:
            sys.exit(f"cannot read the types of: {line.strip()}")
        shape, source, result = match.groups()
        converted += elements(shape) * (BYTES[source] + BYTES[result])
    return len(casts), converted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.environ.get("MPC_BUILD_DIR", ROOT / "build"),
                        help="build directory holding bin/mpc-opt (default $MPC_BUILD_DIR or build)")
    args = parser.parse_args()
    mpc_opt = str(Path(args.build) / "bin" / "mpc-opt")

    header = ["model", "policy", "casts greedy", "casts mincut", "bytes greedy", "bytes mincut"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in MODELS:
        model = ROOT / "test" / "Inputs" / "models" / f"{name}.onnx"
        for policy in POLICIES:
            (cg, bg), (cm, bm) = (measure(mpc_opt, model, policy, s) for s in STRATEGIES)
            print(f"| {name} | {policy} | {cg} | {cm} | {bg} | {bm} |")


if __name__ == "__main__":
    main()
