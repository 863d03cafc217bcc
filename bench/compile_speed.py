"""Compile speed and peak memory of mpc-run and mpc-compile --train on large models (issues #3, #17).

For each model: `mpc-run MODEL --iterations 0` (import, precision passes, the
whole lowering pipeline and LLVM's JIT code generation, nothing run), timed
by mpc-run itself, with the child's peak resident memory from getrusage.
With --train: `mpc-compile MODEL --train --batch 8` instead (autodiff, the
optimizer step, the whole lowering, LLVM's ahead-of-time code generation
and the link), timed by its wall clock, cold (nothing is cached between
runs). Models are torch exports with random weights (export_real_models.py,
cached under BUILD/real-models): ResNet-50 (224x224; batch 1 for mpc-run)
and a BERT-base sized encoder (12 layers, hidden 768, seq 128). Targets:
< 20 s and < 4 GB.

    .venv/bin/python bench/compile_speed.py [--build build] [--precision fp32 bf16] [--models resnet50 bert_base]
        [--train] [--mpc-run-arg=--outline-kernels=false ...] [--mpc-compile-arg=--mlir-timing ...]

--mpc-run-arg (--mpc-compile-arg) passes an option on to every mpc-run
(mpc-compile), e.g. to time the lowering without mpc-outline-kernels
against the default.

Prints a markdown table (docs/benchmarks.md keeps the last one).
"""
import argparse
import pathlib
import re
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
from mpc import commands  # noqa: E402

EXPORT = ROOT / "test" / "Inputs" / "models" / "export_real_models.py"
TARGET_SECONDS, TARGET_GB = 20.0, 4.0
TRAIN_BATCH = 8
# What a trainer of each model needs: the loss, the output it is taken on, the optimizer.
TRAIN_FLAGS = {"resnet50": dict(loss="cross_entropy", optimizer="sgd"),
               "bert_base": dict(loss="mse", loss_output="pooled", optimizer="adamw")}


def inputs_for(name):
    rng = np.random.default_rng(0)
    if name.startswith("resnet"):
        return {"image": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}
    return {"ids": rng.integers(0, 30522, (1, 128)).astype(np.int64), "mask": np.ones((1, 128), np.int64)}


def model_path(build, name):
    path = build / "real-models" / f"{name}.onnx"
    if not path.exists():
        subprocess.run(["/usr/bin/python3", str(EXPORT), str(path.parent), name], check=True)
    return path


def run_args(build, name, precision, work, extra):
    files = {}
    for input_name, value in inputs_for(name).items():
        files[input_name] = work / f"{input_name}.npy"
        np.save(files[input_name], value)
    return commands.mpc_run(build / "bin" / "mpc-run", model_path(build, name), files, work / "out",
                            precision=precision, iterations=0, extra=extra)


def train_args(build, name, precision, work, extra):
    return commands.mpc_compile(build / "bin" / "mpc-compile", model_path(build, name), work / "trainer",
                                batch=TRAIN_BATCH, precision=precision, extra=extra, **TRAIN_FLAGS[name])


def measure(args, name, precision):
    """(compile s, CPU s of the child, peak GB); compile s is what mpc-run
    reports, or the wall clock for mpc-compile."""
    # Each measurement in a child of its own so that ru_maxrss is this one's.
    probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); "
             "print('maxrss_kb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
             "print('cpu_s', resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime + "
             "resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime); sys.exit(p.returncode)")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{name} ({precision}) failed:\n{proc.stderr[-3000:]}")
    sys.stderr.write(proc.stderr)  # --mlir-timing's report, if asked for
    reported = re.search(r"compile: ([0-9.]+) ms", proc.stdout)
    seconds = float(reported.group(1)) / 1e3 if reported else wall
    maxrss_kb = int(re.search(r"maxrss_kb (\d+)", proc.stdout).group(1))
    cpu = float(re.search(r"cpu_s ([0-9.]+)", proc.stdout).group(1))
    return seconds, cpu, maxrss_kb / 2 ** 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--models", nargs="+", default=["resnet50", "bert_base"])
    parser.add_argument("--train", action="store_true",
                        help=f"time mpc-compile --train --batch {TRAIN_BATCH} instead of mpc-run")
    parser.add_argument("--mpc-run-arg", action="append", default=[], help="an option passed on to mpc-run")
    parser.add_argument("--mpc-compile-arg", action="append", default=[],
                        help="an option passed on to mpc-compile (--train)")
    args = parser.parse_args()
    build = pathlib.Path(args.build).resolve()
    tool = f"mpc-compile --train, batch {TRAIN_BATCH}" if args.train else "mpc-run"
    print(f"| model | precision | compile s ({tool}) | CPU s | peak GB | target met |")
    print(f"|-------|-----------|{'-' * (len(tool) + 14)}|-------|---------|------------|")
    for name in args.models:
        for precision in args.precision:
            with tempfile.TemporaryDirectory() as work:
                work = pathlib.Path(work)
                command = (train_args(build, name, precision, work, args.mpc_compile_arg) if args.train
                           else run_args(build, name, precision, work, args.mpc_run_arg))
                seconds, cpu, gigabytes = measure(command, name, precision)
            met = "yes" if seconds < TARGET_SECONDS and gigabytes < TARGET_GB else "no"
            print(f"| {name} | {precision} | {seconds:.1f} | {cpu:.1f} | {gigabytes:.2f} | {met} |", flush=True)


if __name__ == "__main__":
    main()
