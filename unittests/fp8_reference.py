"""Reference data for the fp8 exactness tests, computed with ml_dtypes.

`python fp8_reference.py OUT` writes a little-endian binary file that
Fp8ExactTest.cpp reads:

    b"MPCFP8R1", uint32 n,
    float32 decode_e4m3fn[256], float32 decode_e5m2[256],
    float32 inputs[n],
    uint8 e4m3fn_rne[n], uint8 e4m3fn_sat[n], uint8 e5m2_rne[n], uint8 e5m2_sat[n]

`rne` is ml_dtypes' astype (round to nearest even; overflow gives NaN in
E4M3FN, inf in E5M2); `sat` clips to the largest finite value first, so
infinities saturate and NaN stays NaN (ONNX Cast with saturate=1, OCP).
test/e2e/test_conversions.py imports `sample_inputs` to run the same sample
through mpc-run.
"""
import sys

import ml_dtypes
import numpy as np

FORMATS = (ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2)
MAGIC = b"MPCFP8R1"


def all_values(dtype):
    """Every code of `dtype` decoded to f32."""
    return np.arange(256, dtype=np.uint8).view(dtype).astype(np.float32)


def neighbours(x, steps=2):
    """`x` and its f32 neighbours up to `steps` ulps away on each side."""
    out = [x]
    up = down = x
    for _ in range(steps):
        up = np.nextafter(up, np.float32(np.inf))
        down = np.nextafter(down, np.float32(-np.inf))
        out += [up, down]
    return np.concatenate(out)


def format_edges(dtype):
    """Every fp8 value, every tie between neighbours, and the f32 values a few
    ulps around both: where rounding decides between two codes."""
    finite = np.unique(np.abs(all_values(dtype)[np.isfinite(all_values(dtype))]))
    largest = finite[-1]
    # The tie above the largest value is the overflow threshold.
    spacing = finite[-1] - finite[-2]
    edges = np.concatenate([finite, [largest + spacing / 2, largest + spacing]]).astype(np.float32)
    ties = ((edges[:-1].astype(np.float64) + edges[1:]) / 2).astype(np.float32)
    points = neighbours(np.concatenate([edges, ties]).astype(np.float32), steps=3)
    # Dense f32 coverage of the overflow region and of the subnormal range.
    overflow = np.linspace(largest * 0.9, largest * 1.2, 4000, dtype=np.float32)
    subnormal = np.linspace(0, 4 * float(ml_dtypes.finfo(dtype).smallest_normal), 4000, dtype=np.float32)
    # Below half the smallest subnormal everything rounds to zero.
    tiny = finite[1] * np.float32(2.0) ** -np.arange(1, 30, dtype=np.float32)
    return np.concatenate([points, overflow, subnormal, neighbours(tiny, 1)])


def sample_inputs():
    """>= 100k f32 inputs, both signs: format edges and ties, f32 subnormals,
    infinities, NaNs with assorted payloads, random bit patterns and random
    magnitudes."""
    rng = np.random.default_rng(2024)
    specials = np.array([0.0, np.inf, np.finfo(np.float32).max, np.finfo(np.float32).tiny],
                        dtype=np.float32)
    nan_bits = np.array([0x7FC00000, 0x7F800001, 0x7FFFFFFF, 0x7FA00000, 0x7FC00001], dtype=np.uint32)
    f32_subnormals = rng.integers(1, 0x00800000, 2000, dtype=np.uint32).view(np.float32)
    random_bits = rng.integers(0, 2 ** 32, 40000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    magnitudes = np.exp(rng.uniform(np.log(1e-12), np.log(1e6), 30000)).astype(np.float32)
    positive = np.concatenate([specials, nan_bits.view(np.float32), f32_subnormals, magnitudes,
                               *(format_edges(dtype) for dtype in FORMATS)])
    positive = positive[~np.signbit(positive)]
    return np.concatenate([positive, -positive, random_bits]).astype(np.float32)


def encode(x, dtype, saturate):
    with np.errstate(over="ignore", invalid="ignore"):
        if saturate:
            largest = np.float32(ml_dtypes.finfo(dtype).max)
            x = np.clip(x, -largest, largest)  # NaN stays NaN
        return x.astype(dtype).view(np.uint8)


def main(path):
    x = sample_inputs()
    parts = [MAGIC, np.uint32(x.size).tobytes()]
    parts += [all_values(dtype).tobytes() for dtype in FORMATS]
    parts.append(x.tobytes())
    parts += [encode(x, dtype, saturate).tobytes() for dtype in FORMATS for saturate in (False, True)]
    with open(path, "wb") as f:
        f.write(b"".join(parts))


if __name__ == "__main__":
    main(sys.argv[1])
