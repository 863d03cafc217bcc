"""Accuracy of mpc-approximate-math: single-op ONNX models (Tanh, Erf, Exp,
Sigmoid, Gelu) over a sweep of f32 inputs through mpc-run, against float64
results (f32 spacing at the reference as the ulp). The sweep covers every
4099th f32 bit pattern (all exponents, both signs, subnormals), a dense grid
on [-12, 12], and the specials (+-0, +-inf, NaN). The bounds are the measured
maxima of docs/numerics.md rounded up. The same models with --libm-math
(libm calls) check the measure itself.

Sigmoid and Gelu are formulas around exp/erf whose own rounding costs far
more than 1 ulp at places. Sigmoid is checked where the libm build of the
same formula is within 2 ulp. Gelu = x * Phi(x) with Phi = (1 + erf)/2
computed in f32: for x << 0, 1 + erf(x) cancels and any error of erf near -1
(even libm's rounding) is amplified, so its error is measured in units of
|x| * 2^-24 (|x| times half an ulp of 1, the precision Phi can have).
Exp flushes results below FLT_MIN (x < -87.34) to zero: its subnormal
results are checked in absolute error (< FLT_MIN) instead.
Log is not approximated (MLIR's log is wrong on subnormal inputs); Log checks
that it still gives libm's results.
"""
import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

SPECIALS = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float32)


def sweep():
    bits = np.arange(0, 2**32, 4099, dtype=np.uint64).astype(np.uint32)
    strided = bits.view(np.float32)
    strided = strided[~np.isnan(strided)]
    dense = np.linspace(-12, 12, 200001, dtype=np.float32)
    return np.concatenate([strided, dense, SPECIALS])


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _log(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


def _exp(x):
    with np.errstate(over="ignore"):
        return np.exp(x)


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


FLT_MIN = np.finfo(np.float32).tiny

# (ONNX op, attributes, opset, float64 reference, max ulp with the approximation)
CASES = {
    "Tanh": ({}, 17, np.tanh, 5),
    "Erf": ({}, 17, _erf, 4.5),
    "Exp": ({}, 17, _exp, 5),
    "Log": ({}, 17, _log, 1),
    "Sigmoid": ({}, 17, _sigmoid, 4),
    "Gelu": ({}, 20, _gelu, 4),
}


def single_op_model(op, attrs, opset, n):
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    graph = helper.make_graph([node], op.lower(),
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def ulp_error(actual, x, reference):
    """Per element |actual - ref| in units of the f32 spacing at ref (ref
    rounded to f32); a mismatch in inf/NaN-ness counts as infinite."""
    ref64 = reference(x.astype(np.float64))
    with np.errstate(over="ignore"):
        ref32 = ref64.astype(np.float32)
    special = ~np.isfinite(ref32) | ~np.isfinite(actual)
    same_special = (np.isnan(ref32) & np.isnan(actual)) | (np.isinf(ref32) & (ref32 == actual))
    err = np.zeros(x.shape, np.float64)
    fin = ~special
    spacing = np.spacing(np.abs(ref32[fin])).astype(np.float64)
    err[fin] = np.abs(actual[fin].astype(np.float64) - ref64[fin]) / spacing
    err[special & ~same_special] = np.inf
    return err


def gelu_error(actual, x):
    """|actual - ref| in units of |x| * 2^-24 (see the module docstring),
    plus the f32 subnormal spacing 2^-149 below which nothing is exact."""
    ref = _gelu(x.astype(np.float64))
    fin = np.isfinite(ref) & (x != 0)
    err = np.zeros(x.shape, np.float64)
    err[fin] = np.abs(actual[fin] - ref[fin]) / (np.abs(x[fin].astype(np.float64)) * 2.0**-24 + 2.0**-149)
    bad_special = ~fin & ~((np.isnan(ref) & np.isnan(actual)) | (ref == actual))
    err[bad_special] = np.inf
    return err


def run_case(mpc_run, op, extra_args=()):
    attrs, opset, reference, _ = CASES[op]
    x = sweep()
    model = single_op_model(op, attrs, opset, x.size)
    proc, out = mpc_run.invoke(model, {"x": x}, extra_args=extra_args)
    assert proc.returncode == 0, proc.stderr
    y = np.load(out / "y.npy")
    return x, y, gelu_error(y, x) if op == "Gelu" else ulp_error(y, x, reference)


@pytest.mark.parametrize("op", sorted(CASES))
def test_approximation_within_bound(mpc_run, op):
    x, y, err = run_case(mpc_run, op)
    if op == "Exp":
        flushed = np.abs(_exp(x.astype(np.float64))) < FLT_MIN
        assert np.all(np.abs(y[flushed]) < FLT_MIN)
        err[flushed] = 0
    if op == "Sigmoid":
        _, _, libm_err = run_case(mpc_run, op, extra_args=["--libm-math"])
        err[libm_err > 2] = 0
    worst = int(np.argmax(err))
    print(f"{op}: max {err.max():.3f} ulp at x={x[worst]!r} (got {y[worst]!r})")
    assert err.max() <= CASES[op][3], f"{op}: {err.max()} ulp at x={x[worst]!r}, got {y[worst]!r}"


@pytest.mark.parametrize("op", ["Exp", "Tanh"])
def test_specials(mpc_run, op):
    _, opset, _, _ = CASES[op]
    model = single_op_model(op, {}, opset, SPECIALS.size)
    y = mpc_run(model, {"x": SPECIALS})["y"]
    expected = {"Exp": [1, 1, np.inf, 0, np.nan], "Tanh": [0, -0.0, 1, -1, np.nan]}[op]
    np.testing.assert_array_equal(y, np.array(expected, np.float32))
    if op == "Tanh":
        assert np.signbit(y[1]), "tanh(-0) must be -0"


@pytest.mark.parametrize("op", ["Tanh", "Erf", "Exp", "Log", "Gelu"])
def test_libm_reference_measure(mpc_run, op):
    """The measure is right if libm (max 1-2 ulp) passes it: glibc's tanhf is
    documented at 2 ulp, the others at 1."""
    x, y, err = run_case(mpc_run, op, extra_args=["--libm-math"])
    worst = int(np.argmax(err))
    print(f"{op} with libm: max {err.max():.3f} at x={x[worst]!r}")
    assert err.max() <= {"Tanh": 2.5, "Gelu": 4}.get(op, 1.0)
