"""Models saved at opsets 7-12 go through ONNX's version converter before
import: mpc-run (fp32) on each must match onnxruntime on the model as saved,
and a model the converter cannot upgrade is a clear error naming the node.

The cases use the ops whose definition changed between opset 7 and 13, so
that the converter's adapters (attributes that became inputs, Softmax's
2-D coercion, Clip's bounds, Pad's pads) are what is checked."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import normalized_error, run_onnxruntime

F32 = TensorProto.FLOAT
RNG = np.random.default_rng(7)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def model(opset, nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(
        nodes, f"opset{opset}",
        [helper.make_tensor_value_info(name, F32, list(v.shape)) for name, v in inputs.items()],
        [helper.make_tensor_value_info(name, F32, shape) for name, shape in outputs.items()],
        [numpy_helper.from_array(value, name) for name, value in initializers])
    # IR version 4 is the first whose initializers need not be graph inputs;
    # onnxruntime reads it at every opset here.
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=4)


def node(op, inputs, outputs, **attrs):
    return helper.make_node(op, inputs, outputs, name=outputs[0], **attrs)


def mlp_7():
    """Gemm with transB, Clip with min/max attributes (inputs from 11), and
    Softmax on a 2-D tensor (coerced to 2-D before 13)."""
    x = {"x": randn(4, 6)}
    nodes = [node("Gemm", ["x", "w", "b"], ["h"], transB=1),
             node("Clip", ["h"], ["c"], min=-0.5, max=1.5),
             node("Softmax", ["c"], ["y"], axis=1)]
    return model(7, nodes, x, {"y": [4, 5]}, [("w", randn(5, 6)), ("b", randn(5))]), x


def conv_9():
    """Conv, BatchNormalization at its opset-9 definition, MaxPool, Pad with
    its pads attribute (an input from 11), Flatten and MatMul."""
    c = 3
    x = {"x": randn(2, 2, 6, 6)}
    nodes = [node("Conv", ["x", "w"], ["conv"], pads=[1, 1, 1, 1]),
             node("BatchNormalization", ["conv", "s", "bias", "mean", "var"], ["bn"]),
             node("Relu", ["bn"], ["relu"]),
             node("MaxPool", ["relu"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
             node("Pad", ["pool"], ["pad"], pads=[0, 0, 1, 0, 0, 0, 0, 1], value=0.25),
             node("Flatten", ["pad"], ["flat"]),
             node("MatMul", ["flat", "fc"], ["y"])]
    inits = [("w", randn(c, 2, 3, 3)), ("s", randn(c)), ("bias", randn(c)), ("mean", randn(c)),
             ("var", np.abs(randn(c)) + 0.5), ("fc", randn(c * 4 * 4, 3))]
    return model(9, nodes, x, {"y": [2, 3]}, inits), x


def shapes_11():
    """Unsqueeze/Squeeze with axes attributes (inputs from 13), ReduceMean,
    Slice with starts/ends inputs (from 10), and Softmax over a middle axis of a
    3-D tensor, which before 13 means the softmax of the flattened trailing
    dims."""
    x = {"x": randn(2, 3, 4)}
    starts = np.array([1], np.int64)
    ends = np.array([4], np.int64)
    axes = np.array([2], np.int64)
    nodes = [node("Unsqueeze", ["x"], ["u"], axes=[0]),
             node("Squeeze", ["u"], ["s"], axes=[0]),
             node("Softmax", ["s"], ["sm"], axis=1),
             node("Slice", ["sm", "starts", "ends", "axes"], ["sl"]),
             node("ReduceMean", ["sl"], ["y"], axes=[1], keepdims=0)]
    inits = [("starts", starts), ("ends", ends), ("axes", axes)]
    return model(11, nodes, x, {"y": [2, 3]}, inits), x


def split_12():
    """Split with its split attribute (an input from 13), LogSoftmax over a
    non-last axis, and Clip with min/max inputs."""
    x = {"x": randn(2, 7, 3)}
    nodes = [node("Split", ["x"], ["a", "b"], axis=1, split=[3, 4]),
             node("LogSoftmax", ["a"], ["ls"], axis=1),
             node("Clip", ["b", "lo", "hi"], ["clip"]),
             node("ReduceSum", ["clip"], ["rs"], axes=[1], keepdims=1),
             node("Add", ["ls", "rs"], ["y"])]
    inits = [("lo", np.array(-0.3, np.float32)), ("hi", np.array(0.8, np.float32))]
    return model(12, nodes, x, {"y": [2, 3, 3]}, inits), x


def elementwise_8():
    """Broadcasting elementwise ops, Max/Min/Sum (variadic), Sigmoid, Tanh."""
    x = {"a": randn(3, 4), "b": randn(4)}
    nodes = [node("Add", ["a", "b"], ["s"]),
             node("Max", ["s", "a"], ["m"]),
             node("Sum", ["m", "b", "a"], ["t"]),
             node("Sigmoid", ["t"], ["g"]),
             node("Tanh", ["g"], ["y"])]
    return model(8, nodes, x, {"y": [3, 4]}), x


def dropout_10():
    """Dropout (its ratio an attribute before 12), Transpose, Reshape."""
    x = {"x": randn(2, 3, 4)}
    nodes = [node("Dropout", ["x"], ["d"], ratio=0.3),
             node("Transpose", ["d"], ["t"], perm=[0, 2, 1]),
             node("Reshape", ["t", "shape"], ["y"])]
    return model(10, nodes, x, {"y": [4, 6]}, [("shape", np.array([4, 6], np.int64))]), x


def newer_ir_12():
    """An opset-12 model saved with the IR version of a newer ONNX than the
    one mpc links (whose checker refuses IR versions it does not know)."""
    onnx_model, x = split_12()
    onnx_model.ir_version = 10
    return onnx_model, x


CASES = [mlp_7, elementwise_8, conv_9, dropout_10, shapes_11, split_12, newer_ir_12]


@pytest.mark.parametrize("build", CASES, ids=[c.__name__ for c in CASES])
def test_old_opset_matches_onnxruntime(mpc_run, build):
    onnx_model, inputs = build()
    expected = run_onnxruntime(onnx_model, inputs)
    actual = mpc_run(onnx_model, inputs)
    for name, value in expected.items():
        assert actual[name].shape == value.shape, name
        assert normalized_error(actual[name], value) < 1e-5, name


def test_unconvertible_model_names_the_node(mpc_run):
    # The converter drops BatchNormalization's `spatial` on the way to opset 9
    # and refuses a value other than 1; the node is the third of four.
    inputs = {"x": randn(2, 3, 4, 4)}
    stats = [(name, randn(3, 4, 4)) for name in ("s", "b", "m", "v")]
    nodes = [node("Relu", ["x"], ["r"]), node("Neg", ["r"], ["n"]),
             node("BatchNormalization", ["n", "s", "b", "m", "v"], ["bn"], spatial=0),
             node("Relu", ["bn"], ["y"])]
    proc, _ = mpc_run.invoke(model(8, nodes, inputs, {"y": [2, 3, 4, 4]}, stats), inputs)
    assert proc.returncode == 1, proc.stderr
    assert ("model.onnx: opset 8 of the default ONNX domain is below 13 and ONNX's version "
            "converter could not upgrade the model: node 'bn' (BatchNormalization) "
            "(Attribute spatial must have value 1)") in proc.stderr


def test_invalid_old_model_names_the_node(mpc_run):
    # Celu exists from opset 12: ONNX's checker rejects it at opset 9, before
    # the converter sees it.
    inputs = {"x": randn(5)}
    proc, _ = mpc_run.invoke(model(9, [node("Celu", ["x"], ["y"])], inputs, {"y": [5]}), inputs)
    assert proc.returncode == 1, proc.stderr
    assert "opset 9 of the default ONNX domain is below 13" in proc.stderr
    assert "Name: y OpType: Celu" in proc.stderr


def test_import_error_after_upgrade_names_both_opsets(mpc_run):
    # The converter takes this opset-11 Resize to 13 unchanged; mpc's importer
    # then refuses the mode, and the message must not leave the user looking
    # for an opset 13 their file does not have.
    inputs = {"x": randn(1, 1, 2, 2)}
    nodes = [node("Resize", ["x", "roi", "scales"], ["y"], mode="linear",
                  coordinate_transformation_mode="tf_crop_and_resize")]
    initializers = [("roi", np.array([0, 0, 0, 0, 1, 1, 1, 1], np.float32)),
                    ("scales", np.array([1, 1, 2, 2], np.float32))]
    proc, _ = mpc_run.invoke(model(11, nodes, inputs, {"y": [1, 1, 4, 4]}, initializers), inputs)
    assert proc.returncode == 1, proc.stderr
    assert "(Resize, opset 13, upgraded from the model's opset 11): " in proc.stderr
    assert "tf_crop_and_resize" in proc.stderr
