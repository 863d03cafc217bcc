"""The ops the importer builds from other mpc ops: NegativeLogLikelihoodLoss,
SoftmaxCrossEntropyLoss, ReduceL1/L2/LogSum/LogSumExp/SumSquare, Mod, Shrink,
Hardmax, EyeLike, GatherND, InstanceNormalization and LRN, against onnxruntime, in
fp32 and in bf16/fp16 (the losses and log-sum-exp keep their exp/log/sums in
f32); on the CUDA target, their kernel schedules run on the CPU
(--cuda-schedule) and their PTX through ptxas; and the imported
losses' and normalizations' gradients against central differences."""
import pathlib
import re
import subprocess

import numpy as np
import pytest
from onnx import TensorProto, helper

from mpc_e2e import BUILD_DIR, load_npy, normalized_error, output_file_name, run_onnxruntime
from test_gradients import MPC_TRANSLATE, GradientRunner, autodiff_gradients, directions
from test_ops import Init, build_model, case, positive, randn

RNG = np.random.default_rng(16)
PTXAS = pathlib.Path("/usr/local/cuda/bin/ptxas")


def labels(classes, *shape, ignore=None, dtype=np.int64):
    values = RNG.integers(0, classes, shape).astype(dtype)
    if ignore is not None:
        values.flat[::3] = ignore
    return values


CASES = [
    case("NegativeLogLikelihoodLoss", {"x": randn(4, 5), "t": labels(5, 4)}, opset=13),
    case("NegativeLogLikelihoodLoss", {"x": randn(3, 4, 2, 5), "t": labels(4, 3, 2, 5, ignore=2),
                                       "w": positive(4)},
         {"reduction": "mean", "ignore_index": 2}, opset=13, id="NLL-NCd1d2-weight-ii-mean"),
    case("NegativeLogLikelihoodLoss", {"x": randn(2, 3, 6), "t": labels(3, 2, 6, ignore=-1),
                                       "w": Init(positive(3))},
         {"reduction": "sum", "ignore_index": -1}, opset=13, id="NLL-sum-negative-ii"),
    case("NegativeLogLikelihoodLoss", {"x": randn(2, 3, 6), "t": labels(3, 2, 6)},
         {"reduction": "none"}, opset=13, id="NLL-none"),
    case("SoftmaxCrossEntropyLoss", {"x": randn(6, 10) * 3, "t": labels(10, 6)}, opset=13,
         outputs=2),
    case("SoftmaxCrossEntropyLoss", {"x": randn(2, 5, 3, 4), "t": labels(5, 2, 3, 4, ignore=7,
                                                                         dtype=np.int32),
                                     "w": positive(5)},
         {"ignore_index": 7}, opset=13, outputs=2, id="SCE-4d-weight-ii-int32"),
    case("SoftmaxCrossEntropyLoss", {"x": randn(3, 4, 5), "t": labels(4, 3, 5)},
         {"reduction": "none"}, opset=13, id="SCE-none"),
    case("ReduceL1", {"x": randn(2, 3, 4)}, {"axes": [-1]}, opset=13),
    case("ReduceL2", {"x": randn(2, 3, 4)}, {"axes": [0, 2], "keepdims": 0}, opset=13),
    case("ReduceLogSum", {"x": positive(2, 3, 4)}, {"axes": [1]}, opset=13),
    case("ReduceLogSumExp", {"x": randn(2, 3, 4) * 30}, {"axes": [2], "keepdims": 0}, opset=13),
    case("ReduceSumSquare", {"x": randn(3, 5)}, opset=13),
    case("ReduceSumSquare", {"x": randn(3, 5), "axes": Init(np.array([0], np.int64))},
         {"keepdims": 0}, opset=18, id="ReduceSumSquare-opset18"),
    case("ReduceL1", {"x": RNG.integers(-9, 9, (3, 4)).astype(np.int64)}, {"axes": [1]},
         opset=13, id="ReduceL1-int64"),
    case("Mod", {"a": RNG.integers(-20, 20, (3, 4)).astype(np.int64),
                 "b": np.array([3, -3, 7, -1], np.int64)}, opset=13, id="Mod-int64"),
    case("Mod", {"a": RNG.integers(-20, 20, (3, 4)).astype(np.int32),
                 "b": np.array([3, -3, 7, -1], np.int32)}, {"fmod": 1}, opset=13,
         id="Mod-int32-fmod"),
    case("Mod", {"a": RNG.integers(-100, 100, (5,)).astype(np.int8),
                 "b": np.array([3, -3, 7, -1, 9], np.int8)}, opset=13, id="Mod-int8"),
    case("Mod", {"a": randn(3, 4) * 10, "b": np.array([2.5, -1.5, 0.75, -4.0], np.float32)},
         {"fmod": 1}, opset=13, id="Mod-float-fmod"),
    # C fmod's edges: fmod(a, +-inf) = a; an infinite a or a zero b gives NaN.
    case("Mod", {"a": np.array([3, -3, np.inf, -np.inf, 1, 5, np.nan, -0.0], np.float32),
                 "b": np.array([np.inf, -np.inf, 2, 2, 0, -0.0, 2, 3], np.float32)},
         {"fmod": 1}, opset=13, id="Mod-float-fmod-edges"),
    case("Shrink", {"x": randn(4, 5) * 2}, {"bias": 0.5, "lambd": 1.0}, opset=13),
    case("Hardmax", {"x": randn(3, 4, 5)}, {"axis": 1}, opset=13),
    # Ties: the first maximum wins.
    case("Hardmax", {"x": np.array([[1, 3, 3, 2], [4, 4, 4, 4]], np.float32)}, opset=13,
         id="Hardmax-ties"),
    case("EyeLike", {"x": randn(3, 5)}, {"k": -1, "dtype": TensorProto.INT64}, opset=13),
    case("InstanceNormalization", {"x": randn(2, 3, 4, 5) * 3 + 1, "s": randn(3), "b": randn(3)},
         {"epsilon": 1e-3}, opset=13),
    case("GatherND", {"d": randn(4, 5, 3), "i": np.array([[1, -2], [3, 0], [-4, 4]], np.int64)},
         opset=13),
    case("GatherND", {"d": randn(2, 3, 4, 5), "i": RNG.integers(-3, 3, (2, 6, 2)).astype(np.int64)},
         {"batch_dims": 1}, opset=13, id="GatherND-batch"),
    case("GatherND", {"d": randn(3, 4), "i": np.array([2, -1], np.int64)}, opset=13,
         id="GatherND-scalar"),
    case("LRN", {"x": randn(2, 6, 3, 4)}, {"size": 5, "alpha": 0.01, "beta": 0.6, "bias": 1.5},
         opset=13),
]


@pytest.mark.parametrize("spec", CASES)
def test_matches_onnxruntime(mpc_run, spec):
    model, feeds = build_model(spec)
    expected = run_onnxruntime(model, feeds)
    actual = mpc_run(model, feeds)
    for name, reference in expected.items():
        assert actual[name].dtype == reference.dtype, name
        assert actual[name].shape == reference.shape, name
        np.testing.assert_allclose(actual[name], reference, rtol=spec["rtol"], atol=spec["atol"])


@pytest.mark.parametrize("spec", CASES)
def test_cuda_schedule_matches_onnxruntime(mpc_run, spec):
    model, feeds = build_model(spec)
    expected = run_onnxruntime(model, feeds)
    proc, out = mpc_run.invoke(model, feeds, extra_args=["--cuda-schedule"])
    assert proc.returncode == 0, proc.stderr
    for name, reference in expected.items():
        np.testing.assert_allclose(load_npy(out / output_file_name(name)), reference,
                                   rtol=spec["rtol"], atol=spec["atol"])


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_ptxas_accepts_every_kernel(tmp_path, precision, arch):
    if not PTXAS.exists():
        pytest.skip(f"{PTXAS} absent (the CUDA toolkit's assembler)")
    for i, spec in enumerate(CASES):
        model, _ = build_model(spec.values[0])
        onnx_path, ptx = tmp_path / f"m{i}.onnx", tmp_path / f"m{i}.ptx"
        onnx_path.write_bytes(model.SerializeToString())
        subprocess.run([str(BUILD_DIR / "bin" / "mpc-compile"), str(onnx_path), "--infer",
                        "--target", "cuda", "--precision", precision, "--emit", "ptx",
                        "--cuda-arch", arch, "-o", str(ptx)], check=True, capture_output=True)
        proc = subprocess.run([str(PTXAS), f"-arch={arch}", str(ptx), "-o", "/dev/null"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, f"{spec.id}: {proc.stderr[-2000:]}"


LOW_PRECISION_CASES = [c for c in CASES if c.id in {
    "NLL-NCd1d2-weight-ii-mean", "SoftmaxCrossEntropyLoss", "SCE-4d-weight-ii-int32",
    "ReduceL2", "ReduceLogSumExp", "InstanceNormalization", "LRN"}]


@pytest.mark.parametrize("precision,tolerance", [("bf16", 3e-2), ("fp16", 4e-3)])
@pytest.mark.parametrize("spec", LOW_PRECISION_CASES)
def test_low_precision_is_close(mpc_run, spec, precision, tolerance):
    model, feeds = build_model(spec)
    expected = run_onnxruntime(model, feeds)
    actual = mpc_run(model, feeds, precision)
    for name, reference in expected.items():
        assert normalized_error(actual[name], reference) <= tolerance, name


def imported_gradient(tmp_path, nodes, inputs, feed):
    """Imports an f64 graph whose output "loss" is a scalar, makes input "x"
    the parameter, and compares mpc-autodiff's gradient of x with central
    differences of the same program along random directions. Returns it."""
    if not MPC_TRANSLATE.exists():
        pytest.skip("mpc-translate not built")
    graph = helper.make_graph(nodes, "g", inputs,
                              [helper.make_tensor_value_info("loss", TensorProto.DOUBLE, [])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    imported = subprocess.run([str(MPC_TRANSLATE), "--import-onnx", str(tmp_path / "m.onnx")],
                              capture_output=True, text=True, check=True).stdout
    module = imported.replace('{mpc.name = "x"}', '{mpc.name = "x", mpc.role = "param"}')
    module = re.sub(r'\{mpc.name = "loss"\}', '{mpc.name = "loss", mpc.role = "loss"}', module)
    runner = GradientRunner(tmp_path)
    x = feed["x"]
    grad = autodiff_gradients(runner, module, feed, {"x": x})["x"]
    eps = 1e-6
    for v in directions(x.shape, RNG):
        up = float(runner.run(module, {**feed, "x": x + eps * v}, ["loss"])["loss"])
        down = float(runner.run(module, {**feed, "x": x - eps * v}, ["loss"])["loss"])
        np.testing.assert_allclose(np.sum(grad * v), (up - down) / (2 * eps), rtol=1e-6, atol=1e-8)
    return grad


def f64_input(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.DOUBLE, shape)


def test_softmax_cross_entropy_gradient(tmp_path):
    """The imported SCE (weights, ignore_index, mean)."""
    node = helper.make_node("SoftmaxCrossEntropyLoss", ["x", "t", "w"], ["loss"], ignore_index=1)
    inputs = [f64_input("x", [3, 4, 2]), helper.make_tensor_value_info("t", TensorProto.INT64, [3, 2]),
              f64_input("w", [4])]
    feed = {"x": RNG.standard_normal((3, 4, 2)), "t": np.array([[0, 1], [3, 2], [1, 1]], np.int64),
            "w": RNG.uniform(0.5, 2, 4)}
    grad = imported_gradient(tmp_path, [node], inputs, feed)
    # Elements whose target is ignore_index get no gradient.
    assert np.all(grad[2, :, :] == 0) and np.all(grad[0, :, 1] == 0)


@pytest.mark.parametrize("op,attrs,extra,y_shape", [
    ("InstanceNormalization", {"epsilon": 1e-3}, ["s", "b"], [2, 3, 4]),
    ("ReduceLogSumExp", {"axes": [1], "keepdims": 0}, [], [2, 4]),
    ("LRN", {"size": 3, "alpha": 0.5}, [], [2, 3, 4]),
])
def test_composite_gradient(tmp_path, op, attrs, extra, y_shape):
    """sum(op(x, ...) * c) for a fixed random c, so every output element counts."""
    shape = [2, 3, 4]
    nodes = [helper.make_node(op, ["x", *extra], ["y"], **attrs),
             helper.make_node("Mul", ["y", "c"], ["yc"]),
             helper.make_node("ReduceSum", ["yc"], ["loss"], keepdims=0)]
    feed = {"x": RNG.standard_normal(shape) * 2, "c": RNG.uniform(-1.5, 1.5, y_shape),
            **{name: RNG.uniform(0.5, 1.5, 3) for name in extra}}
    inputs = [f64_input("x", shape), f64_input("c", y_shape)] + [f64_input(n, [3]) for n in extra]
    imported_gradient(tmp_path, nodes, inputs, feed)
