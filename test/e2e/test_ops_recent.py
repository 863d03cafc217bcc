"""Ops of the newer opsets built from existing mpc ops or mapped onto new
elementwise ones: RMSNormalization (23), Swish (24) and BitwiseAnd/Or/Xor/Not
(18), each against onnxruntime; the normalization and Swish also in bf16/fp16;
and bad attributes or inputs (a clear error naming the node)."""
import subprocess

import numpy as np
import pytest

from mpc_e2e import BUILD_DIR, normalized_error, run_onnxruntime
from test_ops import Init, build_model, case

RNG = np.random.default_rng(23)
MPC_TRANSLATE = BUILD_DIR / "bin" / "mpc-translate"


def randn(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def integers(dtype, *shape):
    info = np.iinfo(dtype)
    return RNG.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


BITWISE = [case(op, {"a": integers(dtype, 3, 4), "b": integers(dtype, *b_shape)}, opset=18,
                id=f"{op}-{np.dtype(dtype).name}")
           for op, b_shape in [("BitwiseAnd", (4,)), ("BitwiseOr", (3, 1)), ("BitwiseXor", (3, 4))]
           for dtype in [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]]
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
]


@pytest.mark.parametrize("spec", FLOAT_CASES + BITWISE)
def test_op_matches_onnxruntime(mpc_run, spec):
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
], ids=["rms-stash-type", "rms-axis", "rms-scale-shape", "bitwise-types", "bitwise-not-float"])
def test_bad_attributes_and_inputs_are_clear_errors(tmp_path, spec, message):
    assert message in import_error(tmp_path, spec.values[0])

