"""mpc-compile --train --target cuda, checked without a GPU.

The trainer's train and eval steps go through the CUDA pipeline (docs/cuda.md, "Training") and
link with the CUDA runtime; its state then lives on the GPU for the whole run (docs/trainer.md,
"Devices"), the copy paths of which test_train_devices.py checks on the CPU.

1. ptxas accepts every kernel of the MLP, the CNN (batch norm) and the BERT-style encoder trainers
   (forward, backward, optimizer) in fp32 and bf16, for sm_80 and sm_90.
2. The trainers link, embed a fatbinary, do not link libcuda or cuBLASLt, check their flags and
   data first, and without a driver exit 1 with one `error: no CUDA driver` line, before the log
   is created.
3. --device: a CPU build has device 0 only (trainer and runner).
"""
import re
import shutil
import subprocess

import numpy as np
import pytest

from mpc_e2e import commands
from mpc_train import MPC_COMPILE, TRAIN_INPUTS
from test_cuda import PTXAS, fatbinary_entries, libcuda_loadable, one_error_line, run_tool

BATCH = 8
MODELS = {  # name: (input name, optimizer flags)
    "mlp": ("x", ["--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9"]),
    "cnn": ("x", ["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--weight-decay", "1e-4"]),
    "encoder": ("ids", ["--optimizer", "adamw", "--lr", "0.003"]),
}


@pytest.fixture(autouse=True)
def toolchain():
    if not MPC_COMPILE.exists():
        pytest.skip(f"{MPC_COMPILE} not built (set MPC_BUILD_DIR)")
    if not PTXAS.exists():
        pytest.skip(f"{PTXAS} absent: no CUDA toolkit on this machine")


def compile_trainer(name, out, *flags, target="cuda"):
    proc = run_tool([MPC_COMPILE, TRAIN_INPUTS / f"{name}.onnx", "--train", "--target", target,
                     "--loss", "cross_entropy", "--label", "label", "--batch", BATCH, *MODELS[name][1],
                     "-o", out, *flags])
    assert proc.returncode == 0, f"mpc-compile failed:\n{proc.stderr[-4000:]}"


def data_of(name):
    input_name = MODELS[name][0]
    return {input_name: TRAIN_INPUTS / f"{name}_{input_name}.npy", "label": TRAIN_INPUTS / f"{name}_label.npy"}


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("name", list(MODELS))
def test_ptxas_accepts_every_trainer_kernel(tmp_path, name, precision, arch):
    ptx_file = tmp_path / "trainer.ptx"
    compile_trainer(name, ptx_file, "--precision", precision, "--emit", "ptx", "--cuda-arch", arch)
    ptx = ptx_file.read_text()
    entries = re.findall(r"^\.visible \.entry (\w+)\(", ptx, re.M)
    # Both entry points' kernels: the train step's (forward, backward, optimizer) and eval's.
    assert any(e.startswith("train_step_k") for e in entries) and any(e.startswith("eval_step_k") for e in entries)
    proc = subprocess.run([str(PTXAS), f"-arch={arch}", str(ptx_file), "-o", "/dev/null"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"ptxas -arch={arch} rejected the PTX:\n{proc.stderr[-4000:]}"


@pytest.mark.parametrize("name,precision", [("mlp", "fp32"), ("cnn", "bf16"), ("encoder", "bf16")])
def test_trainer_links_and_reports_no_driver(tmp_path, name, precision):
    exe = tmp_path / "trainer"
    compile_trainer(name, exe, "--precision", precision)
    data = exe.read_bytes()
    assert sorted(fatbinary_entries(data)) == [(1, 90), (2, 80), (2, 89), (2, 90)]
    if shutil.which("readelf"):
        dynamic = subprocess.run(["readelf", "-d", str(exe)], capture_output=True, text=True, check=True).stdout
        needed = re.findall(r"\(NEEDED\).*\[(.*)\]", dynamic)
        assert not [lib for lib in needed if re.match(r"lib(cuda|cudart|cublas|cublasLt|cudnn)\b", lib)], needed
    if libcuda_loadable():
        pytest.skip("libcuda.so.1 loads on this machine: the no-driver error cannot be checked")
    # Flags and data are checked before the device.
    proc = run_tool(commands.trainer(exe, {"label": data_of(name)["label"]}, steps=2), timeout=120)
    assert proc.returncode == 2 and "no --data for" in proc.stderr and "CUDA" not in proc.stderr, proc.stderr
    log = tmp_path / "log.jsonl"
    proc = run_tool(commands.trainer(exe, data_of(name), steps=2, log=log, checkpoint=tmp_path / "ck.st",
                                     extra=["--device", "1", "--log-every", "2"]), timeout=120)
    assert "libcuda.so.1" in one_error_line(proc, "error: no CUDA driver")
    assert not log.exists() and not (tmp_path / "ck.st").exists()


def test_device_beyond_the_host(tmp_path):
    """A CPU build has one device: --device 1 is one error line, for the trainer and the runner."""
    trainer = tmp_path / "trainer"
    compile_trainer("mlp", trainer, target="cpu")
    proc = run_tool(commands.trainer(trainer, data_of("mlp"), steps=1, extra=["--device", "1"]), timeout=120)
    assert one_error_line(proc, "error: --device 1: a CPU build runs on the host, which is device 0 only")
    runner = tmp_path / "runner"
    built = run_tool([MPC_COMPILE, TRAIN_INPUTS / "mlp.onnx", "--infer", "--batch", BATCH, "-o", runner])
    assert built.returncode == 0, built.stderr
    x = tmp_path / "x.npy"
    np.save(x, np.load(TRAIN_INPUTS / "mlp_x.npy")[:BATCH])
    proc = run_tool(commands.runner(runner, {"x": x}, extra=["--device", "1"]), timeout=120)
    assert one_error_line(proc, "error: --device 1: a CPU build runs on the host")
    proc = run_tool(commands.runner(runner, {"x": x}, extra=["--device", "-2"]), timeout=120)
    assert one_error_line(proc, "error: --device needs an integer of at least 0, got '-2'")
