"""Element type conversions and low-precision arithmetic compiled by mpc
(hand-written .mlir run with --precision none, i.e. in the types written),
checked bit for bit against ml_dtypes / numpy: round to nearest even, fp8
saturation, NaN and infinity handling, one rounding per op."""
import pathlib
import sys

import ml_dtypes
import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "unittests"))
import fp8_reference  # noqa: E402  (the sample Fp8ExactTest checks, >= 100k inputs)


def special_values():
    """Ties, subnormals, overflow thresholds, infinities, NaN and a spread of
    random magnitudes, as f32."""
    rng = np.random.default_rng(3)
    values = [0.0, -0.0, 1.0, -1.0, 448.0, 464.0, 465.0, 480.0, 57344.0, 61440.0, 65504.0,
              65520.0, 1e30, -1e30, np.inf, -np.inf, np.nan, 2.0 ** -6, 2.0 ** -9, 2.0 ** -10,
              1.5 * 2.0 ** -10, 2.0 ** -14, 2.0 ** -16, 2.0 ** -17, 3 * 2.0 ** -17, 2.0 ** -24,
              2.0 ** -25, 1.0 + 2.0 ** -4, 1.0 + 3 * 2.0 ** -4, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8,
              1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 1.1754944e-38, 1e-40]
    magnitudes = np.exp(rng.uniform(np.log(1e-9), np.log(1e6), 2000))
    signs = rng.choice([-1.0, 1.0], 2000)
    return np.concatenate([np.array(values), -np.array(values), magnitudes * signs]).astype(np.float32)


def round_trip_module(n, low_type, saturate):
    sat = "" if saturate is None else f" {{saturate = {str(saturate).lower()}}}"
    return f"""
func.func @main(%x: tensor<{n}xf32> {{mpc.name = "x"}}) -> (tensor<{n}xf32> {{mpc.name = "y"}}) {{
  %low = mpc.cast %x{sat} : tensor<{n}xf32> to tensor<{n}x{low_type}>
  %y = mpc.cast %low : tensor<{n}x{low_type}> to tensor<{n}xf32>
  return %y : tensor<{n}xf32>
}}
"""


def assert_same_floats(actual, expected):
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(actual), nan)
    np.testing.assert_array_equal(actual[~nan].view(np.uint32), expected[~nan].view(np.uint32))


@pytest.mark.parametrize("length", ["odd", "vector"])
@pytest.mark.parametrize("low_type,dtype", [
    ("bf16", ml_dtypes.bfloat16), ("f16", np.float16),
    ("f8E4M3FN", ml_dtypes.float8_e4m3fn), ("f8E5M2", ml_dtypes.float8_e5m2)])
def test_round_trip_rounds_to_nearest_even(mpc_run, low_type, dtype, length):
    # The casts are vectorized by a divisor of the length: 2070 values run
    # 15 wide, the sample repeated to a multiple of 64 runs in the 16-wide
    # vectors that most real tensor sizes get.
    x = special_values()
    if length == "vector":
        x = np.resize(x, 64 * (x.size // 64 + 1))
    fp8 = low_type.startswith("f8")
    actual = mpc_run(round_trip_module(x.size, low_type, False if fp8 else None), {"x": x},
                     precision="none", output_names=["y"])["y"]
    with np.errstate(over="ignore", invalid="ignore"):
        expected = x.astype(dtype).astype(np.float32)
    assert_same_floats(actual, expected)


def every_code_and_tie(dtype):
    """Every value of a 16-bit float type as f32 (NaNs of both signs with
    their payloads), then, for each pair of neighbouring codes, the f32
    halfway point and its two f32 neighbours: ties to even and the roundings
    either side of them, subnormals included. 3 * 2^16 values, a multiple of
    16, so the casts run in 16-lane vectors."""
    codes = np.arange(2 ** 16, dtype=np.uint32).astype(np.uint16).view(dtype).astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.sort(codes[np.isfinite(codes)].astype(np.float64))
        mid = ((finite[:-1] + finite[1:]) / 2).astype(np.float32)  # exact: f32 has the bits
    assert np.all(mid.astype(np.float64) == (finite[:-1] + finite[1:]) / 2)
    below = np.nextafter(mid, np.float32(-np.inf))
    above = np.nextafter(mid, np.float32(np.inf))
    x = np.concatenate([codes, mid, below, above])
    return np.resize(x, 3 * 2 ** 16)


@pytest.mark.parametrize("low_type,dtype", [("bf16", ml_dtypes.bfloat16), ("f16", np.float16)])
def test_vector_round_trip_of_every_code_and_tie(mpc_run, low_type, dtype):
    """f32 -> bf16/f16 -> f32 in 16-lane vectors over every code and every
    tie: bit for bit as ml_dtypes/numpy except NaN, which is bf16's 0x7FC0
    whatever its sign (ml_dtypes keeps the sign: docs/numerics.md) and an
    f16 NaN of the input's sign."""
    x = every_code_and_tie(dtype)
    actual = mpc_run(round_trip_module(x.size, low_type, None), {"x": x}, precision="none",
                     output_names=["y"])["y"]
    with np.errstate(over="ignore", invalid="ignore"):
        expected = x.astype(dtype).astype(np.float32)
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(actual), nan)
    np.testing.assert_array_equal(actual[~nan].view(np.uint32), expected[~nan].view(np.uint32))
    if dtype is ml_dtypes.bfloat16:
        assert np.all(actual[nan].view(np.uint32) == 0x7FC00000)
    else:
        np.testing.assert_array_equal(np.signbit(actual[nan]), np.signbit(x[nan]))


@pytest.mark.parametrize("low_type,dtype,largest", [
    ("f8E4M3FN", ml_dtypes.float8_e4m3fn, 448.0), ("f8E5M2", ml_dtypes.float8_e5m2, 57344.0)])
def test_fp8_saturation_clamps_to_the_largest_finite_value(mpc_run, low_type, dtype, largest):
    x = special_values()
    actual = mpc_run(round_trip_module(x.size, low_type, True), {"x": x}, precision="none", output_names=["y"])["y"]
    expected = np.clip(x, -largest, largest).astype(dtype).astype(np.float32)
    assert_same_floats(actual, expected)


def cast_module(n, low_type, saturate):
    return f"""
func.func @main(%x: tensor<{n}xf32> {{mpc.name = "x"}}) -> (tensor<{n}x{low_type}> {{mpc.name = "y"}}) {{
  %y = mpc.cast %x {{saturate = {str(saturate).lower()}}} : tensor<{n}xf32> to tensor<{n}x{low_type}>
  return %y : tensor<{n}x{low_type}>
}}
"""


@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("low_type,dtype", [
    ("f8E4M3FN", ml_dtypes.float8_e4m3fn), ("f8E5M2", ml_dtypes.float8_e5m2)])
def test_fp8_codes_match_ml_dtypes_on_the_full_sample(mpc_run, low_type, dtype, saturate):
    """Every code bit for bit (NaN sign included) over fp8_reference's sample:
    ties, subnormals, overflow, infinities, NaN payloads, random bits."""
    x = fp8_reference.sample_inputs()
    actual = mpc_run(cast_module(x.size, low_type, saturate), {"x": x}, precision="none",
                     output_names=["y"])["y"]
    expected = fp8_reference.encode(x, dtype, saturate)
    mismatched = np.flatnonzero(actual.view(np.uint8) != expected)
    assert mismatched.size == 0, [(float(x[i]), hex(actual.view(np.uint8)[i]), hex(expected[i]))
                                  for i in mismatched[:10]]


def test_fp8_elementwise_rounds_once_per_op(mpc_run):
    """An add on fp8 tensors computes in f32 and rounds the sum to fp8."""
    module = """
func.func @main(%a: tensor<64xf32> {mpc.name = "a"}, %b: tensor<64xf32> {mpc.name = "b"})
    -> (tensor<64xf32> {mpc.name = "y"}) {
  %a8 = mpc.cast %a : tensor<64xf32> to tensor<64xf8E4M3FN>
  %b8 = mpc.cast %b : tensor<64xf32> to tensor<64xf8E4M3FN>
  %s = mpc.add %a8, %b8 : (tensor<64xf8E4M3FN>, tensor<64xf8E4M3FN>) -> tensor<64xf8E4M3FN>
  %y = mpc.cast %s : tensor<64xf8E4M3FN> to tensor<64xf32>
  return %y : tensor<64xf32>
}
"""
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal(64).astype(np.float32) * 8 for _ in range(2))
    e4m3 = ml_dtypes.float8_e4m3fn
    a8, b8 = a.astype(e4m3).astype(np.float32), b.astype(e4m3).astype(np.float32)
    expected = (a8 + b8).astype(e4m3).astype(np.float32)
    actual = mpc_run(module, {"a": a, "b": b}, precision="none", output_names=["y"])["y"]
    assert_same_floats(actual, expected)


@pytest.mark.parametrize("low_type,dtype", [("bf16", ml_dtypes.bfloat16), ("f16", np.float16)])
def test_low_precision_arithmetic_rounds_every_op(mpc_run, low_type, dtype):
    """x*y+z in bf16/f16 is two roundings, not one fused f32 computation."""
    t = f"tensor<256x{low_type}>"
    module = f"""
func.func @main(%x: {t} {{mpc.name = "x"}}, %y: {t} {{mpc.name = "y"}},
                %z: {t} {{mpc.name = "z"}}) -> ({t} {{mpc.name = "r"}}) {{
  %p = mpc.mul %x, %y : ({t}, {t}) -> {t}
  %r = mpc.add %p, %z : ({t}, {t}) -> {t}
  return %r : {t}
}}
"""
    rng = np.random.default_rng(11)
    x, y, z = (rng.standard_normal(256).astype(dtype) for _ in range(3))
    actual = mpc_run(module, {"x": x, "y": y, "z": z}, precision="none",
                     output_names=["r"])["r"].view(dtype)
    f32 = np.float32
    expected = ((x.astype(f32) * y.astype(f32)).astype(dtype).astype(f32) + z.astype(f32)).astype(dtype)
    np.testing.assert_array_equal(actual.view(np.uint16), expected.view(np.uint16))
    fused = (x.astype(f32) * y.astype(f32) + z.astype(f32)).astype(dtype)
    assert np.any(actual.view(np.uint16) != fused.view(np.uint16))


@pytest.mark.parametrize("low_type,dtype", [("bf16", ml_dtypes.bfloat16), ("f16", np.float16)])
def test_low_precision_math_rounds_every_op(mpc_run, low_type, dtype):
    """sqrt(sqrt(x)) in bf16/f16 rounds after each sqrt (sqrt is correctly
    rounded, so the expected bits are exact)."""
    t = f"tensor<512x{low_type}>"
    module = f"""
func.func @main(%x: {t} {{mpc.name = "x"}}) -> ({t} {{mpc.name = "r"}}) {{
  %a = mpc.sqrt %x : {t}
  %r = mpc.sqrt %a : {t}
  return %r : {t}
}}
"""
    x = np.random.default_rng(13).uniform(0.01, 100.0, 512).astype(dtype)
    actual = mpc_run(module, {"x": x}, precision="none", output_names=["r"])["r"].view(dtype)
    f32 = np.float32
    expected = np.sqrt(np.sqrt(x.astype(f32)).astype(dtype).astype(f32)).astype(dtype)
    np.testing.assert_array_equal(actual.view(np.uint16), expected.view(np.uint16))
    unrounded = np.sqrt(np.sqrt(x.astype(f32))).astype(dtype)
    assert np.any(actual.view(np.uint16) != unrounded.view(np.uint16))
