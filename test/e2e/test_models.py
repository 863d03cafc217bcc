"""Real exporter output (torch.onnx.export, in test/Inputs/models) end to end:
fp32 against onnxruntime, bf16/fp16 close to fp32, batch taken from the data."""
import pathlib

import numpy as np
import onnx
import pytest

from mpc_e2e import normalized_error, run_onnxruntime

MODELS = pathlib.Path(__file__).resolve().parent.parent / "Inputs" / "models"


def inputs_for(name, batch, rng):
    if name == "torch_cnn":
        return {"image": rng.standard_normal((batch, 3, 16, 16)).astype(np.float32)}
    if name == "torch_encoder":
        return {"ids": rng.integers(0, 50, (batch, 8)).astype(np.int64)}
    return {"x": rng.standard_normal((batch, 16)).astype(np.float32)}


def load(name):
    path = MODELS / f"{name}.onnx"
    if not path.exists():
        pytest.skip(f"{path} missing")
    return onnx.load(str(path))


@pytest.mark.parametrize("name", ["torch_mlp", "torch_cnn", "torch_encoder"])
@pytest.mark.parametrize("batch", [1, 3])
def test_fp32_matches_onnxruntime(mpc_run, name, batch):
    model = load(name)
    inputs = inputs_for(name, batch, np.random.default_rng(batch))
    expected = run_onnxruntime(model, inputs)["output"]
    actual = mpc_run(model, inputs)["output"]
    assert actual.shape == expected.shape
    # Relative to each element where it is not tiny, else to the output's
    # scale (logits pass through zero).
    np.testing.assert_allclose(actual, expected, rtol=1e-5,
                               atol=1e-6 * float(np.max(np.abs(expected))))


@pytest.mark.parametrize("name", ["torch_mlp", "torch_cnn", "torch_encoder"])
@pytest.mark.parametrize("precision,tolerance", [("bf16", 3e-2), ("fp16", 5e-3)])
def test_low_precision_is_close_to_fp32(mpc_run, name, precision, tolerance):
    model = load(name)
    inputs = inputs_for(name, 4, np.random.default_rng(0))
    reference = mpc_run(model, inputs, "fp32")["output"]
    low = mpc_run(model, inputs, precision)["output"]
    assert low.dtype == np.float32
    assert normalized_error(low, reference) <= tolerance
    assert np.any(low != reference)
