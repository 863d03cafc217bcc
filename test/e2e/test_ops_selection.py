"""OneHot, Compress, the Scatter reductions mul/max/min and the ops ONNX's
version converter replaces (Scatter, Upsample), each one ONNX node run by
mpc-run (fp32) and onnxruntime (issue #16)."""
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mpc_e2e import BUILD_DIR, output_file_name, ptx_accepted_by_ptxas, run_onnxruntime
from test_ops import Init, build_model, case, check_against_onnxruntime

RNG = np.random.default_rng(1616)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def ints(*values):
    return np.array(values, np.int64)


CASES = [
    # OneHot: depth a constant or a graph input whose value specializes the
    # program; values a constant or computed.
    case("OneHot", {"i": ints(0, 3, -1, 2), "d": Init(ints(4)),
                    "v": Init(np.array([0, 1], np.float32))}, opset=11),
    case("OneHot", {"i": np.array([[1.7, -2.0], [4.0, 0.0]], np.float32),
                    "d": Init(np.array(3, np.float32)), "v": np.array([-2, 5], np.float32)},
         {"axis": 1}, opset=11, id="OneHot-float-indices-axis1"),
    case("OneHot", {"i": np.array([[0, 5], [-6, 2]], np.int32), "d": np.array([5], np.int32),
                    "v": Init(np.array([3, 7], np.float32))}, {"axis": -3}, opset=11,
         id="OneHot-depth-input-out-of-range"),
    case("OneHot", {"i": ints(1, -1), "d": Init(ints(2)), "v": Init(ints(3, 7))}, opset=11,
         id="OneHot-int64-values"),
    case("OneHot", {"i": ints(2, 0), "d": Init(ints(3)),
                    "v": Init(np.array([0, 1], np.float32))}, opset=9, id="OneHot-opset9"),
    # Compress: a gather at the condition's true positions.
    case("Compress", {"x": randn(3, 4), "c": Init(np.array([True, False, True]))},
         {"axis": 0}, opset=11),
    case("Compress", {"x": randn(2, 5, 3), "c": np.array([False, True, True, False])},
         {"axis": -2}, opset=11, id="Compress-condition-input-short"),
    case("Compress", {"x": randn(2, 3), "c": Init(np.array([0, 1, 0, 1, 1], bool))},
         opset=11, id="Compress-flattened"),
    # Scatter reductions: mul (opset 16), max and min (opset 18).
    case("ScatterElements", {"x": randn(3, 4), "i": ints([1, 1, 0], [2, -1, 2]),
                             "u": randn(2, 3)}, {"axis": 0, "reduction": "mul"}, opset=16,
         id="ScatterElements-mul"),
    case("ScatterElements", {"x": randn(2, 5), "i": ints([4, 4, 0, 1]), "u": randn(1, 4)},
         {"axis": 1, "reduction": "max"}, opset=18, id="ScatterElements-max"),
    case("ScatterElements", {"x": randn(2, 5), "i": ints([4, 4, 0], [3, 3, 3]),
                             "u": randn(2, 3)}, {"axis": 1, "reduction": "min"}, opset=18,
         id="ScatterElements-min"),
    case("ScatterND", {"x": randn(4, 3), "i": ints([2], [0], [2]), "u": randn(3, 3)},
         {"reduction": "mul"}, opset=16, id="ScatterND-mul"),
    case("ScatterND", {"x": randn(4, 3, 2), "i": ints([1, 2], [-3, 2], [0, 0]),
                       "u": randn(3, 2)}, {"reduction": "max"}, opset=18, id="ScatterND-max"),
    case("ScatterND", {"x": randn(4, 3), "i": Init(ints([[3]], [[3]])), "u": randn(2, 1, 3)},
         {"reduction": "min"}, opset=18, id="ScatterND-min-constant-indices"),
    # Removed ops, upgraded by the version converter.
    case("Scatter", {"x": randn(3, 4), "i": ints([1, -1], [0, 2]), "u": randn(2, 2)},
         {"axis": 1}, opset=10),
    case("Upsample", {"x": randn(1, 2, 2, 3)}, {"scales": [1.0, 1.0, 2.0, 3.0]}, opset=7),
    case("Upsample", {"x": randn(1, 1, 3, 2), "s": Init(np.array([1, 1, 2, 2.5], np.float32))},
         {"mode": "linear"}, opset=9, id="Upsample-linear"),
    case("Upsample", {"x": randn(1, 2, 3, 2), "s": np.array([1, 1, 3, 2], np.float32)},
         {"mode": "nearest"}, opset=9, id="Upsample-scales-input"),
]


@pytest.mark.parametrize("spec", CASES)
def test_selection_op_matches_onnxruntime(mpc_run, spec):
    check_against_onnxruntime(mpc_run, spec)


def build_model_untyped_output(spec):
    """One node whose output is declared without a shape (ONNX's shape
    inference would reject the bad nodes first)."""
    from onnx import numpy_helper
    inputs, inits, feeds = [], [], {}
    for name, value in spec["inputs"].items():
        if isinstance(value, Init):
            inits.append(numpy_helper.from_array(value.value, name))
        else:
            inputs.append(helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape))
            feeds[name] = value
    node = helper.make_node(spec["op"], list(spec["inputs"]), ["y0"], name="node", **spec["attrs"])
    graph = helper.make_graph([node], spec["op"], inputs,
                              [helper.make_tensor_value_info("y0", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", spec["opset"])]), feeds


@pytest.mark.parametrize("op,inputs,attrs,opset,message", [
    ("OneHot", {"i": ints(0, 1), "d": Init(ints(0)), "v": Init(np.array([0, 1], np.float32))},
     {}, 13, "depth must be a whole number in [1, "),
    ("OneHot", {"i": ints(0, 1), "d": Init(ints(3)), "v": Init(np.array([0, 1, 2], np.float32))},
     {}, 13, "values must hold two elements [off, on], got shape 3"),
    ("OneHot", {"i": ints(0, 1), "d": Init(ints(3)), "v": Init(np.array([0, 1], np.float32))},
     {"axis": 2}, 13, "axis"),
    ("Compress", {"x": randn(2, 3), "c": Init(np.array([False, False]))}, {"axis": 0}, 13,
     "condition selects nothing"),
    ("Compress", {"x": randn(2, 3), "c": Init(np.array([False, False, True]))}, {"axis": 0}, 13,
     "condition selects position 2, beyond the 2 elements it filters"),
    ("ScatterElements", {"x": randn(2, 3), "i": Init(ints([0])), "u": randn(1, 1)},
     {"reduction": "max"}, 16, 'reduction "max" is not supported at opset 16'),
    ("ScatterND", {"x": randn(2, 3), "i": Init(ints([0])), "u": randn(1, 3)},
     {"reduction": "maximum"}, 18, 'reduction "maximum" is not supported at opset 18'),
])
def test_selection_op_rejects_bad_input(mpc_run, op, inputs, attrs, opset, message):
    spec = dict(op=op, inputs=inputs, attrs=attrs, opset=opset, outputs=1)
    model, feeds = build_model_untyped_output(spec)
    proc, _ = mpc_run.invoke(model, feeds)
    assert proc.returncode != 0
    assert f"({op}, opset {opset})" in proc.stderr and message in proc.stderr, proc.stderr
    assert "Assertion" not in proc.stderr and "Sanitizer" not in proc.stderr


def test_compress_computed_condition_names_the_input_and_flag(tmp_path):
    """A condition computed from a graph input decides the output shape: the
    error names the input and the flag that gives its value."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [3])
    nodes = [helper.make_node("Greater", ["c", "zero"], ["mask"], name="positive"),
             helper.make_node("Compress", ["x", "mask"], ["y"], name="compress", axis=1)]
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    graph = helper.make_graph(nodes, "g", [x, c],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [zero])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / "compress.onnx"
    onnx.save(model, str(path))
    translate = BUILD_DIR / "bin" / "mpc-translate"
    if not translate.exists():
        pytest.skip(f"{translate} not built (set MPC_BUILD_DIR)")
    proc = subprocess.run([str(translate), "--import-onnx", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0
    assert "node 'compress' (Compress, opset 13)" in proc.stderr, proc.stderr
    assert "graph input 'c'" in proc.stderr and "--onnx-input-value c=FILE.npy" in proc.stderr


def test_scatter_at_a_later_opset_names_the_opsets(mpc_run):
    spec = dict(op="Scatter", inputs={"x": randn(2, 3), "i": Init(ints([0])), "u": randn(1, 1)},
                attrs={}, opset=13, outputs=1)
    model, feeds = build_model_untyped_output(spec)
    proc, _ = mpc_run.invoke(model, feeds)
    assert proc.returncode != 0
    assert "(Scatter, opset 13): the op exists only at opsets 9 to 10" in proc.stderr, \
        proc.stderr


# The CUDA target: each case's kernel schedule run on the CPU
# (mpc-run --cuda-schedule) against onnxruntime, and each case's kernels
# through ptxas.
@pytest.mark.parametrize("spec", CASES)
def test_selection_op_cuda_schedule_matches_onnxruntime(mpc_run, spec):
    model, feeds = build_model(spec)
    expected = run_onnxruntime(model, feeds)
    proc, out = mpc_run.invoke(model, feeds, extra_args=["--cuda-schedule"])
    assert proc.returncode == 0, proc.stderr
    for name, reference in expected.items():
        result = np.load(out / output_file_name(name))
        assert result.shape == reference.shape, name
        np.testing.assert_allclose(result, reference, rtol=spec["rtol"], atol=spec["atol"])


@pytest.mark.parametrize("spec", CASES)
def test_selection_op_passes_ptxas(tmp_path, spec):
    model, feeds = build_model(spec)
    values = []
    for name, value in feeds.items():
        if name in ("d", "c", "s"):  # shape-deciding inputs: given, the program specializes
            np.save(tmp_path / f"{name}.npy", value)
            values += ["--onnx-input-value", f"{name}={tmp_path / f'{name}.npy'}"]
    ptx_accepted_by_ptxas(model, tmp_path, arch="sm_80", extra_args=values)


# Gradients: the reductions mul/max/min and Compress become ops with
# gradient rules (equal/where/reduce_*/max/min/mul, gather). mpc's gradient
# of the mse loss is compared with central differences of a float64 numpy
# forward (random data: no ties between maxima).
def scatter_elements_reference(x, i, u, axis, reduction):
    y = x.astype(np.float64).copy()
    combine = {"mul": np.multiply, "max": np.maximum, "min": np.minimum}[reduction]
    for pos in np.ndindex(*i.shape):
        target = list(pos)
        target[axis] = i[pos]
        y[tuple(target)] = combine(y[tuple(target)], u[pos])
    return y


SELECTION_GRAD_CASES = [
    pytest.param("mul", ints([1, 3], [0, 3]), id="ScatterElements-mul"),
    pytest.param("max", ints([1, 1], [2, 0]), id="ScatterElements-max"),
    pytest.param("min", ints([3, 3], [2, 2]), id="ScatterElements-min"),
]


@pytest.mark.parametrize("reduction,indices", SELECTION_GRAD_CASES)
def test_scatter_reduction_gradients(mpc_run, reduction, indices):
    from test_ops_structural import grad_model
    params = {"x": randn(3, 4), "u": randn(2, 2)}
    model = grad_model("ScatterElements", params, {"i": indices}, ["x", "i", "u"],
                       {"axis": 1, "reduction": reduction})
    target = randn(3, 4)

    def loss(p):
        y = scatter_elements_reference(p["x"], indices, p["u"], 1, reduction)
        return np.mean((y - target) ** 2)

    work = mpc_run.tmp_path / "grad"
    work.mkdir()
    onnx.save(model, str(work / "model.onnx"))
    proc = subprocess.run([str(BUILD_DIR / "bin" / "mpc-opt"), str(work / "model.onnx"),
                           "--mpc-append-loss=loss=mse label=target",
                           "--mpc-parameters-to-arguments", "--mpc-autodiff",
                           "-o", str(work / "grad.mlir")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    run, out = mpc_run.invoke((work / "grad.mlir").read_text(),
                              dict(params, i=indices, target=target), precision="none",
                              extra_args=["--entry", "main"])
    assert run.returncode == 0, run.stderr
    np.testing.assert_allclose(np.load(out / output_file_name("loss")), loss(params), rtol=1e-5)
    wide = {k: v.astype(np.float64) for k, v in params.items()}
    for name, value in wide.items():
        grad = np.load(out / output_file_name(name))
        expected = np.zeros_like(value)
        for pos in np.ndindex(*value.shape):
            plus, minus = dict(wide), dict(wide)
            plus[name], minus[name] = value.copy(), value.copy()
            plus[name][pos] += 1e-6
            minus[name][pos] -= 1e-6
            expected[pos] = (loss(plus) - loss(minus)) / 2e-6
        np.testing.assert_allclose(grad, expected, rtol=1e-4, atol=1e-6, err_msg=name)
