"""mpc-compile --infer: the standalone inference runner.

Executables are built from ONNX models with `mpc-compile --infer` (linked
with the runtime, lib/Trainer) and run as a user would: --input .npy files,
--output-dir, --weights, --iterations. Their outputs are checked against
onnxruntime, external weights against embedded ones, and every error path
for its one clear line and exit status 1.
"""
import json
import re
import struct
import subprocess

import ml_dtypes
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import BUILD_DIR, commands, run_onnxruntime
from test_compile import cnn, mlp

MPC_COMPILE = BUILD_DIR / "bin" / "mpc-compile"


def two_io(rng):
    """Two inputs, two outputs: y = a @ W^T, z = b * s + y."""
    inits = [numpy_helper.from_array(rng.standard_normal((3, 4)).astype(np.float32), "W"),
             numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "s")]
    nodes = [helper.make_node("Gemm", ["a", "W"], ["y"], name="gemm", transB=1),
             helper.make_node("Mul", ["b", "s"], ["bs"], name="mul"),
             helper.make_node("Add", ["bs", "y"], ["z"], name="add")]
    graph = helper.make_graph(
        nodes, "two_io",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 3])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


SAFETENSORS_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
                      np.dtype(ml_dtypes.bfloat16): "BF16", np.dtype(np.float64): "F64",
                      np.dtype(np.int64): "I64"}


def save_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def initializers(model):
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


class Runner:
    """One executable built by mpc-compile --infer."""

    def __init__(self, exe, work):
        self.exe, self.work, self.runs = exe, work, 0
        self.manifest = json.loads(subprocess.run([str(exe), "--manifest"], capture_output=True,
                                                  text=True, check=True).stdout)

    def invoke(self, inputs, *extra):
        """Runs the executable; returns (CompletedProcess, output dir)."""
        self.runs += 1
        run_dir = self.work / f"run{self.runs}"
        run_dir.mkdir()
        files = {}
        for name, value in inputs.items():
            files[name] = run_dir / f"in_{name}.npy"
            np.save(files[name], value)
        out = run_dir / "out"
        args = commands.runner(self.exe, files, output_dir=out, extra=extra)
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
        return proc, out

    def run(self, inputs, *extra):
        """{output name: array} of a successful run."""
        proc, out = self.invoke(inputs, *extra)
        assert proc.returncode == 0, proc.stderr
        return {r["name"]: np.load(out / commands.mpc_run_output_file(r["name"]))
                for r in self.manifest["eval"]["results"]}


class Builder:
    def __init__(self, tmp_path):
        self.tmp_path, self.count = tmp_path, 0

    def model_file(self, model, name="model.onnx"):
        self.count += 1
        path = self.tmp_path / f"m{self.count}_{name}"
        onnx.save(model, str(path))
        return path

    def compile(self, model, batch, precision="fp32", weights="embedded"):
        path = model if not isinstance(model, onnx.ModelProto) else self.model_file(model)
        self.count += 1
        work = self.tmp_path / f"b{self.count}"
        work.mkdir()
        exe = work / "runner"
        args = commands.mpc_compile_infer(MPC_COMPILE, path, exe, batch=batch, precision=precision,
                                          weights=weights)
        proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        return Runner(exe, work)


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    if not MPC_COMPILE.exists():
        pytest.skip(f"{MPC_COMPILE} not built (set MPC_BUILD_DIR)")
    return Builder(tmp_path_factory.mktemp("infer"))


MODELS = {
    "mlp": (lambda: mlp(np.random.default_rng(1)), 5, {"x": (5, 6)}),
    "cnn": (cnn, 2, {"image": (2, 3, 8, 8)}),
    "two_io": (lambda: two_io(np.random.default_rng(4)), 3, {"a": (3, 4), "b": (3, 3)}),
}


def random_inputs(shapes, seed=2):
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}


@pytest.fixture(scope="module")
def built(builder):
    """Each model built once per precision: (model, runner, inputs)."""
    cache = {}

    def get(name, precision="fp32", weights="embedded"):
        key = (name, precision, weights)
        if key not in cache:
            make, batch, shapes = MODELS[name]
            model = make()
            runner = builder.compile(model, batch, precision, weights)
            cache[key] = (model, runner, random_inputs(shapes))
        return cache[key]
    return get


@pytest.mark.parametrize("name", list(MODELS))
def test_fp32_outputs_match_onnxruntime(built, name):
    model, runner, inputs = built(name)
    m = runner.manifest
    assert (m["mode"], m["target"], m["weights"], m["precision"]) == ("infer", "cpu", "embedded", "fp32")
    assert "train" not in m and "loss" not in m
    assert [r["name"] for r in m["eval"]["results"]] == [o.name for o in model.graph.output]
    assert {i["name"] for i in m["onnx"]["initializers"]} == set(initializers(model))
    got = runner.run(inputs)
    expected = run_onnxruntime(model, inputs)
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key].dtype == np.float32 and got[key].shape == value.shape, key
        np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_bf16_outputs_are_f32_within_tolerance(built, name):
    """Computed in bf16, returned as the model's f32 outputs; error within
    docs/numerics.md's bf16 tolerance (max |bf16 - fp32| / max |fp32| <=
    3e-2) and really low precision (not fp32's bits)."""
    model, runner, inputs = built(name, "bf16")
    assert runner.manifest["precision"] == "bf16"
    assert [r["dtype"] for r in runner.manifest["eval"]["results"]] == ["f32"]
    output = model.graph.output[0].name
    got = runner.run(inputs)[output]
    expected = run_onnxruntime(model, inputs)[output]
    assert got.dtype == np.float32
    assert np.max(np.abs(got - expected)) / np.max(np.abs(expected)) <= 3e-2
    fp32 = built(name)[1].run(inputs)[output]
    assert not np.array_equal(got, fp32)


LATENCY = re.compile(r"latency_ms mean (\S+) median (\S+) min (\S+) max (\S+)  "
                     r"\((\d+) iterations after (\d+) warm-up, batch (\d+), cpu\)")


def test_iterations_print_latency(built):
    model, runner, inputs = built("cnn")
    once = runner.run(inputs)
    proc, out = runner.invoke(inputs, "--iterations", "7")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    match = LATENCY.fullmatch(lines[0])
    assert match, lines[0]
    mean, median, low, high = map(float, match.groups()[:4])
    assert 0 < low <= median <= high and low <= mean <= high
    assert match.groups()[4:] == ("7", "1", "2")
    # The outputs are the last run's: the same as a single run's.
    np.testing.assert_array_equal(np.load(out / "logits.npy"), once["logits"])
    proc, _ = runner.invoke(inputs, "--iterations=3", "--warmup=0")
    assert LATENCY.fullmatch(proc.stdout.strip()).groups()[4:6] == ("3", "0")
    # A single run prints nothing.
    proc, _ = runner.invoke(inputs)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""


def test_help(built):
    _, runner, _ = built("mlp")
    proc = subprocess.run([str(runner.exe), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for flag in ("--input NAME=FILE.npy", "--output-dir", "--weights", "--iterations", "--warmup"):
        assert flag in proc.stdout


@pytest.mark.parametrize("name", ["cnn", "two_io"])
def test_external_weights_equal_embedded(builder, built, tmp_path, name):
    model, embedded, inputs = built(name)
    _, external, _ = built(name, weights="external")
    m = external.manifest
    assert m["weights"] == "external"
    state = [a for a in m["eval"]["args"] if a["role"] != "input"]
    assert state and all(a.get("external") is True and "init" not in a for a in state)
    assert {a["name"] for a in state} == set(initializers(model))
    expected = embedded.run(inputs)

    onnx_file = builder.model_file(model)
    safetensors_file = tmp_path / "weights.safetensors"
    save_safetensors(safetensors_file, initializers(model))
    for weights in (onnx_file, safetensors_file):
        got = external.run(inputs, "--weights", str(weights))
        for key in expected:
            np.testing.assert_array_equal(got[key], expected[key], err_msg=f"{key} {weights}")
    # The same files over embedded weights change nothing either.
    got = embedded.run(inputs, "--weights", str(safetensors_file))
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def test_weights_override_embedded(builder, built, tmp_path):
    """--weights on an embedded build runs other weights (a retrained model)."""
    model, runner, inputs = built("mlp")
    retrained = onnx.ModelProto()
    retrained.CopyFrom(model)
    for init in retrained.graph.initializer:
        init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * 2 - 0.25, init.name))
    path = builder.model_file(retrained)
    got = runner.run(inputs, "--weights", str(path))["y"]
    np.testing.assert_allclose(got, run_onnxruntime(retrained, inputs)["y"], rtol=1e-5, atol=1e-5)
    assert not np.allclose(got, runner.run(inputs)["y"])


def test_weights_typed_fields_and_conversions(builder, built, tmp_path):
    """ONNX initializers in typed fields (float_data) read like raw_data; f16
    and bf16 tensors widen exactly to f32 state; a trainer checkpoint's extra
    optimizer state is skipped."""
    model, runner, inputs = built("mlp", weights="external")
    weights = initializers(model)
    typed = onnx.ModelProto()
    typed.CopyFrom(model)
    for init in typed.graph.initializer:
        array = numpy_helper.to_array(init)
        init.CopyFrom(helper.make_tensor(init.name, TensorProto.FLOAT, array.shape,
                                         array.flatten().tolist()))
        assert not init.raw_data and init.float_data
    got = runner.run(inputs, "--weights", str(builder.model_file(typed)))["y"]
    np.testing.assert_allclose(got, run_onnxruntime(model, inputs)["y"], rtol=1e-5, atol=1e-5)

    narrow = {name: value.astype(np.float16 if i % 2 else ml_dtypes.bfloat16)
              for i, (name, value) in enumerate(weights.items())}
    path = tmp_path / "narrow.safetensors"
    save_safetensors(path, narrow)
    widened = onnx.ModelProto()
    widened.CopyFrom(model)
    for init in widened.graph.initializer:
        init.CopyFrom(numpy_helper.from_array(narrow[init.name].astype(np.float32), init.name))
    got = runner.run(inputs, "--weights", str(path))["y"]
    np.testing.assert_allclose(got, run_onnxruntime(widened, inputs)["y"], rtol=1e-5, atol=1e-5)

    checkpoint = dict(weights, **{"fc1.weight.momentum_buffer": weights["fc1.weight"] * 0,
                                  "step": np.array(3, np.int64)})
    path = tmp_path / "checkpoint.safetensors"
    save_safetensors(path, checkpoint, {"format": "mpc-trainer-checkpoint-1", "step": "3"})
    got = runner.run(inputs, "--weights", str(path))["y"]
    np.testing.assert_allclose(got, run_onnxruntime(model, inputs)["y"], rtol=1e-5, atol=1e-5)


def test_external_build_is_smaller(builder, tmp_path):
    """The weights' bytes are not in an external build."""
    rng = np.random.default_rng(5)
    model = mlp(rng, features=256, hidden=512, classes=10)
    weights = initializers(model)
    weight_bytes = sum(v.nbytes for v in weights.values())
    path = builder.model_file(model)
    embedded = builder.compile(path, 2)
    external = builder.compile(path, 2, weights="external")
    embedded_exe, external_exe = embedded.exe.read_bytes(), external.exe.read_bytes()
    # Every weight's bytes are in the embedded executable and none in the
    # external one (a size comparison alone depends on the manifests' and
    # the runtime's sizes, which a sanitizer build multiplies).
    for name, value in weights.items():
        chunk = np.ascontiguousarray(value).tobytes()[:256]
        assert chunk in embedded_exe, name
        assert chunk not in external_exe, name
    assert len(embedded_exe) - len(external_exe) > weight_bytes * 0.9
    x = {"x": rng.standard_normal((2, 256)).astype(np.float32)}
    np.testing.assert_array_equal(external.run(x, "--weights", str(path))["y"], embedded.run(x)["y"])


# --- errors: one line "error: ...", exit status 1, no crash ------------------

@pytest.fixture(scope="module")
def error_files(builder, tmp_path_factory):
    """Bad inputs and weights files for the MLP (x: f32 [5, 6])."""
    d = tmp_path_factory.mktemp("bad")
    model = mlp(np.random.default_rng(1))
    weights = initializers(model)
    np.save(d / "x.npy", np.zeros((5, 6), np.float32))
    np.save(d / "x_f64.npy", np.zeros((5, 6), np.float64))
    np.save(d / "x_4rows.npy", np.zeros((4, 6), np.float32))
    (d / "text.npy").write_text("not an npy file")
    save_safetensors(d / "wrong_shape.safetensors", dict(weights, **{"fc2.bias": np.zeros(5, np.float32)}))
    save_safetensors(d / "missing.safetensors", {k: v for k, v in weights.items() if k != "fc1.bias"})
    save_safetensors(d / "extra.safetensors", dict(weights, unused=np.zeros(2, np.float32)))
    save_safetensors(d / "f64.safetensors", dict(weights, **{"fc1.bias": weights["fc1.bias"].astype(np.float64)}))
    wrong = onnx.ModelProto()
    wrong.CopyFrom(model)
    wrong.graph.initializer[0].CopyFrom(numpy_helper.from_array(np.zeros((8, 5), np.float32), "fc1.weight"))
    onnx.save(wrong, str(d / "wrong_shape.onnx"))
    onnx.save(model, str(d / "external_data.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=True, location="external_data.bin", size_threshold=0)
    (d / "garbage.onnx").write_bytes(b"\xff\xff\xff\xff not protobuf")
    return d


ERRORS = [
    # (id, external build?, inputs (name -> file), extra flags, expected message; {d}: the files' dir)
    ("wrong_shape", False, {"x": "x_4rows.npy"}, [],
     "--input x={d}/x_4rows.npy: expected f32 [5, 6], got f32 [4, 6]"),
    ("wrong_dtype", False, {"x": "x_f64.npy"}, [],
     "--input x={d}/x_f64.npy: expected f32 [5, 6], got f64 [5, 6] (no conversion is done: save it "
     "with .astype(np.float32))"),
    ("missing_input", False, {}, [],
     "missing --input x=FILE.npy (f32 [5, 6]; the model's inputs: 'x')"),
    ("unknown_input", False, {"x": "x.npy", "image": "x.npy"}, [],
     "--input image={d}/x.npy: the model has no input 'image' (its inputs: 'x')"),
    ("twice", False, {"x": "x.npy", "x ": "x.npy"}, [], "--input 'x' is given twice"),
    ("no_file", False, {"x": "nowhere.npy"}, [], "--input x={d}/nowhere.npy: '{d}/nowhere.npy': cannot open"),
    ("not_npy", False, {"x": "text.npy"}, [], "--input x={d}/text.npy: '{d}/text.npy'"),
    ("no_weights", True, {"x": "x.npy"}, [],
     "this runner was compiled with --weights external: pass --weights FILE (the model's .onnx or a "
     ".safetensors file) holding its 4 state tensors"),
    ("weights_shape", True, {"x": "x.npy"}, ["--weights", "{d}/wrong_shape.safetensors"],
     "--weights '{d}/wrong_shape.safetensors': tensor 'fc2.bias' is f32 [5], the model expects f32 [4]"),
    ("weights_shape_onnx", True, {"x": "x.npy"}, ["--weights", "{d}/wrong_shape.onnx"],
     "--weights '{d}/wrong_shape.onnx': tensor 'fc1.weight' is f32 [8, 5], the model expects f32 [8, 6]"),
    ("weights_missing", True, {"x": "x.npy"}, ["--weights", "{d}/missing.safetensors"],
     "--weights '{d}/missing.safetensors': has no tensor 'fc1.bias' (of the model's 4 weights, "
     "1 are missing)"),
    ("weights_extra", False, {"x": "x.npy"}, ["--weights", "{d}/extra.safetensors"],
     "--weights '{d}/extra.safetensors': holds a tensor the model does not have: 'unused' (a weights "
     "file holds exactly the model's weights)"),
    ("weights_f64", True, {"x": "x.npy"}, ["--weights", "{d}/f64.safetensors"],
     "--weights '{d}/f64.safetensors': tensor 'fc1.bias' is f64 [8], the model expects f32 [8] (only "
     "exact widening such as f16/bf16 -> f32 is done; convert the file's tensor)"),
    ("weights_no_file", True, {"x": "x.npy"}, ["--weights", "{d}/nowhere.onnx"],
     "--weights: cannot open '{d}/nowhere.onnx': No such file or directory"),
    ("weights_garbage", True, {"x": "x.npy"}, ["--weights", "{d}/garbage.onnx"],
     "--weights: '{d}/garbage.onnx' is not a valid ONNX model (its bytes do not parse as a ModelProto)"),
    ("weights_external_data", True, {"x": "x.npy"}, ["--weights", "{d}/external_data.onnx"],
     "--weights '{d}/external_data.onnx': tensor 'fc1.weight' stores its data outside the model file "
     "(ONNX external data), which --weights does not read; save the model with its data inline "
     "(onnx.save_model(model, path, save_as_external_data=False))"),
    ("unknown_flag", False, {"x": "x.npy"}, ["--batch", "3"],
     "unknown flag '--batch' (run with --help for usage)"),
    ("zero_iterations", False, {"x": "x.npy"}, ["--iterations", "0"],
     "--iterations needs an integer of at least 1, got '0'"),
    ("warmup_alone", False, {"x": "x.npy"}, ["--warmup", "2"],
     "--warmup needs --iterations N (the timed runs it precedes)"),
    ("bad_input_flag", False, {}, ["--input", "x.npy"], "--input needs NAME=FILE.npy, got 'x.npy'"),
    ("output_dir_is_file", False, {"x": "x.npy"}, ["--output-dir", "{d}/x.npy"],
     "--output-dir: '{d}/x.npy' exists and is not a directory"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_one_line(built, error_files, case):
    _, external, inputs, flags, message = case
    runner = built("mlp", weights="external" if external else "embedded")[1]
    d = str(error_files)
    args = [str(runner.exe)]
    for name, file in inputs.items():
        args += ["--input", f"{name.strip()}={d}/{file}"]
    args += [a.format(d=d) for a in flags]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and proc.stdout == "", proc.stderr
    assert lines[0].startswith("error: " + message.format(d=d)), lines[0]
