"""Ops of the newer opsets built from existing mpc ops or mapped onto new
elementwise ones: RMSNormalization (23), Swish (24), BitwiseAnd/Or/Xor/Not
(18) and CumProd (26), each against onnxruntime; the float ops also in bf16/fp16;
all of them as the CUDA target's kernel schedules on the CPU and through
ptxas; and bad attributes or inputs (a clear error naming the node)."""
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mpc_e2e import (BUILD_DIR, load_npy, normalized_error, output_file_name, ptx_accepted_by_ptxas,
                     run_onnxruntime)
from test_ops import Init, build_model, case, check_against_onnxruntime

RNG = np.random.default_rng(23)
MPC_TRANSLATE = BUILD_DIR / "bin" / "mpc-translate"


def randn(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def factors(*shape):
    """Near 1 in magnitude, either sign: products neither vanish nor blow up."""
    return (RNG.uniform(0.6, 1.5, shape) * RNG.choice([-1, 1], shape)).astype(np.float32)


def integers(dtype, *shape):
    info = np.iinfo(dtype)
    return RNG.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


BITWISE = [case(op, {"a": integers(dtype, 3, 4), "b": integers(dtype, *b_shape)}, opset=18,
                id=f"{op}-{np.dtype(dtype).name}")
           for op, b_shape in [("BitwiseAnd", (4,)), ("BitwiseOr", (3, 1)), ("BitwiseXor", (3, 4))]
           for dtype in [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]]
BITWISE += [case("CumProd", {"x": RNG.integers(-4, 5, (3, 5)).astype(dtype), "axis": Init(np.int64(1))},
                 {"exclusive": 1}, opset=26, id=f"CumProd-{np.dtype(dtype).name}")
            for dtype in [np.int32, np.int64]]
BITWISE += [case("BitwiseNot", {"x": integers(dtype, 2, 5)}, opset=18, id=f"BitwiseNot-{np.dtype(dtype).name}")
            for dtype in [np.int8, np.int32, np.int64, np.uint8, np.uint16, np.uint64]]

FLOAT_CASES = [
    case("RMSNormalization", {"x": randn(2, 3, 8), "scale": randn(8)}, opset=23),
    case("RMSNormalization", {"x": randn(2, 3, 8, scale=5), "scale": Init(randn(3, 8))},
         {"axis": 1, "epsilon": 1e-3}, opset=23, id="RMSNormalization-axis1"),
    case("RMSNormalization", {"x": randn(4, 6), "scale": randn(1, 6)}, {"axis": -1, "stash_type": 1},
         opset=23, id="RMSNormalization-broadcast-scale"),
    case("Swish", {"x": randn(3, 7, scale=4)}, opset=24),
    case("Swish", {"x": randn(3, 7, scale=4)}, {"alpha": 1.702}, opset=24, id="Swish-alpha"),
    case("CumProd", {"x": factors(3, 7), "axis": Init(np.int64(1))}, opset=26),
    case("CumProd", {"x": factors(4, 3, 5), "axis": Init(np.int64(-3))}, {"exclusive": 1, "reverse": 1},
         opset=26, id="CumProd-exclusive-reverse-axis0"),
    case("CumProd", {"x": factors(2, 6, 3), "axis": Init(np.array([1], np.int64))}, {"reverse": 1},
         opset=26, id="CumProd-reverse-inner"),
]


@pytest.mark.parametrize("spec", FLOAT_CASES + BITWISE)
def test_op_matches_onnxruntime(mpc_run, spec):
    check_against_onnxruntime(mpc_run, spec)


@pytest.mark.parametrize("precision,tolerance", [("bf16", 3e-2), ("fp16", 4e-3)])
@pytest.mark.parametrize("spec", FLOAT_CASES)
def test_op_low_precision_is_close(mpc_run, spec, precision, tolerance):
    model, feeds = build_model(spec)
    expected = run_onnxruntime(model, feeds)
    actual = mpc_run(model, feeds, precision)
    for name, reference in expected.items():
        assert normalized_error(actual[name], reference) <= tolerance, name


def import_error(tmp_path, spec):
    model, _ = build_model(spec)
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    done = subprocess.run([MPC_TRANSLATE, "--import-onnx", path], capture_output=True, text=True)
    assert done.returncode != 0
    return done.stderr


@pytest.mark.parametrize("spec,message", [
    (case("RMSNormalization", {"x": randn(2, 8), "scale": randn(8)}, {"stash_type": 7}, opset=23),
     "node 'node' (RMSNormalization, opset 23): attribute 'stash_type' is 7 (int64); it must name a "
     "float type (1 = float)"),
    (case("RMSNormalization", {"x": randn(2, 8), "scale": randn(8)}, {"axis": 2}, opset=23),
     "node 'node' (RMSNormalization, opset 23): axis 2 is out of range [-2, 1] for a rank-2 tensor"),
    (case("RMSNormalization", {"x": randn(2, 8), "scale": randn(3)}, opset=23),
     "scale of shape 3 does not broadcast to X's shape 2x8"),
    (case("BitwiseAnd", {"a": integers(np.int32, 3), "b": integers(np.int64, 3)}, opset=18),
     "node 'node' (BitwiseAnd, opset 18): A and B element types differ (int32 and int64)"),
    (case("BitwiseNot", {"x": randn(3)}, opset=18),
     "node 'node' (BitwiseNot, opset 18): X of type float is not supported; the bitwise ops take "
     "int8..int64 and uint8..uint64"),
    (case("Swish", {"x": randn(3)}, {"alpha": "big"}, opset=24),
     "node 'node' (Swish, opset 24): attribute 'alpha' must be a float, but it is a string"),
    (case("Swish", {"x": integers(np.int32, 3)}, opset=24),
     "node 'node' (Swish, opset 24): X must be a float tensor, got int32"),
    (case("CumProd", {"x": randn(3, 4), "axis": Init(np.int64(2))}, opset=26),
     "node 'node' (CumProd, opset 26): axis 2 is out of range [-2, 1] for a rank-2 tensor"),
    (case("CumProd", {"x": randn(2, 2049), "axis": Init(np.int64(1))}, opset=26),
     "node 'node' (CumProd, opset 26): CumProd along an axis of 2049 elements is not supported (at most 2048)"),
], ids=["rms-stash-type", "rms-axis", "rms-scale-shape", "bitwise-types", "bitwise-not-float", "swish-alpha",
        "swish-int", "cumprod-axis", "cumprod-length"])
def test_bad_attributes_and_inputs_are_clear_errors(tmp_path, spec, message):
    assert message in import_error(tmp_path, spec.values[0])


def cuda_model(shape=(5, 37)):
    """Every op here in one graph: odd sizes give partial blocks."""
    nodes = [helper.make_node("RMSNormalization", ["x", "scale"], ["rms"]),
             helper.make_node("Swish", ["x"], ["swish"], alpha=0.8),
             helper.make_node("BitwiseAnd", ["i", "j"], ["and"]),
             helper.make_node("BitwiseOr", ["i", "j"], ["or"]),
             helper.make_node("BitwiseXor", ["u", "v"], ["xor"]),
             helper.make_node("BitwiseNot", ["u"], ["not"]),
             helper.make_node("CumProd", ["x", "axis0"], ["cumprod0"], exclusive=1),
             helper.make_node("CumProd", ["x", "axis1"], ["cumprod1"], reverse=1)]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape)),
              helper.make_tensor_value_info("i", TensorProto.INT32, list(shape)),
              helper.make_tensor_value_info("j", TensorProto.INT32, [shape[1]]),
              helper.make_tensor_value_info("u", TensorProto.UINT8, list(shape)),
              helper.make_tensor_value_info("v", TensorProto.UINT8, list(shape))]
    graph = helper.make_graph(nodes, "recent", inputs,
                              [helper.make_empty_tensor_value_info(o) for o in ["rms", "swish", "and", "or", "xor", "not",
                                                                 "cumprod0", "cumprod1"]],
                              [onnx.numpy_helper.from_array(randn(shape[1]), "scale"),
                               onnx.numpy_helper.from_array(np.int64(0), "axis0"),
                               onnx.numpy_helper.from_array(np.int64(1), "axis1")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 26)])
    inferred = onnx.shape_inference.infer_shapes(model)
    del model.graph.output[:]
    model.graph.output.extend(inferred.graph.output)
    feeds = {"x": factors(*shape), "i": integers(np.int32, *shape), "j": integers(np.int32, shape[1]),
             "u": integers(np.uint8, *shape), "v": integers(np.uint8, *shape)}
    return model, feeds


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cuda_schedule_matches_cpu_target(mpc_run, precision):
    model, feeds = cuda_model()
    cpu = mpc_run(model, feeds, precision)
    proc, out = mpc_run.invoke(model, feeds, precision, extra_args=["--cuda-schedule"])
    assert proc.returncode == 0, proc.stderr
    for name, expected in cpu.items():
        got = load_npy(out / output_file_name(name))
        assert got.dtype == expected.dtype, name
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_ptxas_accepts_the_kernels(tmp_path, precision):
    ptx_accepted_by_ptxas(cuda_model()[0], tmp_path, precision)
