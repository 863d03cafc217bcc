"""Helpers of the end-to-end tests: running mpc-run and onnxruntime, and
the error measures. (A module of its own name: several test directories have
a conftest.py, and `from conftest import` could pick the wrong one.)

The build directory comes from MPC_BUILD_DIR (default: build/ in the repository).
Tool command lines come from the package's mpc.commands, imported from this
checkout's python/ (the same module scripts/setup.sh installs into .venv).
"""
import ast
import os
import pathlib
import re
import subprocess
import sys

import ml_dtypes
import numpy as np
import onnx

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
from mpc import commands  # noqa: E402

BUILD_DIR = pathlib.Path(os.environ.get("MPC_BUILD_DIR", ROOT / "build"))
MPC_RUN = BUILD_DIR / "bin" / "mpc-run"
# MPC_TEST_MCPU=x86-64-v3: every MpcRun compiles for that CPU (mpc-run
# --mcpu), e.g. to run AVX2 code on an AVX-512 host.
TEST_MCPU = os.environ.get("MPC_TEST_MCPU") or None
PTXAS = pathlib.Path("/usr/local/cuda/bin/ptxas")
output_file_name = commands.mpc_run_output_file


class MpcRun:
    """Runs mpc-run on a model with numpy inputs; one scratch dir per test."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.count = 0

    def _scratch(self):
        self.count += 1
        path = self.tmp_path / f"run{self.count}"
        path.mkdir()
        return path

    def invoke(self, model, inputs, precision="fp32", extra_args=(), raw_inputs=None, timeout=300):
        """Runs mpc-run; returns (CompletedProcess, output dir). `model` is an
        onnx.ModelProto, or MLIR text (written to model.mlir)."""
        work = self._scratch()
        if isinstance(model, onnx.ModelProto):
            model_path = work / "model.onnx"
            onnx.save(model, str(model_path))
        else:
            model_path = work / "model.mlir"
            model_path.write_text(model)
        files = {}
        for name, value in inputs.items():
            files[name] = work / output_file_name("in_" + name)
            np.save(files[name], value)
        files.update(raw_inputs or {})
        args = commands.mpc_run(MPC_RUN, model_path, files, work / "out", precision=precision,
                                mcpu=TEST_MCPU, extra=extra_args)
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        return proc, work / "out"

    def __call__(self, model, inputs, precision="fp32", output_names=None, timeout=300):
        """Runs and returns {output name: array}; fails the test on an error."""
        proc, out = self.invoke(model, inputs, precision, timeout=timeout)
        assert proc.returncode == 0, f"mpc-run failed:\n{proc.stderr}"
        if output_names is None:
            output_names = [o.name for o in model.graph.output]
        return {name: load_npy(out / output_file_name(name)) for name in output_names}



def load_npy(path):
    """np.load, plus float8_e5m2: ml_dtypes (and so mpc-run) saves it as '<f1',
    which np.load rejects."""
    data = path.read_bytes()
    if b"'descr': '<f1'" not in data[:128]:
        return np.load(path)
    size_bytes = 2 if data[6] == 1 else 4  # format 1.0 or 2.0/3.0
    start = 8 + size_bytes + int.from_bytes(data[8:8 + size_bytes], "little")
    shape = ast.literal_eval(data[8 + size_bytes:start].decode("latin1"))["shape"]
    array = np.frombuffer(data[start:], dtype=np.uint8).reshape(shape)
    return array.view(ml_dtypes.float8_e5m2)


def run_onnxruntime(model, inputs):
    """onnxruntime's outputs, with graph optimizations off so that each op is
    computed as written (fusions would change the reference's rounding)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in model.graph.output]
    return dict(zip(names, session.run(names, inputs)))


def max_relative_error(actual, expected):
    """max |a - e| / max(|e|, tiny), elementwise."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    denom = np.maximum(np.abs(expected), 1e-30)
    return float(np.max(np.abs(actual - expected) / denom)) if expected.size else 0.0


def normalized_error(actual, expected):
    """max |a - e| / max |e|: the error relative to the tensor's scale, which
    is what matters for low-precision results near zero."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.max(np.abs(expected))), 1e-30) if expected.size else 1.0
    return float(np.max(np.abs(actual - expected))) / scale if expected.size else 0.0


def ptx_accepted_by_ptxas(model, tmp_path, precision=None, arch="sm_90", extra_args=()):
    """Compiles the ONNX model for the CUDA target to PTX (mpc-compile --infer
    --emit ptx), checks that it has kernels and that ptxas accepts it, and
    returns the PTX text; skips the calling test without the CUDA toolkit."""
    import pytest
    mpc_compile = BUILD_DIR / "bin" / "mpc-compile"
    if not mpc_compile.exists() or not PTXAS.exists():
        pytest.skip("mpc-compile or ptxas absent")
    model_file, ptx = tmp_path / "model.onnx", tmp_path / "model.ptx"
    onnx.save(model, str(model_file))
    args = [str(mpc_compile), str(model_file), "--infer", "--target", "cuda", "--emit", "ptx",
            "--cuda-arch", arch, "-o", str(ptx)]
    if precision is not None:
        args += ["--precision", precision]
    proc = subprocess.run(args + list(extra_args), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    text = ptx.read_text()
    assert re.search(r"^\.visible \.entry \w+\(", text, re.M)
    proc = subprocess.run([str(PTXAS), f"-arch={arch}", str(ptx), "-o", "/dev/null"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return text
