#!/usr/bin/env python3
"""CPU latency of mpc-run against onnxruntime on 1 and 2 threads, fp32, bf16 and fp16.

For each model (test/Inputs/models/torch_{mlp,cnn,encoder}.onnx at a given
batch, the BERT- and GPT-2-style exports of test/Inputs/models/
export_real_models.py at batch 1 when BUILD/real-models has them,
torchvision's ResNet-18 at batch 1 when /usr/bin/python3 has torchvision,
and standalone MatMul models N x N x N built with onnx.helper) and each
thread count T, runs R rounds of
    onnxruntime   (intra_op_num_threads=T, inter_op_num_threads=1, fp32)
    mpc-run MODEL --input ... --iterations N --threads T --precision fp32
    mpc-run MODEL --input ... --iterations N --threads T --precision bf16
    mpc-run MODEL --input ... --iterations N --threads T --precision fp16
alternating the order every round (A B C, C B A, ...), so that a slow
stretch of a shared machine hits every side. One round's time is the mean
of N runs: mpc-run reports it (after compiling; compile time separately),
onnxruntime's is the mean of N session.run after one warm-up run. The
tables (one per thread count) show the median and minimum over the rounds
per side and the ratio of the medians, mpc / onnxruntime. onnxruntime runs
fp32 only: its bf16 CPU kernels do not cover these models, so the bf16
and fp16 columns compare mpc's bf16/fp16 programs with onnxruntime's fp32
one; "bf16 / fp32" and "fp16 / fp32" compare them with mpc's fp32 program
(below 1: the low precision is faster).

ResNet-18 (random weights, eval mode, exported by torch.onnx with batch
norms folded) is generated once into BUILD/bench-cache/resnet18.onnx; it is
not part of the repository.

The output starts with the machine's CPU model (/proc/cpuinfo) and, per
mpc-run side, the CPU it compiled for with the features its code generation
used (mpc-run --print-target). `--mcpu` picks that CPU (default native);
`--native-dot-products` adds a "bf16 native" side (mpc-run --precision bf16
--native-dot-products: AVX512-BF16 dot products, not bit-exact) and its
ratio to mpc's fp32; on a CPU without avx512bf16 that side runs the exact
code (mpc-run warns; the output says so);
`--baseline-mcpu` the baseline's, so that one binary can be timed against
itself for two CPUs (--baseline-mpc-run build/bin/mpc-run --baseline-mcpu
native --mcpu x86-64-v3: AVX2 code on an AVX-512 host).

Usage: bench/cpu_vs_onnxruntime.py [--build DIR] [--mpc-run PATH] [--batch 32]
                                   [--iterations 20] [--rounds 3] [--resnet-rounds 1]
                                   [--sizes 256]
                                   [--threads 1,2] [--no-resnet] [--models a,b]
                                   [--mcpu CPU] [--native-dot-products]
                                   [--baseline-mpc-run OLD/mpc-run] [--baseline-mcpu CPU]
"""
import argparse
import statistics
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
from mpc import commands  # noqa: E402

MODELS = ["torch_mlp", "torch_cnn", "torch_encoder"]
# "compile: 164.6 ms, run: 0.090 ms mean over 5 iterations"
TIMES = re.compile(r"compile:\s*([0-9.]+)\s*ms,\s*run:\s*([0-9.]+)\s*ms mean")


def matmul_model(n, path):
    rng = np.random.default_rng(0)
    b = numpy_helper.from_array((rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["y"])], f"matmul{n}",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n])], [b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, path)


def vocab_size(model):
    """Rows of the smallest table a Gather reads (valid ids for every one)."""
    inits = {i.name: i for i in model.graph.initializer}
    rows = [inits[n.input[0]].dims[0] for n in model.graph.node
            if n.op_type == "Gather" and n.input[0] in inits]
    return min(rows) if rows else 2


def make_inputs(path, batch, directory):
    model = onnx.load(path)
    rng = np.random.default_rng(0)
    feeds = {}
    initializers = {i.name for i in model.graph.initializer}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        shape = [d.dim_value if d.dim_value else batch for d in tensor.shape.dim]
        if tensor.elem_type == TensorProto.INT64 and "mask" in value.name:
            feeds[value.name] = np.ones(shape, np.int64)  # attention mask: no padding
        elif tensor.elem_type == TensorProto.INT64:
            feeds[value.name] = rng.integers(0, vocab_size(model), shape, dtype=np.int64)
        else:
            feeds[value.name] = rng.standard_normal(shape).astype(np.float32)
    files = {}
    for name, array in feeds.items():
        files[name] = Path(directory) / f"{name}.npy"
        np.save(files[name], array)
    return feeds, files


RESNET_EXPORT = """
import sys, torch, torchvision
model = torchvision.models.resnet18().eval()
torch.onnx.export(model, torch.randn(1, 3, 224, 224), sys.argv[1], opset_version=13,
                  input_names=["image"], output_names=["logits"])
"""


def resnet18(build):
    """BUILD/bench-cache/resnet18.onnx, exported on first use; (None, why) if
    torchvision is missing."""
    path = Path(build) / "bench-cache" / "resnet18.onnx"
    if path.exists():
        return path, None
    path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["/usr/bin/python3", "-c", RESNET_EXPORT, str(path)], capture_output=True, text=True)
    if proc.returncode != 0 or not path.exists():
        return None, (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return path, None


def ort_session(path, feeds, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    session.run(None, feeds)
    return session


def time_onnxruntime(session, feeds, iterations):
    session.run(None, feeds)
    start = time.perf_counter()
    for _ in range(iterations):
        session.run(None, feeds)
    return (time.perf_counter() - start) * 1e3 / iterations


def time_mpc(mpc_run, path, files, precision, iterations, directory, threads, mcpu, native=False):
    command = commands.mpc_run(mpc_run, path, files, directory, precision=precision, threads=threads,
                               iterations=iterations, mcpu=mcpu, native_dot_products=native)
    proc = subprocess.run(command, capture_output=True, text=True)
    match = TIMES.search(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not match:
        sys.exit(f"{' '.join(command)} failed:\n{proc.stderr}")
    return float(match.group(1)), float(match.group(2))


def cpu_model():
    """The host CPU's model name, from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown"


def describe_target(mpc_run, mcpu):
    """mpc-run --print-target: the CPU compiled for and what codegen uses of it."""
    command = [str(mpc_run), "--print-target"] + (["--mcpu", mcpu] if mcpu else [])
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{proc.stderr}")
    return [line for line in proc.stdout.splitlines() if line.startswith(("cpu:", "target:"))]


def median_min(values):
    return statistics.median(values), min(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--build", default=os.environ.get("MPC_BUILD_DIR", ROOT / "build"),
                        help="build directory holding bin/mpc-run (default $MPC_BUILD_DIR or build)")
    parser.add_argument("--mpc-run", help="mpc-run binary (overrides --build)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=20, help="runs per round and side")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per model and thread count")
    parser.add_argument("--resnet-rounds", type=int, default=1,
                        help="rounds for ResNet-18 (default 1: its compile takes seconds per mpc-run)")
    parser.add_argument("--sizes", default="256", help="N of the standalone NxNxN MatMul models")
    parser.add_argument("--threads", default="1,2", help="thread counts, on both sides")
    parser.add_argument("--no-resnet", action="store_true", help="skip ResNet-18")
    parser.add_argument("--baseline-mpc-run", help="an older mpc-run, timed (fp32) in the same rounds: "
                        "adds its median and old / new")
    parser.add_argument("--models", help="only the models whose label starts with one of these (comma-separated)")
    parser.add_argument("--mcpu", help="CPU mpc-run compiles for (mpc-run --mcpu; default native)")
    parser.add_argument("--baseline-mcpu", help="CPU the baseline mpc-run compiles for (default: its own default)")
    parser.add_argument("--native-dot-products", action="store_true",
                        help="also time bf16 with mpc-run --native-dot-products (a 'bf16 native' column and "
                             "its ratio to mpc fp32)")
    args = parser.parse_args()
    mpc_run = args.mpc_run or str(Path(args.build) / "bin" / "mpc-run")
    thread_counts = [int(t) for t in args.threads.split(",") if t]
    started = time.perf_counter()
    print(f"host CPU: {cpu_model()}")
    target = describe_target(mpc_run, args.mcpu)
    print("mpc: " + "; ".join(target))
    if args.native_dot_products and not any(" avx512bf16" in line for line in target if line.startswith("target:")):
        print("note: the CPU compiled for has no avx512bf16: the bf16 native side runs the exact code")
    if args.baseline_mpc_run:
        base_target = describe_target(args.baseline_mpc_run, args.baseline_mcpu) if args.baseline_mcpu else [
            "its default CPU"]
        print("baseline: " + "; ".join(base_target))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # (label, path, batch, iterations, rounds)
        models = [(f"{m} (batch {args.batch})", ROOT / "test/Inputs/models" / f"{m}.onnx", args.batch,
                   args.iterations, args.rounds) for m in MODELS]
        notes = []
        for name in ("bert", "gpt2"):
            path = Path(args.build) / "real-models" / f"{name}.onnx"
            if path.exists():
                models.append((f"{name} (batch 1)", path, 1, args.iterations, args.rounds))
            else:
                notes.append(f"{name} skipped: {path} missing (test/Inputs/models/export_real_models.py)")
        if not args.no_resnet:
            path, why = resnet18(args.build)
            if path:
                # ~1.8 GFLOP per image and a ~20 s compile per mpc-run:
                # fewer iterations and one round keep the run short.
                models.append(("resnet18 (batch 1)", path, 1, max(1, args.iterations // 5), args.resnet_rounds))
            else:
                notes.append(f"resnet18 skipped: torchvision export failed ({why})")
        for n in (int(s) for s in args.sizes.split(",") if s):
            path = tmp / f"matmul{n}.onnx"
            matmul_model(n, path)
            models.append((f"MatMul {n}^3", path, args.batch, args.iterations, args.rounds))
        if args.models:
            wanted = tuple(args.models.split(","))
            models = [m for m in models if m[0].startswith(wanted)]

        header = ["model", "onnxruntime ms median (min)", "mpc fp32 ms median (min)", "fp32 ratio",
                  "mpc bf16 ms median (min)", "bf16 ratio", "mpc fp16 ms median (min)", "fp16 ratio",
                  "bf16 / fp32", "fp16 / fp32", "mpc compile ms fp32 (median)", "rounds"]
        if args.baseline_mpc_run:
            header += ["baseline fp32 ms median (min)", "baseline / mpc fp32", "baseline compile ms"]
        if args.native_dot_products:
            header += ["mpc bf16 native ms median (min)", "bf16 native / fp32"]
        rows = {t: [] for t in thread_counts}
        for label, path, batch, iterations, rounds in models:
            work = tmp / path.stem
            work.mkdir(exist_ok=True)
            feeds, files = make_inputs(path, batch, work)
            for threads in thread_counts:
                session = ort_session(path, feeds, threads)
                times = {"ort": [], "fp32": [], "bf16": [], "fp16": [], "compile": [], "base": [], "base_compile": [],
                         "bf16n": []}

                def run(side):
                    if side == "ort":
                        times["ort"].append(time_onnxruntime(session, feeds, iterations))
                        return
                    if side == "base":
                        compile_ms, run_ms = time_mpc(args.baseline_mpc_run, path, files, "fp32", iterations,
                                                      work, threads, args.baseline_mcpu)
                        times["base"].append(run_ms)
                        times["base_compile"].append(compile_ms)
                        return
                    if side == "bf16n":
                        times["bf16n"].append(time_mpc(mpc_run, path, files, "bf16", iterations, work, threads,
                                                       args.mcpu, native=True)[1])
                        return
                    compile_ms, run_ms = time_mpc(mpc_run, path, files, side, iterations, work, threads,
                                                  args.mcpu)
                    times[side].append(run_ms)
                    if side == "fp32":
                        times["compile"].append(compile_ms)

                order = ["ort", "fp32", "bf16", "fp16"] + (["base"] if args.baseline_mpc_run else []) + (
                    ["bf16n"] if args.native_dot_products else [])
                for r in range(rounds):
                    for side in (order if r % 2 == 0 else order[::-1]):
                        run(side)
                ort_med, ort_min = median_min(times["ort"])
                fp32_med, fp32_min = median_min(times["fp32"])
                bf16_med, bf16_min = median_min(times["bf16"])
                fp16_med, fp16_min = median_min(times["fp16"])
                row = [label, f"{ort_med:.3f} ({ort_min:.3f})", f"{fp32_med:.3f} ({fp32_min:.3f})",
                       f"{fp32_med / ort_med:.2f}", f"{bf16_med:.3f} ({bf16_min:.3f})", f"{bf16_med / ort_med:.2f}",
                       f"{fp16_med:.3f} ({fp16_min:.3f})", f"{fp16_med / ort_med:.2f}",
                       f"{bf16_med / fp32_med:.2f}", f"{fp16_med / fp32_med:.2f}",
                       f"{statistics.median(times['compile']):.0f}", str(rounds)]
                if args.baseline_mpc_run:
                    base_med, base_min = median_min(times["base"])
                    row += [f"{base_med:.3f} ({base_min:.3f})", f"{base_med / fp32_med:.2f}",
                            f"{statistics.median(times['base_compile']):.0f}"]
                if args.native_dot_products:
                    native_med, native_min = median_min(times["bf16n"])
                    row += [f"{native_med:.3f} ({native_min:.3f})", f"{native_med / fp32_med:.2f}"]
                rows[threads].append(row)
                print(f"  {threads} thread(s): " + " | ".join(row), file=sys.stderr, flush=True)
        for threads in thread_counts:
            print(f"\n{threads} thread{'s' if threads > 1 else ''} (onnxruntime intra_op_num_threads = "
                  f"mpc-run --threads = {threads}); {args.iterations} runs per round\n")
            print("| " + " | ".join(header) + " |")
            print("|" + "|".join("---" for _ in header) + "|")
            for row in rows[threads]:
                print("| " + " | ".join(row) + " |")
        for note in notes:
            print(f"\n{note}")
        print(f"\ntotal bench time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
