"""Matmuls large enough for mpc-tile-and-vectorize (>= 2^20 multiply-adds)
compute the same numbers as onnxruntime; low precision stays real there."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import normalized_error, run_onnxruntime


def _matmul_model(m, k, n, batch=None, seed=0):
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "w")
    shape = [m, k] if batch is None else [batch, m, k]
    out = [m, n] if batch is None else [batch, m, n]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "tiled",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out)], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), shape


# Sizes that divide the [8, 32, 64] tiles, that do not (odd and prime
# dims: the tiles shrink to divisors), and a batched matmul.
@pytest.mark.parametrize("m,k,n,batch", [(128, 128, 128, None), (96, 200, 136, None),
                                         (67, 131, 127, None), (64, 64, 96, 4)])
def test_tiled_matmul_matches_onnxruntime(mpc_run, m, k, n, batch):
    model, shape = _matmul_model(m, k, n, batch)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    ref = run_onnxruntime(model, {"x": x})["y"]
    fp32 = mpc_run(model, {"x": x}, "fp32")["y"]
    np.testing.assert_allclose(fp32, ref, rtol=1e-5, atol=1e-4)
    for precision, tol in (("bf16", 3e-2), ("fp16", 5e-3)):
        low = mpc_run(model, {"x": x}, precision)["y"]
        assert normalized_error(low, fp32) <= tol
        assert not np.array_equal(low, fp32)
