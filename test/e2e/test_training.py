"""End-to-end training on the CPU: mpc-compile builds a standalone trainer, the
trainer trains on bundled data, and the results are checked against PyTorch's
runs of the same models on the same batches (test/Inputs/train/refs.json), a
hand-computed numpy step, and the loss-scaling and resume guarantees."""
import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mpc_train import (MPC_COMPILE, REFS, TRAIN_INPUTS, compile_trainer, onnx_accuracy,
                       read_safetensors, run_trainer, step_losses)

BATCH = REFS["batch"]
STEPS = REFS["steps"]


@pytest.fixture(autouse=True)
def needs_compiler():
    if not MPC_COMPILE.exists():
        pytest.skip(f"{MPC_COMPILE} not built (set MPC_BUILD_DIR)")


def data_of(name, input_name, prefix=""):
    return {input_name: TRAIN_INPUTS / f"{name}_{prefix}{input_name}.npy",
            "label": TRAIN_INPUTS / f"{name}_{prefix}label.npy"}


MODELS = {
    # name: (input name, optimizer flags per optimizer)
    "mlp": ("x", {"sgd": ["--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9"],
                  "adamw": ["--optimizer", "adamw", "--lr", "0.01", "--weight-decay", "0.01"]}),
    "cnn": ("x", {"sgd": ["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9",
                          "--weight-decay", "1e-4"]}),
    "encoder": ("ids", {"adamw": ["--optimizer", "adamw", "--lr", "0.003", "--weight-decay", "0.01"]}),
}


def train(tmp_path, name, optimizer, precision, *extra_compile, steps=STEPS, extra_run=()):
    input_name, flags = MODELS[name]
    trainer = tmp_path / f"{name}-{optimizer}-{precision}"
    compile_trainer(TRAIN_INPUTS / f"{name}.onnx", trainer, "--loss", "cross_entropy", "--label", "label",
                    *flags[optimizer], "--precision", precision, "--batch", BATCH, *extra_compile)
    saved = tmp_path / f"{name}-{optimizer}-{precision}.onnx"
    proc, log = run_trainer(trainer, data_of(name, input_name), "--steps", steps, "--no-shuffle",
                            "--save", saved, *extra_run, log=tmp_path / f"{name}-{precision}.jsonl")
    return trainer, proc, log, saved


@pytest.mark.parametrize("name,optimizer", [("mlp", "sgd"), ("mlp", "adamw"), ("cnn", "sgd"),
                                            ("encoder", "adamw")])
def test_fp32_loss_curve_matches_pytorch(tmp_path, name, optimizer):
    """Same initial weights, same batches in file order: every step's loss
    within 1e-3 relative of PyTorch's (the issue's acceptance for the MLP)."""
    ref = REFS[name][optimizer]
    _, proc, log, saved = train(tmp_path, name, optimizer, "fp32")
    losses = np.array(step_losses(log))
    expected = np.array(ref["losses"])
    assert losses.shape == expected.shape, proc.stdout
    rel = np.abs(losses - expected) / np.abs(expected)
    assert rel.max() <= 1e-3, f"worst step {rel.argmax()}: {losses[rel.argmax()]} vs {expected[rel.argmax()]}"
    assert losses[-10:].mean() < 0.5 * losses[:3].mean()
    input_name = MODELS[name][0]
    x = np.load(TRAIN_INPUTS / f"{name}_eval_{input_name}.npy")
    y = np.load(TRAIN_INPUTS / f"{name}_eval_label.npy")
    assert abs(onnx_accuracy(saved, x, y, input_name) - ref["eval_accuracy"]) <= 0.02
    if "running_stats" in ref:
        saved_model = onnx.load(str(saved))
        inits = {t.name: onnx.numpy_helper.to_array(t) for t in saved_model.graph.initializer}
        for stat, values in ref["running_stats"].items():
            np.testing.assert_allclose(inits[stat], np.array(values, np.float32), rtol=2e-3, atol=1e-4,
                                       err_msg=stat)


CURVES = json.loads((TRAIN_INPUTS / "curves.json").read_text())


def optimizer_flags(optimizer):
    settings = CURVES["optimizers"][optimizer]
    flags = ["--optimizer", optimizer, "--lr", settings["lr"], "--weight-decay", settings["weight_decay"]]
    return flags + (["--momentum", settings["momentum"]] if "momentum" in settings else [])


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
@pytest.mark.parametrize("name", ["mlp", "cnn", "encoder"])
def test_fp32_steps_match_pytorch(tmp_path, name, optimizer):
    """The first 20 steps of each bundled model, SGD and AdamW, within 1e-5
    relative of PyTorch's fp32 losses (curves.json, made by make_curve_refs.py
    from the same initial weights and batches); PyTorch's own fp32 and fp64
    runs agree to 1.2e-7..4.6e-7 there."""
    input_name = MODELS[name][0]
    trainer = tmp_path / "trainer"
    compile_trainer(TRAIN_INPUTS / f"{name}.onnx", trainer, "--loss", "cross_entropy", "--label", "label",
                    *optimizer_flags(optimizer), "--precision", "fp32", "--batch", CURVES["batch"])
    _, log = run_trainer(trainer, data_of(name, input_name), "--steps", CURVES["steps"], "--no-shuffle",
                         log=tmp_path / "log.jsonl")
    losses = np.array(step_losses(log))
    expected = np.array(CURVES[name][optimizer]["fp32"])
    assert losses.shape == expected.shape
    rel = np.abs(losses - expected) / np.abs(expected)
    assert rel.max() <= 1e-5, f"worst step {rel.argmax()}: {losses[rel.argmax()]} vs {expected[rel.argmax()]}"


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
@pytest.mark.parametrize("name,optimizer", [("mlp", "sgd"), ("cnn", "sgd"), ("encoder", "adamw")])
def test_low_precision_training(tmp_path, name, optimizer, precision):
    """bf16/fp16 follow the fp32 curve within a few percent (averaged over
    10-step windows) and end within 2 points of PyTorch fp32's accuracy."""
    ref = REFS[name][optimizer]
    _, proc, log, saved = train(tmp_path, name, optimizer, precision)
    losses = np.array(step_losses(log))
    expected = np.array(ref["losses"])
    windows = losses.reshape(-1, 10).mean(1)
    expected_windows = expected.reshape(-1, 10).mean(1)
    rel = np.abs(windows - expected_windows) / expected_windows
    assert rel.max() <= 0.1, f"{precision} windows {windows} vs fp32 {expected_windows}"
    assert not any(e.get("skipped", 0) for e in log[-1:]) or precision == "fp16"
    input_name = MODELS[name][0]
    x = np.load(TRAIN_INPUTS / f"{name}_eval_{input_name}.npy")
    y = np.load(TRAIN_INPUTS / f"{name}_eval_label.npy")
    assert onnx_accuracy(saved, x, y, input_name) >= ref["eval_accuracy"] - 0.02


def mlp_forward_backward(x, labels, w1, b1, w2, b2):
    """Loss and gradients of fc2(relu(fc1(x))) with mean cross-entropy (numpy, f64)."""
    h_pre = x @ w1.T + b1
    h = np.maximum(h_pre, 0)
    logits = h @ w2.T + b2
    shifted = logits - logits.max(1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True)
    n = x.shape[0]
    loss = -np.log(p[np.arange(n), labels]).mean()
    d_logits = p.copy()
    d_logits[np.arange(n), labels] -= 1
    d_logits /= n
    g_w2 = d_logits.T @ h
    g_b2 = d_logits.sum(0)
    d_h = d_logits @ w2 * (h_pre > 0)
    return loss, {"fc1.weight": d_h.T @ x, "fc1.bias": d_h.sum(0), "fc2.weight": g_w2, "fc2.bias": g_b2}


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_one_step_equals_numpy(tmp_path, optimizer):
    """Two steps of SGD (momentum, weight decay) / AdamW on the MLP equal a
    hand-computed numpy reference (PyTorch's update formulas)."""
    model = onnx.load(str(TRAIN_INPUTS / "mlp.onnx"))
    params = {t.name: onnx.numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    x = np.load(TRAIN_INPUTS / "mlp_x.npy")
    labels = np.load(TRAIN_INPUTS / "mlp_label.npy")
    lr, wd = 0.05, 0.01
    if optimizer == "sgd":
        flags = ["--optimizer", "sgd", "--lr", lr, "--momentum", 0.9, "--weight-decay", wd]
    else:
        flags = ["--optimizer", "adamw", "--lr", lr, "--weight-decay", wd, "--betas", "0.8,0.95",
                 "--eps", "1e-6"]
    trainer = tmp_path / "trainer"
    compile_trainer(TRAIN_INPUTS / "mlp.onnx", trainer, "--loss", "cross_entropy", "--label", "label",
                    *flags, "--precision", "fp32", "--batch", BATCH)
    ckpt = tmp_path / "state.safetensors"
    _, log = run_trainer(trainer, {"x": TRAIN_INPUTS / "mlp_x.npy", "label": TRAIN_INPUTS / "mlp_label.npy"},
                         "--steps", 2, "--no-shuffle", "--checkpoint", ckpt, log=tmp_path / "log.jsonl")

    state = {k: v.copy() for k, v in params.items()}
    moments = {k: [np.zeros_like(v), np.zeros_like(v)] for k, v in params.items()}
    expected_losses = []
    for step in range(2):
        rows = slice(step * BATCH, (step + 1) * BATCH)
        loss, grads = mlp_forward_backward(x[rows].astype(np.float64), labels[rows], state["fc1.weight"],
                                           state["fc1.bias"], state["fc2.weight"], state["fc2.bias"])
        expected_losses.append(loss)
        for k in state:
            g = grads[k]
            if optimizer == "sgd":
                g = g + wd * state[k]
                buf = g if step == 0 else 0.9 * moments[k][0] + g
                moments[k][0] = buf
                state[k] = state[k] - lr * buf
            else:
                t = step + 1
                state[k] = state[k] * (1 - lr * wd)
                m = 0.8 * moments[k][0] + 0.2 * g
                v = 0.95 * moments[k][1] + 0.05 * g * g
                moments[k] = [m, v]
                state[k] = state[k] - lr * (m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.95 ** t)) + 1e-6)
    np.testing.assert_allclose(step_losses(log), expected_losses, rtol=1e-5)
    saved = read_safetensors(ckpt)
    for k, v in state.items():
        np.testing.assert_allclose(saved[k], v, rtol=1e-4, atol=1e-6, err_msg=k)


def underflow_model(path):
    """y = (relu(x @ W1) @ W2) * 1e-4, regressed with MSE onto targets of the
    same scale. dL/dy ~ 1e-6 is still an fp16 subnormal, but times the 1e-4
    it is ~1e-10, far below half the smallest fp16 subnormal (6e-8): every
    gradient flushes to exactly zero unless the loss is scaled."""
    rng = np.random.default_rng(3)
    w1 = rng.normal(0, 0.3, (16, 32)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (32, 8)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W1"], ["h"], name="fc1"),
         helper.make_node("Relu", ["h"], ["r"], name="relu"),
         helper.make_node("MatMul", ["r", "W2"], ["z"], name="fc2"),
         helper.make_node("Constant", [], ["c"], name="c",
                          value=helper.make_tensor("c", TensorProto.FLOAT, [], [1e-4])),
         helper.make_node("Mul", ["z", "c"], ["y"], name="scale")],
        "underflow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8])],
        [onnx.numpy_helper.from_array(w1, "W1"), onnx.numpy_helper.from_array(w2, "W2")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    x = rng.normal(0, 1, (512, 16)).astype(np.float32)
    teacher = np.maximum(x @ rng.normal(0, 0.3, (16, 32)), 0) @ rng.normal(0, 0.3, (32, 8))
    return x, (teacher * 1e-4).astype(np.float32)


@pytest.mark.parametrize("scaling", ["dynamic", "none"])
def test_fp16_underflow_needs_loss_scaling(tmp_path, scaling):
    model = tmp_path / "underflow.onnx"
    x, target = underflow_model(model)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", target)
    trainer = tmp_path / "trainer"
    compile_trainer(model, trainer, "--loss", "mse", "--label", "target", "--optimizer", "adamw",
                    "--lr", "0.01", "--weight-decay", "0", "--eps", "1e-12", "--precision", "fp16",
                    "--loss-scale", scaling, "--batch", 32)
    _, log = run_trainer(trainer, {"x": tmp_path / "x.npy", "target": tmp_path / "y.npy"},
                         "--steps", 100, "--no-shuffle", log=tmp_path / "log.jsonl")
    losses = np.array(step_losses(log))
    ratio = losses[-16:].mean() / losses[:16].mean()
    if scaling == "dynamic":
        assert ratio < 0.3, f"dynamic loss scaling should train: ratio {ratio}"
    else:
        assert ratio > 0.95, f"without scaling fp16 gradients should underflow: ratio {ratio}"


def test_nonfinite_batch_is_skipped(tmp_path):
    """An inf in one batch: reported at start-up, that step skipped (counted in
    the log), weights and optimizer state untouched; for every loss-scaling
    mode."""
    x = np.load(TRAIN_INPUTS / "mlp_x.npy")[:64].copy()
    labels = np.load(TRAIN_INPUTS / "mlp_label.npy")[:64]
    x[BATCH + 3, 5] = np.inf
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "label.npy", labels)
    for scaling in ["dynamic", "none"]:
        trainer = tmp_path / f"trainer-{scaling}"
        compile_trainer(TRAIN_INPUTS / "mlp.onnx", trainer, "--loss", "cross_entropy", "--optimizer", "adamw",
                        "--precision", "fp16", "--loss-scale", scaling, "--batch", BATCH)
        one = tmp_path / f"one-{scaling}.safetensors"
        two = tmp_path / f"two-{scaling}.safetensors"
        data = {"x": tmp_path / "x.npy", "label": tmp_path / "label.npy"}
        run_trainer(trainer, data, "--steps", 1, "--no-shuffle", "--checkpoint", one)
        proc, log = run_trainer(trainer, data, "--steps", 2, "--no-shuffle", "--checkpoint", two,
                                log=tmp_path / f"log-{scaling}.jsonl")
        report = (proc.stdout + proc.stderr).lower()
        assert "non-finite" in report and str(BATCH + 3) in report, report
        assert log[-1]["skipped"] == 1 and log[0]["skipped"] == 0
        before, after = read_safetensors(one), read_safetensors(two)
        for name in before:
            if name.startswith("loss_scale"):
                continue
            np.testing.assert_array_equal(before[name], after[name], err_msg=f"{scaling}: {name} changed")
        if scaling == "dynamic":
            assert after["loss_scale"] == 0.5 * before["loss_scale"]


def test_resume_is_bit_identical(tmp_path):
    trainer = tmp_path / "trainer"
    compile_trainer(TRAIN_INPUTS / "cnn.onnx", trainer, "--loss", "cross_entropy", "--optimizer", "sgd",
                    "--lr", "0.05", "--momentum", "0.9", "--precision", "bf16", "--batch", BATCH)
    data = data_of("cnn", "x")
    full, half, rest = (tmp_path / f"{n}.safetensors" for n in ["full", "half", "rest"])
    _, log_full = run_trainer(trainer, data, "--steps", 12, "--seed", 7, "--checkpoint", full,
                              log=tmp_path / "full.jsonl")
    run_trainer(trainer, data, "--steps", 6, "--seed", 7, "--checkpoint", half, log=tmp_path / "half.jsonl")
    _, log_rest = run_trainer(trainer, data, "--steps", 12, "--seed", 7, "--resume", half,
                              "--checkpoint", rest, log=tmp_path / "rest.jsonl")
    assert [e["loss"] for e in log_full[6:]] == [e["loss"] for e in log_rest if e["step"] > 6][:6]
    a, b = read_safetensors(full), read_safetensors(rest)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_bad_data_is_rejected_before_training(tmp_path):
    trainer = tmp_path / "trainer"
    compile_trainer(TRAIN_INPUTS / "mlp.onnx", trainer, "--loss", "cross_entropy", "--optimizer", "sgd",
                    "--precision", "fp32", "--batch", BATCH)
    good_x, good_y = TRAIN_INPUTS / "mlp_x.npy", TRAIN_INPUTS / "mlp_label.npy"
    np.save(tmp_path / "x64.npy", np.load(good_x).astype(np.float64)[:, :15])
    np.save(tmp_path / "few.npy", np.load(good_x)[:5])
    np.save(tmp_path / "bad_label.npy", np.full(2048, 9, np.int64))
    cases = [
        ({"x": good_x}, "label"),                                          # missing label
        ({"x": good_x, "label": good_y, "z": good_x}, "z"),                # unknown name
        ({"x": tmp_path / "x64.npy", "label": good_y}, "x64.npy"),          # dtype / shape
        ({"x": tmp_path / "few.npy", "label": good_y}, "few.npy"),          # rows differ / too few
        ({"x": good_x, "label": tmp_path / "bad_label.npy"}, "bad_label.npy"),  # class id out of range
    ]
    for data, needle in cases:
        proc, _ = run_trainer(trainer, data, "--steps", 1, check=False)
        assert proc.returncode != 0, data
        message = proc.stdout + proc.stderr
        assert needle in message and "Traceback" not in message and "Assertion" not in message, message


def write_safetensors(path, tensors):
    """A safetensors file of f32 arrays, no metadata."""
    header, offset = {}, 0
    for name, array in tensors.items():
        assert array.dtype == np.float32, name
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + b"".join(a.tobytes() for a in tensors.values()))


def manifest_role(manifest, name):
    return next(a["role"] for a in manifest["train"]["args"] if a["name"] == name)


def test_external_weights(tmp_path):
    """mpc-compile --train --weights external: the parameters and buffers come from --weights (the
    model's .onnx or a safetensors file) and the run equals the embedded build's, byte for byte; the
    optimizer state starts as compiled; --resume needs no --weights; --manifest prints the manifest."""
    flags = ["--loss", "cross_entropy", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9",
             "--precision", "bf16", "--batch", BATCH]
    embedded, external = tmp_path / "embedded", tmp_path / "external"
    compile_trainer(TRAIN_INPUTS / "cnn.onnx", embedded, *flags)
    compile_trainer(TRAIN_INPUTS / "cnn.onnx", external, *flags, "--weights", "external")
    assert external.stat().st_size < embedded.stat().st_size
    data, model = data_of("cnn", "x"), TRAIN_INPUTS / "cnn.onnx"
    manifest = json.loads(run_trainer(external, {}, "--manifest")[0].stdout)
    roles = {a["name"]: (a["role"], a.get("external", False)) for a in manifest["train"]["args"]}
    assert manifest["weights"] == "external"
    assert {r for r, ext in roles.values() if ext} == {"param", "buffer"}, roles
    assert not any(ext for r, ext in roles.values() if r not in ("param", "buffer"))

    proc, _ = run_trainer(external, data, "--steps", 2, check=False, log=tmp_path / "none.jsonl")
    assert proc.returncode == 2 and proc.stderr.startswith(
        "error: this trainer was compiled with --weights external: pass --weights FILE"), proc.stderr
    assert not (tmp_path / "none.jsonl").exists()

    ref, out = tmp_path / "ref.safetensors", tmp_path / "ext.safetensors"
    run_trainer(embedded, data, "--steps", 6, "--seed", 3, "--checkpoint", ref, log=tmp_path / "ref.jsonl")
    run_trainer(external, data, "--steps", 6, "--seed", 3, "--weights", model, "--checkpoint", out,
                log=tmp_path / "ext.jsonl")
    assert (tmp_path / "ext.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()
    a, b = read_safetensors(ref), read_safetensors(out)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    # A checkpoint's parameters and buffers start a new run (an embedded build takes --weights too):
    # its momenta, not zero after 3 steps, are not taken: the run equals one from a file of the
    # parameters and buffers alone.
    three = tmp_path / "three.safetensors"
    run_trainer(embedded, data, "--steps", 3, "--seed", 3, "--checkpoint", three)
    state = read_safetensors(three)
    momenta = [n for n in state if manifest_role(manifest, n) == "opt"]
    assert momenta and all(np.any(state[n] != 0) for n in momenta)
    write_safetensors(tmp_path / "weights.safetensors",
                      {n: a for n, a in state.items() if manifest_role(manifest, n) in ("param", "buffer")})
    for source in [three, tmp_path / "weights.safetensors"]:
        run_trainer(external, data, "--steps", 3, "--seed", 3, "--weights", source,
                    "--checkpoint", source.with_suffix(".out"), log=source.with_suffix(".jsonl"))
    assert three.with_suffix(".jsonl").read_bytes() == (tmp_path / "weights.jsonl").read_bytes()
    assert three.with_suffix(".out").read_bytes() == (tmp_path / "weights.out").read_bytes()

    # --resume fills every state tensor; with --weights it is a usage error.
    run_trainer(external, data, "--steps", 8, "--resume", ref)
    proc, _ = run_trainer(external, data, "--steps", 8, "--resume", ref, "--weights", model, check=False)
    assert proc.returncode == 2 and "give --weights or --resume, not both" in proc.stderr
    # A file without the optimizer's state is fine; one without a parameter names it.
    partial = onnx.load(model)
    dropped = partial.graph.initializer[0].name
    del partial.graph.initializer[0]
    onnx.save(partial, tmp_path / "partial.onnx")
    proc, _ = run_trainer(external, data, "--steps", 1, "--weights", tmp_path / "partial.onnx", check=False)
    assert proc.returncode == 1 and f"has no tensor '{dropped}'" in proc.stderr, proc.stderr
