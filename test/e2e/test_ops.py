"""One ONNX node per case, run by mpc-run (fp32) and onnxruntime.

Each case is data: the op, its attributes, its inputs (graph inputs or
initializers) and the opset. The relative tolerance is 1e-5 against
onnxruntime, with an absolute floor for results that are (near) zero."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper, shape_inference

from mpc_e2e import normalized_error, run_onnxruntime

F32 = TensorProto.FLOAT
RNG = np.random.default_rng(2024)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def positive(*shape):
    return (RNG.random(shape) + 0.1).astype(np.float32)


def ints(low, high, *shape):
    return RNG.integers(low, high, shape).astype(np.int64)


class Init:
    """An input given as an initializer (a model constant) rather than data."""

    def __init__(self, value):
        self.value = np.asarray(value)


def case(op, inputs, attrs=None, opset=17, outputs=1, id=None, rtol=1e-5, atol=1e-6):
    return pytest.param(dict(op=op, inputs=inputs, attrs=attrs or {}, opset=opset,
                             outputs=outputs, rtol=rtol, atol=atol), id=id or op)


CASES = [
    # Elementwise, with numpy broadcasting.
    case("Add", {"a": randn(2, 3, 4), "b": randn(4)}),
    case("Sub", {"a": randn(2, 1, 4), "b": randn(3, 1)}),
    case("Mul", {"a": randn(3, 4), "b": randn(1, 4)}),
    case("Div", {"a": randn(2, 3), "b": positive(2, 3)}),
    case("Pow", {"a": positive(3, 4), "b": randn(4)}),
    # Constant exponents 2 and 3 lower to multiplies (any sign of the base).
    case("Pow", {"a": randn(3, 16) * 3, "b": Init(np.float32(2.0))}, id="Pow-square"),
    case("Pow", {"a": randn(5, 13) * 3, "b": Init(np.array([3.0], np.float32))}, id="Pow-cube"),
    case("Max", {"a": randn(2, 3), "b": randn(3)}),
    case("Min", {"a": randn(2, 3), "b": randn(2, 1)}),
    case("Add", {"a": ints(-50, 50, 2, 3), "b": ints(-50, 50, 3)}, id="Add-int64"),
    case("Neg", {"x": randn(2, 5)}),
    case("Abs", {"x": randn(2, 5)}),
    case("Exp", {"x": randn(3, 7)}),
    case("Log", {"x": positive(3, 7)}),
    case("Sqrt", {"x": positive(3, 7)}),
    case("Reciprocal", {"x": positive(3, 7)}),
    case("Tanh", {"x": randn(3, 7) * 3}),
    case("Sigmoid", {"x": randn(3, 7) * 3}),
    case("Relu", {"x": randn(3, 7)}),
    case("Erf", {"x": randn(3, 7)}),
    case("LeakyRelu", {"x": randn(3, 7)}, {"alpha": 0.1}),
    case("Clip", {"x": randn(4, 5), "lo": Init(np.float32(-0.5)), "hi": Init(np.float32(0.7))}),
    case("Gelu", {"x": randn(3, 9) * 2}, opset=20),
    case("Gelu", {"x": randn(3, 9) * 2}, {"approximate": "tanh"}, opset=20, id="Gelu-tanh"),
    case("Where", {"c": RNG.random((2, 3)) > 0.5, "x": randn(2, 3), "y": randn(3)}),
    case("Equal", {"a": ints(0, 3, 2, 4), "b": ints(0, 3, 4)}),
    case("Less", {"a": randn(2, 4), "b": randn(4)}),
    case("LessOrEqual", {"a": randn(2, 4), "b": randn(2, 1)}),
    case("Greater", {"a": randn(2, 4), "b": randn(4)}),
    case("GreaterOrEqual", {"a": randn(2, 4), "b": randn(4)}),
    # Contractions.
    case("MatMul", {"a": randn(2, 3, 4), "b": randn(4, 5)}),
    case("MatMul", {"a": randn(2, 1, 3, 4), "b": randn(3, 4, 5)}, id="MatMul-broadcast"),
    case("Gemm", {"a": randn(3, 4), "b": randn(5, 4), "c": randn(5)},
         {"transB": 1, "alpha": 0.5, "beta": 2.0}),
    case("Conv", {"x": randn(1, 3, 8, 8), "w": Init(randn(4, 3, 3, 3)), "b": Init(randn(4))},
         {"pads": [1, 1, 1, 1]}),
    case("Conv", {"x": randn(2, 4, 9, 7), "w": Init(randn(6, 2, 3, 2))},
         {"strides": [2, 1], "dilations": [1, 2], "pads": [1, 0, 2, 1], "group": 2},
         id="Conv-grouped-strided-dilated"),
    case("Conv", {"x": randn(1, 4, 6, 6), "w": Init(randn(4, 1, 3, 3))},
         {"group": 4, "pads": [1, 1, 1, 1]}, id="Conv-depthwise"),
    case("Conv", {"x": randn(2, 3, 10), "w": Init(randn(5, 3, 3)), "b": Init(randn(5))},
         {"strides": [2]}, id="Conv-1d"),
    # Pooling.
    case("MaxPool", {"x": randn(1, 2, 7, 7)}, {"kernel_shape": [3, 3], "strides": [2, 2],
                                               "pads": [1, 1, 1, 1]}),
    case("MaxPool", {"x": randn(1, 2, 6, 6)}, {"kernel_shape": [3, 3], "strides": [2, 2],
                                               "ceil_mode": 1}, id="MaxPool-ceil"),
    case("MaxPool", {"x": randn(1, 1, 7, 7)}, {"kernel_shape": [2, 2], "dilations": [2, 2]},
         id="MaxPool-dilated"),
    case("AveragePool", {"x": randn(1, 2, 7, 7)},
         {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    case("AveragePool", {"x": randn(1, 2, 7, 7)},
         {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1},
         id="AveragePool-count-pad"),
    case("AveragePool", {"x": randn(1, 2, 6, 6)},
         {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, id="AveragePool-ceil"),
    case("GlobalAveragePool", {"x": randn(2, 3, 5, 4)}),
    case("GlobalMaxPool", {"x": randn(2, 3, 5, 4)}),
    # Normalizations.
    case("Softmax", {"x": randn(3, 10) * 4}),
    case("Softmax", {"x": randn(2, 5, 3)}, {"axis": 1}, id="Softmax-axis1"),
    case("LogSoftmax", {"x": randn(3, 10) * 4}),
    case("LayerNormalization", {"x": randn(2, 3, 8), "s": Init(randn(8)), "b": Init(randn(8))},
         {"axis": -1, "epsilon": 1e-5}),
    case("LayerNormalization", {"x": randn(2, 3, 4), "s": Init(randn(3, 4))}, {"axis": 1},
         id="LayerNormalization-axis1-nobias"),
    case("BatchNormalization", {"x": randn(2, 3, 4, 4), "s": Init(randn(3)), "b": Init(randn(3)),
                                "m": Init(randn(3)), "v": Init(positive(3))}, {"epsilon": 1e-3}),
    # Reductions.
    case("ReduceSum", {"x": randn(2, 3, 4), "axes": Init(np.array([1], np.int64))}),
    case("ReduceSum", {"x": randn(2, 3, 4), "axes": Init(np.array([0, 2], np.int64))},
         {"keepdims": 0}, id="ReduceSum-nokeep"),
    case("ReduceMean", {"x": randn(2, 3, 4)}, {"axes": [-1]}),
    case("ReduceMax", {"x": randn(2, 3, 4)}, {"axes": [1], "keepdims": 0}),
    case("ReduceMin", {"x": randn(2, 3, 4)}, {"axes": [0, 1]}),
    case("ReduceProd", {"x": positive(2, 3, 4)}, {"axes": [2]}),
    case("ReduceSum", {"x": randn(3, 4), "axes": Init(np.array([], np.int64))}, {"keepdims": 0},
         id="ReduceSum-all"),
    # Data movement.
    case("Reshape", {"x": randn(2, 3, 4), "shape": Init(np.array([4, -1], np.int64))}),
    case("Flatten", {"x": randn(2, 3, 4)}, {"axis": 2}),
    case("Transpose", {"x": randn(2, 3, 4)}, {"perm": [2, 0, 1]}),
    # Transposes of the two innermost dims move in [16 x 16] (or [8 x 8])
    # register blocks (mpc-vectorize-generics), the last block of a dim that
    # is no multiple overlapping the one before it. Exact either way.
    case("Transpose", {"x": randn(3, 37, 50)}, {"perm": [0, 2, 1]}, id="Transpose-blocks-and-leftovers",
         rtol=0, atol=0),
    case("Transpose", {"x": randn(2, 16, 6, 32)}, {"perm": [0, 2, 3, 1]}, id="Transpose-nchw-to-nhwc",
         rtol=0, atol=0),
    case("Transpose", {"x": randn(20, 3, 33)}, {"perm": [2, 1, 0]}, id="Transpose-reversed", rtol=0, atol=0),
    case("Transpose", {"x": randn(4, 11, 13)}, {"perm": [0, 2, 1]}, id="Transpose-eights", rtol=0, atol=0),
    case("Concat", {"a": randn(2, 3), "b": randn(2, 1), "c": randn(2, 4)}, {"axis": 1}),
    case("Slice", {"x": randn(5, 6), "starts": Init(np.array([1, 5], np.int64)),
                   "ends": Init(np.array([4, 0], np.int64)), "axes": Init(np.array([0, 1], np.int64)),
                   "steps": Init(np.array([2, -2], np.int64))}),
    case("Squeeze", {"x": randn(2, 1, 3), "axes": Init(np.array([1], np.int64))}),
    case("Unsqueeze", {"x": randn(2, 3), "axes": Init(np.array([0, 3], np.int64))}),
    case("Expand", {"x": randn(3, 1), "shape": Init(np.array([2, 3, 4], np.int64))}),
    case("Gather", {"x": randn(5, 4), "i": np.array([[0, 4], [-1, 2]], np.int64)}),
    case("Gather", {"x": randn(2, 5, 3), "i": np.array([1, -2, 0], np.int64)}, {"axis": 1},
         id="Gather-axis1"),
    case("Cast", {"x": randn(3, 4) * 10}, {"to": TensorProto.INT64}, id="Cast-to-int64"),
    case("Cast", {"x": ints(-5, 5, 3, 4)}, {"to": TensorProto.FLOAT}, id="Cast-to-float"),
]


def tensor_type(value):
    return helper.np_dtype_to_tensor_dtype(np.asarray(value).dtype)


def build_model(spec):
    graph_inputs, initializers, names = [], [], []
    feeds = {}
    for name, value in spec["inputs"].items():
        names.append(name)
        if isinstance(value, Init):
            initializers.append(numpy_helper.from_array(value.value, name))
        else:
            graph_inputs.append(helper.make_tensor_value_info(name, tensor_type(value), value.shape))
            feeds[name] = value
    outputs = [f"y{i}" for i in range(spec["outputs"])]
    node = helper.make_node(spec["op"], names, outputs, name="node", **spec["attrs"])
    # Output types and shapes come from ONNX's shape inference.
    graph = helper.make_graph([node], spec["op"], graph_inputs,
                              [helper.make_empty_tensor_value_info(o) for o in outputs], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", spec["opset"])])
    inferred = shape_inference.infer_shapes(model)
    for out in model.graph.output:
        for info in inferred.graph.output:
            if info.name == out.name:
                out.CopyFrom(info)
    return model, feeds


def check_against_onnxruntime(mpc_run, spec):
    """The case's model through mpc-run against onnxruntime: dtypes and shapes
    equal, floats within the case's rtol/atol, everything else exactly."""
    model, feeds = build_model(spec)
    expected = run_onnxruntime(model, feeds)
    actual = mpc_run(model, feeds)
    for name, reference in expected.items():
        result = actual[name]
        assert result.dtype == reference.dtype, name
        assert result.shape == reference.shape, name
        if np.issubdtype(reference.dtype, np.floating):
            np.testing.assert_allclose(result, reference, rtol=spec["rtol"], atol=spec["atol"])
        else:
            np.testing.assert_array_equal(result, reference)


@pytest.mark.parametrize("spec", CASES)
def test_op_matches_onnxruntime(mpc_run, spec):
    check_against_onnxruntime(mpc_run, spec)


# Float ops whose low-precision results are compared against fp32
# onnxruntime, relative to the output's scale: bf16 (unit roundoff 2^-9)
# within 3e-2 and fp16 (2^-11) within 4e-3 leave room for the input and
# output roundings plus accumulation over a few dozen terms.
LOW_PRECISION_CASES = [c for c in CASES if c.id in {
    "Add", "Mul", "Tanh", "Sigmoid", "Gelu", "MatMul", "MatMul-broadcast", "Gemm", "Conv",
    "Conv-grouped-strided-dilated", "Conv-1d", "MaxPool", "AveragePool", "GlobalAveragePool",
    "Softmax", "LogSoftmax", "LayerNormalization", "BatchNormalization", "ReduceSum", "ReduceMean"}]


@pytest.mark.parametrize("precision,tolerance", [("bf16", 3e-2), ("fp16", 4e-3)])
@pytest.mark.parametrize("spec", LOW_PRECISION_CASES)
def test_op_low_precision_is_close(mpc_run, spec, precision, tolerance):
    model, feeds = build_model(spec)
    expected = run_onnxruntime(model, feeds)
    actual = mpc_run(model, feeds, precision)
    for name, reference in expected.items():
        assert actual[name].dtype == reference.dtype
        assert normalized_error(actual[name], reference) <= tolerance, name
