"""Numerics of the training ops (docs/training.md, docs/dialect.md) through
mpc-run, against numpy references written from the definitions:

- losses: PyTorch's formulas (CrossEntropyLoss with class ids, MSELoss, both
  with mean reduction);
- conv / pool gradients: direct loops that scatter each output's gradient
  back along the forward op's own index map (independent of the gather form
  the lowering uses);
- gather's gradient: np.add.at (an unbuffered scatter-add).
"""
import itertools

import ml_dtypes
import numpy as np
import pytest
from mpc_e2e import load_npy, output_file_name


def t(shape, dtype="f32"):
    dims = "x".join(str(d) for d in shape)
    return f"tensor<{dims}x{dtype}>" if shape else f"tensor<{dtype}>"


def arr(values):
    return "array<i64: " + ", ".join(str(v) for v in values) + ">"


def run(mpc_run, body, args, results, inputs):
    """Runs `body` as @main(args) -> results; args/results: [(name, type)]."""
    sig = ", ".join(f"%{n}: {ty} {{mpc.name = \"{n}\"}}" for n, ty in args)
    res = ", ".join(f"{ty} {{mpc.name = \"{n}\"}}" for n, ty in results)
    ret = ", ".join(f"%{n}" for n, _ in results)
    rtypes = ", ".join(ty for _, ty in results)
    module = f"func.func @main({sig}) -> ({res}) {{\n{body}\n  return {ret} : {rtypes}\n}}\n"
    return mpc_run(module, inputs, precision="none", output_names=[n for n, _ in results])


# --------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------

def cross_entropy_ref(logits, labels):
    """torch.nn.CrossEntropyLoss()(logits.reshape(-1, C), labels.reshape(-1)):
    mean over rows of logsumexp(row) - row[label]."""
    x = logits.astype(np.float64).reshape(-1, logits.shape[-1])
    y = labels.reshape(-1)
    m = x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(x - m).sum(axis=1)) + m[:, 0]
    return np.mean(lse - x[np.arange(len(y)), y])


def cross_entropy_grad_ref(logits, labels, dloss):
    x = logits.astype(np.float64).reshape(-1, logits.shape[-1])
    y = labels.reshape(-1)
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return (p * dloss / len(y)).reshape(logits.shape)


@pytest.mark.parametrize("shape,label_type", [((8, 10), "i64"), ((2, 3, 5), "i32"), ((7,), "i64")])
def test_softmax_cross_entropy(mpc_run, shape, label_type):
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal(shape) * 3).astype(np.float32)
    labels = rng.integers(0, shape[-1], size=shape[:-1]).astype(
        np.int64 if label_type == "i64" else np.int32)
    dloss = np.array(1.7, dtype=np.float32)
    lt, yt = t(shape), t(shape[:-1], label_type)
    body = f"""
  %loss = mpc.softmax_cross_entropy %x, %y : ({lt}, {yt}) -> tensor<f32>
  %g = mpc.softmax_cross_entropy_grad %x, %y, %d : ({lt}, {yt}, tensor<f32>) -> {lt}"""
    out = run(mpc_run, body, [("x", lt), ("y", yt), ("d", "tensor<f32>")],
              [("loss", "tensor<f32>"), ("g", lt)], {"x": logits, "y": labels, "d": dloss})
    np.testing.assert_allclose(out["loss"], cross_entropy_ref(logits, labels), rtol=1e-5)
    np.testing.assert_allclose(out["g"], cross_entropy_grad_ref(logits, labels, 1.7),
                               rtol=1e-4, atol=1e-7)


def test_softmax_cross_entropy_is_stable_for_large_logits(mpc_run):
    """exp(1000) overflows f32; the max-subtracted form does not."""
    logits = np.array([[1000.0, 0.0, -1000.0], [-5.0, 995.0, 1000.0]], dtype=np.float32)
    labels = np.array([0, 1], dtype=np.int64)
    body = "  %loss = mpc.softmax_cross_entropy %x, %y : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>"
    out = run(mpc_run, body, [("x", t((2, 3))), ("y", t((2,), "i64"))],
              [("loss", "tensor<f32>")], {"x": logits, "y": labels})
    assert np.isfinite(out["loss"])
    np.testing.assert_allclose(out["loss"], cross_entropy_ref(logits, labels), rtol=1e-5)


@pytest.mark.parametrize("low,dtype", [("bf16", ml_dtypes.bfloat16), ("f16", np.float16)])
def test_softmax_cross_entropy_low_precision(mpc_run, low, dtype):
    """Narrow logits: the reduction runs in f32, so only the inputs' rounding
    differs from the f32 reference."""
    rng = np.random.default_rng(2)
    logits = (rng.standard_normal((16, 100)) * 4).astype(np.float32)
    labels = rng.integers(0, 100, size=16).astype(np.int64)
    lt, nt = t((16, 100)), t((16, 100), low)
    body = f"""
  %xl = mpc.cast %x : {lt} to {nt}
  %loss = mpc.softmax_cross_entropy %xl, %y : ({nt}, tensor<16xi64>) -> tensor<f32>
  %gl = mpc.softmax_cross_entropy_grad %xl, %y, %d : ({nt}, tensor<16xi64>, tensor<f32>) -> {nt}
  %g = mpc.cast %gl : {nt} to {lt}"""
    out = run(mpc_run, body, [("x", lt), ("y", t((16,), "i64")), ("d", "tensor<f32>")],
              [("loss", "tensor<f32>"), ("g", lt)],
              {"x": logits, "y": labels, "d": np.array(1.0, np.float32)})
    rounded = logits.astype(dtype).astype(np.float32)
    np.testing.assert_allclose(out["loss"], cross_entropy_ref(rounded, labels), rtol=1e-5)
    np.testing.assert_allclose(out["g"], cross_entropy_grad_ref(rounded, labels, 1.0),
                               rtol=1e-2, atol=1e-4)


@pytest.mark.parametrize("shape,low", [((8, 10), "f32"), ((2, 3, 5), "f32"), ((7,), "f32"),
                                       ((16, 100), "bf16"), ((6, 33), "f16")])
def test_softmax_cross_entropy_with_grad(mpc_run, shape, low):
    """The fused op gives the separate ops' loss (up to the order of the row
    sum) and gradient (the same formula, so the same values), labels out of
    range clamped alike."""
    rng = np.random.default_rng(4)
    logits = (rng.standard_normal(shape) * 3).astype(np.float32)
    labels = np.array(rng.integers(0, shape[-1], size=shape[:-1]), dtype=np.int64)
    labels.flat[0], labels.flat[-1] = -3, shape[-1] + 4
    lt, nt, yt = t(shape), t(shape, low), t(shape[:-1], "i64")
    body = f"""
  %xl = mpc.cast %x : {lt} to {nt}
  %loss = mpc.softmax_cross_entropy %xl, %y : ({nt}, {yt}) -> tensor<f32>
  %gl = mpc.softmax_cross_entropy_grad %xl, %y, %d : ({nt}, {yt}, tensor<f32>) -> {nt}
  %g = mpc.cast %gl : {nt} to {lt}
  %floss, %fgl = mpc.softmax_cross_entropy_with_grad %xl, %y, %d : ({nt}, {yt}, tensor<f32>) -> (tensor<f32>, {nt})
  %fg = mpc.cast %fgl : {nt} to {lt}"""
    out = run(mpc_run, body, [("x", lt), ("y", yt), ("d", "tensor<f32>")],
              [("loss", "tensor<f32>"), ("g", lt), ("floss", "tensor<f32>"), ("fg", lt)],
              {"x": logits, "y": labels, "d": np.array(1.7, np.float32)})
    np.testing.assert_allclose(out["floss"], out["loss"], rtol=1e-6)
    np.testing.assert_array_equal(out["fg"], out["g"])
    rounded = logits.astype({"f32": np.float32, "bf16": ml_dtypes.bfloat16,
                             "f16": np.float16}[low]).astype(np.float32)
    clamped = np.clip(labels, 0, shape[-1] - 1)
    np.testing.assert_allclose(out["floss"], cross_entropy_ref(rounded, clamped), rtol=1e-5)


@pytest.mark.parametrize("shape,low", [((16, 10), "bf16"), ((300, 7), "f32"), ((3, 1000), "f32")])
def test_softmax_cross_entropy_with_grad_cuda_schedule(mpc_run, shape, low):
    """The CUDA kernels of the fused op (one row kernel, then the sum of the
    rows' terms: sequential for few rows, a tree for 300), run on the CPU,
    give the CPU target's loss and gradient; the clamped labels' too."""
    rng = np.random.default_rng(5)
    logits = (rng.standard_normal(shape) * 3).astype(np.float32)
    labels = rng.integers(0, shape[-1], size=shape[:-1]).astype(np.int64)
    labels[:2] = [-3, shape[-1] + 4]
    lt, nt, yt = t(shape), t(shape, low), t(shape[:-1], "i64")
    body = f"""
  %xl = mpc.cast %x : {lt} to {nt}
  %loss, %gl = mpc.softmax_cross_entropy_with_grad %xl, %y, %d : ({nt}, {yt}, tensor<f32>) -> (tensor<f32>, {nt})
  %g = mpc.cast %gl : {nt} to {lt}"""
    sig = f"%x: {lt} {{mpc.name = \"x\"}}, %y: {yt} {{mpc.name = \"y\"}}, %d: tensor<f32> {{mpc.name = \"d\"}}"
    module = (f"func.func @main({sig}) -> (tensor<f32> {{mpc.name = \"loss\"}}, {lt} {{mpc.name = \"g\"}}) {{"
              f"{body}\n  return %loss, %g : tensor<f32>, {lt}\n}}\n")
    inputs = {"x": logits, "y": labels, "d": np.array(1.7, np.float32)}
    results = {}
    for schedule in [False, True]:
        proc, out = mpc_run.invoke(module, inputs, precision="none",
                                   extra_args=["--cuda-schedule"] if schedule else [])
        assert proc.returncode == 0, proc.stderr[-4000:]
        results[schedule] = {n: load_npy(out / output_file_name(n)) for n in ["loss", "g"]}
    # The kernel splits each row's sums over threads: the order, not the formula, differs.
    np.testing.assert_allclose(results[True]["loss"], results[False]["loss"], rtol=1e-6)
    np.testing.assert_allclose(results[True]["g"], results[False]["g"], rtol=1e-5, atol=1e-9)
    assert np.any(results[True]["g"] != 0)


def test_mse_loss(mpc_run):
    """torch.nn.MSELoss(): mean((pred - target)^2) over all elements."""
    rng = np.random.default_rng(3)
    p, q = (rng.standard_normal((4, 3, 5)).astype(np.float32) for _ in range(2))
    ty = t((4, 3, 5))
    body = f"  %loss = mpc.mse_loss %p, %q : ({ty}, {ty}) -> tensor<f32>"
    out = run(mpc_run, body, [("p", ty), ("q", ty)], [("loss", "tensor<f32>")], {"p": p, "q": q})
    np.testing.assert_allclose(out["loss"], np.mean((p.astype(np.float64) - q) ** 2), rtol=1e-5)


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------

def out_size(n, k, s, p0, p1, d, ceil=False):
    span = d * (k - 1) + 1
    padded = n + p0 + p1
    if ceil:
        o = -(-(padded - span) // s) + 1
        if (o - 1) * s >= n + p0:
            o -= 1
        return o
    return (padded - span) // s + 1


def conv_ref(x, w, strides, pads, dils, group):
    """Forward conv and its two gradients for dy, by direct loops over the
    output and kernel positions (channels by einsum)."""
    sp = x.ndim - 2
    n, cin = x.shape[:2]
    m, cg = w.shape[:2]
    ks = w.shape[2:]
    outs = [out_size(x.shape[2 + i], ks[i], strides[i], pads[i], pads[sp + i], dils[i]) for i in range(sp)]
    padw = [(0, 0), (0, 0)] + [(pads[i], pads[sp + i]) for i in range(sp)]
    xp = np.pad(x.astype(np.float64), padw)
    mg = m // group
    def forward(xp, w):
        y = np.zeros((n, m, *outs))
        for o in itertools.product(*[range(v) for v in outs]):
            for k in itertools.product(*[range(v) for v in ks]):
                pos = tuple(o[i] * strides[i] + k[i] * dils[i] for i in range(sp))
                for g in range(group):
                    xs = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + pos]
                    ws = w[(slice(g * mg, (g + 1) * mg), slice(None)) + k]
                    y[(slice(None), slice(g * mg, (g + 1) * mg)) + o] += xs @ ws.T
        return y
    def grads(dy):
        dxp = np.zeros_like(xp)
        dw = np.zeros(w.shape)
        for o in itertools.product(*[range(v) for v in outs]):
            for k in itertools.product(*[range(v) for v in ks]):
                pos = tuple(o[i] * strides[i] + k[i] * dils[i] for i in range(sp))
                for g in range(group):
                    xsl = (slice(None), slice(g * cg, (g + 1) * cg)) + pos
                    wsl = (slice(g * mg, (g + 1) * mg), slice(None)) + k
                    d = dy[(slice(None), slice(g * mg, (g + 1) * mg)) + o]
                    dxp[xsl] += d @ w[wsl]
                    dw[wsl] += d.T @ xp[xsl]
        crop = (slice(None), slice(None)) + tuple(
            slice(pads[i], pads[i] + x.shape[2 + i]) for i in range(sp))
        return dxp[crop], dw
    return forward(xp, w.astype(np.float64)), grads, outs


CONV_CASES = {
    "stride2_pad1": ((2, 3, 7, 7), (4, 3, 3, 3), [2, 2], [1, 1, 1, 1], [1, 1], 1),
    "dilation2": ((1, 2, 9, 8), (3, 2, 3, 3), [1, 1], [2, 2, 2, 2], [2, 2], 1),
    "groups2_asym_pads": ((2, 4, 6, 5), (6, 2, 3, 2), [1, 2], [0, 1, 1, 0], [1, 1], 2),
    "1x1_stride2": ((1, 3, 5, 6), (5, 3, 1, 1), [2, 2], [0, 0, 0, 0], [1, 1], 1),
    "pads_beyond_kernel": ((1, 2, 4, 4), (2, 2, 2, 2), [2, 2], [3, 3, 3, 3], [1, 1], 1),
    "stride3_drops_tail": ((1, 1, 8, 8), (2, 1, 3, 3), [3, 3], [0, 0, 0, 0], [1, 1], 1),
    "1d": ((2, 3, 10), (4, 3, 3), [3], [2, 1], [2], 1),
    "depthwise_1d": ((1, 4, 9), (4, 1, 4), [2], [1, 2], [1], 4),
    "3d": ((1, 2, 4, 5, 3), (2, 2, 2, 3, 2), [1, 2, 1], [0, 1, 1, 1, 0, 0], [2, 1, 1], 1),
    # 8 + 2 - 3 = 7 is odd: the last input row and column are read by no
    # window, so their gradient is zero (no phase convolution writes them).
    "stride2_leftover_8x8": ((2, 3, 8, 8), (5, 3, 3, 3), [2, 2], [1, 1, 1, 1], [1, 1], 1),
    "depthwise_2d": ((2, 4, 6, 6), (4, 1, 3, 3), [1, 1], [1, 1, 1, 1], [1, 1], 4),
    # Over mpc-conv-to-matmul's 2^20 multiply-adds: the input gradient runs
    # as im2col + matmul (the small cases keep the convolution generic).
    "stride2_groups2_im2col": ((2, 32, 16, 16), (32, 16, 3, 3), [2, 2], [1, 1, 1, 1], [1, 1], 2),
    # Stride and dilation coprime (each phase takes every second tap) and
    # sharing a factor (phases with no tap at all, whose dx stays zero).
    "stride2_dilation3": ((1, 2, 13, 11), (3, 2, 3, 3), [2, 2], [2, 1, 2, 1], [3, 3], 1),
    "stride4_dilation2_1d": ((2, 3, 17), (2, 3, 4), [4], [3, 2], [2], 1),
    "depthwise_multiplier_dilated_strided": ((1, 2, 9, 9), (4, 1, 3, 3), [2, 2], [2, 2, 2, 2], [2, 2], 2),
}


def conv_attrs(strides, pads, dils, group):
    return (f"{{strides = {arr(strides)}, pads = {arr(pads)}, dilations = {arr(dils)}, "
            f"group = {group} : i64}}")


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv_gradients(mpc_run, case):
    xs, ws, strides, pads, dils, group = CONV_CASES[case]
    rng = np.random.default_rng(len(case))
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    _, grads, outs = conv_ref(x, w, strides, pads, dils, group)
    dy = rng.standard_normal((xs[0], ws[0], *outs)).astype(np.float32)
    dx_ref, dw_ref = grads(dy.astype(np.float64))
    xt, wt, yt = t(xs), t(ws), t((xs[0], ws[0], *outs))
    attrs = conv_attrs(strides, pads, dils, group)
    body = f"""
  %dx = mpc.conv_grad_input %dy, %w {attrs} : ({yt}, {wt}) -> {xt}
  %dw = mpc.conv_grad_filter %x, %dy {attrs} : ({xt}, {yt}) -> {wt}"""
    out = run(mpc_run, body, [("x", xt), ("w", wt), ("dy", yt)], [("dx", xt), ("dw", wt)],
              {"x": x, "w": w, "dy": dy})
    np.testing.assert_allclose(out["dx"], dx_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["dw"], dw_ref, rtol=1e-4, atol=1e-4)


def test_conv_gradients_match_finite_differences():
    """The numpy reference itself: <dy, conv(x + e)> - <dy, conv(x - e)> over
    2e is <dx, e_dir>, so the scatter loops are the conv's true adjoint."""
    xs, ws, strides, pads, dils, group = CONV_CASES["groups2_asym_pads"]
    rng = np.random.default_rng(9)
    x = rng.standard_normal(xs)
    w = rng.standard_normal(ws)
    y, grads, outs = conv_ref(x, w, strides, pads, dils, group)
    dy = rng.standard_normal(y.shape)
    dx, dw = grads(dy)
    ex, ew = rng.standard_normal(xs), rng.standard_normal(ws)
    eps = 1e-4
    f = lambda xx, ww: np.sum(dy * conv_ref(xx, ww, strides, pads, dils, group)[0])
    np.testing.assert_allclose((f(x + eps * ex, w) - f(x - eps * ex, w)) / (2 * eps),
                               np.sum(dx * ex), rtol=1e-6)
    np.testing.assert_allclose((f(x, w + eps * ew) - f(x, w - eps * ew)) / (2 * eps),
                               np.sum(dw * ew), rtol=1e-6)


@pytest.mark.parametrize("low,dtype", [("bf16", ml_dtypes.bfloat16), ("f16", np.float16)])
def test_conv_gradients_low_precision(mpc_run, low, dtype):
    """bf16/f16 operands with f32 accumulation: close to the f32 reference
    on the rounded operands (only the final rounding differs)."""
    xs, ws, strides, pads, dils, group = CONV_CASES["stride2_pad1"]
    rng = np.random.default_rng(4)
    x = rng.standard_normal(xs).astype(dtype).astype(np.float32)
    w = rng.standard_normal(ws).astype(dtype).astype(np.float32)
    _, grads, outs = conv_ref(x, w, strides, pads, dils, group)
    dy = rng.standard_normal((xs[0], ws[0], *outs)).astype(dtype).astype(np.float32)
    dx_ref, dw_ref = grads(dy.astype(np.float64))
    xt, wt, yt = t(xs), t(ws), t((xs[0], ws[0], *outs))
    xl, wl, yl = t(xs, low), t(ws, low), t((xs[0], ws[0], *outs), low)
    attrs = conv_attrs(strides, pads, dils, group)[:-1] + ", acc_type = f32}"
    body = f"""
  %xl = mpc.cast %x : {xt} to {xl}
  %wl = mpc.cast %w : {wt} to {wl}
  %dyl = mpc.cast %dy : {yt} to {yl}
  %dxl = mpc.conv_grad_input %dyl, %wl {attrs} : ({yl}, {wl}) -> {xl}
  %dwl = mpc.conv_grad_filter %xl, %dyl {attrs} : ({xl}, {yl}) -> {wl}
  %dx = mpc.cast %dxl : {xl} to {xt}
  %dw = mpc.cast %dwl : {wl} to {wt}"""
    out = run(mpc_run, body, [("x", xt), ("w", wt), ("dy", yt)], [("dx", xt), ("dw", wt)],
              {"x": x, "w": w, "dy": dy})
    tol = 1e-2 if low == "bf16" else 2e-3
    scale_x, scale_w = np.abs(dx_ref).max(), np.abs(dw_ref).max()
    assert np.abs(out["dx"] - dx_ref).max() <= tol * scale_x
    assert np.abs(out["dw"] - dw_ref).max() <= tol * scale_w


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------

def pool_windows(in_shape, kernel, strides, pads, dils, ceil):
    sp = len(kernel)
    outs = [out_size(in_shape[2 + i], kernel[i], strides[i], pads[i], pads[sp + i], dils[i], ceil)
            for i in range(sp)]
    return outs


def max_pool_grad_ref(x, dy, kernel, strides, pads, dils, ceil):
    """PyTorch's rule: each window's gradient goes to the first (row-major)
    position of its maximum; padding never wins."""
    sp = len(kernel)
    outs = pool_windows(x.shape, kernel, strides, pads, dils, ceil)
    dx = np.zeros(x.shape)
    for nc in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for o in itertools.product(*[range(v) for v in outs]):
            best, where = -np.inf, None
            for k in itertools.product(*[range(v) for v in kernel]):
                pos = tuple(o[i] * strides[i] + k[i] * dils[i] - pads[i] for i in range(sp))
                if all(0 <= pos[i] < x.shape[2 + i] for i in range(sp)):
                    if x[nc + pos] > best:
                        best, where = x[nc + pos], pos
            dx[nc + where] += dy[nc + o]
    return dx


def avg_pool_grad_ref(x_shape, dy, kernel, strides, pads, include_pad, ceil):
    sp = len(kernel)
    outs = pool_windows(x_shape, kernel, strides, pads, [1] * sp, ceil)
    dx = np.zeros(x_shape)
    for o in itertools.product(*[range(v) for v in outs]):
        inside, count = [], 1
        for i in range(sp):
            start = o[i] * strides[i] - pads[i]
            end = start + kernel[i]
            lo, hi = max(start, 0), min(end, x_shape[2 + i])
            count *= (min(end, x_shape[2 + i] + pads[sp + i]) - start) if include_pad else hi - lo
            inside.append(range(lo, hi))
        for pos in itertools.product(*inside):
            dx[(slice(None), slice(None)) + pos] += dy[(slice(None), slice(None)) + o] / count
    return dx


POOL_CASES = {
    "2x2_stride2": ((2, 3, 6, 6), [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], False),
    "3x3_stride1_overlap_pad1": ((1, 2, 5, 5), [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], False),
    "ceil_mode": ((1, 2, 7, 6), [3, 2], [2, 2], [0, 1, 0, 0], [1, 1], True),
    "dilation2": ((1, 1, 7, 7), [2, 2], [1, 2], [1, 0, 0, 1], [2, 2], False),
    "1d": ((2, 2, 9), [3], [2], [1, 1], [1], False),
}


@pytest.mark.parametrize("case", sorted(POOL_CASES))
def test_max_pool_grad(mpc_run, case):
    shape, kernel, strides, pads, dils, ceil = POOL_CASES[case]
    rng = np.random.default_rng(5)
    # Few distinct values: ties are common, so "first maximum" is tested.
    x = rng.integers(-2, 3, size=shape).astype(np.float32)
    outs = pool_windows(shape, kernel, strides, pads, dils, ceil)
    dy = rng.standard_normal((*shape[:2], *outs)).astype(np.float32)
    xt, yt = t(shape), t((*shape[:2], *outs))
    attrs = (f"{{kernel_shape = {arr(kernel)}, strides = {arr(strides)}, pads = {arr(pads)}, "
             f"dilations = {arr(dils)}, ceil_mode = {str(ceil).lower()}}}")
    body = f"  %dx = mpc.max_pool_grad %x, %dy {attrs} : ({xt}, {yt}) -> {xt}"
    out = run(mpc_run, body, [("x", xt), ("dy", yt)], [("dx", xt)], {"x": x, "dy": dy})
    np.testing.assert_allclose(out["dx"], max_pool_grad_ref(x, dy, kernel, strides, pads, dils, ceil),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("include_pad", [False, True])
@pytest.mark.parametrize("case", ["2x2_stride2", "3x3_stride1_overlap_pad1", "ceil_mode", "1d"])
def test_avg_pool_grad(mpc_run, case, include_pad):
    shape, kernel, strides, pads, _, ceil = POOL_CASES[case]
    rng = np.random.default_rng(6)
    outs = pool_windows(shape, kernel, strides, pads, [1] * len(kernel), ceil)
    dy = rng.standard_normal((*shape[:2], *outs)).astype(np.float32)
    xt, yt = t(shape), t((*shape[:2], *outs))
    attrs = (f"{{kernel_shape = {arr(kernel)}, strides = {arr(strides)}, pads = {arr(pads)}, "
             f"count_include_pad = {str(include_pad).lower()}, ceil_mode = {str(ceil).lower()}}}")
    body = f"  %dx = mpc.avg_pool_grad %dy {attrs} : ({yt}) -> {xt}"
    out = run(mpc_run, body, [("dy", yt)], [("dx", xt)], {"dy": dy})
    np.testing.assert_allclose(
        out["dx"], avg_pool_grad_ref(shape, dy, kernel, strides, pads, include_pad, ceil),
        rtol=1e-5, atol=1e-6)


def test_max_pool_grad_bf16(mpc_run):
    shape, kernel, strides, pads, dils, ceil = POOL_CASES["3x3_stride1_overlap_pad1"]
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(ml_dtypes.bfloat16).astype(np.float32)
    outs = pool_windows(shape, kernel, strides, pads, dils, ceil)
    dy = rng.standard_normal((*shape[:2], *outs)).astype(ml_dtypes.bfloat16).astype(np.float32)
    xt, yt = t(shape), t((*shape[:2], *outs))
    xl, yl = t(shape, "bf16"), t((*shape[:2], *outs), "bf16")
    attrs = (f"{{kernel_shape = {arr(kernel)}, strides = {arr(strides)}, pads = {arr(pads)}, "
             f"dilations = {arr(dils)}, ceil_mode = false}}")
    body = f"""
  %xl = mpc.cast %x : {xt} to {xl}
  %dyl = mpc.cast %dy : {yt} to {yl}
  %dxl = mpc.max_pool_grad %xl, %dyl {attrs} : ({xl}, {yl}) -> {xl}
  %dx = mpc.cast %dxl : {xl} to {xt}"""
    out = run(mpc_run, body, [("x", xt), ("dy", yt)], [("dx", xt)], {"x": x, "dy": dy})
    ref = max_pool_grad_ref(x, dy, kernel, strides, pads, dils, ceil)
    np.testing.assert_allclose(out["dx"], ref.astype(ml_dtypes.bfloat16).astype(np.float32),
                               rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("low,dtype", [("bf16", ml_dtypes.bfloat16), ("f16", np.float16)])
def test_avg_pool_grad_low_precision(mpc_run, low, dtype):
    shape, kernel, strides, pads, _, ceil = POOL_CASES["3x3_stride1_overlap_pad1"]
    outs = pool_windows(shape, kernel, strides, pads, [1] * len(kernel), ceil)
    rng = np.random.default_rng(10)
    dy = rng.standard_normal((*shape[:2], *outs)).astype(dtype).astype(np.float32)
    xt, yt = t(shape), t((*shape[:2], *outs))
    xl, yl = t(shape, low), t((*shape[:2], *outs), low)
    attrs = (f"{{kernel_shape = {arr(kernel)}, strides = {arr(strides)}, pads = {arr(pads)}, "
             f"count_include_pad = false}}")
    body = f"""
  %dyl = mpc.cast %dy : {yt} to {yl}
  %dxl = mpc.avg_pool_grad %dyl {attrs} : ({yl}) -> {xl}
  %dx = mpc.cast %dxl : {xl} to {xt}"""
    out = run(mpc_run, body, [("dy", yt)], [("dx", xt)], {"dy": dy})
    ref = avg_pool_grad_ref(shape, dy, kernel, strides, pads, False, ceil)
    # Summed in f32, rounded once: within half an ulp of the exact value.
    ulp = 2.0 ** -8 if low == "bf16" else 2.0 ** -11
    assert np.all(np.abs(out["dx"] - ref) <= ulp * np.abs(ref) + 1e-30)


# --------------------------------------------------------------------------
# Gather gradient (scatter-add)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [0, 1, 2])
def test_gather_grad(mpc_run, axis):
    """Repeated and negative indices: np.add.at accumulates every occurrence,
    and gather reads index -1 as the last row."""
    data_shape = (5, 4, 3)
    size = data_shape[axis]
    indices = np.array([[0, -1, 1], [size - 1, 0, 0]], dtype=np.int64)
    dy_shape = data_shape[:axis] + indices.shape + data_shape[axis + 1:]
    rng = np.random.default_rng(8 + axis)
    dy = rng.standard_normal(dy_shape).astype(np.float32)
    ref = np.zeros(data_shape)
    normalized = np.where(indices < 0, indices + size, indices)
    moved = np.moveaxis(ref, axis, 0)
    dy_moved = np.moveaxis(dy.reshape(data_shape[:axis] + (-1,) + data_shape[axis + 1:]), axis, 0)
    np.add.at(moved, normalized.reshape(-1), dy_moved)
    dt, yt, it = t(data_shape), t(dy_shape), t(indices.shape, "i64")
    body = f"  %d = mpc.gather_grad %dy, %i {{axis = {axis} : i64}} : ({yt}, {it}) -> {dt}"
    out = run(mpc_run, body, [("dy", yt), ("i", it)], [("d", dt)], {"dy": dy, "i": indices})
    np.testing.assert_allclose(out["d"], ref, rtol=1e-5, atol=1e-6)


def test_gather_grad_bf16_accumulates_in_f32(mpc_run):
    """4096 ones onto one row: a bf16 running sum would stall at 256 (where
    its spacing becomes 2); the f32 accumulator reaches 4096 exactly."""
    n = 4096
    dy = np.ones((n, 2), dtype=np.float32)
    ids = np.zeros(n, dtype=np.int32)
    body = f"""
  %dyl = mpc.cast %dy : tensor<{n}x2xf32> to tensor<{n}x2xbf16>
  %dl = mpc.gather_grad %dyl, %i {{axis = 0 : i64}} : (tensor<{n}x2xbf16>, tensor<{n}xi32>) -> tensor<3x2xbf16>
  %d = mpc.cast %dl : tensor<3x2xbf16> to tensor<3x2xf32>"""
    out = run(mpc_run, body, [("dy", t((n, 2))), ("i", t((n,), "i32"))], [("d", t((3, 2)))],
              {"dy": dy, "i": ids})
    np.testing.assert_array_equal(out["d"][0], [n, n])
    np.testing.assert_array_equal(out["d"][1:], 0)
