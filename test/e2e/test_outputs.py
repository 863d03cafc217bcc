"""Graph outputs that alias each other or an input still each get their data."""
import numpy as np
from onnx import TensorProto, helper

from mpc_e2e import run_onnxruntime


def test_outputs_sharing_one_tensor(mpc_run):
    # y1 and y2 are the same tensor (Identity imports as no op), z is the input.
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"], name="relu"),
         helper.make_node("Identity", ["r"], ["y1"], name="id1"),
         helper.make_node("Identity", ["r"], ["y2"], name="id2"),
         helper.make_node("Identity", ["x"], ["z"], name="id3")],
        "aliases", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3]) for n in ("y1", "y2", "z")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    ref = run_onnxruntime(model, {"x": x})
    out = mpc_run(model, {"x": x})
    for name in ("y1", "y2", "z"):
        np.testing.assert_array_equal(out[name], ref[name])
