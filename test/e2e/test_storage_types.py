"""Models stored in other types than f32 keep them: an f16 model's parameters
are read as f16 under every policy, and fp32 never narrows an f64 model."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import run_onnxruntime


def _model(dtype, onnx_type, op):
    w = numpy_helper.from_array(np.linspace(-1, 1, 4).astype(dtype), "w")
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["s"], name="add"),
         helper.make_node(op, ["s"], ["y"], name="op")],
        "storage", [helper.make_tensor_value_info("x", onnx_type, [3, 4])],
        [helper.make_tensor_value_info("y", onnx_type, [3, 4])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_f16_parameters_stay_f16(mpc_run, precision):
    model = _model(np.float16, TensorProto.FLOAT16, "Relu")
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float16)
    ref = run_onnxruntime(model, {"x": x})["y"]
    out = mpc_run(model, {"x": x}, precision)["y"]
    assert out.dtype == np.float16
    # One f16 add and an exact relu: under fp32/fp16 the result is the f16
    # rounding of the exact sum, as onnxruntime computes it; bf16 rounds more.
    tol = 0 if precision != "bf16" else 2.0 ** -7
    np.testing.assert_allclose(out.astype(np.float32), ref.astype(np.float32), rtol=tol, atol=tol)


def test_fp32_policy_keeps_f64(mpc_run):
    model = _model(np.float64, TensorProto.DOUBLE, "Exp")
    x = np.random.default_rng(1).standard_normal((3, 4))
    out = mpc_run(model, {"x": x}, "fp32")["y"]
    assert out.dtype == np.float64
    # f64 precision, far beyond what an f32 computation could reach.
    np.testing.assert_allclose(out, np.exp(x + np.linspace(-1, 1, 4)), rtol=1e-13)
