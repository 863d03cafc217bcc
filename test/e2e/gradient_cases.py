"""The per-op gradient table: one row per op with a gradient rule.

Shared by test_gradients_torch.py (mpc's gradients in f32 and f64) and
test/Inputs/gradients/make_gradient_refs.py (PyTorch's on the same inputs).
A row gives the parameters (shape and how their values are drawn), the MLIR
body of @main computing %y from them (`{T}` is the element type, f32 or f64, replaced textually)
and the same computation in PyTorch (an expression over the parameters, `F`
= torch.nn.functional). The loss is sum(y * w) with fixed random weights w,
so each gradient is the op's vector-Jacobian product with w.

To cover a new op, add a row: the generator and the test pick it up, and the
coverage test fails until every op with a gradient rule has one.
"""
import dataclasses
import zlib

import numpy as np


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    params: dict  # name -> (shape, kind): "normal", "positive", "ties" (values on a 0.5 grid), "away" (|x| >= 0.2),
    #               "unit" (inside (-0.9, 0.9)), "above_one" (1.2 to 3)
    body: str  # defines %y; `{T}` is the element type
    out_shape: tuple
    torch: str  # PyTorch expression of y over the parameters
    ops: tuple  # the mpc ops whose gradient rules the row exercises
    labels: tuple = ()  # (name, shape, classes): integer inputs
    kink: bool = False  # ties or points where the derivative jumps: no finite differences
    passes: tuple = ("--mpc-autodiff",)
    buffers: tuple = ()  # extra results compared with PyTorch's (running statistics)
    prelude: str = ""  # module-level ops (mpc.parameter) before @main
    out_element: str = "{T}"  # the losses' results are f32 whatever their operands
    f32_inside: bool = False  # an f32 value inside the f64 program: finite differences with a wider step


def shape_text(shape, element="{T}"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def values(case):
    """The case's parameters, labels and loss weights (f64), from a seed of its name."""
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    draw = {"normal": lambda s: rng.standard_normal(s),
            "positive": lambda s: rng.uniform(0.3, 2.0, s),
            "ties": lambda s: np.round(rng.standard_normal(s) * 2) / 2,
            "away": lambda s: rng.uniform(0.2, 1.5, s) * rng.choice([-1, 1], s),
            "unit": lambda s: rng.uniform(-0.9, 0.9, s),
            "above_one": lambda s: rng.uniform(1.2, 3.0, s)}
    # Values exact in f32, so f64 runs see the same inputs and the f32 runs'
    # distance from them is the computation's own rounding.
    exact = lambda a: np.asarray(a).astype(np.float32).astype(np.float64)
    params = {name: exact(draw[kind](shape)) for name, (shape, kind) in case.params.items()}
    labels = {name: rng.integers(0, classes, shape).astype(np.int64) for name, shape, classes in case.labels}
    w = rng.uniform(0.5, 1.5, case.out_shape) * rng.choice([-1, 1], case.out_shape)
    return params, labels, exact(w)


def module(case, element):
    """@main(params..., labels..., w) -> (loss, buffers...) for element f32 or f64."""
    t = lambda shape: shape_text(shape).replace("{T}", element)
    args = [f'%{n}: {t(s)} {{mpc.name = "{n}", mpc.role = "param"}}' for n, (s, _) in case.params.items()]
    args += [f'%{n}: {shape_text(s, "i64")} {{mpc.name = "{n}", mpc.role = "input"}}' for n, s, _ in case.labels]
    out = shape_text(case.out_shape, case.out_element).replace("{T}", element)
    args.append(f'%w: {out} {{mpc.name = "w", mpc.role = "input"}}')
    axes = ", ".join(str(i) for i in range(len(case.out_shape)))
    scalar = shape_text((), case.out_element).replace("{T}", element)
    total = (f"    %loss = mpc.reduce_sum %weighted {{axes = array<i64: {axes}>, keepdims = false}} : ({out}) -> {scalar}"
             if case.out_shape else "    %loss = mpc.reshape %weighted {shape = array<i64>} : (" + out + ") -> " + scalar)
    return f"""module {{
{case.prelude.replace("{T}", element)}
  func.func @main({", ".join(args)}) -> ({scalar} {{mpc.name = "loss", mpc.role = "loss"}}) {{
{case.body.replace("{T}", element)}
    %weighted = mpc.mul %y, %w : ({out}, {out}) -> {out}
{total}
    return %loss : {scalar}
  }}
}}
"""


def unary(name, op, kind="normal", shape=(3, 5), torch=None, ops=None, kink=False):
    t = shape_text(shape)
    return Case(name, {"x": (shape, kind)}, f"    %y = {op} : {t}", shape, torch or f"torch.{name}(x)",
                ops or (name,), kink=kink)


def binary(name, a, b, kinds=("normal", "normal"), torch=None):
    out = tuple(np.broadcast_shapes(a, b))
    body = f"    %y = mpc.{name} %a, %b : ({shape_text(a)}, {shape_text(b)}) -> {shape_text(out)}"
    return Case(name, {"a": (a, kinds[0]), "b": (b, kinds[1])}, body, out, torch or f"torch.{name}(a, b)", (name,))


def reduction(op, axes, keepdims, shape, torch, kind="normal", kink=False):
    out = tuple(d for i, d in enumerate(shape) if i not in axes) if not keepdims else \
        tuple(1 if i in axes else d for i, d in enumerate(shape))
    attr = ", ".join(map(str, axes))
    body = (f"    %y = mpc.{op} %x {{axes = array<i64: {attr}>, keepdims = {str(keepdims).lower()}}} : "
            f"({shape_text(shape)}) -> {shape_text(out)}")
    return Case(f"{op}_{'_'.join(map(str, axes))}_{shape[0]}", {"x": (shape, kind)}, body, out, torch, (op,),
                kink=kink)


def conv(name, xs, ws, strides, pads, group, with_bias=True):
    n, _, h, wd = xs
    oh = (h + pads[0] + pads[2] - ws[2]) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - ws[3]) // strides[1] + 1
    out = (n, ws[0], oh, ow)
    arr = lambda v: "array<i64: " + ", ".join(map(str, v)) + ">"
    attrs = (f"{{strides = {arr(strides)}, pads = {arr(pads)}, dilations = {arr([1, 1])}, "
             f"group = {group} : i64}}")
    params = {"x": (xs, "normal"), "weight": (ws, "normal")}
    operands, types = "%x, %weight", f"{shape_text(xs)}, {shape_text(ws)}"
    if with_bias:
        params["bias"] = ((ws[0],), "normal")
        operands, types = operands + ", %bias", types + f", {shape_text((ws[0],))}"
    body = f"    %y = mpc.conv {operands} {attrs} : ({types}) -> {shape_text(out)}"
    torch_pad = f"F.pad(x, ({pads[1]}, {pads[3]}, {pads[0]}, {pads[2]}))"
    bias = "bias" if with_bias else "None"
    return Case(name, params, body, out, f"F.conv2d({torch_pad}, weight, {bias}, stride={tuple(strides)}, "
                f"groups={group})", ("conv",))


def batch_norm_training(name, shape):
    """mpc.batch_norm through mpc-batch-norm-training (batch statistics, the running
    statistics updated with the unbiased variance), as the train step has it."""
    c = shape[1]
    vec = shape_text((c,))
    prelude = (f'  mpc.parameter @"bn.mean" : {vec} = dense<0.1> : {vec}\n'
               f'  mpc.parameter @"bn.var" : {vec} = dense<0.9> : {vec}')
    body = (f'    %m = mpc.get_parameter @"bn.mean" : {vec}\n'
            f'    %v = mpc.get_parameter @"bn.var" : {vec}\n'
            f"    %y = mpc.batch_norm %x, %scale, %bias, %m, %v {{epsilon = 1.0e-05 : f64, momentum = 0.9 : f64}} : "
            f"({shape_text(shape)}, {vec}, {vec}, {vec}, {vec}) -> {shape_text(shape)}")
    return Case(name, {"x": (shape, "normal"), "scale": ((c,), "positive"), "bias": ((c,), "normal")}, body, shape,
                "F.batch_norm(x, running_mean, running_var, scale, bias, training=True, momentum=0.1, eps=1e-5)",
                ("batch_norm",), passes=("--mpc-batch-norm-training", "--mpc-autodiff"),
                buffers=("bn.mean", "bn.var"), prelude=prelude)


def pool(name, op, shape, kernel, strides, kind="normal", kink=False, extra=""):
    oh = (shape[2] - kernel[0]) // strides[0] + 1
    ow = (shape[3] - kernel[1]) // strides[1] + 1
    out = (shape[0], shape[1], oh, ow)
    arr = lambda v: "array<i64: " + ", ".join(map(str, v)) + ">"
    attrs = f"kernel_shape = {arr(kernel)}, strides = {arr(strides)}, pads = {arr([0, 0, 0, 0])}{extra}"
    body = f"    %y = mpc.{op} %x {{{attrs}}} : ({shape_text(shape)}) -> {shape_text(out)}"
    fn = "F.max_pool2d" if op == "max_pool" else "F.avg_pool2d"
    return Case(name, {"x": (shape, kind)}, body, out, f"{fn}(x, {tuple(kernel)}, {tuple(strides)})", (op,),
                kink=kink)


def spatial_pad(name, mode, shape, top, bottom, left, right):
    """Pad's edge/reflect mode as the importer builds it: one gather per padded
    axis (H, then W) with numpy's source index of every output position; in
    PyTorch, F.pad with mode reflect or replicate."""
    rows = np.pad(np.arange(shape[2]), (top, bottom), mode).tolist()
    cols = np.pad(np.arange(shape[3]), (left, right), mode).tolist()
    mid = shape[:2] + (len(rows), shape[3])
    out = shape[:2] + (len(rows), len(cols))
    body = (f"    %rows = arith.constant dense<{rows}> : tensor<{len(rows)}xi64>\n"
            f"    %cols = arith.constant dense<{cols}> : tensor<{len(cols)}xi64>\n"
            f"    %h = mpc.gather %x, %rows {{axis = 2 : i64}} : ({shape_text(shape)}, tensor<{len(rows)}xi64>) -> "
            f"{shape_text(mid)}\n"
            f"    %y = mpc.gather %h, %cols {{axis = 3 : i64}} : ({shape_text(mid)}, tensor<{len(cols)}xi64>) -> "
            f"{shape_text(out)}")
    torch_mode = "replicate" if mode == "edge" else mode
    return Case(name, {"x": (shape, "normal")}, body, out,
                f"F.pad(x, ({left}, {right}, {top}, {bottom}), mode='{torch_mode}')", ("gather",))


T23 = shape_text((2, 3))
CASES = [
    unary("neg", "mpc.neg %x"),
    unary("abs", "mpc.abs %x", kind="away"),
    unary("exp", "mpc.exp %x"),
    unary("log", "mpc.log %x", kind="positive"),
    unary("sqrt", "mpc.sqrt %x", kind="positive"),
    unary("reciprocal", "mpc.reciprocal %x", kind="away"),
    unary("tanh", "mpc.tanh %x"),
    unary("sigmoid", "mpc.sigmoid %x"),
    unary("relu", "mpc.relu %x", kind="away"),
    # ReLU at exactly 0 and at ties: the derivative there is 0, as PyTorch's.
    unary("relu_at_zero", "mpc.relu %x", kind="ties", torch="torch.relu(x)", ops=("relu",), kink=True),
    unary("erf", "mpc.erf %x"),
    # Trigonometric and hyperbolic functions (GradientRulesMath.cpp), inside
    # their domains and away from tan's poles.
    unary("sin", "mpc.sin %x"),
    unary("cos", "mpc.cos %x"),
    unary("tan", "mpc.tan %x", kind="unit"),
    unary("asin", "mpc.asin %x", kind="unit"),
    unary("acos", "mpc.acos %x", kind="unit"),
    unary("atan", "mpc.atan %x"),
    unary("sinh", "mpc.sinh %x"),
    unary("cosh", "mpc.cosh %x"),
    unary("asinh", "mpc.asinh %x"),
    unary("acosh", "mpc.acosh %x", kind="above_one"),
    unary("atanh", "mpc.atanh %x", kind="unit"),
    # Piecewise constant: no gradient, as in PyTorch (round: half to even in both).
    unary("floor", "mpc.floor %x", kink=True),
    unary("ceil", "mpc.ceil %x", kink=True),
    unary("round", "mpc.round %x", kink=True),
    unary("sign", "mpc.sign %x", kink=True),
    unary("gelu", "mpc.gelu %x", torch="F.gelu(x)"),
    unary("gelu_tanh", "mpc.gelu %x {approximate_tanh = true}", torch="F.gelu(x, approximate='tanh')",
          ops=("gelu",)),
    unary("leaky_relu", "mpc.leaky_relu %x {alpha = 0.1 : f64}", kind="away", torch="F.leaky_relu(x, 0.1)"),
    unary("clip", "mpc.clip %x {min = -0.5 : f64, max = 1.0 : f64}", kind="away",
          torch="torch.clamp(x, -0.5, 1.0)"),
    binary("add", (3, 4), (4,)),
    binary("sub", (3, 1), (3, 4)),
    binary("mul", (1, 4), (3, 4)),
    binary("div", (3, 4), (4,), kinds=("normal", "away")),
    binary("pow", (3, 4), (3, 1), kinds=("positive", "normal")),
    binary("max", (3, 4), (4,), torch="torch.maximum(a, b)"),
    binary("min", (3, 1), (3, 4), torch="torch.minimum(a, b)"),
    Case("where", {"a": ((2, 3), "normal"), "b": ((2, 1), "normal")},
         "    %c = arith.constant dense<[[true, false, true], [false, false, true]]> : tensor<2x3xi1>\n"
         f"    %y = mpc.where %c, %a, %b : (tensor<2x3xi1>, {T23}, {shape_text((2, 1))}) -> {T23}",
         (2, 3), "torch.where(torch.tensor([[True, False, True], [False, False, True]]), a, b)", ("where",)),
    Case("cast", {"x": ((2, 3), "normal")},
         f"    %h = mpc.cast %x : {T23} to tensor<2x3xf32>\n    %t = mpc.tanh %h : tensor<2x3xf32>\n"
         f"    %y = mpc.cast %t : tensor<2x3xf32> to {T23}",
         (2, 3), "torch.tanh(x.float()).to(x.dtype)", ("cast",), f32_inside=True),
    Case("matmul", {"a": ((2, 3, 5), "normal"), "b": ((5, 4), "normal")},
         f"    %y = mpc.matmul %a, %b : ({shape_text((2, 3, 5))}, {shape_text((5, 4))}) -> {shape_text((2, 3, 4))}",
         (2, 3, 4), "a @ b", ("matmul",)),
    Case("matmul_long_k", {"a": ((4, 1024), "normal"), "b": ((1024, 3), "normal")},
         f"    %y = mpc.matmul %a, %b : ({shape_text((4, 1024))}, {shape_text((1024, 3))}) -> {shape_text((4, 3))}",
         (4, 3), "a @ b", ("matmul",)),
    unary("softmax", "mpc.softmax %x {axis = 1 : i64}", torch="torch.softmax(x, 1)"),
    unary("log_softmax", "mpc.log_softmax %x {axis = 0 : i64}", torch="torch.log_softmax(x, 0)"),
    Case("layer_norm", {"x": ((4, 6), "normal"), "scale": ((6,), "positive"), "bias": ((6,), "normal")},
         f"    %y = mpc.layer_norm %x, %scale, %bias {{axis = 1 : i64, epsilon = 1.0e-05 : f64}} : "
         f"({shape_text((4, 6))}, {shape_text((6,))}, {shape_text((6,))}) -> {shape_text((4, 6))}",
         (4, 6), "F.layer_norm(x, (6,), scale, bias, 1e-5)", ("layer_norm",)),
    # RMSNormalization as the importer builds it (torch 1.13 has no F.rms_norm).
    Case("rms_norm", {"x": ((4, 6), "normal"), "scale": ((6,), "positive")},
         f"    %sq = mpc.mul %x, %x : ({shape_text((4, 6))}, {shape_text((4, 6))}) -> {shape_text((4, 6))}\n"
         f"    %ms = mpc.reduce_mean %sq {{axes = array<i64: 1>, keepdims = true}} : ({shape_text((4, 6))}) -> {shape_text((4, 1))}\n"
         f"    %eps = arith.constant dense<1.0e-05> : tensor<{{T}}>\n"
         f"    %v = mpc.add %ms, %eps : ({shape_text((4, 1))}, tensor<{{T}}>) -> {shape_text((4, 1))}\n"
         f"    %s = mpc.sqrt %v : {shape_text((4, 1))}\n"
         f"    %inv = mpc.reciprocal %s : {shape_text((4, 1))}\n"
         f"    %n = mpc.mul %x, %inv : ({shape_text((4, 6))}, {shape_text((4, 1))}) -> {shape_text((4, 6))}\n"
         f"    %y = mpc.mul %n, %scale : ({shape_text((4, 6))}, {shape_text((6,))}) -> {shape_text((4, 6))}",
         (4, 6), "x * torch.rsqrt((x * x).mean(1, keepdim=True) + 1e-5) * scale",
         ("mul", "reduce_mean", "add", "sqrt", "reciprocal")),
    reduction("reduce_sum", (1,), False, (3, 5), "x.sum(1)"),
    reduction("reduce_sum", (0, 2, 3), False, (32, 4, 8, 8), "x.sum((0, 2, 3))"),
    reduction("reduce_mean", (0, 2, 3), True, (32, 4, 8, 8), "x.mean((0, 2, 3), keepdim=True)"),
    reduction("reduce_prod", (1,), False, (3, 4), "x.prod(1)", kind="away"),
    reduction("reduce_max", (1,), False, (3, 5), "x.amax(1)"),
    reduction("reduce_min", (0,), True, (3, 5), "x.amin(0, keepdim=True)"),
    Case("reshape_transpose_broadcast", {"x": ((2, 3), "normal")},
         f"    %r = mpc.reshape %x {{shape = array<i64: 3, 2>}} : ({T23}) -> {shape_text((3, 2))}\n"
         f"    %t = mpc.transpose %r {{perm = array<i64: 1, 0>}} : ({shape_text((3, 2))}) -> {T23}\n"
         f"    %y = mpc.broadcast %t {{shape = array<i64: 4, 2, 3>}} : ({T23}) -> {shape_text((4, 2, 3))}",
         (4, 2, 3), "x.reshape(3, 2).t().expand(4, 2, 3)", ("reshape", "transpose", "broadcast")),
    Case("concat_slice", {"a": ((2, 3), "normal"), "b": ((2, 1), "normal")},
         f"    %c = mpc.concat %a, %b, %a {{axis = 1 : i64}} : ({T23}, {shape_text((2, 1))}, {T23}) -> "
         f"{shape_text((2, 7))}\n"
         f"    %y = mpc.slice %c {{offsets = array<i64: 0, 1>, sizes = array<i64: 2, 3>, strides = array<i64: 1, 2>}} "
         f": ({shape_text((2, 7))}) -> {T23}",
         (2, 3), "torch.cat([a, b, a], 1)[:, 1::2]", ("concat", "slice")),
    Case("get_parameter", {"x": ((2, 3), "normal")},
         f"    %p = mpc.get_parameter @p : {T23}\n    %y = mpc.mul %x, %p : ({T23}, {T23}) -> {T23}",
         (2, 3), "x * torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=x.dtype)", ("get_parameter",),
         prelude=f"  mpc.parameter @p : {T23} = dense<[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]> : {T23}"),
    conv("conv", (2, 4, 7, 6), (6, 2, 3, 3), (2, 1), (1, 0, 1, 1), 2),
    # The CNN's shapes: every filter gradient sums 32 * 8 * 8 = 2048 products.
    conv("conv_cnn", (32, 4, 8, 8), (8, 4, 3, 3), (1, 1), (1, 1, 1, 1), 1),
    batch_norm_training("batch_norm_training", (32, 4, 8, 8)),
    pool("max_pool", "max_pool", (2, 3, 6, 6), (3, 2), (2, 2), extra=", dilations = array<i64: 1, 1>"),
    # Values on a 0.5 grid: most 2x2 windows hold ties; the first maximum in
    # row-major order takes the gradient, as in PyTorch.
    pool("max_pool_ties", "max_pool", (2, 3, 6, 6), (2, 2), (2, 2), kind="ties", kink=True,
         extra=", dilations = array<i64: 1, 1>"),
    pool("avg_pool", "avg_pool", (2, 3, 6, 6), (3, 2), (2, 2), extra=", count_include_pad = false"),
    Case("gather", {"e": ((5, 3), "normal")},
         f"    %ids = arith.constant dense<[[0, 4], [4, 2]]> : tensor<2x2xi64>\n"
         f"    %y = mpc.gather %e, %ids {{axis = 0 : i64}} : ({shape_text((5, 3))}, tensor<2x2xi64>) -> "
         f"{shape_text((2, 2, 3))}",
         (2, 2, 3), "e[torch.tensor([[0, 4], [4, 2]])]", ("gather",)),
    # Pad's reflect and edge modes (CNN padding) import as gathers that read
    # border elements several times: their gradients sum those reads.
    spatial_pad("pad_reflect", "reflect", (2, 3, 4, 5), 1, 2, 2, 1),
    spatial_pad("pad_edge", "edge", (2, 3, 4, 5), 2, 0, 1, 2),
    # ConvTranspose imports as conv_grad_input (stride 2: the input gradient of
    # an 8x8 -> 4x4 conv, output_padding 1 in PyTorch's terms).
    Case("conv_grad_input", {"dy": ((2, 4, 4, 4), "normal"), "weight": ((4, 3, 3, 3), "normal")},
         f"    %y = mpc.conv_grad_input %dy, %weight {{strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, "
         f"dilations = array<i64: 1, 1>, group = 1 : i64}} : ({shape_text((2, 4, 4, 4))}, "
         f"{shape_text((4, 3, 3, 3))}) -> {shape_text((2, 3, 8, 8))}",
         (2, 3, 8, 8), "F.conv_transpose2d(dy, weight, stride=2, padding=1, output_padding=1)",
         ("conv_grad_input",)),
    # ScatterElements/ScatterND import as gather_grad (a scatter-add; index 4 twice).
    Case("gather_grad", {"dy": ((2, 2, 3), "normal")},
         f"    %ids = arith.constant dense<[[0, 4], [4, 2]]> : tensor<2x2xi64>\n"
         f"    %y = mpc.gather_grad %dy, %ids {{axis = 0 : i64}} : ({shape_text((2, 2, 3))}, tensor<2x2xi64>) -> "
         f"{shape_text((5, 3))}",
         (5, 3), "torch.zeros(5, 3, dtype=dy.dtype).index_add(0, torch.tensor([0, 4, 4, 2]), dy.reshape(4, 3))",
         ("gather_grad",)),
    Case("softmax_cross_entropy", {"x": ((16, 5), "normal")},
         f"    %y = mpc.softmax_cross_entropy %x, %labels : ({shape_text((16, 5))}, tensor<16xi64>) -> tensor<f32>",
         (), "F.cross_entropy(x, labels)", ("softmax_cross_entropy",), labels=(("labels", (16,), 5),),
         out_element="f32", f32_inside=True),
    Case("mse_loss", {"a": ((4, 3), "normal"), "b": ((4, 3), "normal")},
         f"    %y = mpc.mse_loss %a, %b : ({shape_text((4, 3))}, {shape_text((4, 3))}) -> tensor<f32>",
         (), "F.mse_loss(a, b)", ("mse_loss",), out_element="f32",
         f32_inside=True),
]
