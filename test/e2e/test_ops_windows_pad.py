"""The window functions (lib/Import/ImportSignal.cpp), MeanVarianceNormalization
(ImportNormalization.cpp) and Pad's edge, reflect and wrap modes (ImportShape.cpp):

1. each against onnxruntime in fp32 (test_ops.py's harness: one node per case),
   a window's size also as a graph input whose value mpc-run specializes on;
2. the gradients of MVN and of the padding modes against central differences in
   f64, on the IR the importer builds (PyTorch's reflect/replicate pad gradients
   are compared in gradient_cases.py's pad_* rows);
3. the errors for bad attributes and inputs, each naming the node.
"""
import re
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from mpc_e2e import load_npy, output_file_name, ptx_accepted_by_ptxas, run_onnxruntime
from test_gradients import MPC_TRANSLATE, check_gradients, runner  # noqa: F401 (fixture)
from test_ops import Init, build_model, case, check_against_onnxruntime

RNG = np.random.default_rng(1617)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def pads(*values):
    return Init(np.array(values, np.int64))


WINDOWS = ["HannWindow", "HammingWindow", "BlackmanWindow"]

CASES = [
    *[case(op, {"size": Init(np.int64(10))}, opset=17, id=f"{op}-periodic") for op in WINDOWS],
    *[case(op, {"size": Init(np.int32(7))}, {"periodic": 0}, opset=17, id=f"{op}-symmetric")
      for op in WINDOWS],
    # onnxruntime computes a double window in float precision: the exact
    # comparison is test_double_window_matches_the_reference.
    *[case(op, {"size": np.array(9, np.int64)}, {"output_datatype": TensorProto.DOUBLE}, opset=17,
           id=f"{op}-size-input-f64", rtol=1e-6) for op in WINDOWS],
    case("MeanVarianceNormalization", {"x": randn(2, 3, 4, 5)}, opset=13, rtol=1e-4, atol=1e-5),
    case("MeanVarianceNormalization", {"x": randn(3, 6, 4) * 3 + 1}, {"axes": [-1]}, opset=13,
         id="MeanVarianceNormalization-last-axis", rtol=1e-4, atol=1e-5),
    case("MeanVarianceNormalization", {"x": randn(4, 5)}, {"axes": [0, 1]}, opset=13,
         id="MeanVarianceNormalization-all-axes", rtol=1e-4, atol=1e-5),
    case("Pad", {"x": randn(2, 3, 4, 5), "p": pads(0, 0, 1, 2, 0, 0, 2, 1)}, {"mode": "edge"},
         opset=18, id="Pad-edge"),
    case("Pad", {"x": randn(2, 3, 4, 5), "p": pads(0, 0, 3, 2, 0, 0, 1, 4)}, {"mode": "reflect"},
         opset=18, id="Pad-reflect"),
    case("Pad", {"x": randn(2, 3, 4), "p": pads(1, 2, 0, 2, 5, 3)}, {"mode": "wrap"}, opset=19,
         id="Pad-wrap"),
    case("Pad", {"x": randn(3, 4), "p": pads(2, 1), "v": Init(np.float32(0)), "axes": Init(np.array([-1]))},
         {"mode": "reflect"}, opset=18, id="Pad-reflect-axes"),
    case("Pad", {"x": RNG.integers(-9, 9, (3, 4)).astype(np.int64), "p": pads(1, 0, 2, 3)},
         {"mode": "edge"}, opset=18, id="Pad-edge-int64"),
    case("Pad", {"x": randn(1, 5), "p": pads(0, 0, 0, 3)}, {"mode": "reflect"}, opset=18,
         id="Pad-reflect-single-row"),
]


@pytest.mark.parametrize("spec", CASES)
def test_op_matches_onnxruntime(mpc_run, spec):
    check_against_onnxruntime(mpc_run, spec)


@pytest.mark.parametrize("op", WINDOWS)
@pytest.mark.parametrize("periodic", [0, 1])
def test_double_window_matches_the_reference(mpc_run, op, periodic):
    """In double, the window is ONNX's reference implementation's to the last bits."""
    spec = case(op, {"size": Init(np.int64(33))}, {"periodic": periodic, "output_datatype": TensorProto.DOUBLE},
                opset=17)
    model, feeds = build_model(spec.values[0])
    expected = ReferenceEvaluator(model).run(None, feeds)[0]
    np.testing.assert_allclose(mpc_run(model, feeds)["y0"], expected, rtol=0, atol=1e-15)


def test_mean_variance_normalization_of_a_constant_is_zero(mpc_run):
    """A zero variance gives (X - mean) / 1e-9 = 0, as ONNX's function body
    (its reference implementation) does; onnxruntime gives NaN there."""
    spec = case("MeanVarianceNormalization", {"x": np.full((2, 1, 2, 2), 0.5, np.float32)}, opset=13)
    model, feeds = build_model(spec.values[0])
    expected = ReferenceEvaluator(model).run(None, feeds)[0]
    np.testing.assert_array_equal(expected, 0)
    np.testing.assert_array_equal(mpc_run(model, feeds)["y0"], expected)


@pytest.mark.parametrize("mode", ["edge", "reflect", "wrap"])
def test_pad_longer_than_the_axis(mpc_run, mode):
    """Pads longer than the axis repeat the pattern, as numpy's pad (ONNX's
    reference) does; onnxruntime refuses reflect pads beyond size - 1."""
    x = randn(2, 3)
    spec = case("Pad", {"x": x, "p": pads(0, 5, 0, 7)}, {"mode": mode}, opset=19)
    model, feeds = build_model(spec.values[0])
    np.testing.assert_array_equal(mpc_run(model, feeds)["y0"], np.pad(x, ((0, 0), (5, 7)), mode))


@pytest.mark.parametrize("mode", ["edge", "reflect", "wrap"])
def test_pad_crops_then_pads(mpc_run, mode):
    """Negative pads crop first, the positive ones pad what is left (numpy's
    pad of the cropped array; onnxruntime does the same for edge and reflect)."""
    x = randn(4, 6)
    spec = case("Pad", {"x": x, "p": pads(-1, 2, 1, -3)}, {"mode": mode}, opset=19)
    model, feeds = build_model(spec.values[0])
    expected = np.pad(x[1:, :3], ((0, 1), (2, 0)), mode)
    np.testing.assert_array_equal(mpc_run(model, feeds)["y0"], expected)
    if mode != "wrap":
        np.testing.assert_array_equal(run_onnxruntime(model, feeds)["y0"], expected)


def cuda_model():
    """Reflect, edge and wrap padding, MVN and a Hann window in one model."""
    nodes = [helper.make_node("Pad", ["x", "p_reflect"], ["reflected"], mode="reflect"),
             helper.make_node("Pad", ["reflected", "p_edge"], ["edged"], mode="edge"),
             helper.make_node("Pad", ["edged", "p_wrap"], ["wrapped"], mode="wrap"),
             helper.make_node("MeanVarianceNormalization", ["wrapped"], ["mvn"]),
             helper.make_node("HannWindow", ["size"], ["window"]),
             helper.make_node("Mul", ["mvn", "window"], ["y"])]
    inits = [onnx.numpy_helper.from_array(np.array(v, np.int64), n) for n, v in [
        ("p_reflect", [0, 0, 1, 2, 0, 0, 2, 1]), ("p_edge", [0, 0, 0, 1, 0, 0, 0, 0]),
        ("p_wrap", [0, 0, 1, 0, 0, 0, 0, 0]), ("size", 10)]]
    graph = helper.make_graph(nodes, "pads", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 10, 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cuda_schedule_matches_cpu_target(mpc_run, precision):
    model, feeds = cuda_model(), {"x": randn(2, 3, 6, 6)}
    results = {}
    for flag in [(), ("--cuda-schedule",)]:
        proc, out = mpc_run.invoke(model, feeds, precision, extra_args=flag)
        assert proc.returncode == 0, proc.stderr
        results[flag] = load_npy(out / output_file_name("y"))
    np.testing.assert_allclose(results[("--cuda-schedule",)], results[()], rtol=1e-6, atol=1e-6)
    if precision == "fp32":
        np.testing.assert_allclose(results[()], run_onnxruntime(model, feeds)["y"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_ptxas_accepts_the_kernels(tmp_path, precision):
    ptx_accepted_by_ptxas(cuda_model(), tmp_path, precision)


def imported_body(tmp_path, op, attrs, x, inits=(), opset=18):
    """The f64 body mpc-translate imports for one node of `op` on input %arg0,
    the result's SSA name and its shape."""
    node = helper.make_node(op, ["in0"] + [n for n, _ in inits], ["y"], **attrs)
    graph = helper.make_graph([node], op, [helper.make_tensor_value_info("in0", TensorProto.DOUBLE, x.shape)],
                              [helper.make_empty_tensor_value_info("y")],
                              [onnx.numpy_helper.from_array(v, n) for n, v in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / f"{op}.onnx"
    onnx.save(model, str(path))
    proc = subprocess.run([str(MPC_TRANSLATE), "--import-onnx", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "func.func @main" in line) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("return"))
    result, dims = re.match(r"\s*return (%[\w.]+) : tensor<([\dx]*)f64>", lines[end]).groups()
    shape = tuple(int(d) for d in dims.split("x") if d)
    return "\n".join(lines[start:end]), result[1:], shape


@pytest.mark.parametrize("mode,p", [("edge", [1, 0, 2, 3]), ("reflect", [2, -1, 1, 2]),
                                    ("wrap", [0, 4, 1, 2])])
def test_pad_gradient(runner, tmp_path, mode, p):
    x = RNG.standard_normal((3, 4))
    body, out, shape = imported_body(tmp_path, "Pad", {"mode": mode}, x, [("p", np.array(p, np.int64))],
                                     opset=19)
    assert "mpc.gather" in body
    check_gradients(runner, {"arg0": x}, body, out, shape)


@pytest.mark.parametrize("axes", [None, [1]])
def test_mean_variance_normalization_gradient(runner, tmp_path, axes):
    x = RNG.standard_normal((2, 3, 2, 2))
    body, out, shape = imported_body(tmp_path, "MeanVarianceNormalization", {"axes": axes} if axes else {}, x)
    check_gradients(runner, {"arg0": x}, body, out, shape, rtol=1e-5)


def import_error(tmp_path, node, inputs, inits=(), opset=17):
    graph = helper.make_graph([node], "bad", inputs, [helper.make_empty_tensor_value_info("y")],
                              [onnx.numpy_helper.from_array(v, n) for n, v in inits])
    path = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    proc = subprocess.run([str(MPC_TRANSLATE), "--import-onnx", str(path)], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    return proc.stderr


X23 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
SIZE = helper.make_tensor_value_info("size", TensorProto.INT64, [])


@pytest.mark.parametrize("node,inputs,inits,opset,message", [
    (helper.make_node("HannWindow", ["size"], ["y"], name="w", output_datatype=TensorProto.BOOL), [],
     [("size", np.array(4, np.int64))], 17, r"node 'w' \(HannWindow, opset 17\): output_datatype 9 \(bool\) "
     r"is not supported; use a float or integer type"),
    (helper.make_node("HammingWindow", ["size"], ["y"], name="w"), [], [("size", np.array(-2, np.int64))], 17,
     r"node 'w' \(HammingWindow, opset 17\): size must be in \[0, 4194304\], got -2"),
    (helper.make_node("BlackmanWindow", ["size"], ["y"], name="w", periodic=2), [],
     [("size", np.array(4, np.int64))], 17, r"node 'w' \(BlackmanWindow, opset 17\): periodic must be 0 or 1, got 2"),
    (helper.make_node("HannWindow", ["size"], ["y"], name="w"), [SIZE], [], 17,
     r"node 'w' \(HannWindow, opset 17\): .*'size'.*--onnx-input-value"),
    (helper.make_node("HannWindow", ["size"], ["y"], name="w"), [], [("size", np.array(4.0, np.float32))], 17,
     r"node 'w' \(HannWindow, opset 17\): size must be an int32 or int64 scalar, got float"),
    (helper.make_node("MeanVarianceNormalization", ["x"], ["y"], name="mvn"), [X23], [], 13,
     r"node 'mvn' \(MeanVarianceNormalization, opset 13\): .*axes"),
    (helper.make_node("MeanVarianceNormalization", ["x"], ["y"], name="mvn", axes=[0]),
     [helper.make_tensor_value_info("x", TensorProto.INT64, [2, 3])], [], 13,
     r"node 'mvn' \(MeanVarianceNormalization, opset 13\): X must be a float tensor, got int64"),
    (helper.make_node("Pad", ["x", "p"], ["y"], name="pad", mode="wrap"), [X23], [("p", np.array([0, 1, 0, 1]))],
     18, r"node 'pad' \(Pad, opset 18\): mode \"wrap\" needs opset 19, the model's is 18"),
    (helper.make_node("Pad", ["x", "p"], ["y"], name="pad", mode="mirror"), [X23], [("p", np.array([0, 1, 0, 1]))],
     19, r"node 'pad' \(Pad, opset 19\): mode \"mirror\" is not supported; use constant, edge, reflect or wrap"),
    (helper.make_node("Pad", ["x", "p"], ["y"], name="pad", mode="reflect"), [X23], [("p", np.array([0, -3, 0, 1]))],
     19, r"node 'pad' \(Pad, opset 19\): cannot pad axis 1 in mode \"reflect\": it has no elements"),
    (helper.make_node("Pad", ["x", "p"], ["y"], name="pad", mode="edge"), [X23], [("p", np.array([0, -4, 0, 2]))],
     19, r"node 'pad' \(Pad, opset 19\): pads crop more than dim 1 of size 3"),
], ids=["window-bool", "window-negative", "window-periodic", "window-size-unknown", "window-float-size",
        "mvn-axes-rank", "mvn-int", "pad-wrap-opset", "pad-mode", "pad-empty-axis", "pad-overcrop"])
def test_errors_name_the_node(tmp_path, node, inputs, inits, opset, message):
    assert re.search(message, import_error(tmp_path, node, inputs, inits, opset))
