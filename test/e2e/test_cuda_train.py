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
4. The embedding gradient: no float atomics by default (`scatter-ordered`), atomics with
   --cuda-scatter atomic.
5. The cross-entropy loss and the logits' gradient are one row kernel plus the sum of the rows'
   terms (the numerics: test_train_ops.py).
6. The train step's kernel schedules (every parameter's optimizer update merged into launches
   with the others', mpc-cuda-merge-launches) run on the CPU (mpc-run --cuda-schedule) and give
   what the CPU target gives.
"""
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from mpc_e2e import MPC_RUN, commands, load_npy
from mpc_train import MPC_COMPILE, TRAIN_INPUTS
from test_real_models import exported
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
    # Both entry points' kernels: the train step's (forward, backward, optimizer) and eval's, but for
    # the fp32 MLP's eval step: two cuBLASLt GEMMs whose bias(+ReLU) epilogues write its output.
    assert any(e.startswith("train_step_k") for e in entries)
    assert any(e.startswith("eval_step_k") for e in entries) != (name == "mlp" and precision == "fp32")
    proc = subprocess.run([str(PTXAS), f"-arch={arch}", str(ptx_file), "-o", "/dev/null"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"ptxas -arch={arch} rejected the PTX:\n{proc.stderr[-4000:]}"


@pytest.mark.full
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_ptxas_accepts_resnet18_trainer(tmp_path, precision):
    """A real export's trainer (ResNet-18: 20 convolutions with batch norm, residual adds, global
    pooling): every kernel of its train and eval steps passes ptxas for sm_80 and sm_90."""
    model = exported("resnet18")
    for arch in ["sm_80", "sm_90"]:
        ptx_file = tmp_path / f"resnet18_{arch}.ptx"
        proc = run_tool([MPC_COMPILE, model, "--train", "--target", "cuda", "--loss", "cross_entropy",
                         "--label", "label", "--batch", 4, "--optimizer", "sgd", "--lr", "0.05",
                         "--momentum", "0.9", "--precision", precision, "--emit", "ptx", "--cuda-arch", arch,
                         "-o", ptx_file], timeout=900)
        assert proc.returncode == 0, f"mpc-compile failed:\n{proc.stderr[-4000:]}"
        entries = re.findall(r"^\.visible \.entry (\w+)\(", ptx_file.read_text(), re.M)
        assert len([e for e in entries if e.startswith("train_step_k")]) > 100, len(entries)
        proc = subprocess.run([str(PTXAS), f"-arch={arch}", str(ptx_file), "-o", "/dev/null"],
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"ptxas -arch={arch} rejected the PTX:\n{proc.stderr[-4000:]}"


@pytest.mark.parametrize("scatter,strategy",
                         [((), "scatter-ordered"), (("--cuda-scatter", "atomic"), "scatter-atomic")],
                         ids=["default", "atomic"])
def test_embedding_gradient_has_no_float_atomics_by_default(tmp_path, scatter, strategy):
    """The encoder's embedding gradient (Gather's backward) adds each table element's updates in
    order in one thread: no float atomic in the PTX, so its sums are the same on every run
    (docs/cuda.md, "Scatter-adds"). --cuda-scatter atomic keeps the atomic adds."""
    ptx_file, report_file = tmp_path / "trainer.ptx", tmp_path / "report.json"
    compile_trainer("encoder", ptx_file, "--precision", "bf16", "--emit", "ptx", "--cuda-arch", "sm_90",
                    "--kernel-report", report_file, *scatter)
    scatters = [k for k in json.loads(report_file.read_text())["kernels"] if k["strategy"].startswith("scatter")]
    assert [k["strategy"] for k in scatters] == [strategy]
    kernel = scatters[0]
    assert kernel["onnx_nodes"] == ["/tok/Gather"] and kernel["flops"] > 0 and kernel["bytes_written"] > 0, kernel
    ptx = ptx_file.read_text()
    assert ("atom.global.add.f32" in ptx) == (strategy == "scatter-atomic")
    assert "atom.global" not in ptx or strategy == "scatter-atomic"
    proc = subprocess.run([str(PTXAS), "-arch=sm_90", str(ptx_file), "-o", "/dev/null"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"ptxas rejected the PTX:\n{proc.stderr[-4000:]}"


@pytest.mark.parametrize("name", list(MODELS))
def test_cross_entropy_loss_and_gradient_are_one_row_kernel(tmp_path, name):
    """One block per row computes the row's max, sum of exp, gradient and loss term (reading the
    label's logit under an scf.if); no kernel recomputes the softmax for the gradient or gathers
    the labels' logits on its own."""
    report = tmp_path / "report.json"
    compile_trainer(name, tmp_path / "trainer", "--precision", "bf16", "--kernel-report", report)
    kernels = [k for k in json.loads(report.read_text())["kernels"] if k["name"].startswith("train_step_k")]
    fused = [k for k in kernels if "scf.if" in k["ops"]]
    assert len(fused) == 1, fused
    assert fused[0]["strategy"].startswith("row-fused") and fused[0]["grid"] == int(BATCH), fused[0]
    assert {"math.exp", "arith.select"} <= set(fused[0]["ops"]), fused[0]
    assert not [k for k in kernels if {"memref.load", "math.log"} <= set(k["ops"])]


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


def embedded_manifest(executable):
    """The manifest mpc-compile embedded in a trainer (JSON, keys sorted: "batch" first)."""
    data = executable.read_bytes()
    begin = data.index(b'{\n  "batch": ')
    return json.loads(data[begin:data.index(b"\0", begin)])


def checkpoint_metadata(path):
    raw = path.read_bytes()
    return json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])["__metadata__"]


def test_checkpoints_move_between_cpu_and_cuda_trainers(tmp_path):
    """One model and flags built for the CPU and for CUDA: the manifests differ (their target), the
    state schema checkpoints record does not, so each trainer resumes the other's checkpoints
    (docs/trainer.md, "Checkpoints and resume"). Without a driver the CUDA trainer is checked up to
    its device: it accepts the CPU checkpoint, then reports no driver; a checkpoint of another
    optimizer it refuses with the schema's error. With a driver (unverified so far) the run goes
    CPU -> CUDA -> CPU."""
    cpu, cuda = tmp_path / "cpu", tmp_path / "cuda"
    compile_trainer("mlp", cpu, target="cpu")
    compile_trainer("mlp", cuda)
    manifests = {exe.name: embedded_manifest(exe) for exe in (cpu, cuda)}
    assert (manifests["cpu"]["target"], manifests["cuda"]["target"]) == ("cpu", "cuda")
    assert dict(manifests["cpu"], target="cuda") == manifests["cuda"]
    data = data_of("mlp")

    def run(exe, *flags):
        return run_tool(commands.trainer(exe, data, extra=[str(f) for f in flags]), timeout=120)

    first = tmp_path / "cpu.st"
    proc = run(cpu, "--steps", 3, "--checkpoint", first, "--log", tmp_path / "cpu.jsonl")
    assert proc.returncode == 0, proc.stderr
    if libcuda_loadable():
        second, third = tmp_path / "cuda.st", tmp_path / "back.st"
        proc = run(cuda, "--steps", 6, "--resume", first, "--checkpoint", second, "--log", tmp_path / "cuda.jsonl")
        assert proc.returncode == 0, proc.stderr
        proc = run(cpu, "--steps", 9, "--resume", second, "--checkpoint", third, "--log", tmp_path / "back.jsonl")
        assert proc.returncode == 0, proc.stderr
        written = [checkpoint_metadata(path) for path in (first, second, third)]
        assert len({m["state_schema"] for m in written}) == 1
        assert written[0]["manifest_fingerprint"] == written[2]["manifest_fingerprint"]
        assert written[1]["manifest_fingerprint"] != written[0]["manifest_fingerprint"]
        assert [m["step"] for m in written] == ["3", "6", "9"]
        steps = [json.loads(line)["step"] for tag in ("cpu", "cuda", "back")
                 for line in (tmp_path / f"{tag}.jsonl").read_text().splitlines()]
        assert steps == list(range(1, 10))
    else:
        proc = run(cuda, "--steps", 6, "--resume", first)
        assert "libcuda.so.1" in one_error_line(proc, "error: no CUDA driver")
    # Another optimizer's checkpoint is refused before the device is opened.
    adamw = tmp_path / "adamw"
    proc = run_tool([MPC_COMPILE, TRAIN_INPUTS / "mlp.onnx", "--train", "--target", "cpu", "--loss", "cross_entropy",
                     "--label", "label", "--batch", BATCH, "--optimizer", "adamw", "--lr", "0.1", "-o", adamw])
    assert proc.returncode == 0, proc.stderr
    other = tmp_path / "adamw.st"
    assert run(adamw, "--steps", 1, "--checkpoint", other).returncode == 0
    line = one_error_line(run(cuda, "--steps", 6, "--resume", other), f"error: --resume '{other}': ")
    assert line.endswith("it does not fit this trainer: the checkpoint was written with optimizer "
                         '{"betas":[0.9,0.999],"eps":1e-08,"lr":0.1,"name":"adamw","weight_decay":0.01}, this '
                         'trainer has {"lr":0.1,"momentum":0.9,"name":"sgd","nesterov":false,"weight_decay":0}; '
                         "resume with a trainer of the same model and training flags"), line


# --- 4. the train step's kernel schedules on the CPU --------------------------------------------

def step_arguments(module_text, name, rng):
    """{argument name: value} for @train_step: the model's batch, random state (second moments
    non-negative, a step count of 3)."""
    signature = re.search(r"func\.func @train_step\((.*?)\) ->", module_text, re.S).group(1)
    batch = {k: np.load(v)[:BATCH] for k, v in data_of(name).items()}
    values = {}
    for shape, arg, role in re.findall(r'tensor<([^>]*)> \{[^}]*mpc\.name = "([^"]+)"[^}]*mpc\.role = "(\w+)"',
                                       signature):
        dims = [int(d) for d in shape.split("x")[:-1]]
        if role in ("input", "label"):
            values[arg] = batch[arg]
        elif arg == "step":
            values[arg] = np.array(3.0, np.float32)
        else:
            value = (rng.standard_normal(dims) * 0.1).astype(np.float32)
            values[arg] = np.abs(value) if arg.endswith("exp_avg_sq") else value
    return values


@pytest.mark.parametrize("name", list(MODELS))
def test_train_step_schedule_matches_cpu_target(tmp_path, name):
    """AdamW's per-parameter updates become a few merged launches (checked in the kernel report);
    run as the CUDA schedule on the CPU, the step's results equal the CPU target's within fp32
    reordering."""
    if not MPC_RUN.exists():
        pytest.skip(f"{MPC_RUN} not built")
    flags = ["--train", "--loss", "cross_entropy", "--label", "label", "--batch", str(BATCH),
             "--optimizer", "adamw", "--lr", "0.01"]
    report = tmp_path / "kernels.json"
    proc = run_tool([MPC_COMPILE, TRAIN_INPUTS / f"{name}.onnx", *flags, "--target", "cuda", "--emit", "ptx",
                     "--cuda-arch", "sm_90", "--kernel-report", report, "-o", tmp_path / "step.ptx"])
    assert proc.returncode == 0, proc.stderr[-4000:]
    kernels = json.loads(report.read_text())["kernels"]
    merged = [k for k in kernels if k["strategy"] == "multi-elementwise"]
    assert merged and max(len(k["merged"]) for k in merged) >= 4
    assert {k["name"] for k in kernels if k["block"]} == set(re.findall(r"^\.visible \.entry (\w+)\(",
                                                          (tmp_path / "step.ptx").read_text(), re.M))
    module = tmp_path / "step.mlir"
    proc = run_tool([MPC_COMPILE, TRAIN_INPUTS / f"{name}.onnx", *flags, "--emit", "mlir", "-o", module])
    assert proc.returncode == 0, proc.stderr[-4000:]
    files = {}
    for arg, value in step_arguments(module.read_text(), name, np.random.default_rng(3)).items():
        files[arg] = tmp_path / commands.mpc_run_output_file("in_" + arg)
        np.save(files[arg], value)
    outputs = {}
    for schedule in (False, True):
        out = tmp_path / f"out{schedule}"
        proc = run_tool(commands.mpc_run(MPC_RUN, module, files, out, precision="none",
                                         extra=["--entry", "train_step"] + (["--cuda-schedule"] if schedule else [])),
                        timeout=1200)
        assert proc.returncode == 0, proc.stderr[-4000:]
        outputs[schedule] = {f.name: load_npy(f) for f in out.glob("*.npy")}
    assert outputs[True].keys() == outputs[False].keys() and len(outputs[True]) > 10
    for file, expected in outputs[False].items():
        actual = outputs[True][file]
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, file
        if expected.dtype == np.bool_:
            np.testing.assert_array_equal(actual, expected, err_msg=file)
            continue
        scale = float(np.max(np.abs(expected))) if expected.size else 0.0
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6 * scale, err_msg=f"{name} {file}")
