#!/usr/bin/env python3
"""Speed of one mpc.conv_grad_input (a convolution's input gradient, the
largest part of a CNN's backward pass) under mpc-run, against a baseline
mpc-run in the same rounds.

Each case is a module @main(dy, w) -> dx holding the single op (fp32, or
bf16 operands with f32 accumulation; the last case is the forward mpc.conv
of the first, @main(x, w) -> y, for reference), run as
    mpc-run CASE.mlir --input arg0=dy.npy --input arg1=w.npy \\
        --iterations N --threads T --precision none
by this build's mpc-run and by --baseline-mpc-run, alternating which goes
first every round. mpc-run reports the mean of N runs after compiling; the
table shows the median and minimum over the rounds and GFLOP/s of the
medians, counting the convolution's own multiply-adds (2 * N * M * OH * OW *
C/G * KH * KW for dy of N x M x OH x OW, weight M x C/G x KH x KW): the
products with the zeros a stride leaves between dy's entries are not
counted, so a stride-2 gradient, which multiplies them too, shows a quarter
of the rate its loops run at.

Usage: bench/conv_grad_input.py [--build DIR] [--baseline-mpc-run OLD/mpc-run]
                                [--iterations 20] [--rounds 5] [--threads 1]
"""
import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import ml_dtypes
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
from mpc import commands  # noqa: E402

# "compile: 164.6 ms, run: 0.090 ms mean over 5 iterations"
TIMES = re.compile(r"compile:\s*([0-9.]+)\s*ms,\s*run:\s*([0-9.]+)\s*ms mean")

# name: (x shape N C H W, weight M C/G KH KW, stride, pad, dilation, group,
# element type, op). The forward mpc.conv of the first case (same
# multiply-adds) is the speed the gradient should reach.
CASES = {
    "64->64 3x3 28x28 s1": ((8, 64, 28, 28), (64, 64, 3, 3), 1, 1, 1, 1, "f32", "grad"),
    "64->64 3x3 28x28 s2": ((8, 64, 28, 28), (64, 64, 3, 3), 2, 1, 1, 1, "f32", "grad"),
    "64->64 3x3 28x28 s1 bf16": ((8, 64, 28, 28), (64, 64, 3, 3), 1, 1, 1, 1, "bf16", "grad"),
    "32->32 3x3 28x28 s1 d2 g2": ((8, 32, 28, 28), (32, 16, 3, 3), 1, 2, 2, 2, "f32", "grad"),
    "forward conv, 64->64 s1": ((8, 64, 28, 28), (64, 64, 3, 3), 1, 1, 1, 1, "f32", "conv"),
}


def out_size(size, kernel, stride, pad, dilation):
    return (size + 2 * pad - (kernel - 1) * dilation - 1) // stride + 1


def tensor(shape, element):
    return "tensor<" + "x".join(map(str, shape)) + f"x{element}>"


def module(xs, ws, stride, pad, dilation, group, element, op):
    ys = (xs[0], ws[0]) + tuple(out_size(xs[2 + i], ws[2 + i], stride, pad, dilation) for i in range(2))
    attrs = (f"{{strides = array<i64: {stride}, {stride}>, pads = array<i64: {pad}, {pad}, {pad}, {pad}>, "
             f"dilations = array<i64: {dilation}, {dilation}>, group = {group} : i64")
    attrs += ", acc_type = f32}" if element != "f32" else "}"
    yt, wt, xt = tensor(ys, element), tensor(ws, element), tensor(xs, element)
    if op == "conv":
        return (f"func.func @main(%x: {xt}, %w: {wt}) -> {yt} {{\n"
                f"  %y = mpc.conv %x, %w {attrs} : ({xt}, {wt}) -> {yt}\n"
                f"  return %y : {yt}\n}}\n"), xs, ys
    text = (f"func.func @main(%dy: {yt}, %w: {wt}) -> {xt} {{\n"
            f"  %dx = mpc.conv_grad_input %dy, %w {attrs} : ({yt}, {wt}) -> {xt}\n"
            f"  return %dx : {xt}\n}}\n")
    return text, ys, ys


def time_run(mpc_run, path, files, iterations, threads, out):
    cmd = commands.mpc_run(mpc_run, path, {"arg0": files[0], "arg1": files[1]}, out, precision="none",
                           threads=threads, iterations=iterations)
    text = subprocess.run(cmd, check=True, capture_output=True, text=True)
    match = TIMES.search(text.stdout + text.stderr)
    if not match:
        raise SystemExit(f"no timing in the output of {' '.join(cmd)}:\n{text.stdout}{text.stderr}")
    return float(match.group(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--baseline-mpc-run", default=None)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    mpc_run = str(Path(args.build) / "bin" / "mpc-run")
    sides = [("mpc", mpc_run)] + ([("baseline", args.baseline_mpc_run)] if args.baseline_mpc_run else [])
    rng = np.random.default_rng(0)
    print(f"conv_grad_input, {args.threads} thread(s), ms per run: median (min) of {args.rounds} rounds "
          f"x {args.iterations} iterations")
    header = f"{'case':28} {'mpc ms':>16} {'GFLOP/s':>8}"
    if len(sides) > 1:
        header += f" {'baseline ms':>18} {'GFLOP/s':>8} {'speed-up':>9}"
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for index, (name, (xs, ws, stride, pad, dilation, group, element, op)) in enumerate(CASES.items()):
            text, first, ys = module(xs, ws, stride, pad, dilation, group, element, op)
            path = tmp / f"case{index}.mlir"
            path.write_text(text)
            dtype = np.float32 if element == "f32" else ml_dtypes.bfloat16
            files = [tmp / f"case{index}_dy.npy", tmp / f"case{index}_w.npy"]
            np.save(files[0], rng.standard_normal(first).astype(dtype))
            np.save(files[1], rng.standard_normal(ws).astype(dtype))
            flops = 2 * np.prod(ys) * ws[1] * ws[2] * ws[3]
            times = {side: [] for side, _ in sides}
            for round_ in range(args.rounds):
                order = sides if round_ % 2 == 0 else sides[::-1]
                for side, binary in order:
                    times[side].append(time_run(binary, path, files, args.iterations, args.threads, tmp / "out"))
            row = f"{name:28}"
            medians = {}
            for side, _ in sides:
                medians[side] = statistics.median(times[side])
                cell = f"{medians[side]:.2f} ({min(times[side]):.2f})"
                row += f" {cell:>16} {flops / medians[side] / 1e6:8.1f}" if side == "mpc" else \
                       f" {cell:>18} {flops / medians[side] / 1e6:8.1f}"
            if len(sides) > 1:
                row += f" {medians['baseline'] / medians['mpc']:8.1f}x"
            print(row, flush=True)


if __name__ == "__main__":
    main()
