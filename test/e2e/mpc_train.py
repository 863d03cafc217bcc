"""Helpers of the training tests: mpc-compile, running a trainer, reading its
JSONL log and safetensors checkpoints, and the reference runs under
test/Inputs/train (refs.json, made by make_training_refs.py with PyTorch)."""
import json
import pathlib
import subprocess

import numpy as np

from mpc_e2e import BUILD_DIR, commands

MPC_COMPILE = BUILD_DIR / "bin" / "mpc-compile"
TRAIN_INPUTS = pathlib.Path(__file__).resolve().parents[1] / "Inputs" / "train"
REFS = json.loads((TRAIN_INPUTS / "refs.json").read_text())


def compile_trainer(model, out, *flags, check=True):
    """mpc-compile MODEL --train FLAGS -o OUT; returns the CompletedProcess."""
    args = commands.mpc_compile(MPC_COMPILE, model, out, extra=list(map(str, flags)))
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, f"mpc-compile failed:\n{proc.stderr}"
    return proc


def run_trainer(trainer, data, *flags, check=True, log=None):
    """Runs TRAINER --data NAME=FILE ... FLAGS; returns (proc, log entries)."""
    args = commands.trainer(trainer, data, log=log, extra=list(map(str, flags)))
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, f"trainer failed:\n{proc.stdout}\n{proc.stderr}"
    entries = read_log(log) if log is not None and pathlib.Path(log).exists() else []
    return proc, entries


def read_log(path):
    return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines() if line.strip()]


def step_losses(entries):
    return [e["loss"] for e in entries if "step" in e and "loss" in e]


def read_safetensors(path):
    """{name: array} of a safetensors file (F32/F16/I64/I32/BOOL)."""
    raw = pathlib.Path(path).read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + size])
    body = raw[8 + size:]
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64,
              "I32": np.int32, "BOOL": np.bool_}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return tensors


def onnx_accuracy(model_path, x, labels, input_name):
    """Top-1 accuracy of an ONNX classifier under onnxruntime (fp32)."""
    import onnxruntime as ort
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    logits = session.run(None, {input_name: x})[0]
    return float((logits.argmax(-1) == labels).mean())
