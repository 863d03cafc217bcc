#!/usr/bin/env python3
"""Single convolutions: mpc-run against onnxruntime (single thread), GFLOP/s.

Each layer is one ONNX Conv (weights and bias as initializers) built with
onnx.helper, at ResNet-18's shapes (224x224 input) plus the test CNN's, for
each batch size. Prints a Markdown table of mean latencies, GFLOP/s
(2 * multiply-adds / time) and mpc / onnxruntime. With --baseline-mpc-run,
a second mpc-run binary (e.g. one built before a change) runs in the same
run, so that before/after compare on the same machine load.

Usage: bench/conv_vs_onnxruntime.py [--build DIR] [--mpc-run PATH]
                                    [--baseline-mpc-run PATH] [--batches 1,8]
                                    [--iterations 10] [--no-bf16] [--threads 1]
                                    [--layers 7x7,@14]
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_vs_onnxruntime import ROOT, make_inputs, ort_session, time_mpc, time_onnxruntime  # noqa: E402

# name: (in channels, out channels, input size, kernel, stride, pad)
LAYERS = {
    "stem 7x7/2 3->64 @224": (3, 64, 224, 7, 2, 3),
    "3x3 64->64 @56": (64, 64, 56, 3, 1, 1),
    "3x3/2 64->128 @56": (64, 128, 56, 3, 2, 1),
    "1x1/2 64->128 @56": (64, 128, 56, 1, 2, 0),
    "3x3 128->128 @28": (128, 128, 28, 3, 1, 1),
    "3x3 256->256 @14": (256, 256, 14, 3, 1, 1),
    "3x3 512->512 @7": (512, 512, 7, 3, 1, 1),
    "1x1 256->1024 @14": (256, 1024, 14, 1, 1, 0),
}


def conv_model(batch, cin, cout, size, kernel, stride, pad, path):
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(
        (rng.standard_normal((cout, cin, kernel, kernel)) / np.sqrt(cin * kernel * kernel)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(cout).astype(np.float32), "b")
    out = (size + 2 * pad - kernel) // stride + 1
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], strides=[stride, stride], pads=[pad] * 4)
    graph = helper.make_graph(
        [node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, cin, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, cout, out, out])], [w, b])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return batch * cout * out * out * cin * kernel * kernel


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.environ.get("MPC_BUILD_DIR", ROOT / "build"))
    parser.add_argument("--mpc-run", help="mpc-run binary (overrides --build)")
    parser.add_argument("--baseline-mpc-run", help="a second mpc-run to time in the same run")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--no-bf16", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="threads on both sides")
    parser.add_argument("--layers", help="comma-separated substrings: only layers whose name has one")
    args = parser.parse_args()
    mpc_run = args.mpc_run or str(Path(args.build) / "bin" / "mpc-run")

    header = ["layer", "batch", "GMAC", "onnxruntime ms", "ort GFLOP/s"]
    if args.baseline_mpc_run:
        header += ["baseline fp32 ms", "baseline GFLOP/s"]
    header += ["mpc fp32 ms", "mpc GFLOP/s", "fp32 ratio"]
    if not args.no_bf16:
        header += ["mpc bf16 ms", "bf16 ratio"]
    header += ["mpc compile ms"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        for batch in (int(b) for b in args.batches.split(",")):
            for name, layer in LAYERS.items():
                if args.layers and not any(part in name for part in args.layers.split(",")):
                    continue
                work = Path(tmp) / f"{len(os.listdir(tmp))}"
                work.mkdir()
                path = work / "conv.onnx"
                macs = conv_model(batch, *layer, path)
                gflops = lambda ms: f"{2 * macs / ms / 1e6:.1f}"  # noqa: E731
                feeds, files = make_inputs(path, batch, work)
                ort_ms = time_onnxruntime(ort_session(path, feeds, args.threads), feeds, args.iterations)
                row = [name, str(batch), f"{macs / 1e9:.2f}", f"{ort_ms:.3f}", gflops(ort_ms)]
                if args.baseline_mpc_run:
                    _, base = time_mpc(args.baseline_mpc_run, path, files, "fp32", args.iterations, work, args.threads)
                    row += [f"{base:.3f}", gflops(base)]
                compile_ms, fp32 = time_mpc(mpc_run, path, files, "fp32", args.iterations, work, args.threads)
                row += [f"{fp32:.3f}", gflops(fp32), f"{fp32 / ort_ms:.2f}"]
                if not args.no_bf16:
                    _, bf16 = time_mpc(mpc_run, path, files, "bf16", args.iterations, work, args.threads)
                    row += [f"{bf16:.3f}", f"{bf16 / ort_ms:.2f}"]
                row.append(f"{compile_ms:.0f}")
                print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
