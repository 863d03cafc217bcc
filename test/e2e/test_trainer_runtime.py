"""The trainer runtime (lib/Trainer) driven through mpc-fake-trainer: the
runtime linked with a hand-written softmax-regression "compiled model"
(test/trainer/FakeModel.cpp; SGD lr 0.1 momentum 0.9, dynamic loss scaling).

Numerics are checked against a numpy re-implementation of the same training,
the saved model against onnxruntime.
"""
import json
import pathlib
import re
import struct
import subprocess

import numpy as np
import onnx
import pytest

from mpc_e2e import BUILD_DIR

TRAINER = BUILD_DIR / "bin" / "mpc-fake-trainer"
FAKE_MODEL = BUILD_DIR / "test" / "trainer" / "fake_model.onnx"
BATCH, FEATURES, CLASSES = 8, 4, 3
LOG_KEYS = ["step", "loss", "loss_scale", "skipped", "finite"]


@pytest.fixture
def trainer(tmp_path):
    if not TRAINER.exists():
        pytest.skip(f"{TRAINER} not built (set MPC_BUILD_DIR)")
    return Trainer(tmp_path)


class Trainer:
    def __init__(self, tmp_path):
        self.dir = tmp_path
        rng = np.random.default_rng(1)
        self.x = rng.standard_normal((64, FEATURES)).astype(np.float32)
        self.label = np.argmax(self.x @ rng.standard_normal((FEATURES, CLASSES)), axis=1).astype(np.int64)

    def save(self, name, array):
        path = self.dir / name
        np.save(path, array)
        return str(path)

    def data_args(self, x=None, label=None, flag="--data"):
        x = self.x if x is None else x
        label = self.label if label is None else label
        return [flag, f"x={self.save(flag[2:] + '_x.npy', x)}",
                flag, f"label={self.save(flag[2:] + '_label.npy', label)}"]

    def run(self, *args, data=True, expect_rc=0):
        argv = [str(TRAINER), *(self.data_args() if data else []), *map(str, args)]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert proc.returncode == expect_rc, f"rc {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def log(self, name):
        return [json.loads(line) for line in (self.dir / name).read_text().splitlines()]


def read_safetensors(path):
    data = pathlib_bytes(path)
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtypes[entry["dtype"]]).reshape(entry["shape"])
    return tensors, header.get("__metadata__", {})


def pathlib_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def initial_weights():
    model = onnx.load(str(FAKE_MODEL))
    return {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}


def reference_losses(x, label, steps):
    """The fake model's training in numpy float32, batches in file order."""
    weights = initial_weights()
    w, b = weights["W"].copy(), weights["b"].copy()
    mw, mb = np.zeros_like(w), np.zeros_like(b)
    losses = []
    per_epoch = len(x) // BATCH
    for step in range(steps):
        rows = slice((step % per_epoch) * BATCH, (step % per_epoch + 1) * BATCH)
        xb, lb = x[rows], label[rows]
        y = xb @ w + b
        shifted = y - y.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        losses.append(float(-logp[np.arange(BATCH), lb].mean()))
        d = np.exp(logp)
        d[np.arange(BATCH), lb] -= 1
        d /= BATCH
        mw = np.float32(0.9) * mw + xb.T @ d
        mb = np.float32(0.9) * mb + d.sum(axis=0)
        w, b = w - np.float32(0.1) * mw, b - np.float32(0.1) * mb
    return losses, w, b


def test_loss_falls_log_format_and_progress(trainer):
    proc = trainer.run("--epochs", 5, "--log", trainer.dir / "log.jsonl")
    log = trainer.log("log.jsonl")
    assert [entry["step"] for entry in log] == list(range(1, 41))
    for entry in log:
        assert list(entry) == LOG_KEYS
        assert entry["loss_scale"] == 65536 and entry["skipped"] == 0 and entry["finite"] is True
    assert np.mean([e["loss"] for e in log[-8:]]) < 0.5 * log[0]["loss"]
    lines = [l for l in proc.stdout.splitlines() if l.startswith("step ")]
    assert [l.split()[1] for l in lines] == ["10/40", "20/40", "30/40", "40/40"]
    assert re.fullmatch(r"step 40/40  loss [0-9.e+-]+  loss_scale 65536  skipped 0  samples/s [0-9.]+", lines[-1])
    loss = float(lines[-1].split()[3])
    assert loss == pytest.approx(log[-1]["loss"], rel=1e-5)


def test_no_shuffle_matches_numpy_reference(trainer):
    trainer.run("--no-shuffle", "--steps", 20, "--log", trainer.dir / "log.jsonl",
                "--checkpoint", trainer.dir / "ck.safetensors")
    losses, w, b = reference_losses(trainer.x, trainer.label, 20)
    np.testing.assert_allclose([e["loss"] for e in trainer.log("log.jsonl")], losses, rtol=1e-5)
    tensors, metadata = read_safetensors(trainer.dir / "ck.safetensors")
    np.testing.assert_allclose(tensors["W"], w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(tensors["b"], b, rtol=1e-4, atol=1e-6)
    assert metadata["step"] == "20" and metadata["shuffle"] == "false"
    assert not (trainer.dir / "ck.safetensors.tmp").exists()


def test_shuffle_depends_on_seed_only(trainer):
    def losses(*extra):
        name = "log%d.jsonl" % len(list(trainer.dir.glob("log*.jsonl")))
        trainer.run("--steps", 16, "--log", trainer.dir / name, *extra)
        return [e["loss"] for e in trainer.log(name)]

    in_order = losses("--no-shuffle")
    seed3, seed3_again, seed4 = losses("--seed", 3), losses("--seed", 3), losses("--seed", 4)
    assert seed3 == seed3_again
    assert seed3 != seed4 and seed3 != in_order
    # A shuffled epoch still visits every row once: the first epoch's mean
    # loss differs from file order, but the epochs differ from each other too.
    assert seed3[:8] != seed3[8:]


@pytest.mark.parametrize("poisoned", [False, True])
def test_resume_is_bit_identical(trainer, poisoned):
    x = trainer.x.copy()
    if poisoned:  # skipped steps and a backed-off loss scale carry over too
        x[[5, 50], 2] = np.nan
    data = trainer.data_args(x=x)
    trainer.run("--seed", 11, "--epochs", 2, "--log", trainer.dir / "full.jsonl",
                "--checkpoint", trainer.dir / "full.st", data=False, *data)
    trainer.run("--seed", 11, "--steps", 5, "--log", trainer.dir / "a.jsonl",
                "--checkpoint", trainer.dir / "half.st", data=False, *data)
    trainer.run("--epochs", 2, "--resume", trainer.dir / "half.st", "--log", trainer.dir / "b.jsonl",
                "--checkpoint", trainer.dir / "resumed.st", data=False, *data)
    full = (trainer.dir / "full.jsonl").read_text()
    assert (trainer.dir / "a.jsonl").read_text() + (trainer.dir / "b.jsonl").read_text() == full
    assert len(full.splitlines()) == 16
    assert json.loads(full.splitlines()[-1])["skipped"] == (4 if poisoned else 0)
    assert pathlib_bytes(trainer.dir / "resumed.st") == pathlib_bytes(trainer.dir / "full.st")


def every_nth(text, n, last):
    """The lines of an every-step log that --log-every n keeps."""
    return "".join(line + "\n" for line in text.splitlines()
                   if json.loads(line)["step"] % n == 0 or json.loads(line)["step"] == last)


@pytest.mark.parametrize("device", ["host", "host-copy"])
def test_log_every_keeps_every_nth_line(trainer, device, monkeypatch):
    x = trainer.x.copy()
    x[[5, 50], 2] = np.nan  # skipped steps between the lines still count
    data = trainer.data_args(x=x)
    trainer.run("--epochs", 2, "--log", trainer.dir / "all.jsonl", "--checkpoint", trainer.dir / "all.st",
                data=False, *data)
    if device != "host":
        monkeypatch.setenv("MPC_TEST_DEVICE", device)
    proc = trainer.run("--epochs", 2, "--log-every", 3, "--progress-every", 5, "--checkpoint-every", 4,
                       "--log", trainer.dir / "some.jsonl", "--checkpoint", trainer.dir / "some.st",
                       data=False, *data)
    assert (trainer.dir / "some.jsonl").read_text() == every_nth((trainer.dir / "all.jsonl").read_text(), 3, 16)
    assert pathlib_bytes(trainer.dir / "some.st") == pathlib_bytes(trainer.dir / "all.st")
    # Progress lines come from logged steps: the first of each 5-step interval, and the last.
    printed = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("step ")]
    assert printed == ["6/16", "12/16", "15/16", "16/16"]


def test_log_every_beyond_the_metrics_ring(trainer, monkeypatch):
    """More steps between lines than the device keeps metrics for (1024): the ring is read when
    full, and the skipped count stays exact."""
    x = trainer.x.copy()
    x[[5, 50], 2] = np.nan
    data = trainer.data_args(x=x)
    trainer.run("--steps", 2100, "--progress-every", 5000, "--log", trainer.dir / "all.jsonl", data=False, *data)
    monkeypatch.setenv("MPC_TEST_DEVICE", "host-copy")
    trainer.run("--steps", 2100, "--log-every", 1500, "--log", trainer.dir / "some.jsonl", data=False, *data)
    some = (trainer.dir / "some.jsonl").read_text()
    assert some == every_nth((trainer.dir / "all.jsonl").read_text(), 1500, 2100)
    assert len(some.splitlines()) == 2 and json.loads(some.splitlines()[0])["skipped"] > 0


def test_help_and_periodic_checkpoints(trainer):
    proc = trainer.run("--help", data=False)
    assert proc.stdout.startswith("usage: ") and "--checkpoint-every N" in proc.stdout
    # With periodic checkpoints the file still ends at the final state:
    # resuming from it trains nothing more.
    trainer.run("--steps", 7, "--checkpoint-every", 3, "--checkpoint", trainer.dir / "ck.st",
                "--log", trainer.dir / "a.jsonl")
    _, metadata = read_safetensors(trainer.dir / "ck.st")
    assert metadata["step"] == "7"
    assert not (trainer.dir / "ck.st.tmp").exists()
    proc = trainer.run("--steps", 7, "--resume", trainer.dir / "ck.st", "--log", trainer.dir / "b.jsonl")
    assert (trainer.dir / "b.jsonl").read_text() == ""
    proc = trainer.run("--steps", 7, "--checkpoint-every", 3, expect_rc=2)
    assert "--checkpoint-every needs --checkpoint FILE" in proc.stderr


def test_resume_errors(trainer):
    trainer.run("--seed", 11, "--steps", 5, "--checkpoint", trainer.dir / "ck.st")
    proc = trainer.run("--seed", 12, "--steps", 10, "--resume", trainer.dir / "ck.st", expect_rc=2)
    assert "--seed 12 differs from the seed 11" in proc.stderr
    proc = trainer.run("--no-shuffle", "--steps", 10, "--resume", trainer.dir / "ck.st", expect_rc=2)
    assert "was written without --no-shuffle" in proc.stderr
    proc = trainer.run("--steps", 3, "--resume", trainer.dir / "ck.st", expect_rc=2)
    assert "is at step 5, past the 3 steps" in proc.stderr
    data = bytearray(pathlib_bytes(trainer.dir / "ck.st"))
    (trainer.dir / "short.st").write_bytes(data[:40])
    proc = trainer.run("--steps", 10, "--resume", trainer.dir / "short.st", expect_rc=1)
    assert "short.st' is not a valid safetensors file" in proc.stderr
    # Another model's checkpoint: the same bytes with another state schema.
    schema = json.loads(read_safetensors(trainer.dir / "ck.st")[1]["state_schema"])
    assert schema["state"]["W"] == f"param f32 [{FEATURES},{CLASSES}]"
    other = dict(schema, state=dict(schema["state"], W=f"param f32 [{FEATURES},{CLASSES + 1}]"))
    with_metadata(trainer.dir / "ck.st", trainer.dir / "other.st", state_schema=json.dumps(other))
    proc = trainer.run("--steps", 10, "--resume", trainer.dir / "other.st", expect_rc=1)
    assert proc.stderr == (f"error: --resume '{trainer.dir / 'other.st'}': it does not fit this trainer: state "
                           f"tensor 'W' is param f32 [4,4] in the checkpoint, param f32 [4,3] in this trainer; "
                           f"resume with a trainer of the same model and training flags\n")
    # Another optimizer.
    adamw = dict(schema, optimizer={"betas": [0.9, 0.999], "eps": 1e-8, "lr": 0.1, "name": "adamw",
                                    "weight_decay": 0.01})
    with_metadata(trainer.dir / "ck.st", trainer.dir / "adamw.st", state_schema=json.dumps(adamw))
    proc = trainer.run("--steps", 10, "--resume", trainer.dir / "adamw.st", expect_rc=1)
    assert ('it does not fit this trainer: the checkpoint was written with optimizer {"betas":[0.9,0.999],'
            '"eps":1e-08,"lr":0.1,"name":"adamw","weight_decay":0.01}, this trainer has {"lr":0.1,'
            '"momentum":0.9,"name":"sgd","weight_decay":0}; resume with a trainer of the same model and '
            'training flags') in proc.stderr


def with_metadata(source, target, **changes):
    """Writes `source` with its metadata changed (a value of None removes the key) to `target`."""
    data = pathlib_bytes(source)
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header["__metadata__"]
    for key, value in changes.items():
        if value is None:
            del metadata[key]
        else:
            metadata[key] = value
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    pathlib.Path(target).write_bytes(struct.pack("<Q", len(text)) + text + data[8 + length:])


def test_checkpoint_compatibility(trainer):
    """The state schema decides whether a checkpoint resumes; the manifest fingerprint (which
    differs between a CPU and a CUDA build) is recorded but not compared. A checkpoint of the
    previous version, without a state schema, resumes only with the manifest it names."""
    trainer.run("--steps", 4, "--checkpoint", trainer.dir / "ck.st")
    trainer.run("--steps", 8, "--resume", trainer.dir / "ck.st", "--checkpoint", trainer.dir / "new.st",
                "--log", trainer.dir / "new.jsonl")
    _, metadata = read_safetensors(trainer.dir / "ck.st")
    assert list(metadata) == ["format", "manifest_fingerprint", "state_schema", "step", "skipped", "seed",
                              "shuffle", "rows", "plan"]
    assert re.fullmatch(r"[0-9a-f]{16}", metadata["manifest_fingerprint"])
    # Another build's manifest (say, --target cuda): resumes, and continues the same run.
    with_metadata(trainer.dir / "ck.st", trainer.dir / "cuda.st", manifest_fingerprint="0123456789abcdef")
    trainer.run("--steps", 8, "--resume", trainer.dir / "cuda.st", "--checkpoint", trainer.dir / "a.st",
                "--log", trainer.dir / "a.jsonl")
    # The previous version's checkpoint: its fingerprint decides.
    with_metadata(trainer.dir / "ck.st", trainer.dir / "old.st", state_schema=None)
    trainer.run("--steps", 8, "--resume", trainer.dir / "old.st", "--checkpoint", trainer.dir / "b.st",
                "--log", trainer.dir / "b.jsonl")
    for tag in ("a", "b"):
        assert (trainer.dir / f"{tag}.jsonl").read_bytes() == (trainer.dir / "new.jsonl").read_bytes()
        assert (trainer.dir / f"{tag}.st").read_bytes() == (trainer.dir / "new.st").read_bytes()
    with_metadata(trainer.dir / "old.st", trainer.dir / "other.st", manifest_fingerprint="0123456789abcdef")
    proc = trainer.run("--steps", 8, "--resume", trainer.dir / "other.st", expect_rc=1)
    assert "written by a different compiled model (manifest fingerprint '0123456789abcdef'" in proc.stderr


def test_non_finite_data_is_reported_and_its_step_skipped(trainer):
    x = trainer.x.copy()
    x[3, 1] = np.nan
    x[40, 0] = np.inf
    proc = trainer.run("--no-shuffle", "--steps", 8, "--log", trainer.dir / "log.jsonl",
                       "--checkpoint", trainer.dir / "ck.st", data=False, *trainer.data_args(x=x))
    assert re.search(r"warning: '.*data_x.npy' \(--data x\) holds 2 non-finite values \(NaN or inf\) "
                     r"in rows 3, 40;", proc.stderr), proc.stderr
    log = trainer.log("log.jsonl")
    assert [e["finite"] for e in log] == [False] + [True] * 4 + [False] + [True] * 2
    assert [e["skipped"] for e in log] == [1] * 5 + [2] * 3
    assert log[0]["loss"] is None  # NaN is written as null
    assert [e["loss_scale"] for e in log[:2]] == [65536, 32768]
    # The skipped first step changed nothing: step 2 trains from the initial
    # weights, as the reference's first step does on the same rows.
    losses, _, _ = reference_losses(trainer.x[8:16], trainer.label[8:16], 1)
    assert log[1]["loss"] == pytest.approx(losses[0], rel=1e-5)
    _, metadata = read_safetensors(trainer.dir / "ck.st")
    assert metadata["skipped"] == "2"


def test_first_step_skipped_leaves_state_untouched(trainer):
    x = trainer.x.copy()
    x[0, 0] = np.nan
    trainer.run("--no-shuffle", "--steps", 1, "--checkpoint", trainer.dir / "ck.st",
                data=False, *trainer.data_args(x=x))
    tensors, _ = read_safetensors(trainer.dir / "ck.st")
    initial = initial_weights()
    np.testing.assert_array_equal(tensors["W"], initial["W"])
    np.testing.assert_array_equal(tensors["b"], initial["b"])
    assert not tensors["W.momentum_buffer"].any()
    assert tensors["loss_scale"] == 32768 and tensors["loss_scale.good_steps"] == 0


def test_save_runs_in_onnxruntime_with_trained_weights(trainer):
    import onnxruntime as ort

    trainer.run("--epochs", 3, "--save", trainer.dir / "out.onnx", "--checkpoint", trainer.dir / "ck.st")
    model = onnx.load(str(trainer.dir / "out.onnx"))
    onnx.checker.check_model(model)
    saved = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    tensors, _ = read_safetensors(trainer.dir / "ck.st")
    np.testing.assert_array_equal(saved["W"], tensors["W"])
    np.testing.assert_array_equal(saved["b"], tensors["b"])
    assert not np.array_equal(saved["W"], initial_weights()["W"])
    session = ort.InferenceSession(str(trainer.dir / "out.onnx"), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": trainer.x})
    np.testing.assert_allclose(y, trainer.x @ tensors["W"] + tensors["b"], rtol=1e-5, atol=1e-6)


def test_eval_prints_loss_and_accuracy(trainer):
    import onnxruntime as ort

    rows = 13  # not a multiple of the batch: the padding must not count
    proc = trainer.run("--epochs", 3, "--save", trainer.dir / "out.onnx", "--log", trainer.dir / "log.jsonl",
                       *trainer.data_args(trainer.x[:rows], trainer.label[:rows], flag="--eval"))
    evals = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [e["step"] for e in evals] == [8, 16, 24]  # after each epoch; only the last is logged
    assert evals[0]["eval_loss"] > evals[-1]["eval_loss"]
    result = evals[-1]
    assert result == trainer.log("log.jsonl")[-1]
    assert sum("eval_loss" in e for e in trainer.log("log.jsonl")) == 1
    session = ort.InferenceSession(str(trainer.dir / "out.onnx"), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": trainer.x[:rows]})
    y = y.astype(np.float64)
    logp = y - y.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    assert result["eval_rows"] == rows
    assert result["eval_loss"] == pytest.approx(-logp[np.arange(rows), trainer.label[:rows]].mean(), rel=1e-6)
    assert result["eval_accuracy"] == pytest.approx(np.mean(y.argmax(axis=1) == trainer.label[:rows]))


@pytest.mark.parametrize("case, rc, message", [
    ("unknown_name", 2, "--data z=.*: the model has no input or label named 'z'; it expects x, label"),
    ("missing_name", 2, "no --data for 'label'; give --data label=FILE.npy"),
    ("x_float64", 1, r"\(--data x\) has dtype float64; the model expects float32 \(convert it with"),
    ("label_int32", 1, r"\(--data label\) has dtype int32; the model expects int64"),
    ("x_wrong_shape", 1, r"has shape \(64, 5\); the model expects rows of shape \(4,\), "
                         r"i.e. an array of shape \(ROWS, 4\)"),
    ("row_mismatch", 1, "has 32 rows but .* has 64; every --data file needs the same number of rows"),
    ("too_few_rows", 1, "has 5 rows, fewer than the 8 of one batch"),
    ("label_out_of_range", 1, r"row 7 holds label 3, outside the 3 classes \[0, 3\)"),
    ("missing_file", 1, "--data x: '.*nowhere.npy': cannot open"),
    ("not_npy", 1, "--data x: '.*bogus.npy': not a .npy file"),
    ("eval_unknown_name", 2, "--eval q=.*: the model has no input or label named 'q'"),
    ("unknown_flag", 2, "unknown flag '--bogus'"),
    ("bad_steps", 2, "--steps needs an integer of at least 1, got '0'"),
    ("bad_log_every", 2, "--log-every needs an integer of at least 1, got '0'"),
    ("steps_and_epochs", 2, "give --steps or --epochs, not both"),
    ("no_data", 2, "no training data"),
    ("unwritable_save", 1, "--save: cannot write into the directory of '/nonexistent/out.onnx'"),
])
def test_bad_input_gets_a_clear_error(trainer, case, rc, message):
    t = trainer
    label = t.label.copy()
    label[7] = 3
    (t.dir / "bogus.npy").write_text("hello")
    args = {
        "unknown_name": lambda: [*t.data_args(), "--data", f"z={t.save('z.npy', t.x)}"],
        "missing_name": lambda: ["--data", f"x={t.save('x.npy', t.x)}"],
        "x_float64": lambda: t.data_args(x=t.x.astype(np.float64)),
        "label_int32": lambda: t.data_args(label=t.label.astype(np.int32)),
        "x_wrong_shape": lambda: t.data_args(x=np.zeros((64, 5), np.float32)),
        "row_mismatch": lambda: t.data_args(label=t.label[:32]),
        "too_few_rows": lambda: t.data_args(x=t.x[:5], label=t.label[:5]),
        "label_out_of_range": lambda: t.data_args(label=label),
        "missing_file": lambda: ["--data", f"x={t.dir / 'nowhere.npy'}", "--data", f"label={t.save('l.npy', t.label)}"],
        "not_npy": lambda: ["--data", f"x={t.dir / 'bogus.npy'}", "--data", f"label={t.save('l.npy', t.label)}"],
        "eval_unknown_name": lambda: [*t.data_args(), "--eval", f"q={t.save('q.npy', t.x)}"],
        "unknown_flag": lambda: [*t.data_args(), "--bogus"],
        "bad_steps": lambda: [*t.data_args(), "--steps", "0"],
        "bad_log_every": lambda: [*t.data_args(), "--log-every", "0"],
        "steps_and_epochs": lambda: [*t.data_args(), "--steps", "3", "--epochs", "1"],
        "no_data": lambda: ["--steps", "3"],
        "unwritable_save": lambda: [*t.data_args(), "--save", "/nonexistent/out.onnx"],
    }[case]()
    proc = t.run(*args, "--log", t.dir / "log.jsonl", data=False, expect_rc=rc)
    assert proc.stderr.startswith("error: ") and re.search(message, proc.stderr), proc.stderr
    assert not (t.dir / "log.jsonl").exists()  # rejected before training started
