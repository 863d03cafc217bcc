"""Parallel loops change no bit: every output element is computed by one
thread with the same operations in the same order (only independent output
iterations are split, never a reduction), so 1 and 2 threads give identical
results, for inference (mpc-run --threads) and for a training step of a
standalone trainer (MPC_NUM_THREADS)."""
import os
import pathlib
import subprocess

import numpy as np
import onnx
import pytest

from mpc_train import MPC_COMPILE, REFS, TRAIN_INPUTS, compile_trainer, read_safetensors


MODELS_DIR = pathlib.Path(__file__).resolve().parents[1] / "Inputs" / "models"


def model_inputs(model, batch=32):
    """Batch 32: large enough that mpc-parallelize-loops splits loops."""
    rng = np.random.default_rng(0)
    tables = {i.name: i.dims[0] for i in model.graph.initializer}
    vocab = min([tables[n.input[0]] for n in model.graph.node if n.op_type == "Gather" and n.input[0] in tables],
                default=2)
    inputs = {}
    for value in model.graph.input:
        if value.name in tables:
            continue
        shape = [d.dim_value or batch for d in value.type.tensor_type.shape.dim]
        if value.type.tensor_type.elem_type == onnx.TensorProto.INT64:
            inputs[value.name] = rng.integers(0, vocab, shape, dtype=np.int64)
        else:
            inputs[value.name] = rng.standard_normal(shape).astype(np.float32)
    return inputs


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("name", ["torch_cnn", "torch_encoder"])
def test_forward_identical_on_1_and_2_threads(mpc_run, name, precision):
    model = onnx.load(str(MODELS_DIR / f"{name}.onnx"))
    inputs = model_inputs(model)
    results = []
    for threads in (1, 2):
        proc, out = mpc_run.invoke(model, inputs, precision, extra_args=["--threads", str(threads)])
        assert proc.returncode == 0, f"mpc-run --threads {threads} failed:\n{proc.stderr}"
        results.append({o.name: np.load(out / f"{o.name}.npy") for o in model.graph.output})
    for output, single in results[0].items():
        assert np.isfinite(single.astype(np.float32)).all()
        assert single.tobytes() == results[1][output].tobytes(), f"{output} differs between 1 and 2 threads"


@pytest.mark.parametrize("name,input_name,flags", [
    ("cnn", "x", ["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9"]),
    ("encoder", "ids", ["--optimizer", "adamw", "--lr", "0.003", "--weight-decay", "0.01"]),
])
def test_training_step_identical_on_1_and_2_threads(tmp_path, name, input_name, flags):
    if not MPC_COMPILE.exists():
        pytest.skip(f"{MPC_COMPILE} not built (set MPC_BUILD_DIR)")
    trainer = tmp_path / name
    compile_trainer(TRAIN_INPUTS / f"{name}.onnx", trainer, "--loss", "cross_entropy", "--label", "label",
                    *flags, "--precision", "fp32", "--batch", REFS["batch"])
    states = []
    for threads in (1, 2):
        ckpt = tmp_path / f"state-{threads}.safetensors"
        proc = subprocess.run(
            [str(trainer), "--data", f"{input_name}={TRAIN_INPUTS / f'{name}_{input_name}.npy'}",
             "--data", f"label={TRAIN_INPUTS / f'{name}_label.npy'}", "--steps", "2", "--no-shuffle",
             "--checkpoint", str(ckpt)],
            capture_output=True, text=True, timeout=600, env={**os.environ, "MPC_NUM_THREADS": str(threads)})
        assert proc.returncode == 0, f"trainer with MPC_NUM_THREADS={threads} failed:\n{proc.stderr}"
        states.append(read_safetensors(ckpt))
    assert states[0].keys() == states[1].keys()
    for tensor, single in states[0].items():
        assert single.tobytes() == states[1][tensor].tobytes(), f"{tensor} differs between 1 and 2 threads"
