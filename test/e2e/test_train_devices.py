"""The trainer's device path, checked on the CPU.

A trainer whose manifest targets a device other than the host keeps its state in that device's
buffers for the whole run and copies batches, metrics, checkpoints and --save through the Device
interface (docs/trainer.md, "Devices"). MPC_TEST_DEVICE=host-copy runs a CPU-built trainer that
way: its buffers are separate host allocations, poisoned with NaN bytes when allocated and freed,
reached only through uploads and downloads; batches go up asynchronously from two pinned buffers
in turn, which must be left alone until their uploads complete. Everything it writes must equal
the host device's byte for byte, and checkpoints resume across the two.

Models: the bundled MLP in fp16 (dynamic loss scaling, so the loss scale is read from the device;
NaN rows make steps skip) and the CNN in fp32 (batch norm: running statistics are state too).
"""
import json
import os
import subprocess

import numpy as np
import pytest

from mpc_e2e import commands
from mpc_train import MPC_COMPILE, TRAIN_INPUTS

BATCH = 16
MODELS = {
    "mlp": ["--optimizer", "adamw", "--lr", "0.01", "--precision", "fp16"],
    "cnn": ["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--weight-decay", "1e-4"],
}
ROWS = 96  # 6 steps per epoch: short runs still cross epochs (shuffle, per-epoch eval)


@pytest.fixture(scope="module")
def trainers(tmp_path_factory):
    if not MPC_COMPILE.exists():
        pytest.skip(f"{MPC_COMPILE} not built (set MPC_BUILD_DIR)")
    work = tmp_path_factory.mktemp("trainers")
    built = {}
    for name, flags in MODELS.items():
        exe = work / name
        args = commands.mpc_compile(MPC_COMPILE, TRAIN_INPUTS / f"{name}.onnx", exe, batch=BATCH,
                                    loss="cross_entropy", label="label", extra=flags)
        proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        data = {}
        for key in ("x", "label"):
            data[key] = work / f"{name}_{key}.npy"
            np.save(data[key], np.load(TRAIN_INPUTS / f"{name}_{key}.npy")[:ROWS])
        evals = {key: TRAIN_INPUTS / f"{name}_eval_{key}.npy" for key in ("x", "label")}
        built[name] = (exe, data, evals)
    return built


def run(trainer, data, device, *flags, evals=None, expect_rc=0):
    """Runs the trainer on `device` ("host" or "host-copy"); returns the process."""
    env = {k: v for k, v in os.environ.items() if k != "MPC_TEST_DEVICE"}
    if device != "host":
        env["MPC_TEST_DEVICE"] = device
    extra = [str(f) for f in flags]
    for name, path in (evals or {}).items():
        extra += ["--eval", f"{name}={path}"]
    proc = subprocess.run(commands.trainer(trainer, data, extra=extra), capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == expect_rc, f"rc {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def outputs(tmp_path, tag):
    return {kind: tmp_path / f"{tag}.{kind}" for kind in ("jsonl", "st", "onnx")}


def train(trainers, name, device, tmp_path, tag, *flags, data=None):
    exe, default_data, evals = trainers[name]
    files = outputs(tmp_path, tag)
    proc = run(exe, data or default_data, device, "--log", files["jsonl"], "--checkpoint", files["st"],
               "--save", files["onnx"], *flags, evals=evals)
    assert "never freed" not in proc.stderr, proc.stderr
    return proc, {kind: path.read_bytes() for kind, path in files.items()}


def eval_lines(proc):
    return [line for line in proc.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("name", list(MODELS))
def test_host_copy_device_writes_what_the_host_writes(trainers, tmp_path, name):
    flags = ["--steps", 14, "--seed", 3, "--checkpoint-every", 5]
    host, host_files = train(trainers, name, "host", tmp_path, "host", *flags)
    copy, copy_files = train(trainers, name, "host-copy", tmp_path, "copy", *flags)
    for kind in host_files:
        assert host_files[kind] == copy_files[kind], f"{kind} differs between the devices"
    assert eval_lines(host) == eval_lines(copy) and len(eval_lines(host)) == 3  # 2 epochs + final
    log = [json.loads(line) for line in host_files["jsonl"].decode().splitlines()]
    assert [entry["step"] for entry in log if "loss" in entry] == list(range(1, 15))


@pytest.mark.parametrize("name", list(MODELS))
def test_host_copy_device_runs_ahead_between_logged_steps(trainers, tmp_path, name):
    """--log-every 5: nothing but the reads of logged steps and checkpoints completes the uploads,
    so the device checks that each of the two pinned batch buffers is left alone until the fence
    after its upload (a pinned buffer changed too early exits 1), and the bytes still agree."""
    flags = ["--steps", 13, "--seed", 4, "--log-every", 5, "--checkpoint-every", 12]
    host, host_files = train(trainers, name, "host", tmp_path, "host", *flags)
    copy, copy_files = train(trainers, name, "host-copy", tmp_path, "copy", *flags)
    for kind in host_files:
        assert host_files[kind] == copy_files[kind], f"{kind} differs between the devices"
    assert "host-copy device" not in copy.stderr, copy.stderr
    log = [json.loads(line) for line in host_files["jsonl"].decode().splitlines()]
    assert [entry["step"] for entry in log if "loss" in entry] == [5, 10, 13]


def test_skipped_steps_and_loss_scale_agree(trainers, tmp_path):
    """NaN rows: the fp16 MLP skips their steps and backs off its scale the same on both."""
    _, data, _ = trainers["mlp"]
    x = np.load(data["x"])
    x[[3, 40, 41]] = np.nan
    poisoned = dict(data, x=tmp_path / "x.npy")
    np.save(poisoned["x"], x)
    logs = {}
    for device in ("host", "host-copy"):
        _, files = train(trainers, "mlp", device, tmp_path, device, "--steps", 8, "--no-shuffle",
                         data=poisoned)
        logs[device] = files["jsonl"]
    assert logs["host"] == logs["host-copy"]
    log = [json.loads(line) for line in logs["host"].decode().splitlines() if "finite" in line]
    assert [entry["finite"] for entry in log[:4]] == [False, True, False, True]
    assert [entry["loss_scale"] for entry in log[:4]] == [65536, 32768, 32768, 16384]


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("first,second", [("host", "host-copy"), ("host-copy", "host")])
def test_checkpoints_resume_across_devices(trainers, tmp_path, name, first, second):
    exe, data, _ = trainers[name]
    whole = outputs(tmp_path, "whole")
    run(exe, data, "host", "--steps", 10, "--seed", 5, "--log", whole["jsonl"], "--checkpoint", whole["st"])
    half = outputs(tmp_path, "half")
    rest = outputs(tmp_path, "rest")
    run(exe, data, first, "--steps", 4, "--seed", 5, "--log", half["jsonl"], "--checkpoint", half["st"])
    run(exe, data, second, "--steps", 10, "--resume", half["st"], "--log", rest["jsonl"],
        "--checkpoint", rest["st"])
    assert half["jsonl"].read_bytes() + rest["jsonl"].read_bytes() == whole["jsonl"].read_bytes()
    assert rest["st"].read_bytes() == whole["st"].read_bytes()


def test_unknown_test_device_is_one_error_line(trainers, tmp_path):
    exe, data, _ = trainers["mlp"]
    proc = run(exe, data, "tpu", "--steps", 1, "--log", tmp_path / "log.jsonl", expect_rc=1)
    assert proc.stderr == "error: MPC_TEST_DEVICE: unknown test device 'tpu' (there is host-copy)\n"
    assert not (tmp_path / "log.jsonl").exists()
