"""Matmuls tiled by mpc-tile-and-vectorize (>= 2^12 multiply-adds) compute
the same numbers as onnxruntime; low precision stays real there."""
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


# Sizes that divide the [8, 32, 8] tiles, that do not (odd and prime
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


def _batched_model(a_shape, b_shape, transpose_b):
    """Attention-style: both operands are graph inputs, B optionally read
    through a Transpose (scores = q @ k^T)."""
    nodes, b_name = [], "b"
    if transpose_b:
        perm = list(range(len(b_shape)))
        perm[-2], perm[-1] = perm[-1], perm[-2]
        nodes.append(helper.make_node("Transpose", ["b"], ["bt"], perm=perm))
        b_name = "bt"
        b_shape = b_shape[:-2] + [b_shape[-1], b_shape[-2]]
    out = a_shape[:-1] + [b_shape[-1]]
    if transpose_b:
        b_shape = b_shape[:-2] + [b_shape[-1], b_shape[-2]]
    nodes.append(helper.make_node("MatMul", ["a", b_name], ["y"]))
    graph = helper.make_graph(
        nodes, "small", [helper.make_tensor_value_info("a", TensorProto.FLOAT, a_shape),
                         helper.make_tensor_value_info("b", TensorProto.FLOAT, b_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), b_shape


# Small contractions (attention scores and attention x V of the test
# encoder and the BERT-style export; an odd-sized one whose rows, columns
# and reduction are no multiple of the tiles or of 8 lanes): tiled since
# min-macs went from 2^20 to 2^12, with the accumulators carried through
# the reduction loop in registers.
@pytest.mark.parametrize("a_shape,b_shape,transpose_b", [
    ([32, 4, 8, 8], [32, 4, 8, 8], True), ([32, 4, 8, 8], [32, 4, 8, 8], False),
    ([1, 4, 32, 32], [1, 4, 32, 32], True), ([3, 5, 7, 19], [3, 5, 19, 13], False),
    ([3, 5, 7, 19], [3, 5, 13, 19], True)])
def test_small_batched_matmul_matches_onnxruntime(mpc_run, a_shape, b_shape, transpose_b):
    model, b_shape = _batched_model(a_shape, b_shape, transpose_b)
    rng = np.random.default_rng(2)
    feeds = {"a": rng.standard_normal(a_shape).astype(np.float32),
             "b": rng.standard_normal(b_shape).astype(np.float32)}
    ref = run_onnxruntime(model, feeds)["y"]
    fp32 = mpc_run(model, feeds, "fp32")["y"]
    np.testing.assert_allclose(fp32, ref, rtol=1e-5, atol=1e-5)
    for precision, tol in (("bf16", 3e-2), ("fp16", 5e-3)):
        low = mpc_run(model, feeds, precision)["y"]
        assert normalized_error(low, fp32) <= tol
        assert not np.array_equal(low, fp32)
