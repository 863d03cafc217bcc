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


def conv_batch_norm_graph(rng):
    """Conv (with bias) -> BN; grouped Conv (no bias) -> BN, both folded by
    mpc-fold-batch-norm; a Conv also read by an Add -> BN, which must not be."""
    def init(name, value):
        return onnx.numpy_helper.from_array(np.asarray(value, np.float32), name)

    def bn_params(prefix, channels):
        return [init(f"{prefix}.s", rng.uniform(0.5, 1.5, channels)),
                init(f"{prefix}.b", rng.uniform(-0.5, 0.5, channels)),
                init(f"{prefix}.m", rng.uniform(-0.5, 0.5, channels)),
                init(f"{prefix}.v", rng.uniform(0.2, 2.0, channels))]

    def bn(prefix, x, y):
        return onnx.helper.make_node("BatchNormalization", [x] + [f"{prefix}.{p}" for p in "sbmv"],
                                     [y], epsilon=1e-3)

    h = onnx.helper
    nodes = [
        h.make_node("Conv", ["x", "w1", "c1"], ["a"], pads=[1, 1, 1, 1]), bn("bn1", "a", "a_bn"),
        h.make_node("Conv", ["a_bn", "w2"], ["g"], group=2), bn("bn2", "g", "g_bn"),
        h.make_node("Conv", ["g_bn", "w3"], ["k"]), bn("bn3", "k", "k_bn"),
        h.make_node("Add", ["k_bn", "k"], ["output"]),
    ]
    inits = [init("w1", rng.standard_normal((4, 3, 3, 3))), init("c1", rng.standard_normal(4)),
             init("w2", rng.standard_normal((4, 2, 1, 1))), init("w3", rng.standard_normal((4, 4, 1, 1)))]
    inits += bn_params("bn1", 4) + bn_params("bn2", 4) + bn_params("bn3", 4)
    graph = h.make_graph(nodes, "conv_bn", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                                     ["N", 3, 8, 8])],
                         [h.make_tensor_value_info("output", onnx.TensorProto.FLOAT, None)], inits)
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 15)])


def test_folded_batch_norms_match_onnxruntime(mpc_run):
    rng = np.random.default_rng(7)
    model = conv_batch_norm_graph(rng)
    inputs = {"x": rng.standard_normal((2, 3, 8, 8)).astype(np.float32)}
    expected = run_onnxruntime(model, inputs)["output"]
    actual = mpc_run(model, inputs)["output"]
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6 * float(np.max(np.abs(expected))))
