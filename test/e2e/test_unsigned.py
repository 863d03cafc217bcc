"""Unsigned integer tensors (uint8/16/32/64) and int16 end to end on the CPU
target: the arithmetic, comparison and cast ops whose result depends on
reading the bits as unsigned (values above the signed maximum are in every
input), data movement, max pooling, BitShift, (de)quantization, the CUDA
schedules, and a trainer whose uint8 input is cast to float in the model.
References are onnxruntime's, or numpy's (exact for integers) where
onnxruntime has no kernel for the type (Max/Min on 16-bit integers,
ReduceMax on uint32/64, Where on uint64, Pow with an unsigned exponent)."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mpc_e2e import load_npy, output_file_name, ptx_accepted_by_ptxas, run_onnxruntime

UNSIGNED = [np.uint8, np.uint16, np.uint32, np.uint64]


def _model(nodes, inputs, outputs, opset=17):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for k, v in inputs.items()],
        [helper.make_tensor_value_info(name, t, None) for name, t in outputs])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _single(op, inputs, out_type, attrs=None, opset=17):
    return _model([helper.make_node(op, list(inputs), ["out"], **(attrs or {}))], inputs,
                  [("out", out_type)], opset)


def _check(mpc_run, model, inputs, expected=None):
    """mpc-run's outputs equal `expected` ({name: array}; onnxruntime's when None)."""
    expected = expected or run_onnxruntime(model, inputs)
    got = mpc_run(model, inputs)
    for name, ref in expected.items():
        assert got[name].dtype == ref.dtype, name
        assert np.array_equal(got[name], ref), (name, got[name], ref)


def _operands(dtype):
    """Pairs that differ from their signed reading: the high bit is set in most."""
    top = np.iinfo(dtype).max
    a = np.array([top, top - 6, top // 2 + 3, 7, 0, 200], dtype)
    b = np.array([3, top - 1, 5, top, 9, 7], dtype)
    return a, b


NUMPY_OPS = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.floor_divide,
             "Mod": np.mod, "Max": np.maximum, "Min": np.minimum}


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("op", list(NUMPY_OPS))
def test_arithmetic(mpc_run, op, dtype):
    """Wrapping Add/Sub/Mul; Div and Mod of unsigned values (floor = truncation)."""
    a, b = _operands(dtype)
    onnx_type = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    with np.errstate(over="ignore"):
        expected = {"out": NUMPY_OPS[op](a, b)}
    _check(mpc_run, _single(op, {"a": a, "b": b}, onnx_type), {"a": a, "b": b}, expected)


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("op", ["Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal"])
def test_comparisons(mpc_run, op, dtype):
    a, b = _operands(dtype)
    _check(mpc_run, _single(op, {"a": a, "b": b}, TensorProto.BOOL), {"a": a, "b": b})


@pytest.mark.parametrize("op", ["Mod", "Max", "Min"])
def test_int16(mpc_run, op):
    """int16 Mod (the sign of the divisor, as numpy), Max and Min."""
    a = np.array([-32768, 32767, -7, 7, 100, -100], np.int16)
    b = np.array([3, -5, 4, -4, 32767, -32768], np.int16)
    expected = {"out": NUMPY_OPS[op](a, b)}
    _check(mpc_run, _single(op, {"a": a, "b": b}, TensorProto.INT16), {"a": a, "b": b}, expected)


@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda t: np.dtype(t).name)
def test_casts(mpc_run, dtype):
    """uint -> float/int64/int8 reads the bits as unsigned; float and int32
    -> uint give the value (in range) or wrap (int32 -> uint, two's complement)."""
    a, _ = _operands(dtype)
    f = np.array([0.0, 1.5, 200.9, 65.0, 3.0, 250.0], np.float32)
    i = np.array([-1, 2, -300, 70000, 0, 255], np.int32)
    to = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    nodes = [helper.make_node("Cast", ["a"], ["f32"], to=TensorProto.FLOAT),
             helper.make_node("Cast", ["a"], ["f64"], to=TensorProto.DOUBLE),
             helper.make_node("Cast", ["a"], ["i64"], to=TensorProto.INT64),
             helper.make_node("Cast", ["a"], ["i8"], to=TensorProto.INT8),
             helper.make_node("Cast", ["f"], ["from_f"], to=to),
             helper.make_node("Cast", ["i"], ["from_i"], to=to)]
    outputs = [("f32", TensorProto.FLOAT), ("f64", TensorProto.DOUBLE), ("i64", TensorProto.INT64),
               ("i8", TensorProto.INT8), ("from_f", to), ("from_i", to)]
    inputs = {"a": a, "f": f, "i": i}
    _check(mpc_run, _model(nodes, inputs, outputs), inputs)


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64], ids=lambda t: np.dtype(t).name)
def test_pow_float_base_unsigned_exponent(mpc_run, dtype):
    x = np.array([1.5, 2.0, -3.0, 0.5], np.float32)
    y = np.array([0, 3, 2, 4], dtype)
    expected = {"out": np.power(x, y.astype(np.float32))}
    _check(mpc_run, _single("Pow", {"x": x, "y": y}, TensorProto.FLOAT, opset=15), {"x": x, "y": y},
           expected)


def test_data_movement_and_where(mpc_run):
    """Reshape, Transpose, Concat, Gather, Slice and Where carry uint64 values
    above 2^63 through unchanged."""
    a = np.array([[2**64 - 1, 2**63, 5], [1, 2**63 + 7, 0]], np.uint64)
    cond = np.array([[True, False, True], [False, True, False]])
    idx = np.array([1, 0], np.int64)
    shape = helper.make_tensor("shape", TensorProto.INT64, [1], [6])
    nodes = [helper.make_node("Reshape", ["a", "shape"], ["flat"]),
             helper.make_node("Transpose", ["a"], ["t"], perm=[1, 0]),
             helper.make_node("Concat", ["a", "a"], ["cat"], axis=0),
             helper.make_node("Gather", ["a", "idx"], ["g"], axis=0),
             helper.make_node("Where", ["cond", "a", "g"], ["w"])]
    inputs = {"a": a, "cond": cond, "idx": idx}
    model = _model(nodes, inputs, [(n, TensorProto.UINT64) for n in ("flat", "t", "cat", "g", "w")])
    model.graph.initializer.append(shape)
    g = a[idx]
    expected = {"flat": a.reshape(6), "t": a.T, "cat": np.concatenate([a, a]), "g": g,
                "w": np.where(cond, a, g)}
    _check(mpc_run, model, inputs, expected)


def test_max_pool_uint8(mpc_run):
    x = np.random.default_rng(0).integers(0, 256, (1, 2, 5, 5)).astype(np.uint8)
    model = _single("MaxPool", {"x": x}, TensorProto.UINT8,
                    {"kernel_shape": [2, 2], "pads": [1, 1, 1, 1], "strides": [2, 2]}, opset=13)
    _check(mpc_run, model, {"x": x})


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64], ids=lambda t: np.dtype(t).name)
def test_reduce_max_min(mpc_run, dtype):
    a, _ = _operands(dtype)
    a = a.reshape(2, 3)
    nodes = [helper.make_node("ReduceMax", ["a"], ["max"], axes=[1], keepdims=0),
             helper.make_node("ReduceMin", ["a"], ["min"], axes=[1], keepdims=0)]
    to = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    expected = {"max": a.max(axis=1), "min": a.min(axis=1)}
    _check(mpc_run, _model(nodes, {"a": a}, [("max", to), ("min", to)], opset=13), {"a": a}, expected)



@pytest.mark.parametrize("dtype", UNSIGNED, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
def test_bit_shift(mpc_run, dtype, direction):
    """Shifts by 0 .. bits-1 (ONNX leaves larger amounts to the backend for
    unsigned types before opset 28, so onnxruntime is not asked about them)."""
    bits = np.iinfo(dtype).bits
    x = np.array([np.iinfo(dtype).max, 1, 0b1011, 2 ** (bits - 1), 37, 255], dtype)
    n = np.array([1, bits - 1, 2, 3, 0, 4], dtype)
    onnx_type = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    model = _single("BitShift", {"x": x, "n": n}, onnx_type, {"direction": direction}, opset=13)
    _check(mpc_run, model, {"x": x, "n": n})


@pytest.mark.parametrize("zero_type", [np.uint8, np.int8])
def test_quantize_dequantize(mpc_run, zero_type):
    """Per-axis QuantizeLinear (ties to even, saturating) then DequantizeLinear."""
    x = np.array([[-300.0, -1.5, -0.5, 0.5], [1.5, 2.5, 60.0, 900.0]], np.float32)
    scale = np.array([0.5, 2.0], np.float32)
    zero = np.array([3, 7], zero_type)
    nodes = [helper.make_node("QuantizeLinear", ["x", "scale", "zero"], ["q"], axis=0),
             helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["dq"], axis=0)]
    inputs = {"x": x, "scale": scale, "zero": zero}
    onnx_type = helper.np_dtype_to_tensor_dtype(np.dtype(zero_type))
    model = _model(nodes, inputs, [("q", onnx_type), ("dq", TensorProto.FLOAT)], opset=13)
    _check(mpc_run, model, inputs)


def test_dynamic_quantize(mpc_run):
    x = np.random.default_rng(2).normal(0, 3, (3, 5)).astype(np.float32)
    node = helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "scale", "zero"])
    model = _model([node], {"x": x}, [("y", TensorProto.UINT8), ("scale", TensorProto.FLOAT),
                                      ("zero", TensorProto.UINT8)], opset=13)
    _check(mpc_run, model, {"x": x})



def _mixed_unsigned_model():
    a = np.array([2**32 - 1, 2**31 + 5, 7, 100], np.uint32)
    b = np.array([3, 2**31 + 9, 2**32 - 2, 9], np.uint32)
    img = np.array([[0, 128, 255, 7]], np.uint8)
    nodes = [helper.make_node("Div", ["a", "b"], ["div"]),
             helper.make_node("Max", ["a", "b"], ["max"]),
             helper.make_node("Less", ["a", "b"], ["less"]),
             helper.make_node("BitShift", ["a", "b"], ["shr"], direction="RIGHT"),
             helper.make_node("Cast", ["img"], ["imgf"], to=TensorProto.FLOAT)]
    inputs = {"a": a, "b": b, "img": img}
    outputs = [("div", TensorProto.UINT32), ("max", TensorProto.UINT32), ("less", TensorProto.BOOL),
               ("shr", TensorProto.UINT32), ("imgf", TensorProto.FLOAT)]
    return _model(nodes, inputs, outputs), inputs


def test_cuda_schedule_matches_cpu(mpc_run):
    """The CUDA target's kernel schedules, run on the CPU, compute the same
    unsigned results (mpc-lower-to-linalg is shared by both targets)."""
    model, inputs = _mixed_unsigned_model()
    cpu = mpc_run(model, inputs)
    proc, out = mpc_run.invoke(model, inputs, extra_args=["--cuda-schedule"])
    assert proc.returncode == 0, proc.stderr
    for name, expected in cpu.items():
        got = load_npy(out / output_file_name(name))
        assert got.dtype == expected.dtype and np.array_equal(got, expected), name


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_ptxas_accepts_the_kernels(tmp_path, precision):
    """The unsigned ops, (de)quantization and uint8 max pooling compile to
    PTX that ptxas accepts (the CUDA target's half of "every target")."""
    model, _ = _mixed_unsigned_model()
    graph = model.graph
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [], [0.5])
    zero = helper.make_tensor("zero", TensorProto.UINT8, [], [3])
    graph.node.extend([
        helper.make_node("Constant", [], ["s"], value=scale),
        helper.make_node("Constant", [], ["z"], value=zero),
        helper.make_node("QuantizeLinear", ["imgf", "s", "z"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["dq"]),
        helper.make_node("Mod", ["a", "b"], ["mod"]),
        helper.make_node("Reshape", ["img", "pool_shape"], ["img4"]),
        helper.make_node("MaxPool", ["img4"], ["pooled"], kernel_shape=[1, 2])])
    graph.initializer.append(helper.make_tensor("pool_shape", TensorProto.INT64, [4], [1, 1, 1, 4]))
    graph.output.extend([helper.make_tensor_value_info(name, t, None) for name, t in
                         [("dq", TensorProto.FLOAT), ("mod", TensorProto.UINT32),
                          ("pooled", TensorProto.UINT8)]])
    text = ptx_accepted_by_ptxas(model, tmp_path, precision)
    assert "div.u32" in text or "div.u64" in text, "unsigned division lowered as signed"


def test_trainer_takes_uint8_images(tmp_path):
    """A model whose uint8 input is cast to float (and scaled) before a
    linear layer trains: the integer input is fed as it is, never trained."""
    import onnx
    from mpc_train import compile_trainer, run_trainer, step_losses

    rng = np.random.default_rng(1)
    w = rng.normal(0, 0.1, (16, 4)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
         helper.make_node("Constant", [], ["scale"],
                          value=helper.make_tensor("s", TensorProto.FLOAT, [], [1 / 255])),
         helper.make_node("Mul", ["xf", "scale"], ["xs"]),
         helper.make_node("MatMul", ["xs", "W"], ["y"])],
        "uint8_images",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, ["N", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
        [onnx.numpy_helper.from_array(w, "W")])
    model = tmp_path / "uint8.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(model))
    x = rng.integers(0, 256, (256, 16)).astype(np.uint8)
    labels = (x[:, :4].argmax(axis=1)).astype(np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "label.npy", labels)
    trainer = tmp_path / "trainer"
    compile_trainer(model, trainer, "--loss", "cross_entropy", "--label", "label", "--optimizer", "sgd",
                    "--lr", "0.5", "--batch", 32)
    _, log = run_trainer(trainer, {"x": tmp_path / "x.npy", "label": tmp_path / "label.npy"},
                         "--steps", 40, "--no-shuffle", log=tmp_path / "log.jsonl")
    losses = np.array(step_losses(log))
    assert len(losses) == 40 and np.all(np.isfinite(losses))
    assert losses[-8:].mean() < 0.9 * losses[:8].mean(), losses
