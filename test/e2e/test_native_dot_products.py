"""mpc-run --native-dot-products: bf16 contractions on AVX512-BF16 pair dot
products (vdpbf16ps), against an f64 reference of the same bf16 operands,
within the error bound of docs/numerics.md ("Native bf16 dot products"):

  |native - s| <= gamma_k * (|c| + sum |a_i b_i|) + sum_{i in D} |a_i b_i|
                  + 3 (k + 1) 2^-126

(s the exact sum c + sum a_i b_i, u = 2^-24, gamma_k = k u / (1 - k u), D the
products with a bf16 denormal factor), plus the rounding of the op's result
to bf16 where the op is typed bf16 (2^-8 |native|). The numeric tests run
only where the host has avx512bf16 (mpc-run --print-target); the fallback
(warning, exact code) is checked everywhere with --mcpu generic. Every
numeric test also runs everywhere in emulation (mpc-run's hidden
--emulate-native-dot-products: the same packing and loops, each pair dot
product as two f32 FMAs in vdpbf16ps's order, denormals kept), which checks
the layout and indexing of the native code on any CPU."""
import subprocess

import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import MPC_RUN, load_npy

U = 2.0 ** -24
TINY = 2.0 ** -126
BF16_UNIT = 2.0 ** -8


def _host_has_avx512bf16():
    if not MPC_RUN.exists():
        return False
    try:
        out = subprocess.run([str(MPC_RUN), "--print-target"], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    target = next((line for line in out.splitlines() if line.startswith("target:")), "")
    return " avx512bf16" in target


MODES = [pytest.param(["--emulate-native-dot-products"], id="emulated"),
         pytest.param(["--native-dot-products"], id="native",
                      marks=pytest.mark.skipif(not _host_has_avx512bf16(),
                                               reason="the host has no avx512bf16 (mpc-run --print-target)"))]


def _bf16(x):
    """RNE to bf16, back as f64 (what the truncf of the programs gives)."""
    return np.asarray(x, np.float32).astype(ml_dtypes.bfloat16).astype(np.float64)


def _bound(a, b, k, c=None):
    """The documented bound for C (+)= A @ B, elementwise (a, b: bf16 values
    as f64, [..., m, k] and [..., k, n])."""
    gamma = k * U / (1 - k * U)
    magnitude = np.abs(a) @ np.abs(b)
    if c is not None:
        magnitude = magnitude + np.abs(c)
    normal = lambda v: np.where(np.abs(v) >= TINY, 0.0, np.abs(v))  # noqa: E731
    # Products with a denormal factor: sum |a_i b_i| over them.
    flushed = normal(a) @ np.abs(b) + (np.abs(a) - normal(a)) @ normal(b)
    return gamma * magnitude + flushed + 3 * (k + 1) * TINY


def _linalg_matmul(m, k, n, batch=None, transposed=False):
    """C = A @ B with f32 inputs rounded to bf16 in the contraction's body and
    an f32 result (the accumulator itself, no final rounding): the shape of a
    bf16 matmul whose operands a fused precision cast rounds. `transposed`:
    A given as [k, m] and B as [n, k] (a weight gradient's operands: pairs
    and columns read across rows)."""
    lead = f"{batch}x" if batch else ""
    a, b, c = f"tensor<{lead}{m}x{k}xf32>", f"tensor<{lead}{k}x{n}xf32>", f"tensor<{lead}{m}x{n}xf32>"
    if transposed:
        a, b = f"tensor<{k}x{m}xf32>", f"tensor<{n}x{k}xf32>"
        maps = ("affine_map<(i, j, l) -> (l, i)>, affine_map<(i, j, l) -> (j, l)>, "
                "affine_map<(i, j, l) -> (i, j)>")
        iterators = '"parallel", "parallel", "reduction"'
    elif batch:
        maps = ("affine_map<(b, i, j, l) -> (b, i, l)>, affine_map<(b, i, j, l) -> (b, l, j)>, "
                "affine_map<(b, i, j, l) -> (b, i, j)>")
        iterators = '"parallel", "parallel", "parallel", "reduction"'
    else:
        maps = ("affine_map<(i, j, l) -> (i, l)>, affine_map<(i, j, l) -> (l, j)>, "
                "affine_map<(i, j, l) -> (i, j)>")
        iterators = '"parallel", "parallel", "reduction"'
    return f"""
func.func @main(%a: {a}, %b: {b}) -> {c} {{
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : {c}
  %init = linalg.fill ins(%zero : f32) outs(%empty : {c}) -> {c}
  %r = linalg.generic {{indexing_maps = [{maps}], iterator_types = [{iterators}]}}
      ins(%a, %b : {a}, {b}) outs(%init : {c}) {{
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %xr = arith.truncf %x : f32 to bf16
    %yr = arith.truncf %y : f32 to bf16
    %xe = arith.extf %xr : bf16 to f32
    %ye = arith.extf %yr : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }} -> {c}
  return %r : {c}
}}
"""


def _run(mpc_run, model, inputs, precision, extra, output="result0"):
    proc, out = mpc_run.invoke(model, inputs, precision, extra_args=extra)
    assert proc.returncode == 0, f"mpc-run failed:\n{proc.stderr}"
    return load_npy(out / f"{output}.npy").astype(np.float64), proc.stderr


# (All at least 2^12 multiply-adds: smaller ones keep the scalar loops.)
# Reductions: even, odd (the last pair padded with a zero), a single step,
# long ones split into cache blocks (> 256), odd and long; columns that take
# 512-, 256- and 128-bit dot products; rows that leave a partial tile.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("m,k,n,batch", [(64, 96, 64, None), (37, 7, 32, None), (64, 1, 64, None),
                                         (24, 517, 48, None), (9, 300, 8, None), (32, 64, 4, None),
                                         (70, 128, 96, None), (32, 33, 64, 3)])
def test_native_matmul_within_bound(mpc_run, mode, m, k, n, batch):
    rng = np.random.default_rng(k * 1000 + n)
    lead = (batch,) if batch else ()
    a = rng.standard_normal(lead + (m, k)).astype(np.float32)
    b = rng.standard_normal(lead + (k, n)).astype(np.float32)
    model = _linalg_matmul(m, k, n, batch)
    native, _ = _run(mpc_run, model, {"arg0": a, "arg1": b}, "none", mode)
    exact, _ = _run(mpc_run, model, {"arg0": a, "arg1": b}, "none", [])
    ab, bb = _bf16(a), _bf16(b)
    reference = ab @ bb
    bound = _bound(ab, bb, k)
    assert np.all(np.abs(native - reference) <= bound)
    assert np.all(np.abs(exact - reference) <= bound)
    if k >= 7:
        # The pair sums add in another order: some results differ (the
        # native code ran, not the exact one).
        assert not np.array_equal(native, exact)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("m,k,n", [(24, 65, 32), (16, 300, 64)])
def test_native_transposed_matmul_within_bound(mpc_run, mode, m, k, n):
    rng = np.random.default_rng(m + k + n)
    a = rng.standard_normal((k, m)).astype(np.float32)
    b = rng.standard_normal((n, k)).astype(np.float32)
    model = _linalg_matmul(m, k, n, transposed=True)
    native, _ = _run(mpc_run, model, {"arg0": a, "arg1": b}, "none", mode)
    exact, _ = _run(mpc_run, model, {"arg0": a, "arg1": b}, "none", [])
    ab, bb = _bf16(a).T, _bf16(b).T
    reference = ab @ bb
    bound = _bound(ab, bb, k)
    assert np.all(np.abs(native - reference) <= bound)
    assert not np.array_equal(native, exact)


# Denormal operands and products: the flush to zero is inside the bound.
@pytest.mark.parametrize("mode", MODES)
def test_native_matmul_denormals_within_bound(mpc_run, mode):
    m, k, n = 16, 40, 32
    rng = np.random.default_rng(7)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    a[:4] *= np.float32(2.0 ** -128)   # bf16 denormal inputs
    a[4:8] *= np.float32(2.0 ** -70)   # normal inputs, denormal products
    b[:, :8] *= np.float32(2.0 ** -70)
    a[8, ::3] = np.float32(2.0 ** -130)  # a few denormals among normal values
    model = _linalg_matmul(m, k, n)
    native, _ = _run(mpc_run, model, {"arg0": a, "arg1": b}, "none", mode)
    exact, _ = _run(mpc_run, model, {"arg0": a, "arg1": b}, "none", [])
    ab, bb = _bf16(a), _bf16(b)
    reference = ab @ bb
    bound = _bound(ab, bb, k)
    assert np.all(np.abs(native - reference) <= bound)
    # The exact code keeps the denormal rows (f32 has gradual underflow).
    assert np.all(np.abs(exact[:4] - reference[:4]) <= k * 2.0 ** -149 + k * U * (np.abs(ab[:4]) @ np.abs(bb)))
    assert np.any(exact[:4] != 0)


def _onnx_matmul(m, k, n, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((k, n)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "mm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])], [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), w


# --precision bf16: the matmul's result is rounded to bf16 as every bf16 op's.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("m,k,n", [(128, 768, 768), (50, 999, 40)])
def test_native_onnx_matmul_bf16_within_bound(mpc_run, mode, m, k, n):
    model, w = _onnx_matmul(m, k, n, seed=k)
    x = np.random.default_rng(3).standard_normal((m, k)).astype(np.float32)
    native = mpc_run.invoke(model, {"x": x}, "bf16", extra_args=mode)
    assert native[0].returncode == 0, native[0].stderr
    y = load_npy(native[1] / "y.npy").astype(np.float64)
    ab, bb = _bf16(x), _bf16(w)
    reference = ab @ bb
    bound = _bound(ab, bb, k)
    assert np.all(np.abs(y - reference) <= bound + BF16_UNIT * (np.abs(reference) + bound))
    if m * n >= 65536:
        # The f32 sums differ in their last bits; the bf16 rounding of the
        # result hides most of that, not all over 98k outputs.
        exact = mpc_run(model, {"x": x}, "bf16")["y"]
        assert not np.array_equal(y, exact)


def _onnx_conv(cin, cout, size, kernel, stride, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((cout, cin, kernel, kernel)).astype(np.float32)
    pad = kernel // 2
    out = (size + 2 * pad - kernel) // stride + 1
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[pad] * 4, strides=[stride] * 2)], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, out, out])],
        [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), w, pad


def _conv_reference(x, w, pad, stride):
    """f64 convolution and, per output, the bound's sum of |products|."""
    n, cin, size, _ = x.shape
    cout, _, kernel, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = (size + 2 * pad - kernel) // stride + 1
    cols = np.empty((cin * kernel * kernel, out * out))
    for c in range(cin):
        for i in range(kernel):
            for j in range(kernel):
                window = xp[0, c, i:i + stride * out:stride, j:j + stride * out:stride]
                cols[(c * kernel + i) * kernel + j] = window.reshape(-1)
    flat = w.reshape(cout, -1)
    return flat @ cols, np.abs(flat) @ np.abs(cols), flat.shape[1]


# The im2col convolutions: transposed (channels a multiple of 32: 7x7 maps,
# ResNet-18's last stage) and not (16 channels; an odd reduction, 3 x 3 x 3).
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cin,cout,size,kernel,stride", [(64, 64, 7, 3, 1), (3, 16, 20, 3, 2),
                                                         (32, 32, 14, 1, 1)])
def test_native_conv_bf16_within_bound(mpc_run, mode, cin, cout, size, kernel, stride):
    model, w, pad = _onnx_conv(cin, cout, size, kernel, stride, seed=cin + cout)
    x = np.random.default_rng(5).standard_normal((1, cin, size, size)).astype(np.float32)
    proc, out = mpc_run.invoke(model, {"x": x}, "bf16", extra_args=mode)
    assert proc.returncode == 0, proc.stderr
    y = load_npy(out / "y.npy").astype(np.float64).reshape(cout, -1)
    reference, magnitude, k = _conv_reference(_bf16(x), _bf16(w), pad, stride)
    bound = k * U / (1 - k * U) * magnitude + 3 * (k + 1) * TINY
    assert np.all(np.abs(y - reference) <= bound + BF16_UNIT * (np.abs(reference) + bound))


# Without avx512bf16 (--mcpu generic, any host): a warning, and the exact
# code: the same bytes as without the flag.
def test_native_dot_products_fallback_is_exact(mpc_run):
    if not MPC_RUN.exists():
        pytest.skip("mpc-run not built")
    model = _linalg_matmul(32, 40, 32)
    rng = np.random.default_rng(11)
    inputs = {"arg0": rng.standard_normal((32, 40)).astype(np.float32),
              "arg1": rng.standard_normal((40, 32)).astype(np.float32)}
    proc, out = mpc_run.invoke(model, inputs, "none", extra_args=["--mcpu", "generic", "--native-dot-products"])
    assert proc.returncode == 0, proc.stderr
    assert "warning: --native-dot-products: CPU 'generic' has no avx512bf16" in proc.stderr
    plain, plain_out = mpc_run.invoke(model, inputs, "none", extra_args=["--mcpu", "generic"])
    assert plain.returncode == 0, plain.stderr
    assert load_npy(out / "result0.npy").tobytes() == load_npy(plain_out / "result0.npy").tobytes()
