"""Structural ops (issue #16): ConvTranspose, Resize, Einsum, GatherElements,
TopK, Tile, DepthToSpace/SpaceToDepth, each one ONNX node run by mpc-run
(fp32) and onnxruntime (same harness as test_ops.py), plus the gradients
the rewrites give, checked by finite differences of the fp32 forward."""
import numpy as np
import pytest
from onnx import TensorProto, helper

from mpc_e2e import output_file_name, run_onnxruntime
from test_ops import Init, build_model, case, check_against_onnxruntime

RNG = np.random.default_rng(16)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def const(*values):
    return Init(np.array(values, np.int64))


def scales(*values):
    return Init(np.array(values, np.float32))


NONE = Init(np.zeros(0, np.float32))

CASES = [
    # ConvTranspose: mpc.conv_grad_input with the conv's attributes.
    case("ConvTranspose", {"x": randn(1, 3, 5, 5), "w": Init(randn(3, 4, 3, 3)),
                           "b": Init(randn(4))}),
    case("ConvTranspose", {"x": randn(2, 4, 4, 3), "w": Init(randn(4, 3, 3, 2))},
         {"group": 2, "strides": [2, 3], "pads": [1, 0, 0, 1], "output_padding": [1, 2],
          "dilations": [1, 2]}, id="ConvTranspose-grouped-strided"),
    case("ConvTranspose", {"x": randn(1, 2, 5, 4), "w": Init(randn(2, 3, 3, 3))},
         {"strides": [2, 2], "auto_pad": "SAME_UPPER"}, id="ConvTranspose-same-upper"),
    case("ConvTranspose", {"x": randn(1, 2, 5, 4), "w": Init(randn(2, 3, 3, 3))},
         {"strides": [2, 2], "auto_pad": "SAME_LOWER"}, id="ConvTranspose-same-lower"),
    case("ConvTranspose", {"x": randn(1, 2, 3, 3), "w": Init(randn(2, 2, 3, 3))},
         {"strides": [3, 2], "output_shape": [10, 8]}, id="ConvTranspose-output-shape"),
    case("ConvTranspose", {"x": randn(2, 3, 7), "w": Init(randn(3, 2, 4))},
         {"strides": [2]}, id="ConvTranspose-1d"),
    # Resize: per-axis gathers (nearest) and blends (linear).
    case("Resize", {"x": randn(1, 2, 3, 4), "roi": NONE, "s": scales(1, 1, 2, 1.5)},
         {"mode": "nearest"}, id="Resize-nearest-half-pixel"),
    case("Resize", {"x": randn(1, 2, 4, 5), "roi": NONE, "s": scales(1, 1, 0.6, 2.2)},
         {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
          "nearest_mode": "floor"}, id="Resize-nearest-asymmetric-floor"),
    case("Resize", {"x": randn(1, 1, 4, 4), "roi": NONE, "s": NONE,
                    "sizes": const(1, 1, 7, 3)},
         {"mode": "nearest", "coordinate_transformation_mode": "align_corners",
          "nearest_mode": "round_prefer_ceil"}, id="Resize-nearest-sizes-align-corners"),
    case("Resize", {"x": randn(2, 3, 4, 5), "roi": NONE, "s": scales(1, 1, 2, 2)},
         {"mode": "linear"}, id="Resize-linear-half-pixel"),
    case("Resize", {"x": randn(1, 2, 6, 5), "roi": NONE, "s": NONE, "sizes": const(1, 2, 4, 9)},
         {"mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"},
         id="Resize-linear-pytorch-half-pixel"),
    case("Resize", {"x": randn(1, 2, 3, 5), "roi": NONE, "s": scales(1, 1, 2, 1.6)},
         {"mode": "linear", "coordinate_transformation_mode": "align_corners"},
         id="Resize-linear-align-corners"),
    case("Resize", {"x": randn(1, 2, 4, 6), "roi": NONE, "s": NONE, "sizes": const(6, 6)},
         {"mode": "nearest", "axes": [2, 3], "keep_aspect_ratio_policy": "not_larger"},
         opset=19, id="Resize-nearest-not-larger"),
    case("Resize", {"x": randn(1, 2, 4, 6), "roi": NONE, "s": NONE, "sizes": const(6, 6)},
         {"mode": "linear", "axes": [2, 3], "keep_aspect_ratio_policy": "not_smaller"},
         opset=19, id="Resize-linear-not-smaller"),
    case("Resize", {"x": randn(1, 1, 3, 4), "roi": NONE, "s": scales(1, 1, 3, 1.5)},
         {"mode": "linear", "coordinate_transformation_mode": "asymmetric"},
         id="Resize-linear-asymmetric"),
    case("Resize", {"x": randn(1, 2, 4, 4), "roi": NONE, "s": scales(2, 2)},
         {"mode": "linear", "axes": [2, 3]}, opset=19, id="Resize-linear-axes"),
    case("Resize", {"x": randn(1, 2, 4, 5), "roi": NONE, "s": scales(1, 1, 2, 1.6)},
         {"mode": "cubic"}, id="Resize-cubic-half-pixel"),
    case("Resize", {"x": randn(1, 1, 6, 8), "roi": NONE, "s": scales(1, 1, 0.5, 0.75)},
         {"mode": "cubic", "cubic_coeff_a": -0.5, "exclude_outside": 1},
         id="Resize-cubic-exclude-outside"),
    case("Resize", {"x": randn(1, 1, 3, 4), "roi": NONE, "s": NONE, "sizes": const(1, 1, 7, 9)},
         {"mode": "cubic", "coordinate_transformation_mode": "align_corners"},
         id="Resize-cubic-align-corners"),
    case("Resize", {"x": randn(1, 1, 3, 4), "roi": NONE, "s": scales(1, 1, 2, 3)},
         {"mode": "cubic", "coordinate_transformation_mode": "asymmetric"},
         id="Resize-cubic-asymmetric"),
    # Einsum: transposes, reshapes, matmuls and sums.
    case("Einsum", {"a": randn(3, 4), "b": randn(4, 5)}, {"equation": "ij,jk->ik"}),
    case("Einsum", {"a": randn(2, 3, 4), "b": randn(2, 4, 5)}, {"equation": "bij,bjk->bik"},
         id="Einsum-batched"),
    case("Einsum", {"q": randn(2, 3, 5, 4), "k": randn(2, 3, 6, 4)},
         {"equation": "bhqd,bhkd->bhqk"}, id="Einsum-attention"),
    case("Einsum", {"a": randn(3, 4, 5)}, {"equation": "ijk->kji"}, id="Einsum-transpose"),
    case("Einsum", {"a": randn(3, 4, 5)}, {"equation": "ijk->j"}, id="Einsum-reduce"),
    case("Einsum", {"a": randn(3), "b": randn(4)}, {"equation": "i,j->ij"}, id="Einsum-outer"),
    case("Einsum", {"a": randn(5), "b": randn(5)}, {"equation": "i,i"}, id="Einsum-inner"),
    case("Einsum", {"a": randn(4, 4)}, {"equation": "ii"}, id="Einsum-trace"),
    case("Einsum", {"a": randn(2, 3, 3)}, {"equation": "...ii->...i"}, id="Einsum-diagonal"),
    case("Einsum", {"a": randn(2, 1, 3, 4), "b": randn(1, 5, 4, 2)},
         {"equation": "...ij,...jk"}, id="Einsum-ellipsis-broadcast"),
    case("Einsum", {"a": randn(2, 3), "b": randn(3, 4), "c": randn(4, 2)},
         {"equation": "ij,jk,kl->il"}, id="Einsum-three"),
    # GatherElements: a gather of the flattened data.
    case("GatherElements", {"x": randn(3, 4),
                            "i": np.array([[0, 3, -1, 2], [1, 1, 0, -4]], np.int64)},
         {"axis": 1}),
    case("GatherElements", {"x": randn(3, 4, 2), "i": RNG.integers(-3, 3, (2, 3, 2))},
         {"axis": 0}, id="GatherElements-axis0"),
    case("GatherElements", {"x": randn(3, 4),
                            "i": Init(np.array([[2, 0], [-1, 1]], np.int64))},
         {"axis": 0}, id="GatherElements-constant-indices"),
    # ScatterElements: the scatter-add of gather's gradient.
    case("ScatterElements", {"x": randn(3, 4), "i": np.array([[1, -1], [0, 2]], np.int64),
                             "u": randn(2, 2)}, {"axis": 1}),
    case("ScatterElements", {"x": randn(3, 4), "i": np.array([[1, 1, 0, 2]], np.int64),
                             "u": randn(1, 4)}, {"axis": 0, "reduction": "add"}, opset=18,
         id="ScatterElements-add"),
    case("ScatterElements", {"x": randn(2, 5), "i": np.array([[4, 4, 0]], np.int64),
                             "u": randn(1, 3)}, {"axis": 1, "reduction": "add"}, opset=18,
         id="ScatterElements-add-duplicates"),
    case("ScatterND", {"x": randn(4, 3, 2), "i": np.array([[1, 2], [-1, 0]], np.int64),
                       "u": randn(2, 2)}),
    case("ScatterND", {"x": randn(4, 3), "i": Init(np.array([[[2]], [[0]]], np.int64)),
                       "u": randn(2, 1, 3)}, id="ScatterND-slices"),
    case("ScatterND", {"x": randn(4, 3), "i": np.array([[2], [0], [2]], np.int64),
                       "u": randn(3, 3)}, {"reduction": "add"}, opset=18, id="ScatterND-add"),
    # TopK: ranks from pairwise comparisons, ties to the lower index.
    case("TopK", {"x": randn(3, 7), "k": const(3)}, outputs=2),
    case("TopK", {"x": np.array([[1, 3, 3, 2, 3, 1]], np.float32), "k": const(4)},
         {"largest": 0}, outputs=2, id="TopK-smallest-ties"),
    case("TopK", {"x": np.array([[2, 5, 5, 1, 5, 2]], np.float32), "k": const(5)},
         outputs=2, id="TopK-ties"),
    case("TopK", {"x": randn(4, 5, 3), "k": const(2)}, {"axis": 1}, outputs=2,
         id="TopK-axis1"),
    case("TopK", {"x": RNG.integers(-5, 5, (2, 6)), "k": const(3)}, outputs=2, id="TopK-int64"),
    # Tile, DepthToSpace, SpaceToDepth: reshapes, broadcasts and transposes.
    case("Tile", {"x": randn(2, 3), "r": const(2, 3)}),
    case("Tile", {"x": randn(2, 1, 3), "r": const(1, 4, 1)}, id="Tile-one-dim"),
    case("DepthToSpace", {"x": randn(2, 8, 3, 2)}, {"blocksize": 2}),
    case("DepthToSpace", {"x": randn(1, 18, 2, 3)}, {"blocksize": 3, "mode": "CRD"},
         id="DepthToSpace-CRD"),
    case("SpaceToDepth", {"x": randn(2, 3, 4, 6)}, {"blocksize": 2}),
    case("SpaceToDepth", {"x": randn(1, 2, 6, 3)}, {"blocksize": 3, "mode": "CRD"}, opset=28,
         id="SpaceToDepth-CRD"),
]


@pytest.mark.parametrize("spec", CASES)
def test_structural_op_matches_onnxruntime(mpc_run, spec):
    check_against_onnxruntime(mpc_run, spec)


# Where scale * size is fractional, align_corners divides by (scale * size - 1)
# as the ONNX reference and its conformance data do; onnxruntime divides by
# (output size - 1) instead, so these compare with the reference.
@pytest.mark.parametrize("scale", [0.6, 2.5])
def test_resize_align_corners_fractional_scale_matches_onnx_reference(mpc_run, scale):
    from onnx.reference import ReferenceEvaluator
    spec = case("Resize", {"x": randn(1, 2, 3, 5), "roi": NONE,
                           "s": scales(1, 1, scale, scale)},
                {"mode": "linear", "coordinate_transformation_mode": "align_corners"}).values[0]
    model, feeds = build_model(spec)
    expected = ReferenceEvaluator(model).run(None, feeds)[0]
    actual = mpc_run(model, feeds)["y0"]
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op,inputs,attrs", [
    ("Resize", {"x": randn(1, 1, 4, 4), "roi": NONE, "s": scales(1, 1, 0.5, 0.5)},
     {"mode": "cubic", "antialias": 1}),
    ("Resize", {"x": randn(1, 1, 2, 3), "roi": NONE, "s": scales(1, 1, 2, 2)},
     {"coordinate_transformation_mode": "tf_crop_and_resize"}),
    ("Einsum", {"a": randn(2, 3), "b": randn(4, 5)}, {"equation": "ij,jk->ik"}),
    ("TopK", {"x": randn(2, 3), "k": const(4)}, {}),
    ("ConvTranspose", {"x": randn(1, 2, 3, 3), "w": Init(randn(2, 2, 3, 3))},
     {"strides": [2, 2], "output_padding": [2, 0]}),
    ("DepthToSpace", {"x": randn(1, 6, 2, 2)}, {"blocksize": 2}),
    ("Tile", {"x": randn(2, 3), "r": const(1 << 62, 1)}, {}),
    ("Resize", {"x": randn(1, 1, 2, 3), "roi": NONE, "s": scales(1, 1, 1e30, 1)}, {}),
    ("ConvTranspose", {"x": randn(1, 2, 3, 3), "w": Init(randn(2, 2, 3, 3))},
     {"output_shape": [20, 20]}),
    ("ScatterElements", {"x": randn(2, 3), "i": Init(np.array([[0]], np.int64)),
                         "u": randn(1, 1)}, {"reduction": "maximum"}),
])
def test_structural_op_rejects_bad_input(mpc_run, op, inputs, attrs):
    spec = dict(op=op, inputs=inputs, attrs=attrs, opset=19, outputs=1)
    model, feeds = build_model_unchecked(spec)
    proc, _ = mpc_run.invoke(model, feeds)
    assert proc.returncode != 0
    assert f"({op}, opset 19)" in proc.stderr, proc.stderr
    assert "Assertion" not in proc.stderr and "Sanitizer" not in proc.stderr


def build_model_unchecked(spec):
    """build_model without ONNX shape inference (which rejects some bad nodes
    first): outputs are declared float of unknown shape."""
    graph_inputs, initializers, names, feeds = [], [], [], {}
    for name, value in spec["inputs"].items():
        names.append(name)
        if isinstance(value, Init):
            initializers.append(helper.make_tensor(name, TensorProto.FLOAT if value.value.dtype
                                                   == np.float32 else TensorProto.INT64,
                                                   value.value.shape, value.value.flatten()))
        else:
            graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                              value.shape))
            feeds[name] = value
    node = helper.make_node(spec["op"], names, ["y0"], name="node", **spec["attrs"])
    graph = helper.make_graph([node], spec["op"], graph_inputs,
                              [helper.make_tensor_value_info("y0", TensorProto.FLOAT, None)],
                              initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", spec["opset"])])
    return model, feeds


# Gradients: the ops each become ops with gradient rules (conv_grad_input's
# is new). Every case is linear in its parameters, so the mse loss is
# quadratic along any direction and the central difference of onnxruntime's
# fp32 losses is exact up to rounding, even with a large step.
GRAD_CASES = [
    pytest.param("ConvTranspose", {"w": randn(2, 3, 3, 3), "b": randn(3)}, {"x": randn(2, 2, 4, 3)},
                 ["x", "w", "b"], {"strides": [2, 1], "pads": [1, 0, 0, 1],
                                   "output_padding": [1, 0], "dilations": [1, 2]},
                 id="ConvTranspose"),
    pytest.param("ConvTranspose", {"w": randn(4, 1, 2, 2)}, {"x": randn(1, 4, 3, 3)},
                 ["x", "w"], {"group": 2, "strides": [2, 2]}, id="ConvTranspose-grouped"),
    pytest.param("Resize", {"x": randn(1, 2, 3, 4)}, {}, ["x", "", "s"],
                 {"mode": "linear"}, id="Resize-linear"),
    pytest.param("Resize", {"x": randn(1, 2, 3, 4)}, {}, ["x", "", "s"],
                 {"mode": "nearest", "coordinate_transformation_mode": "asymmetric"},
                 id="Resize-nearest"),
    pytest.param("Resize", {"x": randn(1, 2, 3, 4)}, {}, ["x", "", "s"],
                 {"mode": "cubic"}, id="Resize-cubic"),
    pytest.param("Einsum", {"a": randn(2, 3, 4), "b": randn(2, 4, 5)}, {}, ["a", "b"],
                 {"equation": "bij,bjk->bki"}, id="Einsum"),
    pytest.param("GatherElements", {"x": randn(3, 4)},
                 {"i": np.array([[0, 3, 3, 2], [1, 1, 0, 3]], np.int64)}, ["x", "i"],
                 {"axis": 1}, id="GatherElements"),
    pytest.param("ScatterElements", {"x": randn(3, 4), "u": randn(2, 2)},
                 {"i": np.array([[1, 3], [0, 3]], np.int64)}, ["x", "i", "u"],
                 {"axis": 1}, id="ScatterElements"),
    pytest.param("ScatterElements", {"x": randn(3, 4), "u": randn(2, 3)},
                 {"i": np.array([[1, 2, 1], [1, 0, 2]], np.int64)}, ["x", "i", "u"],
                 {"axis": 0, "reduction": "add"}, id="ScatterElements-add"),
    pytest.param("ScatterND", {"x": randn(4, 3), "u": randn(3, 3)},
                 {"i": np.array([[2], [0], [2]], np.int64)}, ["x", "i", "u"],
                 {"reduction": "add"}, id="ScatterND-add"),
]


def grad_model(op, params, inputs, names, attrs):
    inits = [helper.make_tensor(k, TensorProto.FLOAT, v.shape, v.flatten()) for k, v in
             params.items()]
    if op == "Resize":
        inits.append(helper.make_tensor("s", TensorProto.FLOAT, [4], [1, 1, 2, 1.5]))
    graph_inputs = [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype),
                                                  v.shape) for k, v in inputs.items()]
    node = helper.make_node(op, names, ["y"], name="node", **attrs)
    graph = helper.make_graph([node], op, graph_inputs,
                              [helper.make_empty_tensor_value_info("y")], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    return build_model_output_shape(model)


def build_model_output_shape(model):
    from onnx import shape_inference
    inferred = shape_inference.infer_shapes(model)
    model.graph.output[0].CopyFrom(inferred.graph.output[0])
    return model


def ort_loss(op, params, inputs, names, attrs, target):
    y = run_onnxruntime(grad_model(op, params, inputs, names, attrs), inputs)["y"]
    return np.mean((y.astype(np.float64) - target) ** 2)


@pytest.mark.parametrize("op,params,inputs,names,attrs", GRAD_CASES)
def test_structural_op_gradients(mpc_run, op, params, inputs, names, attrs):
    import subprocess
    from mpc_e2e import BUILD_DIR, output_file_name
    model = grad_model(op, params, inputs, names, attrs)
    y = run_onnxruntime(model, inputs)["y"]
    target = RNG.standard_normal(y.shape).astype(np.float32)
    work = mpc_run.tmp_path / "grad"
    work.mkdir()
    import onnx
    onnx.save(model, str(work / "model.onnx"))
    proc = subprocess.run([str(BUILD_DIR / "bin" / "mpc-opt"), str(work / "model.onnx"),
                           "--mpc-append-loss=loss=mse label=target",
                           "--mpc-parameters-to-arguments", "--mpc-autodiff",
                           "-o", str(work / "grad.mlir")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    feed = dict(inputs, target=target, **params)
    run, out = mpc_run.invoke((work / "grad.mlir").read_text(), feed, precision="none",
                              extra_args=["--entry", "main"])
    assert run.returncode == 0, run.stderr
    loss = np.load(out / output_file_name("loss"))
    np.testing.assert_allclose(loss, ort_loss(op, params, inputs, names, attrs, target),
                               rtol=1e-5)
    rng = np.random.default_rng(7)
    for name, value in params.items():
        grad = np.load(out / output_file_name(name)).astype(np.float64)
        assert grad.shape == value.shape, name
        e = rng.standard_normal(value.shape).astype(np.float32)
        plus, minus = dict(params), dict(params)
        plus[name], minus[name] = value + 0.5 * e, value - 0.5 * e
        fd = (ort_loss(op, plus, inputs, names, attrs, target)
              - ort_loss(op, minus, inputs, names, attrs, target))
        np.testing.assert_allclose(np.sum(grad * e), fd, rtol=1e-4, atol=1e-6, err_msg=name)


# The CUDA target: every case's kernel schedule run on the CPU
# (mpc-run --cuda-schedule) against onnxruntime, and the lit test's model of
# all these ops through ptxas in each precision.
@pytest.mark.parametrize("spec", CASES)
def test_structural_op_cuda_schedule_matches_onnxruntime(mpc_run, spec):
    model, feeds = build_model(spec)
    expected = run_onnxruntime(model, feeds)
    proc, out = mpc_run.invoke(model, feeds, extra_args=["--cuda-schedule"])
    assert proc.returncode == 0, proc.stderr
    for name, reference in expected.items():
        result = np.load(out / output_file_name(name))
        assert result.shape == reference.shape, name
        if np.issubdtype(reference.dtype, np.floating):
            np.testing.assert_allclose(result, reference, rtol=spec["rtol"], atol=spec["atol"])
        else:
            np.testing.assert_array_equal(result, reference)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_structural_ops_pass_ptxas(tmp_path, precision):
    import pathlib
    import subprocess
    import sys
    from mpc_e2e import BUILD_DIR
    ptxas = pathlib.Path("/usr/local/cuda/bin/ptxas")
    if not ptxas.exists():
        pytest.skip("no CUDA toolkit (ptxas) on this machine")
    root = pathlib.Path(__file__).resolve().parents[2]
    model = tmp_path / "structural.onnx"
    subprocess.run([sys.executable, str(root / "test/Inputs/onnxtext_to_onnx.py"),
                    str(root / "test/Import/structural-ops.onnxtext"), str(model)], check=True)
    ptx = tmp_path / "k.ptx"
    proc = subprocess.run([str(BUILD_DIR / "bin" / "mpc-compile"), str(model), "--infer",
                           "--target", "cuda", "--precision", precision, "--emit", "ptx",
                           "--cuda-arch", "sm_80", "-o", str(ptx)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    proc = subprocess.run([str(ptxas), "-arch=sm_80", str(ptx), "-o", "/dev/null"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]


# Low precision: compared with fp32 onnxruntime relative to the output's
# scale, with test_ops.py's tolerances (bf16 3e-2, fp16 4e-3).
LOW_PRECISION_CASES = [c for c in CASES if c.id in {
    "ConvTranspose", "ConvTranspose-grouped-strided", "Resize-linear-half-pixel", "Einsum-attention",
    "GatherElements", "TopK"}]


@pytest.mark.parametrize("precision,tolerance", [("bf16", 3e-2), ("fp16", 4e-3)])
@pytest.mark.parametrize("spec", LOW_PRECISION_CASES)
def test_structural_op_low_precision_is_close(mpc_run, spec, precision, tolerance):
    from mpc_e2e import normalized_error
    model, feeds = build_model(spec)
    expected = run_onnxruntime(model, feeds)
    actual = mpc_run(model, feeds, precision)
    name = model.graph.output[0].name
    assert normalized_error(actual[name], expected[name]) <= tolerance
