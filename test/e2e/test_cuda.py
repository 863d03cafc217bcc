"""mpc-compile --infer --target cuda, checked without a GPU (trainers: test_cuda_train.py).

1. ptxas accepts every kernel: `--emit ptx --cuda-arch sm_80|sm_90` for the
   torch-exported MLP, CNN and encoder and the real BERT, GPT-2 and ResNet-18
   (test_real_models.py's exports) in fp32/bf16/fp16, assembled by the
   toolkit's ptxas (skipped when /usr/local/cuda/bin/ptxas is absent).
2. The kernels compute what the CPU target computes: `mpc-run --cuda-schedule`
   runs the CUDA target's kernel schedules on the CPU (blocks and threads as
   loops, GEMMs as generated kernels); its outputs are compared with plain
   `mpc-run` (the CPU target) in the same precision, and in fp32 with
   onnxruntime. This is the suite's check of the kernels' indexing, fusion and
   reduction decomposition.
3. Executables: they link, embed a fatbinary (sm_80/sm_89/sm_90 cubins + sm_90
   PTX by default), do not link libcuda/cuBLASLt (dlopened), and without a
   driver exit 1 with one `error: no CUDA driver` line. The kernel report
   (--kernel-report) as JSON and as a table, and its kernels against the PTX.
4. Flag errors: one `mpc-compile: error:` line and exit status 1.
5. --cuda-conv=cudnn: the CNN's and ResNet-18's fp32 convolutions become cuDNN calls (fewer
   kernels, ptxas takes the rest); bf16/fp16 convolutions (f32 sums) stay im2col + cuBLASLt.

Cost (2 shared cores, release build): the default run about 30 s, of which
ResNet-18's fp32 schedule check is a quarter (its two mpc-run); the real models
in bf16/fp16 (ptxas and schedule checks, about 40 s more) are marked `full`
(pytest --full, MPC_E2E_FULL=1 or scripts/test.sh --full), for the sanitizer
run's sake mostly.
"""
import ctypes
import json
import pathlib
import re
import shutil
import struct
import subprocess
import time

import numpy as np
import onnx
import pytest

from mpc_e2e import BUILD_DIR, MPC_RUN, commands, load_npy, normalized_error, run_onnxruntime
from test_real_models import exported
from test_real_models import inputs_for as real_inputs_for

MPC_COMPILE = BUILD_DIR / "bin" / "mpc-compile"
PTXAS = pathlib.Path("/usr/local/cuda/bin/ptxas")
SMALL_DIR = pathlib.Path(__file__).resolve().parents[1] / "Inputs" / "models"
SMALL = ["mlp", "cnn", "encoder"]
REAL = ["bert", "gpt2", "resnet18"]
PRECISIONS = ["fp32", "bf16", "fp16"]


def model_path(name):
    if name in SMALL:
        path = SMALL_DIR / f"torch_{name}.onnx"
        if not path.exists():
            pytest.skip(f"{path} missing")
        return path
    return exported(name)


def model_inputs(name, batch, seed):
    rng = np.random.default_rng(seed)
    if name == "mlp":
        return {"x": rng.standard_normal((batch, 16)).astype(np.float32)}
    if name == "cnn":
        return {"image": rng.standard_normal((batch, 3, 16, 16)).astype(np.float32)}
    if name == "encoder":
        return {"ids": rng.integers(0, 50, (batch, 8)).astype(np.int64)}  # tok.weight: [100, 32]
    return real_inputs_for(name, batch, rng)


def run_tool(args, timeout=600):
    """subprocess.run, retried a few times while the build's binary is missing or busy (the lead
    may relink it while the tests run)."""
    args = [str(a) for a in args]
    for attempt in range(5):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        except OSError:  # ENOENT, ETXTBSY
            if attempt == 4:
                raise
            time.sleep(2)


def batch_of(name):
    return 3 if name in SMALL else 2  # 3: odd, so vectorized kernels have tails


@pytest.fixture
def compiler(tmp_path):
    if not MPC_COMPILE.exists():
        pytest.skip(f"{MPC_COMPILE} not built (set MPC_BUILD_DIR)")
    # Fatbinaries need ptxas and fatbinary, executables the CUDA runtime
    # built against the toolkit's headers.
    if not PTXAS.exists():
        pytest.skip(f"{PTXAS} absent: no CUDA toolkit on this machine")
    return Compiler(tmp_path)


class Compiler:
    """mpc-compile --infer --target cuda in a scratch dir."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path

    def run(self, model, *args, target="cuda"):
        return run_tool([MPC_COMPILE, model, "--infer", "--target", target, *args])

    def ok(self, model, *args):
        proc = self.run(model, *args)
        assert proc.returncode == 0, f"mpc-compile {' '.join(map(str, args))} failed:\n{proc.stderr[-4000:]}"
        return proc

    def ptx(self, model, batch, precision, arch, *extra):
        out = self.tmp_path / f"{pathlib.Path(model).stem}.{precision}.{arch}.ptx"
        self.ok(model, "--batch", batch, "--precision", precision, "--emit", "ptx", "--cuda-arch", arch,
                "-o", out, *extra)
        return out.read_text()


def one_error_line(proc, prefix):
    """The error contract: exit 1, nothing on stdout, one line on stderr."""
    assert proc.returncode == 1, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), proc.stderr
    return lines[0]


# --- 1. ptxas accepts every kernel -------------------------------------------------------------

def _ptxas_cases():
    cases = []
    for name in SMALL + REAL:
        for precision in PRECISIONS:
            for arch in ["sm_80", "sm_90"]:
                marks = []
                if name in REAL and precision != "fp32":
                    marks.append(pytest.mark.full)
                cases.append(pytest.param(name, precision, arch, marks=marks,
                                          id=f"{name}-{precision}-{arch}"))
    return cases


@pytest.mark.parametrize("name,precision,arch", _ptxas_cases())
def test_ptxas_accepts_every_kernel(compiler, tmp_path, name, precision, arch):
    if not PTXAS.exists():
        pytest.skip(f"{PTXAS} absent (the CUDA toolkit's assembler)")
    ptx = compiler.ptx(model_path(name), batch_of(name), precision, arch)
    assert re.search(rf"^\.target {arch}\s*$", ptx, re.M), ptx[:400]
    entries = re.findall(r"^\.visible \.entry (\w+)\(", ptx, re.M)
    assert entries, "no kernel in the PTX"
    ptx_file = tmp_path / "k.ptx"
    ptx_file.write_text(ptx)
    proc = subprocess.run([str(PTXAS), f"-arch={arch}", str(ptx_file), "-o", "/dev/null"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"ptxas -arch={arch} rejected the PTX:\n{proc.stderr[-4000:]}"


# --- 2. the kernel schedules on the CPU against the CPU target -----------------------------------

def mpc_run(tmp_path, model, inputs, precision, cuda_schedule, tag):
    """{output name: array} of mpc-run (with --cuda-schedule or not)."""
    work = tmp_path / tag
    work.mkdir()
    files = {}
    for name, value in inputs.items():
        files[name] = work / commands.mpc_run_output_file("in_" + name)
        np.save(files[name], value)
    args = commands.mpc_run(MPC_RUN, model, files, work / "out", precision=precision,
                            extra=["--cuda-schedule"] if cuda_schedule else [])
    proc = run_tool(args, timeout=1200)
    assert proc.returncode == 0, f"{' '.join(map(str, args))}\n{proc.stderr[-4000:]}"
    outputs = [o.name for o in onnx.load(str(model), load_external_data=False).graph.output]
    return {o: load_npy(work / "out" / commands.mpc_run_output_file(o)) for o in outputs}


def check_sane(name, output, value):
    """A schedule that writes nothing, or garbage, must not pass as 'close'."""
    assert np.all(np.isfinite(value)), f"{name} {output}: not finite"
    assert np.any(value != 0), f"{name} {output}: all zero"
    assert np.ptp(value) > 0, f"{name} {output}: constant"


# max |schedule - CPU target| / max |CPU target| in bf16/fp16: the two programs round at the same
# places (the same precision assignment and casts); they differ where a reduction's order differs
# (the schedule splits rows over threads, the CPU target tiles), which can move one rounding by an
# ulp and carry it on. 4 unit roundoffs (bf16 2^-9, fp16 2^-11) is half of docs/numerics.md's
# 8-10 for low precision against fp32; measured (batch 2/3, two seeds): bf16 <= 1.3e-3
# (ResNet-18), 1.0e-3 (BERT), fp16 <= 1.8e-4 (ResNet-18), 1.4e-4 (BERT); the small models and
# GPT-2 match bit for bit. In fp32 the largest error measured is a third of the tolerance.
LOW_TOLERANCE = {"bf16": 4 * 2.0 ** -9, "fp16": 4 * 2.0 ** -11}


def _schedule_cases():
    cases = []
    for name in SMALL + REAL:
        for precision in PRECISIONS:
            marks = []
            if name in REAL and precision != "fp32":
                marks.append(pytest.mark.full)
            cases.append(pytest.param(name, precision, marks=marks, id=f"{name}-{precision}"))
    return cases


@pytest.fixture
def runnable():
    if not MPC_RUN.exists():
        pytest.skip(f"{MPC_RUN} not built (set MPC_BUILD_DIR)")


@pytest.mark.parametrize("name,precision", _schedule_cases())
def test_cuda_schedule_matches_cpu_target(runnable, tmp_path, name, precision):
    model = model_path(name)
    inputs = model_inputs(name, batch_of(name), seed=5)
    cpu = mpc_run(tmp_path, model, inputs, precision, False, "cpu")
    cuda = mpc_run(tmp_path, model, inputs, precision, True, "cuda")
    for output, expected in cpu.items():
        actual = cuda[output]
        assert actual.shape == expected.shape and actual.dtype == expected.dtype
        check_sane(name, output, actual)
        if precision == "fp32":
            # reductions may be reordered: 1e-5 of each element, 1e-6 of the output's scale
            scale = float(np.max(np.abs(expected)))
            np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6 * scale,
                                       err_msg=f"{name} {output}")
        else:
            error = normalized_error(actual, expected)
            assert error <= LOW_TOLERANCE[precision], f"{name} {output}: {error}"


@pytest.mark.parametrize("name", SMALL)
def test_cuda_schedule_fp32_matches_onnxruntime(runnable, tmp_path, name):
    path = model_path(name)
    inputs = model_inputs(name, batch_of(name), seed=6)
    expected = run_onnxruntime(onnx.load(str(path)), inputs)
    actual = mpc_run(tmp_path, path, inputs, "fp32", True, "cuda")
    for output, e in expected.items():
        check_sane(name, output, actual[output])
        np.testing.assert_allclose(actual[output], e, rtol=1e-4, atol=1e-5 * float(np.max(np.abs(e))),
                                   err_msg=f"{name} {output}")


def test_cuda_schedule_maps_kernels(runnable, tmp_path):
    """--cuda-schedule really goes through the kernel mapping (so the comparisons above compare
    two different lowerings), and plain mpc-run does not."""
    path = model_path("mlp")
    files = {"x": tmp_path / "x.npy"}
    np.save(files["x"], model_inputs("mlp", 3, 1)["x"])
    dumps = {}
    for flag in [True, False]:
        args = commands.mpc_run(MPC_RUN, path, files, tmp_path / f"out{flag}",
                                extra=["--print-ir-after-all"] + (["--cuda-schedule"] if flag else []))
        proc = run_tool(args)
        assert proc.returncode == 0, proc.stderr[-4000:]
        dumps[flag] = proc.stderr
    assert "mpc-cuda-map-to-kernels" in dumps[True]
    assert "processor = block_x" in dumps[True] and "processor = thread_x" in dumps[True]
    assert "mpc-cuda-map-to-kernels" not in dumps[False]


# --- 3. executables and the kernel report ----------------------------------------------------------

# Gather's gradient (a scatter-add) as the `scatter-ordered` kernel: each element's updates are
# added by one thread in position order, which is the CPU target's order, so the two agree bit for
# bit however often an index repeats. Indices past either end are clamped as gather reads them.
GATHER_GRAD_CASES = {  # name: (data shape, axis, indices)
    "repeats": ((5, 6), 0, np.array([[0, 4, 4, 1, 0, 4], [-1, 2, 0, 4, -5, 3]] * 11)),
    "all-equal": ((7, 3), 0, np.full((40,), 2)),
    "out-of-range": ((4, 2, 3), 1, np.array([[0, 5, -1, -7, 1, 1, 9, -2]] * 4)),
}


def gather_grad_reference(data_shape, axis, indices, dy):
    """np.add.at in float32: one update after the other in position order."""
    size = data_shape[axis]
    rows = np.clip(np.where(indices < 0, indices + size, indices), 0, size - 1).reshape(-1)
    moved = np.zeros(data_shape, np.float32)
    dy_rows = dy.reshape(data_shape[:axis] + (-1,) + data_shape[axis + 1:])
    np.add.at(np.moveaxis(moved, axis, 0), rows, np.moveaxis(dy_rows, axis, 0))
    return moved


def tensor_type(shape, element):
    return "tensor<" + "x".join(map(str, shape)) + f"x{element}>"


def gather_grad_module(data_shape, axis, indices_shape, dy_shape, element):
    """@main(dy f32, i i64) -> d f32: dy cast to `element`, its gather_grad, cast back."""
    dt, yt, it = tensor_type(data_shape, "f32"), tensor_type(dy_shape, "f32"), tensor_type(indices_shape, "i64")
    dn, yn = tensor_type(data_shape, element), tensor_type(dy_shape, element)
    return f"""func.func @main(%dy: {yt} {{mpc.name = "dy"}}, %i: {it} {{mpc.name = "i"}})
    -> ({dt} {{mpc.name = "d"}}) {{
  %dyn = mpc.cast %dy : {yt} to {yn}
  %dn = mpc.gather_grad %dyn, %i {{axis = {axis} : i64}} : ({yn}, {it}) -> {dn}
  %d = mpc.cast %dn : {dn} to {dt}
  return %d : {dt}
}}
"""


@pytest.mark.parametrize("element", ["f32", "bf16"])
@pytest.mark.parametrize("case", list(GATHER_GRAD_CASES))
def test_cuda_schedule_gather_grad_is_the_cpu_targets_bit_for_bit(runnable, mpc_run, case, element):
    data_shape, axis, indices = GATHER_GRAD_CASES[case]
    dy_shape = data_shape[:axis] + indices.shape + data_shape[axis + 1:]
    dy = np.random.default_rng(3).standard_normal(dy_shape).astype(np.float32)
    module = gather_grad_module(data_shape, axis, indices.shape, dy_shape, element)
    inputs = {"dy": dy, "i": indices.astype(np.int64)}
    results = {}
    for extra in [(), ("--cuda-schedule",)]:
        proc, out = mpc_run.invoke(module, inputs, precision="none", extra_args=extra)
        assert proc.returncode == 0, proc.stderr[-4000:]
        results[extra] = load_npy(out / commands.mpc_run_output_file("d"))
    cpu, schedule = results[()], results[("--cuda-schedule",)]
    assert schedule.dtype == np.float32 and schedule.shape == data_shape
    assert np.array_equal(schedule.view(np.uint32), cpu.view(np.uint32)), (schedule, cpu)
    if element == "f32":
        assert np.array_equal(schedule, gather_grad_reference(data_shape, axis, indices, dy))


def libcuda_loadable():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


def fatbinary_entries(data):
    """(kind, sm) of every entry of the first fatbinary in `data`: kind 1 is PTX, 2 a cubin (the
    layout cuobjdump reads: a 16-byte header {magic 0xBA55ED50, u16 version, u16 header size,
    u64 size}, then entries {u16 kind, u16, u32 header size, u64 size, ..., u32 sm at +28})."""
    start = data.find(struct.pack("<I", 0xBA55ED50))
    assert start >= 0, "no fatbinary in the executable"
    _, _, header_size, size = struct.unpack_from("<IHHQ", data, start)
    pos, end, entries = start + header_size, start + header_size + size, []
    while pos < end:
        kind, _, entry_header, entry_size = struct.unpack_from("<HHIQ", data, pos)
        entries.append((kind, struct.unpack_from("<I", data, pos + 28)[0]))
        pos += entry_header + entry_size
    return entries


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_executable_links_and_reports_no_driver(compiler, tmp_path, name, precision):
    exe = tmp_path / "runner"
    compiler.ok(model_path(name), "--batch", 3, "--precision", precision, "-o", exe)
    data = exe.read_bytes()
    assert len(data) > 0 and data[:4] == b"\x7fELF"
    assert sorted(fatbinary_entries(data)) == [(1, 90), (2, 80), (2, 89), (2, 90)]
    if shutil.which("readelf"):
        dynamic = subprocess.run(["readelf", "-d", str(exe)], capture_output=True, text=True,
                                 check=True).stdout
        needed = re.findall(r"\(NEEDED\).*\[(.*)\]", dynamic)
        assert needed, dynamic
        assert not [lib for lib in needed if re.match(r"lib(cuda|cudart|cublas|cublasLt)\b", lib)], needed
    if shutil.which("ldd"):
        ldd = subprocess.run(["ldd", str(exe)], capture_output=True, text=True).stdout
        assert "libcuda" not in ldd and "libcublas" not in ldd, ldd

    manifest = json.loads(subprocess.run([str(exe), "--manifest"], capture_output=True, text=True,
                                         check=True, timeout=60).stdout)
    assert manifest["target"] == "cuda" and manifest["batch"] == 3

    if libcuda_loadable():
        pytest.skip("libcuda.so.1 loads on this machine: the no-driver error cannot be checked")
    files = {}
    for input_name, value in model_inputs(name, 3, 2).items():
        files[input_name] = tmp_path / f"{input_name}.npy"
        np.save(files[input_name], value)
    proc = subprocess.run(commands.runner(exe, files, output_dir=tmp_path / "out"), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, f"exit {proc.returncode} (a negative one is a signal)\n{proc.stderr}"
    line = one_error_line(proc, "error: no CUDA driver")
    assert "libcuda.so.1" in line, line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("args", [[], ["--input", "x=/nonexistent/x.npy"]], ids=["no-input", "missing-file"])
def test_runner_checks_its_inputs_before_the_driver(compiler, tmp_path, args):
    """Usage errors come before the device: as on the CPU runner, a missing --input or file is
    named (and without a driver, it is not hidden behind the driver's error)."""
    if libcuda_loadable():
        pytest.skip("libcuda.so.1 loads on this machine")
    exe = tmp_path / "runner"
    compiler.ok(model_path("mlp"), "--batch", 2, "-o", exe)
    proc = run_tool([exe, *args, "--output-dir", tmp_path / "out"], timeout=60)
    line = one_error_line(proc, "error:")
    assert "CUDA driver" not in line and ("--input" in line), line


def test_duplicate_cuda_arch_is_not_embedded_twice(compiler, tmp_path):
    exe = tmp_path / "runner"
    proc = compiler.run(model_path("mlp"), "--batch", 2, "--cuda-arch", "sm_80,sm_80", "-o", exe)
    if proc.returncode != 0:
        one_error_line(proc, "mpc-compile: error:")
        return
    entries = fatbinary_entries(exe.read_bytes())
    assert len(entries) == len(set(entries)), entries


def test_cubin_is_a_cuda_elf(compiler, tmp_path):
    cubin = tmp_path / "k.cubin"
    compiler.ok(model_path("cnn"), "--batch", 2, "--emit", "cubin", "--cuda-arch", "sm_90", "-o", cubin)
    data = cubin.read_bytes()
    assert data[:4] == b"\x7fELF"
    assert struct.unpack_from("<H", data, 18)[0] == 190  # e_machine: EM_CUDA


def test_cuda_arch_picks_the_fatbinary_images(compiler, tmp_path):
    exe = tmp_path / "runner"
    compiler.ok(model_path("mlp"), "--batch", 2, "--cuda-arch", "sm_90,sm_86", "--allow-tf32", "-o", exe)
    assert sorted(fatbinary_entries(exe.read_bytes())) == [(1, 90), (2, 86), (2, 90)]


REPORT_KEYS = {"name", "strategy", "grid", "block", "bytes_read", "bytes_written", "flops", "onnx_nodes"}


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("name", SMALL)
def test_kernel_report_matches_the_ptx(compiler, tmp_path, name, precision):
    path = model_path(name)
    report_file = tmp_path / "report.json"
    ptx = compiler.ptx(path, 3, precision, "sm_90", "--kernel-report", report_file)
    kernels = json.loads(report_file.read_text())["kernels"]
    assert kernels
    graph = onnx.load(str(path), load_external_data=False).graph
    # ONNX nodes; also initializers (in bf16 a weight's cast is fused into its consumer's kernel
    # and keeps the initializer's name) and the graph's name (the copy into an output)
    known_nodes = ({node.name for node in graph.node} | {t.name for t in graph.initializer}
                   | {graph.name})
    for kernel in kernels:
        assert REPORT_KEYS <= kernel.keys(), kernel
        assert isinstance(kernel["name"], str) and kernel["name"]
        for key in ["grid", "block", "bytes_read", "bytes_written", "flops"]:
            assert isinstance(kernel[key], int) and kernel[key] >= 0, kernel
        assert kernel["onnx_nodes"] and set(kernel["onnx_nodes"]) <= known_nodes, kernel
        if kernel["strategy"] != "cublaslt-gemm":
            assert kernel["grid"] >= 1 and 1 <= kernel["block"] <= 1024, kernel
    names = [k["name"] for k in kernels]
    assert len(set(names)) == len(names)
    # every generated kernel is in the PTX and nothing else is; cuBLASLt GEMMs are library calls
    entries = set(re.findall(r"^\.visible \.entry (\w+)\(", ptx, re.M))
    assert {k["name"] for k in kernels if k["strategy"] != "cublaslt-gemm"} == entries
    assert not entries & {k["name"] for k in kernels if k["strategy"] == "cublaslt-gemm"}


@pytest.mark.parametrize("precision", PRECISIONS)
def test_mlp_gemms_use_cublaslt(compiler, tmp_path, precision):
    report_file = tmp_path / "report.json"
    compiler.ok(model_path("mlp"), "--batch", 3, "--precision", precision, "--kernel-report", report_file,
                "-o", tmp_path / "runner")
    kernels = json.loads(report_file.read_text())["kernels"]
    for gemm in ["/fc1/Gemm", "/fc2/Gemm"]:
        assert any(k["strategy"] == "cublaslt-gemm" and gemm in k["onnx_nodes"] for k in kernels), \
            [(k["name"], k["strategy"], k["onnx_nodes"]) for k in kernels]


def test_mlp_bias_relu_is_a_cublaslt_epilogue(compiler, tmp_path):
    """fc1's bias add and ReLU (and fc2's bias add) become cuBLASLt epilogues of their GEMMs instead
    of elementwise kernels (the CPU check of the schedule, mpc-run --cuda-schedule, keeps them as
    kernels: it has no cuBLASLt)."""
    path = model_path("mlp")
    report_file = tmp_path / "report.json"
    compiler.ok(path, "--batch", 3, "--kernel-report", report_file, "-o", tmp_path / "runner")
    kernels = json.loads(report_file.read_text())["kernels"]
    fc1 = [k for k in kernels if "/fc1/Gemm" in k["onnx_nodes"]]
    assert len(fc1) == 1, kernels
    assert fc1[0]["strategy"] == "cublaslt-gemm" and fc1[0]["epilogue"] == "bias+relu", fc1
    assert "/Relu" in fc1[0]["onnx_nodes"] and "arith.maximumf" in fc1[0]["ops"], fc1
    fc2 = [k for k in kernels if "/fc2/Gemm" in k["onnx_nodes"]]
    assert [k.get("epilogue") for k in fc2] == ["bias"], fc2
    assert not [k for k in kernels if k["strategy"].startswith("elementwise")], kernels
    # Without the epilogues: GEMM, bias+ReLU kernel, GEMM, bias add fused into the softmax's row kernel.
    assert len(kernels) == 3, [(k["name"], k["strategy"]) for k in kernels]
    # bf16: the f32 bias is rounded to bf16 (as the model rounds it) by a kernel of N elements,
    # instead of an M x N elementwise kernel.
    compiler.ok(path, "--batch", 3, "--precision", "bf16", "--kernel-report", report_file, "-o",
                tmp_path / "runner16")
    kernels = json.loads(report_file.read_text())["kernels"]
    gemm = [k for k in kernels if k["strategy"] == "cublaslt-gemm" and "/Relu" in k["onnx_nodes"]]
    assert [k["epilogue"] for k in gemm] == ["bias+relu"], kernels
    assert not [k for k in kernels if "arith.maximumf" in k["ops"] and k["strategy"] != "cublaslt-gemm"
                and "/Relu" in k["onnx_nodes"]], kernels


def test_kernel_report_table_on_stdout(compiler, tmp_path):
    path = model_path("mlp")
    report_file = tmp_path / "report.json"
    compiler.ok(path, "--batch", 3, "--kernel-report", report_file, "-o", tmp_path / "a")
    kernels = json.loads(report_file.read_text())["kernels"]
    proc = compiler.ok(path, "--batch", 3, "--kernel-report", "-", "-o", tmp_path / "b")
    lines = proc.stdout.splitlines()
    assert re.match(r"kernel\s+strategy\s+grid\s+block", lines[0]), proc.stdout
    rows = [line.split() for line in lines[1:-1]]
    assert [(r[0], r[1]) for r in rows] == [(k["name"], k["strategy"]) for k in kernels]
    total = sum(k["bytes_read"] for k in kernels)
    assert re.fullmatch(rf"{len(kernels)} kernels, {total} bytes read, .*", lines[-1]), lines[-1]
    assert (tmp_path / "b").exists()


# --- cuDNN's fused attention (--cuda-attention=cudnn) -----------------------------------------------

def attention_kernels(report_file):
    return [k for k in json.loads(report_file.read_text())["kernels"] if k["strategy"] == "cudnn-attention"]


@pytest.mark.parametrize("name,precision", [("encoder", "bf16"), ("encoder", "fp16"), ("bert", "bf16")])
def test_attention_through_cudnn(compiler, tmp_path, name, precision):
    """Each layer's attention (MatMul, scale, the mask's Add, Softmax, MatMul and the head
    transposes around them) is one mpc_cuda_attention call; the executable links and, without a
    driver, says so."""
    path = model_path(name)
    batch = batch_of(name)
    report_file, exe = tmp_path / "report.json", tmp_path / "runner"
    proc = compiler.run(path, "--batch", batch, "--precision", precision, "--cuda-attention=cudnn",
                        "--kernel-report", report_file, "-o", exe)
    attention = attention_kernels(report_file)
    assert len(attention) == 2, attention  # one per layer
    for layer, kernel in enumerate(attention):
        nodes = set(kernel["onnx_nodes"])
        assert {f"/layers.{layer}/{n}" for n in ["MatMul", "Softmax", "MatMul_1", "Transpose",
                                                 "Transpose_1", "Transpose_2", "Transpose_3"]} <= nodes
        if name == "bert":
            assert {f"/layers.{layer}/Div_1", f"/layers.{layer}/Add"} <= nodes, nodes
            # B=2, H=4, S=32, D=32: 4*B*H*S*S*D FLOPs; Q, K, V, O 16 KiB each, the f32 mask 256 B
            assert kernel["flops"] == 4 * 2 * 4 * 32 * 32 * 32
            assert kernel["bytes_read"] == 3 * 16384 + 256 and kernel["bytes_written"] == 16384
    others = [k for k in json.loads(report_file.read_text())["kernels"] if k not in attention]
    assert not [k for k in others if any(n.endswith("/Softmax") for n in k["onnx_nodes"])], others
    if proc.returncode != 0 and "undefined reference to `mpc_cuda_attention'" in proc.stderr:
        pytest.skip("this build's CUDA runtime does not provide mpc_cuda_attention yet")
    assert proc.returncode == 0, proc.stderr[-4000:]
    if libcuda_loadable():
        return
    files = {}
    for input_name, value in model_inputs(name, batch, 3).items():
        files[input_name] = tmp_path / f"{input_name}.npy"
        np.save(files[input_name], value)
    proc = subprocess.run(commands.runner(exe, files, output_dir=tmp_path / "out"), capture_output=True,
                          text=True, timeout=120)
    one_error_line(proc, "error: no CUDA driver")


# fp32: cuDNN's fused attention takes f16/bf16. fp16: the precision policy keeps BERT's Q K^T (and
# so Q and K) in f32, its range analysis bounding the scores above fp16's largest value; the
# chain's Q and K are not f16, so it stays generated kernels too.
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_attention_that_does_not_qualify_keeps_the_kernels(compiler, tmp_path, precision):
    report_file = tmp_path / "report.json"
    compiler.ptx(model_path("bert"), 2, precision, "sm_90", "--cuda-attention=cudnn", "--kernel-report",
                 report_file)
    assert attention_kernels(report_file) == []


# --- 4. flag errors ----------------------------------------------------------------------------------

FLAG_ERRORS = [
    ("train-no-loss", ["--target", "cuda", "--train", "--batch", "2"], r"--train needs --loss"),
    ("ptx-no-arch", ["--infer", "--target", "cuda", "--batch", "2", "--emit", "ptx"],
     r"--emit=ptx .*one --cuda-arch"),
    ("ptx-two-archs", ["--infer", "--target", "cuda", "--batch", "2", "--emit", "ptx",
                       "--cuda-arch", "sm_80,sm_90"], r"--emit=ptx .*one --cuda-arch"),
    ("cubin-two-archs", ["--infer", "--target", "cuda", "--batch", "2", "--emit", "cubin",
                         "--cuda-arch", "sm_80,sm_90"], r"--emit=cubin .*one --cuda-arch"),
    ("ptx-cpu", ["--infer", "--target", "cpu", "--batch", "2", "--emit", "ptx"], r"--emit=ptx needs --target cuda"),
    ("cubin-cpu", ["--infer", "--target", "cpu", "--batch", "2", "--emit", "cubin"],
     r"--emit=cubin needs --target cuda"),
    ("tf32-cpu", ["--infer", "--target", "cpu", "--batch", "2", "--allow-tf32"], r"--allow-tf32"),
    ("arch-cpu", ["--infer", "--target", "cpu", "--batch", "2", "--cuda-arch", "sm_80"], r"--cuda-arch"),
    ("report-cpu", ["--infer", "--target", "cpu", "--batch", "2", "--kernel-report", "-"], r"--kernel-report"),
    ("attention-cpu", ["--infer", "--target", "cpu", "--batch", "2", "--cuda-attention", "cudnn"],
     r"--cuda-attention"),
    ("attention-unknown", ["--infer", "--target", "cuda", "--batch", "2", "--cuda-attention", "flash"],
     r"unknown --cuda-attention 'flash' \(use kernels or cudnn\)"),
    ("scatter-cpu", ["--infer", "--target", "cpu", "--batch", "2", "--cuda-scatter", "atomic"],
     r"--cuda-scatter"),
    ("scatter-unknown", ["--infer", "--target", "cuda", "--batch", "2", "--cuda-scatter", "sorted"],
     r"unknown --cuda-scatter 'sorted' \(use deterministic or atomic\)"),
    ("unknown-target", ["--infer", "--target", "tpu", "--batch", "2"], r"unknown --target 'tpu'"),
]


@pytest.mark.parametrize("args,pattern", [pytest.param(a, p, id=i) for i, a, p in FLAG_ERRORS])
def test_flag_error(compiler, tmp_path, args, pattern):
    out = tmp_path / "out"
    proc = run_tool([MPC_COMPILE, model_path("mlp"), *args, "-o", out], timeout=120)
    line = one_error_line(proc, "mpc-compile: error:")
    assert re.search(pattern, line), line
    assert not out.exists()


@pytest.mark.parametrize("emit", ["exe", "ptx"])
def test_unknown_cuda_arch_is_named(compiler, tmp_path, emit):
    arch = "sm_80,sm_70" if emit == "exe" else "sm_70"  # --emit ptx takes one
    proc = compiler.run(model_path("mlp"), "--batch", 2, "--emit", emit, "--cuda-arch", arch,
                        "-o", tmp_path / "out")
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
    assert "unknown --cuda-arch 'sm_70' (known: sm_80, " in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_cuda_arch_is_one_error_line(compiler, tmp_path):
    proc = compiler.run(model_path("mlp"), "--batch", 2, "--cuda-arch", "sm_70", "-o", tmp_path / "out")
    line = one_error_line(proc, "mpc-compile: error:")
    assert "sm_70" in line


# --- 5. convolutions through cuDNN (--cuda-conv=cudnn) --------------------------------------------

def _cudnn_cases():
    return [pytest.param(name, precision, id=f"{name}-{precision}",
                         marks=[pytest.mark.full] if name in REAL and precision != "fp32" else [])
            for name in ["cnn", "resnet18"] for precision in PRECISIONS]


@pytest.mark.parametrize("name,precision", _cudnn_cases())
def test_cudnn_convolutions(compiler, tmp_path, name, precision):
    """With --cuda-conv=cudnn every fp32 Conv is one `cudnn-conv` call (no im2col copy, its padding
    and zero start folded in: fewer kernels than im2col + cuBLASLt), and ptxas takes the kernels
    left. In bf16/fp16 the convolutions multiply narrow inputs and sum in f32, which cuDNN's legacy
    API has no configuration for: they stay im2col + cuBLASLt, as with the default."""
    path = model_path(name)
    batch = batch_of(name)
    reports = {}
    for conv in ["gemm", "cudnn"]:
        reports[conv] = tmp_path / f"{conv}.json"
        ptx = compiler.ptx(path, batch, precision, "sm_90", "--cuda-conv", conv, "--kernel-report",
                           reports[conv])
    kernels = {conv: json.loads(report.read_text())["kernels"] for conv, report in reports.items()}
    convs = [k for k in kernels["cudnn"] if k["strategy"] == "cudnn-conv"]
    entries = set(re.findall(r"^\.visible \.entry (\w+)\(", ptx, re.M))
    assert not entries & {k["name"] for k in convs}
    ptx_file = tmp_path / "k.ptx"
    ptx_file.write_text(ptx)
    proc = subprocess.run([str(PTXAS), "-arch=sm_90", str(ptx_file), "-o", "/dev/null"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    conv_nodes = [n.name for n in onnx.load(str(path), load_external_data=False).graph.node
                  if n.op_type == "Conv"]
    if precision == "fp32":
        assert sorted(node for k in convs for node in k["onnx_nodes"] if node in conv_nodes) == \
            sorted(conv_nodes)
        assert len(convs) == len(conv_nodes)
        for k in convs:
            assert k["flops"] > 0 and k["bytes_read"] > 0 and k["bytes_written"] > 0, k
        assert len(kernels["cudnn"]) < len(kernels["gemm"]), (len(kernels["cudnn"]), len(kernels["gemm"]))
    else:
        assert not convs
        assert [k["strategy"] for k in kernels["cudnn"]] == [k["strategy"] for k in kernels["gemm"]]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cudnn_executable_reports_no_driver(compiler, tmp_path, precision):
    exe = tmp_path / "runner"
    compiler.ok(model_path("cnn"), "--batch", 3, "--precision", precision, "--cuda-conv", "cudnn",
                "-o", exe)
    if shutil.which("ldd"):
        ldd = subprocess.run(["ldd", str(exe)], capture_output=True, text=True).stdout
        assert "libcudnn" not in ldd and "libcuda" not in ldd, ldd
    if libcuda_loadable():
        pytest.skip("libcuda.so.1 loads on this machine: the no-driver error cannot be checked")
    files = {}
    for input_name, value in model_inputs("cnn", 3, 2).items():
        files[input_name] = tmp_path / f"{input_name}.npy"
        np.save(files[input_name], value)
    proc = subprocess.run(commands.runner(exe, files, output_dir=tmp_path / "out"), capture_output=True,
                          text=True, timeout=120)
    assert "libcuda.so.1" in one_error_line(proc, "error: no CUDA driver")


@pytest.mark.parametrize("shape,axes,op", [
    ((5, 13, 70), [0, 1], "ReduceSum"),   # 65 rows: two slices, partials then their sum
    ((40, 33), [0], "ReduceSum"),         # 40 rows: one slice, one kernel
    ((7, 9, 64), [0, 1], "ReduceMax"),
    ((3, 31, 5, 40), [0, 1, 2], "ReduceMean"),
])
def test_column_reductions_match_cpu_target(runnable, compiler, tmp_path, shape, axes, op):
    """Reductions over leading dims (bias gradients) run as column-reduction kernels: lanes over
    adjacent outputs, rows in slices, then the slices' partials in order. Their schedule on the CPU
    gives the CPU target's result (fp32: the same sums in another order)."""
    from onnx import TensorProto, helper
    out_shape = [d for i, d in enumerate(shape) if i not in axes]
    node = helper.make_node(op, ["x", "axes"], ["y"], keepdims=0) if op != "ReduceMax" else \
        helper.make_node(op, ["x"], ["y"], axes=axes, keepdims=0)
    inits = [helper.make_tensor("axes", TensorProto.INT64, [len(axes)], axes)] if op != "ReduceMax" else []
    graph = helper.make_graph([node], "g", [helper.make_value_info("x", helper.make_tensor_type_proto(
        TensorProto.FLOAT, shape))], [helper.make_value_info("y", helper.make_tensor_type_proto(
            TensorProto.FLOAT, out_shape))], inits)
    model = tmp_path / "reduce.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18 if op != "ReduceMax" else 17)]),
              model)
    report = tmp_path / "kernels.json"
    proc = run_tool([MPC_COMPILE, model, "--infer", "--target", "cuda", "--kernel-report", report, "--emit",
                     "ptx", "--cuda-arch", "sm_90", "-o", tmp_path / "r.ptx"])
    assert proc.returncode == 0, proc.stderr
    strategies = [k["strategy"] for k in json.loads(report.read_text())["kernels"]]
    assert "column-reduction" in strategies, strategies
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    cpu = mpc_run(tmp_path, model, {"x": x}, "fp32", False, "cpu")["y"]
    cuda = mpc_run(tmp_path, model, {"x": x}, "fp32", True, "cuda")["y"]
    check_sane(op, "y", cuda)
    np.testing.assert_allclose(cuda, cpu, rtol=1e-5, atol=1e-6 * float(np.max(np.abs(cpu))))
