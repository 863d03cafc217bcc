"""mpc-compile's ahead-of-time output: the object's entry points compute what
the model computes, its manifest describes them, its blob holds the initial
state and the ONNX pieces reassemble the model.

A small C harness (trainer_harness.c) is linked with the emitted object and
calls `mpc_train_step` / `mpc_eval_step` the way the trainer runtime does.
The ONNX tests need the training passes (docs/training.md); while those are
placeholders on a branch they are skipped with the passes' own message.
"""
import json
import os
import pathlib
import shutil
import subprocess

import ml_dtypes
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import BUILD_DIR, run_onnxruntime

MPC_COMPILE = BUILD_DIR / "bin" / "mpc-compile"
INPUTS = pathlib.Path(__file__).resolve().parents[1] / "Inputs"
HARNESS = pathlib.Path(__file__).resolve().parent / "trainer_harness.c"
CC = shutil.which("clang-22") or shutil.which("clang") or shutil.which("cc")

DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "bf16": ml_dtypes.bfloat16,
          "i64": np.int64, "i32": np.int32, "i8": np.int8, "i1": np.bool_}


@pytest.fixture
def compiler(tmp_path):
    if not MPC_COMPILE.exists():
        pytest.skip(f"{MPC_COMPILE} not built (set MPC_BUILD_DIR)")
    if CC is None:
        pytest.skip("no C compiler to build the harness")
    return Compiler(tmp_path)


class Trainer:
    """An emitted object linked with the harness."""

    def __init__(self, exe, work):
        self.exe, self.work = exe, work
        subprocess.run([str(exe), "manifest", str(work / "manifest.json")], check=True)
        subprocess.run([str(exe), "blob", str(work / "blob.bin")], check=True)
        self.manifest = json.loads((work / "manifest.json").read_text())
        self.blob = (work / "blob.bin").read_bytes()
        self.calls = 0

    def initial(self, entry):
        """A state argument's initial value, from the blob or its fill."""
        dtype, shape = DTYPES[entry["dtype"]], entry["shape"]
        if "fill" in entry:
            return np.full(shape, entry["fill"], dtype)
        init = entry["init"]
        data = self.blob[init["offset"]:init["offset"] + init["bytes"]]
        return np.frombuffer(data, dtype).reshape(shape).copy()

    def state(self, function="train"):
        return {a["name"]: self.initial(a) for a in self.manifest[function]["args"]
                if a["role"] in ("param", "buffer", "opt", "scaler")}

    def call(self, function, values):
        """Runs mpc_<function>_step with {argument name: array}; returns
        {result name: array} (results of one name: the last wins)."""
        self.calls += 1
        call_dir = self.work / f"call{self.calls}"
        call_dir.mkdir()
        info = self.manifest[function]
        lines = [function]
        for i, arg in enumerate(info["args"]):
            value = np.asarray(values[arg["name"]], DTYPES[arg["dtype"]], order="C")
            assert list(value.shape) == arg["shape"], arg["name"]
            path = call_dir / f"in{i}.bin"
            path.write_bytes(value.tobytes())
            lines.append(" ".join(["in", str(value.itemsize), str(len(arg["shape"])),
                                   *map(str, arg["shape"]), str(path)]))
        for i, res in enumerate(info["results"]):
            itemsize = np.dtype(DTYPES[res["dtype"]]).itemsize
            lines.append(" ".join(["out", str(itemsize), str(len(res["shape"])),
                                   *map(str, res["shape"]), str(call_dir / f"out{i}.bin")]))
        spec = call_dir / "spec.txt"
        spec.write_text("\n".join(lines) + "\n")
        subprocess.run([str(self.exe), "run", str(spec)], check=True, timeout=120)
        results = []
        for i, res in enumerate(info["results"]):
            data = (call_dir / f"out{i}.bin").read_bytes()
            results.append((res["name"], res["role"],
                            np.frombuffer(data, DTYPES[res["dtype"]]).reshape(res["shape"])))
        return results


class Compiler:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.count = 0

    def run(self, model, *args):
        """Runs mpc-compile on a model file; returns the CompletedProcess."""
        return subprocess.run([str(MPC_COMPILE), str(model), *args], capture_output=True,
                              text=True, timeout=600)

    def trainer(self, model, *args):
        self.count += 1
        work = self.tmp_path / f"t{self.count}"
        work.mkdir()
        if isinstance(model, onnx.ModelProto):
            path = work / "model.onnx"
            onnx.save(model, str(path))
            model = path
        obj = work / "trainer.o"
        proc = self.run(model, "--train", *args, "--emit=obj", "-o", str(obj))
        if proc.returncode != 0 and "pass not implemented yet" in proc.stderr:
            pytest.skip("the training passes are placeholders here: " + proc.stderr.splitlines()[0])
        assert proc.returncode == 0, proc.stderr
        exe = work / "harness"
        subprocess.run([CC, "-O1", "-o", str(exe), str(HARNESS), str(obj), "-lm"], check=True)
        return Trainer(exe, work), obj, exe


def linear_reference(w, b, x, t, lr=0.1):
    y = x @ w + b
    d = y - t
    gy = d * np.float32(1.0 / 3.0)
    return w - lr * (x.T @ gy), b - lr * gy.sum(0), np.mean(d * d), y


def test_hand_written_train_and_eval_step(compiler):
    trainer, _, _ = compiler.trainer(INPUTS / "trainer_linear.mlir", "--loss", "mse",
                                     "--optimizer", "sgd", "--lr", "0.1")
    rng = np.random.default_rng(0)
    state = trainer.state()
    w0 = np.array([[0.5, -1.0], [0.25, 2.0], [-0.75, 0.125], [1.5, -0.5]], np.float32)
    np.testing.assert_array_equal(state["w"], w0)
    np.testing.assert_array_equal(state["b"], np.array([0.5, -0.25], np.float32))
    assert state["step"].dtype == np.int64 and state["step"] == 0

    x = rng.standard_normal((3, 4)).astype(np.float32)
    t = rng.standard_normal((3, 2)).astype(np.float32)
    values = dict(state, x=x, label=t)
    for step in range(1, 4):
        results = trainer.call("train", values)
        got = {(name, role): value for name, role, value in results}
        w, b, loss, y = linear_reference(values["w"], values["b"], x, t)
        np.testing.assert_allclose(got[("w", "param")], w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got[("b", "param")], b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got[("loss", "loss")], loss, rtol=1e-5)
        np.testing.assert_allclose(got[("y", "output")], y, rtol=1e-5, atol=1e-6)
        assert got[("step", "opt")] == step
        assert got[("finite", "finite")]
        values.update(w=got[("w", "param")], b=got[("b", "param")], step=got[("step", "opt")])

    (_, _, y), = trainer.call("eval", {"w": values["w"], "b": values["b"], "x": x})
    np.testing.assert_allclose(y, x @ values["w"] + values["b"], rtol=1e-5, atol=1e-6)


def test_hand_written_manifest(compiler):
    trainer, _, _ = compiler.trainer(INPUTS / "trainer_linear.mlir", "--loss", "mse",
                                     "--optimizer", "adamw", "--betas", "0.8,0.95")
    m = trainer.manifest
    assert m["format"] == 1 and m["model"] == "trainer_linear.mlir" and m["batch"] == 3
    assert (m["precision"], m["loss"], m["label"]) == ("fp32", "mse", "label")
    assert m["optimizer"] == {"name": "adamw", "lr": 0.001, "weight_decay": 0.01,
                              "betas": [0.8, 0.95], "eps": 1e-8}
    assert m["loss_scale"] == {"mode": "none"}
    assert "onnx" not in m
    train = m["train"]
    assert train["symbol"] == "mpc_train_step" and m["eval"]["symbol"] == "mpc_eval_step"
    assert [(a["name"], a["role"], a["dtype"], a["shape"]) for a in train["args"]] == [
        ("w", "param", "f32", [4, 2]), ("b", "param", "f32", [2]), ("step", "opt", "i64", []),
        ("x", "input", "f32", [3, 4]), ("label", "label", "f32", [3, 2])]
    assert [(r["name"], r["role"], r["dtype"], r["shape"]) for r in train["results"]] == [
        ("w", "param", "f32", [4, 2]), ("b", "param", "f32", [2]), ("step", "opt", "i64", []),
        ("loss", "loss", "f32", []), ("finite", "finite", "i1", []), ("y", "output", "f32", [3, 2])]
    assert train["args"][2]["fill"] == 0
    # Eval shares the train state's blob bytes.
    assert m["eval"]["args"][0]["init"] == train["args"][0]["init"]
    assert all(a["init"]["offset"] % 64 == 0 for a in train["args"] if "init" in a)


def test_object_and_executable_need_no_llvm(compiler):
    _, obj, exe = compiler.trainer(INPUTS / "trainer_linear.mlir", "--loss", "mse",
                                   "--optimizer", "sgd", "--mcpu", "generic")
    undefined = subprocess.run(["nm", "-u", str(obj)], capture_output=True, text=True,
                               check=True).stdout.split()
    undefined = {s for s in undefined if s != "U"}
    assert undefined <= {"malloc", "free", "memcpy", "memset", "memmove", "expf", "logf", "tanhf",
                         "sqrtf", "powf", "erff"}, undefined
    defined = subprocess.run(["nm", "-g", "--defined-only", str(obj)], capture_output=True,
                             text=True, check=True).stdout.split()[2::3]
    assert sorted(defined) == ["mpc_eval_step", "mpc_train_step", "mpc_trainer_blob",
                               "mpc_trainer_blob_size", "mpc_trainer_manifest"]
    dynamic = subprocess.run(["readelf", "-d", str(exe)], capture_output=True, text=True,
                             check=True).stdout
    needed = [line.split("[")[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line]
    assert needed and all(n.split(".so")[0] in ("libc", "libm", "libstdc++", "libgcc_s")
                          for n in needed), needed


# --- ONNX models (need the training passes) ---------------------------------

def mlp(rng, features=6, hidden=8, classes=4):
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32) * 0.3, n)
             for n, s in (("fc1.weight", (hidden, features)), ("fc1.bias", (hidden,)),
                          ("fc2.weight", (classes, hidden)), ("fc2.bias", (classes,)))]
    nodes = [helper.make_node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], name="fc1", transB=1),
             helper.make_node("Relu", ["h"], ["r"], name="act"),
             helper.make_node("Gemm", ["r", "fc2.weight", "fc2.bias"], ["y"], name="fc2", transB=1)]
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", classes])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def cnn():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_models", INPUTS / "make_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cnn()


def reassemble(trainer, state):
    """What `--save` writes: head, then field 7 (graph) holding the graph
    followed by one initializer (field 5) per trained tensor."""
    pieces = trainer.manifest["onnx"]

    def blob(entry):
        return trainer.blob[entry["offset"]:entry["offset"] + entry["bytes"]]

    def field(number, payload):
        key, length, out = (number << 3) | 2, len(payload), bytearray()
        for value in (key, length):
            while value >= 0x80:
                out.append((value & 0x7F) | 0x80)
                value >>= 7
            out.append(value)
        return bytes(out) + payload

    graph = blob(pieces["graph"])
    for init in pieces["initializers"]:
        array = state[init["name"]]
        assert init["onnx_dtype"] == TensorProto.FLOAT and list(array.shape) == init["shape"]
        graph += field(5, numpy_helper.from_array(array, init["name"]).SerializeToString())
    return onnx.load_from_string(blob(pieces["head"]) + field(7, graph))


@pytest.mark.parametrize("name, make, batch, input_name, shape", [
    ("mlp", lambda: mlp(np.random.default_rng(1)), 5, "x", (5, 6)),
    ("cnn", cnn, 2, "image", (2, 3, 8, 8)),
])
def test_onnx_eval_step_matches_onnxruntime(compiler, name, make, batch, input_name, shape):
    model = make()
    trainer, _, _ = compiler.trainer(model, "--loss", "cross_entropy", "--optimizer", "sgd",
                                     "--batch", str(batch))
    m = trainer.manifest
    assert m["batch"] == batch and m["model"] == "model.onnx"
    initializers = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    state = trainer.state("eval")
    # Every float initializer is state, initialised with its exact bytes.
    assert set(state) == set(initializers)
    for key, value in state.items():
        assert value.tobytes() == initializers[key].tobytes(), key
    eval_args = m["eval"]["args"]
    roles = [a["role"] for a in eval_args]
    assert roles == sorted(roles, key=lambda r: r == "input")  # state first
    assert [(a["name"], a["shape"]) for a in eval_args if a["role"] == "input"] == [
        (input_name, list(shape))]
    output = model.graph.output[0].name
    assert [(r["name"], r["role"]) for r in m["eval"]["results"]] == [(output, "output")]
    train_args = {a["name"]: a for a in m["train"]["args"]}
    assert train_args["label"]["role"] == "label" and train_args["label"]["dtype"] == "i64"
    assert train_args["label"]["shape"] == [batch]

    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    (_, _, got), = trainer.call("eval", dict(state, **{input_name: x}))
    expected = run_onnxruntime(model, {input_name: x})[output]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)

    rebuilt = reassemble(trainer, state)
    assert {t.name for t in rebuilt.graph.initializer} == {t.name for t in model.graph.initializer}
    np.testing.assert_allclose(run_onnxruntime(rebuilt, {input_name: x})[output], expected,
                               rtol=0, atol=0)


def test_emit_exe_links_a_standalone_executable(compiler, tmp_path):
    """The link step, with the harness (it has a main) standing in for the
    trainer runtime: the executable holds the trainer and needs no LLVM or
    MLIR library."""
    harness_obj, runtime = tmp_path / "harness.o", tmp_path / "libstandin.a"
    subprocess.run([CC, "-O1", "-c", "-o", str(harness_obj), str(HARNESS)], check=True)
    subprocess.run(["ar", "rcs", str(runtime), str(harness_obj)], check=True)
    exe = tmp_path / "trainer"
    env = dict(os.environ, MPC_TRAINER_LIB=str(runtime))
    args = [str(MPC_COMPILE), str(INPUTS / "trainer_linear.mlir"), "--train", "--loss", "mse",
            "--optimizer", "sgd", "-o", str(exe)]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    work = tmp_path / "work"
    work.mkdir()
    trainer = Trainer(exe, work)
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    state = trainer.state("eval")
    (_, _, y), = trainer.call("eval", dict(state, x=x))
    np.testing.assert_allclose(y, x @ state["w"] + state["b"], rtol=1e-5, atol=1e-6)
    ldd = subprocess.run(["ldd", str(exe)], capture_output=True, text=True, check=True).stdout
    assert "LLVM" not in ldd and "MLIR" not in ldd, ldd

    # A link that cannot happen is one clear error, and leaves no executable.
    bad = dict(env, MPC_CXX="no-such-compiler-xyz")
    proc = subprocess.run(args[:-1] + [str(tmp_path / "never")], capture_output=True, text=True,
                          env=bad, timeout=600)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("mpc-compile: error: cannot find the C++ compiler "
                                   "'no-such-compiler-xyz' to link with (set MPC_CXX to a C++ "
                                   "compiler driver such as c++ or clang++)")
    assert not (tmp_path / "never").exists()


MIXED_TRAINER = """
module {
  mpc.parameter @w : tensor<8x4xf32> = dense<0.0> : tensor<8x4xf32>
  func.func @train_step(
      %w: tensor<8x4xf32> {mpc.name = "w", mpc.role = "param", mpc.param = @w},
      %x: tensor<2x8xf32> {mpc.name = "x", mpc.role = "input"})
      -> (tensor<8x4xf32> {mpc.name = "w", mpc.role = "param"},
          tensor<f32> {mpc.name = "loss", mpc.role = "loss"},
          tensor<i1> {mpc.name = "finite", mpc.role = "finite"}) {
    %l = arith.constant dense<0.0> : tensor<f32>
    %t = arith.constant dense<true> : tensor<i1>
    return %w, %l, %t : tensor<8x4xf32>, tensor<f32>, tensor<i1>
  }
  func.func @eval_step(
      %w: tensor<8x4xf32> {mpc.name = "w", mpc.role = "param", mpc.param = @w},
      %x: tensor<2x8xf32> {mpc.name = "x", mpc.role = "input"})
      -> (tensor<2x4xf32> {mpc.name = "y", mpc.role = "output"},
          tensor<2x4xf16> {mpc.name = "h", mpc.role = "output"}) {
    %xb = mpc.cast %x : tensor<2x8xf32> to tensor<2x8xbf16>
    %wb = mpc.cast %w : tensor<8x4xf32> to tensor<8x4xbf16>
    %mm = mpc.matmul %xb, %wb {acc_type = f32} : (tensor<2x8xbf16>, tensor<8x4xbf16>) -> tensor<2x4xbf16>
    %y = mpc.cast %mm : tensor<2x4xbf16> to tensor<2x4xf32>
    %h = mpc.cast %y : tensor<2x4xf32> to tensor<2x4xf16>
    return %y, %h : tensor<2x4xf32>, tensor<2x4xf16>
  }
}
"""


def test_bf16_and_f16_code_needs_no_conversion_library(compiler, tmp_path):
    """bf16 arithmetic and f16 results in a portable (--mcpu generic) object:
    bf16 conversions are integer code, f16 ones at most libgcc's; the values
    are numpy's (ml_dtypes) roundings."""
    model = tmp_path / "mixed.mlir"
    model.write_text(MIXED_TRAINER)
    trainer, obj, _ = compiler.trainer(model, "--loss", "mse", "--optimizer", "sgd",
                                       "--precision", "bf16", "--mcpu", "generic")
    undefined = set(subprocess.run(["nm", "-u", str(obj)], capture_output=True, text=True,
                                   check=True).stdout.split()) - {"U"}
    assert undefined <= {"malloc", "free", "memcpy", "memset", "__truncsfhf2", "__extendhfsf2"}, undefined
    assert [r["dtype"] for r in trainer.manifest["eval"]["results"]] == ["f32", "f16"]
    rng = np.random.default_rng(3)
    w = rng.standard_normal((8, 4)).astype(np.float32)
    x = rng.standard_normal((2, 8)).astype(np.float32)
    (_, _, y), (_, _, h) = trainer.call("eval", {"w": w, "x": x})
    bf16 = ml_dtypes.bfloat16
    exact = x.astype(bf16).astype(np.float64) @ w.astype(bf16).astype(np.float64)
    # f32 accumulation, one rounding to bf16: within half a bf16 ulp of the exact product
    # (plus the accumulation's own tiny error).
    np.testing.assert_allclose(y, exact.astype(np.float32).astype(bf16).astype(np.float32),
                               rtol=2 ** -8, atol=0)
    np.testing.assert_array_equal(y.astype(bf16).astype(np.float32), y)  # really bf16 values
    np.testing.assert_array_equal(h, y.astype(np.float16))


def host_runs_x86_64_v3():
    """The host CPU has what x86-64-v3 code uses (AVX2, FMA, F16C, BMI2, MOVBE)."""
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split(":")[1].split()
    except (OSError, StopIteration):
        return False
    return {"avx2", "fma", "f16c", "bmi2", "movbe"} <= set(flags)


@pytest.mark.skipif(not host_runs_x86_64_v3(), reason="this CPU cannot run x86-64-v3 code (no AVX2/FMA)")
def test_x86_64_v3_trainer_takes_the_native_steps(compiler):
    """A trainer built with --mcpu x86-64-v3 (ymm code only, where native code
    on an AVX-512 host uses zmm) runs here and takes the same steps, bit for
    bit: every output still sums the same products in the same order, one
    FMA each."""
    model, batch = cnn(), 2
    rng = np.random.default_rng(5)
    image = rng.standard_normal((batch, 3, 8, 8)).astype(np.float32)
    label = rng.integers(0, 5, batch)
    runs = []
    for mcpu in ("native", "x86-64-v3"):
        trainer, _, _ = compiler.trainer(model, "--loss", "cross_entropy", "--optimizer", "sgd",
                                         "--momentum", "0.9", "--batch", str(batch), "--mcpu", mcpu)
        values = dict(trainer.state(), image=image, label=label)
        losses = []
        for _ in range(3):
            results = trainer.call("train", values)
            losses.append(next(v for _, role, v in results if role == "loss"))
            values.update({name: v for name, role, v in results
                           if role in ("param", "buffer", "opt", "scaler")})
        runs.append((np.array(losses), values))
    (native_losses, native), (v3_losses, v3) = runs
    assert native_losses[-1] < native_losses[0]
    np.testing.assert_array_equal(v3_losses, native_losses)
    for name in ("w1", "w2", "wfc", "bfc"):
        np.testing.assert_array_equal(v3[name], native[name], err_msg=name)


@pytest.mark.parametrize("flags, optimizer, loss_scale", [
    (["--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--weight-decay", "5e-4"],
     {"name": "sgd", "lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4},
     {"mode": "none"}),
    (["--optimizer", "sgd", "--lr", "0.5", "--precision", "fp16"],
     {"name": "sgd", "lr": 0.5, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
     {"mode": "dynamic", "scale": 65536}),
    (["--optimizer", "adamw", "--precision", "fp16", "--loss-scale", "none"],
     {"name": "adamw", "lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01},
     {"mode": "none"}),
    (["--optimizer", "adamw", "--precision", "bf16", "--loss-scale", "1024", "--eps", "1e-6"],
     {"name": "adamw", "lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-6, "weight_decay": 0.01},
     {"mode": "static", "scale": 1024}),
])
def test_manifest_run_configuration(compiler, flags, optimizer, loss_scale):
    trainer, _, _ = compiler.trainer(INPUTS / "trainer_linear.mlir", "--loss", "mse", *flags)
    assert trainer.manifest["optimizer"] == optimizer
    assert trainer.manifest["loss_scale"] == loss_scale
