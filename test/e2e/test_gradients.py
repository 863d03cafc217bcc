"""Finite-difference checks of every core gradient rule (mpc-autodiff).

Each case is a small @main in MLIR text: parameters (role "param") feed one op
(or a short chain), and the loss is reduce_sum(op(...) * w) with random
weights w, so every output element matters. `mpc-opt --mpc-autodiff` adds the
gradients, `mpc-run --precision none` computes them, and central differences
of the same forward function (also run by mpc-run) are the reference. Tensors
are f64 so the differences are accurate to ~1e-9 (directions: unit vectors for
tensors of up to 8 elements, else 8 random ones); inputs keep clear of kinks
(relu at 0, max ties, clip bounds), which have their own exact checks below.
"""
import concurrent.futures
import itertools
import os
import pathlib
import subprocess

import numpy as np
import pytest

from mpc_e2e import BUILD_DIR, output_file_name

MPC_OPT = BUILD_DIR / "bin" / "mpc-opt"
MPC_TRANSLATE = BUILD_DIR / "bin" / "mpc-translate"

MLIR_TYPES = {np.dtype(np.float64): "f64", np.dtype(np.float32): "f32"}


def tensor_type(shape, element="f64"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def build_main(params, body, out, out_shape, extra_inputs=()):
    """@main(params..., w) -> loss = reduce_sum(out * w). `body` refers to the
    parameters as %NAME and defines %OUT (f64, shape out_shape)."""
    args = [f'%{name}: {tensor_type(value.shape, MLIR_TYPES[value.dtype])} '
            f'{{mpc.name = "{name}", mpc.role = "param"}}' for name, value in params.items()]
    args += [f'%{name}: {tensor_type(value.shape, MLIR_TYPES[value.dtype])} '
             f'{{mpc.name = "{name}", mpc.role = "input"}}' for name, value in extra_inputs]
    out_type = tensor_type(out_shape)
    args.append(f'%w: {out_type} {{mpc.name = "w", mpc.role = "input"}}')
    axes = ", ".join(str(i) for i in range(len(out_shape)))
    return f"""module {{
  func.func @main({", ".join(args)}) -> (tensor<f64> {{mpc.name = "loss", mpc.role = "loss"}}) {{
{body}
    %weighted = mpc.mul %{out}, %w : ({out_type}, {out_type}) -> {out_type}
    %loss = mpc.reduce_sum %weighted {{axes = array<i64: {axes}>, keepdims = false}} : ({out_type}) -> tensor<f64>
    return %loss : tensor<f64>
  }}
}}
"""


class GradientRunner:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.count = itertools.count()  # thread-safe: finite differences run in parallel

    def _dir(self):
        path = self.tmp_path / f"r{next(self.count)}"
        path.mkdir()
        return path

    def autodiff(self, module, passes=("--mpc-autodiff",)):
        work = self._dir()
        (work / "forward.mlir").write_text(module)
        proc = subprocess.run([str(MPC_OPT), *passes, str(work / "forward.mlir"),
                               "-o", str(work / "backward.mlir")], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return (work / "backward.mlir").read_text()

    def run(self, module, inputs, outputs):
        work = self._dir()
        (work / "model.mlir").write_text(module)
        args = [str(BUILD_DIR / "bin" / "mpc-run"), str(work / "model.mlir"), "--precision", "none",
                "--entry", "main", "--output-dir", str(work / "out")]
        for name, value in inputs.items():
            path = work / ("in_" + output_file_name(name))
            np.save(path, value)
            args += ["--input", f"{name}={path}"]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"mpc-run failed:\n{proc.stderr}\n{module}"
        return {name: np.load(work / "out" / output_file_name(name)) for name in outputs}


@pytest.fixture
def runner(tmp_path):
    if not (BUILD_DIR / "bin" / "mpc-run").exists() or not MPC_OPT.exists():
        pytest.skip(f"mpc-run / mpc-opt not built in {BUILD_DIR}")
    return GradientRunner(tmp_path)


def autodiff_gradients(runner, module, feed, params):
    backward = runner.autodiff(module)
    return runner.run(backward, feed, list(params))


def directions(shape, rng, limit=8):
    """Unit vectors when the tensor is small (an exact per-element check),
    else `limit` random directions (a wrong gradient passes a random
    directional check with probability 0; PyTorch's fast gradcheck uses one)."""
    size = int(np.prod(shape))
    if size <= limit:
        return list(np.eye(size).reshape((size, *shape)))
    return [rng.standard_normal(shape) for _ in range(limit)]


def check_gradients(runner, params, body, out, out_shape, extra_inputs=(), eps=1e-6,
                    rtol=1e-6, atol=1e-7, seed=0):
    """Compares each parameter's gradient with central differences of the
    forward function along directions v: (L(p + eps v) - L(p - eps v)) / 2 eps
    must equal <grad, v>."""
    rng = np.random.default_rng(seed)
    module = build_main(params, body, out, out_shape, extra_inputs)
    feed = {**params, **dict(extra_inputs), "w": rng.uniform(0.5, 1.5, out_shape) * rng.choice([-1, 1], out_shape)}
    analytic = autodiff_gradients(runner, module, feed, params)
    for name, base in params.items():
        assert analytic[name].shape == base.shape
        assert analytic[name].dtype == base.dtype
        vs = directions(base.shape, rng)
        shifted = [base + sign * eps * v for v in vs for sign in (1, -1)]
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
            losses = list(pool.map(
                lambda value: float(runner.run(module, {**feed, name: value}, ["loss"])["loss"]), shifted))
        numeric = [(losses[2 * i] - losses[2 * i + 1]) / (2 * eps) for i in range(len(vs))]
        projected = [float(np.sum(analytic[name] * v)) for v in vs]
        np.testing.assert_allclose(projected, numeric, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of {name} along {len(vs)} directions")
    return analytic, feed


def arr(values, dtype=np.float64):
    return np.array(values, dtype=dtype)


# Inputs: away from 0 (relu, abs, reciprocal, log) and without ties.
X = arr([[0.3, -0.7, 1.2], [-1.4, 0.9, -0.2]])
POS = arr([[0.3, 0.7, 1.2], [1.4, 0.9, 2.2]])
T23 = tensor_type((2, 3))

UNARY = {
    "neg": ("mpc.neg %x", X),
    "abs": ("mpc.abs %x", X),
    "exp": ("mpc.exp %x", X),
    "log": ("mpc.log %x", POS),
    "sqrt": ("mpc.sqrt %x", POS),
    "reciprocal": ("mpc.reciprocal %x", X),
    "tanh": ("mpc.tanh %x", X),
    "sigmoid": ("mpc.sigmoid %x", X),
    "relu": ("mpc.relu %x", X),
    "erf": ("mpc.erf %x", X),
    "gelu_erf": ("mpc.gelu %x", X),
    "gelu_tanh": ("mpc.gelu %x {approximate_tanh = true}", X),
    "leaky_relu": ("mpc.leaky_relu %x {alpha = 0.1 : f64}", X),
    "clip": ("mpc.clip %x {min = -0.5 : f64, max = 1.0 : f64}", X),
    "clip_min_only": ("mpc.clip %x {min = -0.5 : f64}", X),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(runner, name):
    op, x = UNARY[name]
    check_gradients(runner, {"x": x}, f"    %y = {op} : {T23}", "y", (2, 3))


BINARY = {
    # op: (lhs, rhs) with broadcasting in both directions
    "add": (X, arr([0.5, -1.0, 2.0])),
    "sub": (X, arr([[0.5], [-1.0]])),
    "mul": (arr([[0.5, -1.0, 2.0]]), X),
    "div": (X, arr([0.5, -1.5, 2.0])),
    "pow": (POS, arr([[1.5], [-0.5]])),
    "max": (X, arr([0.1, -0.3, 1.0])),
    "min": (arr([[0.0], [-0.5]]), X),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(runner, name):
    a, b = BINARY[name]
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    body = (f"    %y = mpc.{name} %a, %b : ({tensor_type(a.shape)}, {tensor_type(b.shape)}) "
            f"-> {tensor_type(out_shape)}")
    check_gradients(runner, {"a": a, "b": b}, body, "y", out_shape)


def test_where(runner):
    x, y = X, arr([[0.25], [-0.5]])
    body = (f"    %c = arith.constant dense<[[true, false, true], [false, false, true]]> : tensor<2x3xi1>\n"
            f"    %r = mpc.where %c, %x, %y : (tensor<2x3xi1>, {T23}, tensor<2x1xf64>) -> {T23}")
    grads, feed = check_gradients(runner, {"x": x, "y": y}, body, "r", (2, 3))
    mask = np.array([[1, 0, 1], [0, 0, 1]], bool)
    np.testing.assert_allclose(grads["x"], np.where(mask, feed["w"], 0))


def test_cast_round_trip(runner):
    # The gradient of a cast is the cast back; the f32 middle limits accuracy.
    body = (f"    %n = mpc.cast %x : {T23} to tensor<2x3xf32>\n"
            f"    %t = mpc.tanh %n : tensor<2x3xf32>\n"
            f"    %y = mpc.cast %t : tensor<2x3xf32> to {T23}")
    check_gradients(runner, {"x": X}, body, "y", (2, 3), eps=1e-3, rtol=2e-3, atol=1e-4)


MATMULS = [((2, 3), (3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)), ((1, 2, 3), (2, 3, 2)),
           ((2, 1, 2, 3), (3, 3, 2))]


@pytest.mark.parametrize("shapes", MATMULS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_matmul(runner, shapes):
    rng = np.random.default_rng(1)
    a_shape, b_shape = shapes
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    out_shape = np.matmul(a, b).shape
    body = (f"    %y = mpc.matmul %a, %b : ({tensor_type(a_shape)}, {tensor_type(b_shape)}) "
            f"-> {tensor_type(out_shape)}")
    check_gradients(runner, {"a": a, "b": b}, body, "y", out_shape)


def test_softmax(runner):
    check_gradients(runner, {"x": X}, f"    %y = mpc.softmax %x {{axis = 1 : i64}} : {T23}", "y", (2, 3))


def test_log_softmax(runner):
    check_gradients(runner, {"x": X}, f"    %y = mpc.log_softmax %x {{axis = 0 : i64}} : {T23}", "y", (2, 3))


@pytest.mark.parametrize("axis", [1, 2])
def test_layer_norm(runner, axis):
    rng = np.random.default_rng(2)
    shape = (2, 2, 3)
    norm_shape = shape[axis:]
    params = {"x": rng.standard_normal(shape), "scale": rng.uniform(0.5, 1.5, norm_shape),
              "bias": rng.standard_normal(norm_shape)}
    t, n = tensor_type(shape), tensor_type(norm_shape)
    body = (f"    %y = mpc.layer_norm %x, %scale, %bias {{axis = {axis} : i64, epsilon = 1.0e-05 : f64}} "
            f": ({t}, {n}, {n}) -> {t}")
    check_gradients(runner, params, body, "y", shape, rtol=1e-5, atol=1e-6)


def test_layer_norm_without_bias(runner):
    rng = np.random.default_rng(3)
    params = {"x": rng.standard_normal((3, 4)), "scale": rng.uniform(0.5, 1.5, (4,))}
    body = ("    %y = mpc.layer_norm %x, %scale {axis = 1 : i64, epsilon = 1.0e-05 : f64} "
            ": (tensor<3x4xf64>, tensor<4xf64>) -> tensor<3x4xf64>")
    check_gradients(runner, params, body, "y", (3, 4), rtol=1e-5, atol=1e-6)


REDUCTIONS = [("reduce_sum", (1,), False), ("reduce_sum", (0, 1), True), ("reduce_mean", (0,), True),
              ("reduce_mean", (1,), False), ("reduce_max", (1,), False), ("reduce_max", (0,), True),
              ("reduce_min", (1,), True), ("reduce_min", (0, 1), False), ("reduce_prod", (1,), False),
              ("reduce_prod", (0, 1), True)]


@pytest.mark.parametrize("op,axes,keepdims", REDUCTIONS, ids=lambda v: str(v))
def test_reduction(runner, op, axes, keepdims):
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(X.shape) if keepdims or i not in axes)
    body = (f"    %y = mpc.{op} %x {{axes = array<i64: {', '.join(map(str, axes))}>, "
            f"keepdims = {'true' if keepdims else 'false'}}} : ({T23}) -> {tensor_type(out_shape)}")
    if not out_shape:
        # reduce to a scalar: the loss helper needs a tensor with dims
        body += "\n    %y1 = mpc.reshape %y {shape = array<i64: 1>} : (tensor<f64>) -> tensor<1xf64>"
        check_gradients(runner, {"x": X}, body, "y1", (1,))
    else:
        check_gradients(runner, {"x": X}, body, "y", out_shape)


def test_reshape_transpose_broadcast(runner):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4))
    body = ("    %t = mpc.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf64>) -> tensor<4x2x3xf64>\n"
            "    %r = mpc.reshape %t {shape = array<i64: 8, 1, 3>} : (tensor<4x2x3xf64>) -> tensor<8x1x3xf64>\n"
            "    %y = mpc.broadcast %r {shape = array<i64: 2, 8, 2, 3>} : (tensor<8x1x3xf64>) -> tensor<2x8x2x3xf64>")
    check_gradients(runner, {"x": x}, body, "y", (2, 8, 2, 3))


def test_concat(runner):
    a, b = X, arr([[0.5], [-1.5]])
    body = f"    %y = mpc.concat %a, %b, %a {{axis = 1 : i64}} : ({T23}, tensor<2x1xf64>, {T23}) -> tensor<2x7xf64>"
    check_gradients(runner, {"a": a, "b": b}, body, "y", (2, 7))


SLICES = [
    # (input shape, offsets, sizes, strides)
    ((2, 7), (0, 1), (2, 3), (1, 2)),
    ((2, 7), (1, 6), (1, 3), (1, -2)),
    ((5, 4), (4, 0), (5, 2), (-1, 3)),
    ((3, 5), (0, 2), (3, 2), (1, 1)),
    ((6,), (5,), (2,), (-4,)),
    ((3, 4), (2, 3), (1, 1), (-2, 5)),
]


@pytest.mark.parametrize("case", SLICES, ids=lambda c: f"{c[0]}-{c[3]}")
def test_slice(runner, case):
    shape, offsets, sizes, strides = case
    x = np.random.default_rng(5).standard_normal(shape)
    attr = lambda v: "array<i64: " + ", ".join(map(str, v)) + ">"
    body = (f"    %y = mpc.slice %x {{offsets = {attr(offsets)}, sizes = {attr(sizes)}, strides = {attr(strides)}}} "
            f": ({tensor_type(shape)}) -> {tensor_type(sizes)}")
    grads, feed = check_gradients(runner, {"x": x}, body, "y", sizes)
    # Exactly the sliced positions receive w; the rest stay 0.
    expected = np.zeros(shape)
    index = np.ix_(*[o + np.arange(n) * st for o, n, st in zip(offsets, sizes, strides)])
    expected[index] = feed["w"]
    np.testing.assert_array_equal(grads["x"], expected)


def test_shared_value_accumulates(runner):
    # x is used three times: its gradient is the sum over the uses.
    body = (f"    %e = mpc.exp %x : {T23}\n"
            f"    %m = mpc.mul %e, %x : ({T23}, {T23}) -> {T23}\n"
            f"    %y = mpc.add %m, %x : ({T23}, {T23}) -> {T23}")
    check_gradients(runner, {"x": X}, body, "y", (2, 3))


# Kinks: exact values instead of differences (which see only one side).

def test_ties_and_kinks(runner):
    a = arr([[0.0, 1.0, -2.0], [3.0, 0.5, 0.5]])
    b = arr([[0.0, 2.0, -2.0], [1.0, 0.5, 0.7]])
    body = (f"    %mx = mpc.max %a, %b : ({T23}, {T23}) -> {T23}\n"
            f"    %mn = mpc.min %a, %b : ({T23}, {T23}) -> {T23}\n"
            f"    %r = mpc.relu %a : {T23}\n"
            f"    %ab = mpc.abs %a : {T23}\n"
            f"    %c = mpc.clip %a {{min = -2.0 : f64, max = 0.5 : f64}} : {T23}\n"
            f"    %s1 = mpc.add %mx, %r : ({T23}, {T23}) -> {T23}\n"
            f"    %s2 = mpc.add %s1, %ab : ({T23}, {T23}) -> {T23}\n"
            f"    %s3 = mpc.add %s2, %c : ({T23}, {T23}) -> {T23}\n"
            f"    %y = mpc.add %s3, %mn : ({T23}, {T23}) -> {T23}")
    w = np.ones((2, 3))
    module = build_main({"a": a, "b": b}, body, "y", (2, 3))
    grads = autodiff_gradients(runner, module, {"a": a, "b": b, "w": w}, ["a", "b"])
    tie = a == b
    # max + min: a tie gives each operand 1/2 + 1/2; otherwise 1 in total.
    d_max_a = np.where(a > b, 1.0, np.where(tie, 0.5, 0.0))
    d_min_a = np.where(a < b, 1.0, np.where(tie, 0.5, 0.0))
    d_relu = (a > 0).astype(float)
    d_abs = np.sign(a)
    d_clip = ((a >= -2.0) & (a <= 0.5)).astype(float)
    np.testing.assert_array_equal(grads["a"], d_max_a + d_min_a + d_relu + d_abs + d_clip)
    np.testing.assert_array_equal(grads["b"], (1 - d_max_a) + (1 - d_min_a))


def test_reduce_max_ties_split_evenly(runner):
    x = arr([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    body = f"    %y = mpc.reduce_max %x {{axes = array<i64: 1>, keepdims = false}} : ({T23}) -> tensor<2xf64>"
    module = build_main({"x": x}, body, "y", (2,))
    grads = autodiff_gradients(runner, module, {"x": x, "w": arr([1.0, 3.0])}, ["x"])
    np.testing.assert_allclose(grads["x"], [[0, 0.5, 0.5], [1, 1, 1]])


def test_reduce_prod_with_zeros(runner):
    # Rows with no zero, one zero and two zeros: the gradient is the product
    # of the other elements, exactly (y / x would give nan / inf here).
    x = arr([[2.0, 3.0, -1.0], [2.0, 0.0, 4.0], [0.0, 5.0, 0.0]])
    body = ("    %y = mpc.reduce_prod %x {axes = array<i64: 1>, keepdims = false} "
            ": (tensor<3x3xf64>) -> tensor<3xf64>")
    module = build_main({"x": x}, body, "y", (3,))
    grads = autodiff_gradients(runner, module, {"x": x, "w": arr([1.0, 2.0, 3.0])}, ["x"])
    np.testing.assert_array_equal(grads["x"], [[-3.0, -2.0, 6.0], [0.0, 16.0, 0.0], [0.0, 0.0, 0.0]])


def test_unreachable_parameter_gets_zeros(runner):
    module = build_main({"x": X, "unused": arr([1.0, 2.0])}, f"    %y = mpc.tanh %x : {T23}", "y", (2, 3))
    grads = autodiff_gradients(runner, module, {"x": X, "unused": arr([1.0, 2.0]), "w": np.ones((2, 3))},
                               ["x", "unused"])
    np.testing.assert_array_equal(grads["unused"], [0.0, 0.0])
    np.testing.assert_allclose(grads["x"], 1 - np.tanh(X) ** 2)


def test_bf16_matmul_gradient_close_to_f32(runner):
    # Autocast-style: f32 masters cast to bf16, a bf16 matmul accumulating in
    # f32. Its gradient is computed by bf16 matmuls (acc f32, checked in
    # test/Train/mpc-autodiff.mlir) and must stay close to the f32 gradient.
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 16)).astype(np.float32)
    w = (rng.standard_normal((16, 4)) / 4).astype(np.float32)
    mix = rng.standard_normal((8, 4)).astype(np.float32)

    def module(compute):
        # Same function in both precisions (an f32 -> f32 cast is a no-op).
        acc = " {acc_type = f32}" if compute == "bf16" else ""
        return f"""module {{
  func.func @main(%x: tensor<8x16xf32> {{mpc.name = "x", mpc.role = "input"}},
                  %p: tensor<16x4xf32> {{mpc.name = "p", mpc.role = "param"}},
                  %mix: tensor<8x4xf32> {{mpc.name = "mix", mpc.role = "input"}}) -> (tensor<f32> {{mpc.name = "loss", mpc.role = "loss"}}) {{
    %xc = mpc.cast %x : tensor<8x16xf32> to tensor<8x16x{compute}>
    %pc = mpc.cast %p : tensor<16x4xf32> to tensor<16x4x{compute}>
    %m = mpc.matmul %xc, %pc{acc} : (tensor<8x16x{compute}>, tensor<16x4x{compute}>) -> tensor<8x4x{compute}>
    %mf = mpc.cast %m : tensor<8x4x{compute}> to tensor<8x4xf32>
    %t = mpc.tanh %mf : tensor<8x4xf32>
    %e = mpc.mul %t, %mix : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
    %l = mpc.reduce_sum %e {{axes = array<i64: 0, 1>, keepdims = false}} : (tensor<8x4xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }}
}}
"""

    feed = {"x": x, "p": w, "mix": mix}
    narrow = runner.autodiff(module("bf16"))
    assert "(tensor<16x8xbf16>, tensor<8x4xbf16>) -> tensor<16x4xbf16>" in narrow
    bf16 = runner.run(narrow, feed, ["p"])["p"]
    f32 = runner.run(runner.autodiff(module("f32")), feed, ["p"])["p"]
    # numpy reference of the f32 gradient: x^T (mix * (1 - tanh(x w)^2))
    expected = x.T.astype(np.float64) @ (mix * (1 - np.tanh(x.astype(np.float64) @ w) ** 2))
    np.testing.assert_allclose(f32, expected, rtol=1e-4, atol=1e-5)
    assert bf16.dtype == np.float32
    error = np.linalg.norm(bf16 - expected) / np.linalg.norm(expected)
    assert error < 2e-2, f"bf16 gradient relative error {error}"
    assert not np.array_equal(bf16, f32), "the bf16 gradient should differ (it is computed in bf16)"


MLP_PATH = pathlib.Path(__file__).resolve().parents[1] / "Inputs" / "models" / "torch_mlp.onnx"
MLP_PARAMS = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


def mlp_with_mse_loss():
    """The imported torch MLP (Gemm -> Relu -> Gemm -> Softmax, batch 4) with
    loss = mean((output - target)^2) appended by hand (target: role label)."""
    import re

    if not MPC_TRANSLATE.exists():
        pytest.skip("mpc-translate not built")
    imported = subprocess.run([str(MPC_TRANSLATE), "--import-onnx", "--onnx-batch", "4", str(MLP_PATH)],
                              capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    text = imported.stdout
    text = text.replace('{mpc.name = "x"})', '{mpc.name = "x", mpc.role = "input"}, '
                        '%target: tensor<4x10xf32> {mpc.name = "target", mpc.role = "label"})')
    text = text.replace('-> (tensor<4x10xf32> {mpc.name = "output"})',
                        '-> (tensor<f32> {mpc.name = "loss", mpc.role = "loss"}, '
                        'tensor<4x10xf32> {mpc.name = "output", mpc.role = "output"})')
    out = re.search(r"return (%\d+) : tensor<4x10xf32>", text)
    assert out, text
    loss = f"""    %diff = mpc.sub {out.group(1)}, %target : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<4x10xf32>
    %sq = mpc.mul %diff, %diff : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<4x10xf32>
    %loss = mpc.reduce_mean %sq {{axes = array<i64: 0, 1>, keepdims = false}} : (tensor<4x10xf32>) -> tensor<f32>
    return %loss, {out.group(1)} : tensor<f32>, tensor<4x10xf32>"""
    return text.replace(out.group(0), loss)


def mlp_numpy_gradients(weights, x, target):
    """Backprop of the MLP + MSE in f64 numpy: (loss, {param: gradient})."""
    w1, b1, w2, b2 = (weights[n].astype(np.float64) for n in MLP_PARAMS)
    h_pre = x @ w1.T + b1
    h = np.maximum(h_pre, 0)
    logits = h @ w2.T + b2
    y = np.exp(logits - logits.max(1, keepdims=True))
    y /= y.sum(1, keepdims=True)
    d_y = 2 * (y - target) / y.size
    d_logits = y * (d_y - (d_y * y).sum(1, keepdims=True))
    d_h = (d_logits @ w2) * (h_pre > 0)
    return np.mean((y - target) ** 2), {"fc2.weight": d_logits.T @ h, "fc2.bias": d_logits.sum(0),
                                         "fc1.weight": d_h.T @ x, "fc1.bias": d_h.sum(0)}


def mlp_feed():
    import onnx
    from onnx import numpy_helper

    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(MLP_PATH)).graph.initializer}
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 16)).astype(np.float32)
    target = rng.uniform(0, 0.3, (4, 10)).astype(np.float32)
    return weights, x, target


def test_torch_mlp_gradients_match_numpy(runner):
    backward = runner.autodiff(mlp_with_mse_loss(), ("--mpc-parameters-to-arguments", "--mpc-autodiff"))
    weights, x, target = mlp_feed()
    got = runner.run(backward, {"x": x, "target": target, **weights}, ["loss", *MLP_PARAMS])
    loss, expected = mlp_numpy_gradients(weights, x, target)
    np.testing.assert_allclose(got["loss"], loss, rtol=1e-5)
    for name in MLP_PARAMS:
        assert got[name].shape == weights[name].shape
        scale = np.abs(expected[name]).max()
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-4, atol=1e-4 * scale, err_msg=name)


def test_torch_mlp_bf16_gradients_after_precision_assignment(runner):
    # The pipeline order of docs/training.md: precision first, then autodiff.
    # Matmuls run in bf16 (f32 accumulation) forward and backward; gradients
    # come back to the f32 parameters in f32 and stay close to numpy's.
    passes = ("--mpc-assign-precision=policy=bf16", "--mpc-insert-casts", "--mpc-fold-casts",
              "--mpc-parameters-to-arguments", "--mpc-autodiff")
    backward = runner.autodiff(mlp_with_mse_loss(), passes)
    assert "{acc_type = f32} : (tensor<4x10xbf16>, tensor<10x32xbf16>) -> tensor<4x32xbf16>" in backward
    weights, x, target = mlp_feed()
    got = runner.run(backward, {"x": x, "target": target, **weights}, MLP_PARAMS)
    _, expected = mlp_numpy_gradients(weights, x, target)
    for name in MLP_PARAMS:
        assert got[name].dtype == np.float32
        error = np.linalg.norm(got[name] - expected[name]) / np.linalg.norm(expected[name])
        assert error < 3e-2, f"{name}: bf16 gradient relative error {error}"
