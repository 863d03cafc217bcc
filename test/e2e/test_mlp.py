"""An MLP (Gemm+Relu+Gemm+Softmax and MatMul+Add forms) end to end:
fp32 matches onnxruntime; bf16 and fp16 are close to fp32 but really
computed in low precision (not bit-identical)."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import max_relative_error, normalized_error, run_onnxruntime

# bf16 keeps 8 significant bits (unit roundoff u = 2^-9 ~ 2e-3) and fp16 11
# (u = 2^-11 ~ 4.9e-4). Each GEMM rounds its inputs and its output once (with
# f32 accumulation), the hidden activations are stored rounded, and softmax
# amplifies logit errors by at most the logits' spread: a handful of u. The
# bounds below are ~8-10u, relative to the output's scale.
BF16_TOLERANCE = 2e-2
FP16_TOLERANCE = 5e-3


def gemm_mlp(rng, features=16, hidden=32, classes=10):
    w1 = rng.standard_normal((hidden, features)).astype(np.float32) * 0.3
    b1 = rng.standard_normal(hidden).astype(np.float32) * 0.1
    w2 = rng.standard_normal((hidden, classes)).astype(np.float32) * 0.3
    b2 = rng.standard_normal(classes).astype(np.float32) * 0.1
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="act"),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["logits"], name="fc2"),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", features])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", classes])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def matmul_mlp(rng, features=24, hidden=48, classes=8):
    w1 = rng.standard_normal((features, hidden)).astype(np.float32) * 0.3
    b1 = rng.standard_normal(hidden).astype(np.float32) * 0.1
    w2 = rng.standard_normal((hidden, classes)).astype(np.float32) * 0.3
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"], name="mm1"),
        helper.make_node("Add", ["m1", "b1"], ["h"], name="bias1"),
        helper.make_node("Relu", ["h"], ["r"], name="act"),
        helper.make_node("MatMul", ["r", "w2"], ["logits"], name="mm2"),
    ]
    graph = helper.make_graph(
        nodes, "mlp2",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", features])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(w2, "w2")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("build", [gemm_mlp, matmul_mlp])
@pytest.mark.parametrize("batch", [1, 5])
def test_fp32_matches_onnxruntime(mpc_run, build, batch):
    rng = np.random.default_rng(batch)
    model = build(rng)
    x = rng.standard_normal((batch, model.graph.input[0].type.tensor_type.shape.dim[1].dim_value))
    inputs = {"x": x.astype(np.float32)}
    name = model.graph.output[0].name
    expected = run_onnxruntime(model, inputs)[name]
    actual = mpc_run(model, inputs)[name]
    assert actual.dtype == np.float32 and actual.shape == expected.shape
    assert max_relative_error(actual, expected) <= 1e-5


@pytest.mark.parametrize("build", [gemm_mlp, matmul_mlp])
@pytest.mark.parametrize("precision,tolerance", [("bf16", BF16_TOLERANCE), ("fp16", FP16_TOLERANCE)])
def test_low_precision_is_close_but_not_fp32(mpc_run, build, precision, tolerance):
    rng = np.random.default_rng(7)
    model = build(rng)
    features = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    inputs = {"x": rng.standard_normal((6, features)).astype(np.float32)}
    name = model.graph.output[0].name
    reference = mpc_run(model, inputs, "fp32")[name]
    low = mpc_run(model, inputs, precision)[name]
    # Outputs keep the graph's declared type: the casts back to f32 happen at
    # the function boundary.
    assert low.dtype == np.float32
    error = normalized_error(low, reference)
    assert error <= tolerance, f"{precision} error {error:.3g} exceeds {tolerance}"
    assert np.any(low != reference), f"{precision} results are bit-identical to fp32"
