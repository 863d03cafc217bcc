"""The mpc Python package drives the built tools end to end."""
import pathlib

import numpy as np
import onnxruntime as ort
import pytest

import sys
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import mpc  # noqa: E402

MODELS = pathlib.Path(__file__).resolve().parents[2] / "test" / "Inputs" / "models"
MLP = MODELS / "torch_mlp.onnx"


def test_compile_mlir_puts_matmuls_in_bf16():
    text = mpc.compile_mlir(MLP, precision="bf16", batch=4)
    assert "mpc.matmul" in text
    assert "xbf16" in text
    # softmax stays f32 under the bf16 policy.
    softmax = [l for l in text.splitlines() if "mpc.softmax" in l]
    assert softmax and all("f32" in l and "bf16" not in l for l in softmax)


def test_precision_report_lists_ops_and_reasons():
    report = mpc.precision_report(MLP, precision="bf16", batch=4)
    assert "mpc.matmul" in report and "bf16" in report
    assert "mpc.softmax" in report


def test_run_matches_onnxruntime_in_fp32():
    x = np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32)
    ref = ort.InferenceSession(str(MLP), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    out = mpc.run(MLP, {"x": x}, precision="fp32")
    np.testing.assert_allclose(out["output"], ref, rtol=1e-5, atol=1e-6)


def test_bad_policy_is_a_clear_error():
    with pytest.raises(ValueError, match="fp32, fp16, bf16"):
        mpc.compile_mlir(MLP, precision="fp64")


def test_tool_failure_raises_with_diagnostics(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a protobuf at all")
    with pytest.raises(mpc.MpcError, match="bad.onnx"):
        mpc.import_onnx(bad)


def test_policy_file_and_strategy_are_passed_through(tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text('{"rules": [{"op": "mpc.matmul", "precision": "fp32"}]}')
    text = mpc.compile_mlir(MLP, precision="bf16", batch=4, strategy="greedy", policy_file=policy)
    matmuls = [l for l in text.splitlines() if "mpc.matmul" in l]
    assert matmuls and all("bf16" not in l for l in matmuls)
    with pytest.raises(ValueError, match="mincut or greedy"):
        mpc.compile_mlir(MLP, strategy="best")


def test_json_report_and_input_ranges():
    import json
    report = json.loads(mpc.precision_report(MLP, precision="fp16", batch=4, format="json",
                                             input_ranges={"x": (-1.0, 1.0)}))
    assert report["schema_version"] == 1
    ops = {op["op"] for op in report["ops"]}
    assert "mpc.matmul" in ops


def test_run_with_policy_file_matches_fp32(tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text('{"rules": [{"match": "*", "precision": "fp32"}]}')
    x = np.random.default_rng(2).standard_normal((4, 16)).astype(np.float32)
    forced = mpc.run(MLP, {"x": x}, precision="bf16", policy_file=policy)
    fp32 = mpc.run(MLP, {"x": x}, precision="fp32")
    np.testing.assert_array_equal(forced["output"], fp32["output"])


def test_compile_trainer_and_train(tmp_path):
    train_inputs = pathlib.Path(__file__).resolve().parents[2] / "test" / "Inputs" / "train"
    trainer = mpc.compile_trainer(train_inputs / "mlp.onnx", tmp_path / "trainer", batch=32,
                                  optimizer="sgd", lr=0.1, momentum=0.9, precision="bf16")
    x = np.load(train_inputs / "mlp_x.npy")
    log = mpc.train(trainer, {"x": x, "label": train_inputs / "mlp_label.npy"}, steps=40,
                    shuffle=False, save=tmp_path / "trained.onnx")
    losses = [entry["loss"] for entry in log if "loss" in entry]
    assert len(losses) == 40 and np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    session = ort.InferenceSession(str(tmp_path / "trained.onnx"), providers=["CPUExecutionProvider"])
    assert session.run(None, {"x": x[:4]})[0].shape == (4, 4)


def test_compile_trainer_reports_errors(tmp_path):
    with pytest.raises(mpc.MpcError, match="mpc-compile"):
        mpc.compile_trainer(MLP, tmp_path / "t", batch=4, optimizer="nope")


def test_compile_runner_and_infer(tmp_path):
    x = np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32)
    ref = ort.InferenceSession(str(MLP), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    embedded = mpc.compile_runner(MLP, tmp_path / "runner", batch=4)
    np.testing.assert_allclose(mpc.infer(embedded, {"x": x})["output"], ref, rtol=1e-5, atol=1e-6)
    external = mpc.compile_runner(MLP, tmp_path / "runner_ext", batch=4, weights="external")
    np.testing.assert_array_equal(mpc.infer(external, {"x": x}, weights=MLP)["output"],
                                  mpc.infer(embedded, {"x": x})["output"])
    with pytest.raises(mpc.MpcError, match="--weights external"):
        mpc.infer(external, {"x": x})


def test_runner_takes_a_trainer_checkpoint(tmp_path):
    """Train, checkpoint (safetensors with optimizer state), run the
    checkpoint's weights: the same outputs as onnxruntime on the --save model."""
    train_inputs = pathlib.Path(__file__).resolve().parents[2] / "test" / "Inputs" / "train"
    trainer = mpc.compile_trainer(train_inputs / "mlp.onnx", tmp_path / "trainer", batch=32,
                                  optimizer="sgd", lr=0.1, momentum=0.9)
    x = np.load(train_inputs / "mlp_x.npy")
    mpc.train(trainer, {"x": x, "label": train_inputs / "mlp_label.npy"}, steps=10, shuffle=False,
              save=tmp_path / "trained.onnx", checkpoint=tmp_path / "ckpt.safetensors")
    runner = mpc.compile_runner(train_inputs / "mlp.onnx", tmp_path / "runner", batch=32, weights="external")
    got = mpc.infer(runner, {"x": x[:32]}, weights=tmp_path / "ckpt.safetensors")
    session = ort.InferenceSession(str(tmp_path / "trained.onnx"), providers=["CPUExecutionProvider"])
    name = session.get_outputs()[0].name
    np.testing.assert_allclose(got[name], session.run(None, {"x": x[:32]})[0], rtol=1e-5, atol=1e-5)


def _reshape_model(path):
    """y = MatMul(Reshape(x, shape), w): `shape`, a graph input, decides
    the MatMul's input shape, so compiling needs its value."""
    from onnx import TensorProto, helper, numpy_helper, save
    w = np.random.default_rng(2).standard_normal((6, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["r"]), helper.make_node("MatMul", ["r", "w"], ["y"])],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 2, 3]),
              helper.make_tensor_value_info("shape", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3])], [numpy_helper.from_array(w, "w")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return w


def test_compile_runner_and_trainer_take_input_values(tmp_path):
    model = tmp_path / "reshape.onnx"
    w = _reshape_model(model)
    shape = np.array([4, 6], np.int64)
    x = np.random.default_rng(3).standard_normal((4, 2, 3)).astype(np.float32)
    runner = mpc.compile_runner(model, tmp_path / "runner", input_values={"shape": shape})
    np.testing.assert_allclose(mpc.infer(runner, {"x": x})["y"], x.reshape(4, 6) @ w, rtol=1e-5, atol=1e-6)
    with pytest.raises(mpc.MpcError, match="--onnx-input-value shape="):
        mpc.compile_runner(model, tmp_path / "runner2")
    # A .npy path works as well as an array.
    np.save(tmp_path / "shape.npy", shape)
    trainer = mpc.compile_trainer(model, tmp_path / "trainer", batch=4, loss="mse", label="t",
                                  input_values={"shape": tmp_path / "shape.npy"})
    log = mpc.train(trainer, {"x": x, "t": np.zeros((4, 3), np.float32)}, steps=3, shuffle=False)
    assert len(log) == 3 and log[-1]["loss"] < log[0]["loss"]


def test_relative_executable_is_not_looked_up_on_path(tmp_path, monkeypatch):
    # A runner named like a system tool, given relative to the working
    # directory, must run itself, not /usr/bin/tr.
    monkeypatch.chdir(tmp_path)
    x = np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32)
    runner = mpc.compile_runner(MLP, "tr", batch=4)
    assert str(runner) == "tr"
    assert mpc.infer(runner, {"x": x})["output"].shape[0] == 4
