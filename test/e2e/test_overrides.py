"""Policy-file overrides are obeyed end to end: what they force to f32 computes
exactly as the fp32 program does."""
import json

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def _model():
    rng = np.random.default_rng(3)
    w1 = numpy_helper.from_array(rng.standard_normal((32, 32)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((32, 8)).astype(np.float32), "w2")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"], name="block1/matmul"),
         helper.make_node("Relu", ["h"], ["r"], name="block1/relu"),
         helper.make_node("MatMul", ["r", "w2"], ["y"], name="head/matmul")],
        "overrides", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8])], [w1, w2])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(mpc_run, model, x, precision, policy=None, tmp_path=None):
    extra = ()
    if policy is not None:
        path = tmp_path / "policy.json"
        path.write_text(json.dumps(policy))
        extra = ("--policy-file", str(path))
    proc, out = mpc_run.invoke(model, {"x": x}, precision, extra_args=extra)
    assert proc.returncode == 0, proc.stderr
    return np.load(out / "y.npy")


def test_override_forcing_everything_to_f32_matches_fp32(mpc_run, tmp_path):
    model = _model()
    x = np.random.default_rng(4).standard_normal((4, 32)).astype(np.float32)
    fp32 = _run(mpc_run, model, x, "fp32")
    low = _run(mpc_run, model, x, "bf16")
    assert not np.array_equal(low, fp32)  # bf16 really changes the result
    forced = _run(mpc_run, model, x, "bf16", {"rules": [{"match": "*", "precision": "fp32"}]}, tmp_path)
    np.testing.assert_array_equal(forced, fp32)


def test_override_of_one_block_changes_only_that_block(mpc_run, tmp_path):
    model = _model()
    x = np.random.default_rng(5).standard_normal((4, 32)).astype(np.float32)
    low = _run(mpc_run, model, x, "bf16")
    fp32 = _run(mpc_run, model, x, "fp32")
    partly = _run(mpc_run, model, x, "bf16", {"rules": [{"match": "block1/*", "precision": "fp32"}]}, tmp_path)
    # The head still runs in bf16, so the result is neither program's.
    assert not np.array_equal(partly, low) and not np.array_equal(partly, fp32)
    assert np.abs(partly - fp32).max() <= np.abs(low - fp32).max()


def test_unmatched_override_is_an_error(mpc_run, tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"rules": [{"match": "no/such/node*", "precision": "fp32"}]}))
    x = np.zeros((4, 32), np.float32)
    proc, _ = mpc_run.invoke(_model(), {"x": x}, "bf16", extra_args=("--policy-file", str(path)))
    assert proc.returncode != 0
    assert "no/such/node*" in proc.stderr and "rule" in proc.stderr
