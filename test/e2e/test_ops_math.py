"""The trigonometric, hyperbolic, rounding, logical and activation ops, CumSum
and the second outputs of LayerNormalization and Dropout (lib/Import/ImportMath.cpp):

1. each against onnxruntime in fp32 (test_ops.py's harness: one node per case);
2. their kernel schedules on the CPU (`mpc-run --cuda-schedule`) against the CPU
   target, and their PTX through ptxas;
3. their gradients against central differences in f64 (test_gradients.py's
   harness): the trigonometric rules directly, the compositions (Elu ... PRelu,
   CumSum) on the IR the importer builds;
4. their accuracy over test_math_approximation.py's f32 sweep (docs/numerics.md);
5. a small trainable model built from them: its train step through ptxas, and as the CUDA
   schedule on the CPU against the CPU target.
"""
import re
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mpc_e2e import (BUILD_DIR, PTXAS, MpcRun, load_npy, normalized_error, output_file_name,
                     ptx_accepted_by_ptxas, run_onnxruntime)
from test_gradients import MPC_TRANSLATE, build_main, check_gradients, runner  # noqa: F401 (fixture)
from test_math_approximation import single_op_model, sweep, ulp_error
from test_ops import Init, build_model, case, check_against_onnxruntime

RNG = np.random.default_rng(16)
MPC_COMPILE = BUILD_DIR / "bin" / "mpc-compile"


def randn(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def uniform(low, high, *shape, dtype=np.float32):
    return RNG.uniform(low, high, shape).astype(dtype)


def bools(*shape):
    return RNG.random(shape) > 0.5


HALVES = np.array([[-2.5, -1.5, -0.5, 0.5], [1.5, 2.5, 0.0, -0.0]], np.float32)
SPECIALS = np.array([[np.nan, np.inf, -np.inf, 0.0], [1.0, -3.0, np.nan, 1e30]], np.float32)

CASES = [
    case("Sin", {"x": randn(3, 7, scale=4)}, opset=18),
    case("Cos", {"x": randn(3, 7, scale=4)}, opset=18),
    case("Tan", {"x": uniform(-1.4, 1.4, 3, 7)}, opset=18),
    case("Asin", {"x": uniform(-0.99, 0.99, 3, 7)}, opset=18),
    case("Acos", {"x": uniform(-0.99, 0.99, 3, 7)}, opset=18),
    case("Atan", {"x": randn(3, 7, scale=4)}, opset=18),
    case("Sinh", {"x": randn(3, 7, scale=3)}, opset=18),
    case("Cosh", {"x": randn(3, 7, scale=3)}, opset=18),
    case("Asinh", {"x": randn(3, 7, scale=10)}, opset=18),
    case("Acosh", {"x": uniform(1.0, 20.0, 3, 7)}, opset=18),
    case("Atanh", {"x": uniform(-0.99, 0.99, 3, 7)}, opset=18),
    case("Floor", {"x": randn(3, 7, scale=5)}, opset=18),
    case("Ceil", {"x": randn(3, 7, scale=5)}, opset=18),
    case("Round", {"x": HALVES}, opset=18, id="Round-halves-to-even", rtol=0, atol=0),
    case("Round", {"x": randn(3, 7, scale=5)}, opset=18, rtol=0, atol=0),
    case("Sign", {"x": np.array([[-2.0, 0.0, 3.5, -0.0]], np.float32)}, opset=18, rtol=0, atol=0),
    case("Sign", {"x": RNG.integers(-3, 4, (3, 5)).astype(np.int64)}, opset=18, id="Sign-int64"),
    case("IsNaN", {"x": SPECIALS}, opset=18),
    case("IsInf", {"x": SPECIALS}, opset=18),
    case("IsInf", {"x": SPECIALS}, {"detect_negative": 0}, opset=18, id="IsInf-positive"),
    case("IsInf", {"x": SPECIALS}, {"detect_positive": 0}, opset=18, id="IsInf-negative"),
    case("And", {"a": bools(2, 3, 4), "b": bools(4)}, opset=18),
    case("Or", {"a": bools(2, 1, 4), "b": bools(3, 1)}, opset=18),
    case("Xor", {"a": bools(3, 4), "b": bools(3, 4)}, opset=18),
    case("Not", {"x": bools(3, 4)}, opset=18),
    case("Elu", {"x": randn(3, 7, scale=3)}, {"alpha": 0.7}, opset=18),
    case("Selu", {"x": randn(3, 7, scale=3)}, opset=18),
    case("Celu", {"x": randn(3, 7, scale=3)}, {"alpha": 1.5}, opset=18),
    case("HardSigmoid", {"x": randn(3, 7, scale=4)}, {"alpha": 0.3, "beta": 0.4}, opset=18),
    case("HardSwish", {"x": randn(3, 7, scale=4)}, opset=18),
    case("Mish", {"x": randn(3, 7, scale=4)}, opset=18),
    case("Softplus", {"x": np.concatenate([randn(2, 7, scale=4), [[-100, -30, 30, 100, 0, 1, -1]]]).astype(np.float32)},
         opset=18),
    case("Softsign", {"x": randn(3, 7, scale=4)}, opset=18),
    case("ThresholdedRelu", {"x": randn(3, 7, scale=2)}, {"alpha": 0.5}, opset=18),
    case("PRelu", {"x": randn(2, 3, 4, 4), "slope": Init(randn(3, 1, 1))}, opset=18),
    case("PRelu", {"x": randn(2, 5), "slope": randn(5)}, opset=18, id="PRelu-slope-input"),
    case("ArgMax", {"x": randn(3, 4, 5)}, opset=18),
    case("ArgMax", {"x": randn(3, 4, 5)}, {"axis": -1, "keepdims": 0}, opset=18, id="ArgMax-last-axis"),
    case("ArgMin", {"x": randn(3, 4, 5)}, {"axis": 1}, opset=18),
    # Ties: the first index by default, the last with select_last_index.
    case("ArgMax", {"x": RNG.integers(0, 3, (4, 6)).astype(np.int64)}, {"axis": 1}, opset=18,
         id="ArgMax-ties-int64"),
    case("ArgMin", {"x": RNG.integers(0, 3, (4, 6)).astype(np.float32)},
         {"axis": 1, "select_last_index": 1, "keepdims": 0}, opset=18, id="ArgMin-ties-last"),
    case("ArgMax", {"x": RNG.integers(0, 3, (5, 3)).astype(np.float32)},
         {"axis": 0, "select_last_index": 1}, opset=18, id="ArgMax-ties-last-axis0"),
    case("CumSum", {"x": randn(3, 9), "axis": Init(np.int64(1))}, opset=18),
    case("CumSum", {"x": randn(4, 3, 5), "axis": Init(np.int64(1))}, {"exclusive": 1}, opset=18,
         id="CumSum-inner-exclusive"),
    case("CumSum", {"x": randn(6, 4), "axis": Init(np.int64(-2))}, {"reverse": 1}, opset=18,
         id="CumSum-reverse"),
    case("CumSum", {"x": randn(2, 7).astype(np.float64), "axis": Init(np.int32(1))},
         {"exclusive": 1, "reverse": 1}, opset=18, id="CumSum-f64-exclusive-reverse"),
    case("CumSum", {"x": RNG.integers(-9, 9, (3, 4)).astype(np.int64), "axis": Init(np.int64(0))},
         opset=18, id="CumSum-int64"),
    case("CumSum", {"x": RNG.integers(-9, 9, (7,)).astype(np.int32), "axis": Init(np.int32(0))},
         {"exclusive": 1}, opset=18, id="CumSum-int32-1d"),
    case("LayerNormalization", {"x": randn(2, 3, 8), "s": Init(randn(8)), "b": Init(randn(8))},
         {"axis": -1}, opset=18, outputs=3, id="LayerNormalization-statistics"),
    case("LayerNormalization", {"x": randn(2, 3, 4), "s": Init(randn(3, 4))},
         {"axis": 1, "epsilon": 1e-3}, opset=18, outputs=3, id="LayerNormalization-statistics-axis1"),
    case("Dropout", {"x": randn(3, 5)}, opset=18, outputs=2, id="Dropout-mask"),
]


@pytest.mark.parametrize("spec", CASES)
def test_op_matches_onnxruntime(mpc_run, spec):
    check_against_onnxruntime(mpc_run, spec)


LOW_PRECISION = [c for c in CASES if c.id in {"Sin", "Atan", "Sinh", "Elu", "Mish", "Softplus",
                                               "HardSwish", "CumSum"}]


@pytest.mark.parametrize("precision,tolerance", [("bf16", 3e-2), ("fp16", 4e-3)])
@pytest.mark.parametrize("spec", LOW_PRECISION)
def test_op_low_precision_is_close(mpc_run, spec, precision, tolerance):
    model, feeds = build_model(spec)
    expected = run_onnxruntime(model, feeds)
    actual = mpc_run(model, feeds, precision)
    for name, reference in expected.items():
        assert normalized_error(actual[name], reference) <= tolerance, name


# --- 2. CUDA: the kernel schedules on the CPU, and ptxas -------------------------------------------

UNARY_CHAIN = ["Sin", "Cos", "Tan", "Atan", "Sinh", "Cosh", "Asinh", "Floor", "Ceil", "Round", "Sign",
               "Elu", "Selu", "Celu", "HardSigmoid", "HardSwish", "Mish", "Softplus", "Softsign",
               "ThresholdedRelu"]


def cuda_model(shape=(5, 37)):
    """Every new float op on one input (odd sizes: partial blocks; even ones:
    vector loads), the bounded ones on a squashed copy, plus logic, CumSum
    along both axes and PRelu."""
    nodes = [helper.make_node("Tanh", ["x"], ["unit"]),
             helper.make_node("Mul", ["unit", "near_one"], ["u"])]
    outputs = []
    for op in UNARY_CHAIN:
        nodes.append(helper.make_node(op, ["x"], [op.lower()]))
        outputs.append(op.lower())
    for op in ["Asin", "Acos", "Atanh"]:
        nodes.append(helper.make_node(op, ["u"], [op.lower()]))
        outputs.append(op.lower())
    nodes += [helper.make_node("Add", ["x", "offset"], ["shifted"]),
              helper.make_node("Abs", ["shifted"], ["above"]),
              helper.make_node("Add", ["above", "offset"], ["beyond_one"]),
              helper.make_node("Acosh", ["beyond_one"], ["acosh"]),
              helper.make_node("IsNaN", ["x"], ["isnan"]),
              helper.make_node("IsInf", ["x"], ["isinf"]),
              helper.make_node("Greater", ["x", "zero"], ["positive"]),
              helper.make_node("Xor", ["positive", "isnan"], ["xor"]),
              helper.make_node("Not", ["xor"], ["not"]),
              helper.make_node("CumSum", ["x", "axis0"], ["cumsum0"], exclusive=1),
              helper.make_node("CumSum", ["x", "axis1"], ["cumsum1"], reverse=1),
              helper.make_node("PRelu", ["x", "slope"], ["prelu"])]
    nodes += [helper.make_node("ArgMax", ["x"], ["argmax"], axis=1),
              helper.make_node("ArgMin", ["x"], ["argmin"], axis=0, select_last_index=1, keepdims=0)]
    outputs += ["acosh", "isinf", "not", "cumsum0", "cumsum1", "prelu", "argmax", "argmin"]
    inits = [onnx.numpy_helper.from_array(np.float32(0.999), "near_one"),
             onnx.numpy_helper.from_array(np.float32(1.0), "offset"),
             onnx.numpy_helper.from_array(np.float32(0.0), "zero"),
             onnx.numpy_helper.from_array(np.int64(0), "axis0"),
             onnx.numpy_helper.from_array(np.int64(1), "axis1"),
             onnx.numpy_helper.from_array(randn(shape[1]), "slope")]
    graph = helper.make_graph(nodes, "math", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_empty_tensor_value_info(o) for o in outputs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    inferred = onnx.shape_inference.infer_shapes(model)
    del model.graph.output[:]
    model.graph.output.extend(inferred.graph.output)
    return model


@pytest.mark.parametrize("shape", [(5, 37), (8, 64)])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cuda_schedule_matches_cpu_target(mpc_run, precision, shape):
    model = cuda_model(shape)
    feeds = {"x": randn(*shape, scale=2)}
    names = [o.name for o in model.graph.output]
    results = {}
    for flag in [(), ("--cuda-schedule",)]:
        proc, out = mpc_run.invoke(model, feeds, precision, extra_args=flag)
        assert proc.returncode == 0, proc.stderr
        results[flag] = {n: load_npy(out / output_file_name(n)) for n in names}
    for name in names:
        cpu, schedule = results[()][name], results[("--cuda-schedule",)][name]
        assert cpu.dtype == schedule.dtype, name
        if np.issubdtype(cpu.dtype, np.floating):
            np.testing.assert_allclose(schedule, cpu, rtol=1e-6, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(schedule, cpu, err_msg=name)
    expected = run_onnxruntime(model, feeds)
    if precision == "fp32":
        for name in names:
            np.testing.assert_allclose(results[()][name], expected[name], rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_ptxas_accepts_the_kernels(tmp_path, precision):
    ptx_accepted_by_ptxas(cuda_model(), tmp_path, precision)


# --- 3. gradients ---------------------------------------------------------------------------------

X = np.array([[0.3, -0.7, 1.2], [-1.4, 0.9, -0.2]])
T23 = "tensor<2x3xf64>"

TRIG = {
    "sin": X, "cos": X, "tan": X, "atan": X, "sinh": X, "cosh": X, "asinh": X,
    "asin": X / 2, "acos": X / 2, "atanh": X / 2, "acosh": np.abs(X) + 1.1,
}


@pytest.mark.parametrize("name", sorted(TRIG))
def test_trig_gradient(runner, name):
    check_gradients(runner, {"x": TRIG[name]}, f"    %y = mpc.{name} %x : {T23}", "y", (2, 3))


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "sign"])
def test_rounding_passes_no_gradient(runner, name):
    body = f"    %y = mpc.{name} %x : {T23}\n    %z = mpc.add %y, %x : ({T23}, {T23}) -> {T23}"
    grads, feed = check_gradients(runner, {"x": X}, body, "z", (2, 3))
    np.testing.assert_allclose(grads["x"], feed["w"])


def imported_body(tmp_path, op, attrs, inputs, extra_inits=()):
    """The function body mpc-translate imports for one f64 node of `op`, with
    its first input renamed %arg0 (the parameter) and the result's SSA name."""
    shape = inputs[0].shape
    graph_inputs = [helper.make_tensor_value_info(f"in{i}", TensorProto.DOUBLE, v.shape)
                    for i, v in enumerate(inputs)]
    node = helper.make_node(op, [f"in{i}" for i in range(len(inputs))] + [n for n, _ in extra_inits],
                            ["y"], **attrs)
    inits = [onnx.numpy_helper.from_array(v, n) for n, v in extra_inits]
    graph = helper.make_graph([node], op, graph_inputs,
                              [helper.make_tensor_value_info("y", TensorProto.DOUBLE, shape)], inits)
    path = tmp_path / f"{op}.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    proc = subprocess.run([str(MPC_TRANSLATE), "--import-onnx", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "func.func @main" in line) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("return"))
    result = re.match(r"\s*return (%[\w.]+)", lines[end]).group(1)
    return "\n".join(lines[start:end]), result[1:]


# Inputs away from the kinks: 0 (relu, |x|), HardSigmoid's +-2.5, HardSwish's +-3,
# ThresholdedRelu's alpha; +-800 makes exp overflow in f64 where a branch could see it.
ACTIVATIONS = {
    "Elu": ({"alpha": 0.7}, X), "Selu": ({}, X), "Celu": ({"alpha": 1.5}, X),
    "HardSigmoid": ({}, X), "HardSwish": ({}, X * 2), "Mish": ({}, X), "Softplus": ({}, X),
    "Softsign": ({}, X), "ThresholdedRelu": ({"alpha": 0.5}, X),
    "Elu-large": ({}, np.array([[800.0, -800.0, 2.0], [-2.0, 0.5, -0.5]])),
    "Softplus-large": ({}, np.array([[800.0, -800.0, 2.0], [-2.0, 0.5, -0.5]])),
    "Mish-large": ({}, np.array([[800.0, -800.0, 2.0], [-2.0, 0.5, -0.5]])),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradient(runner, tmp_path, name):
    attrs, x = ACTIVATIONS[name]
    body, out = imported_body(tmp_path, name.split("-")[0], attrs, [x])
    grads, _ = check_gradients(runner, {"arg0": x}, body, out, (2, 3), rtol=1e-5)
    assert np.all(np.isfinite(grads["arg0"]))


@pytest.mark.parametrize("op,attrs,slope", [("Softplus", {}, 0.5), ("Celu", {"alpha": 2.0}, 1.0),
                                             ("Elu", {"alpha": 0.5}, 0.75), ("Mish", {}, 0.6)])
def test_activation_gradient_at_zero(runner, tmp_path, op, attrs, slope):
    """At x = 0 the compositions' max/min ties give the mean of the one-sided
    slopes: the true slope of the smooth Softplus, Celu and Mish (tanh(log 2) = 0.6)."""
    x = np.zeros((2, 3))
    body, out = imported_body(tmp_path, op, attrs, [x])
    grads = runner.run(runner.autodiff(build_main({"arg0": x}, body, out, (2, 3))),
                       {"arg0": x, "w": np.ones((2, 3))}, ["arg0"])
    np.testing.assert_allclose(grads["arg0"], slope, rtol=1e-12)


def test_prelu_gradient_reaches_the_slope(runner, tmp_path):
    slope = np.array([0.25, -0.5, 0.1])
    body, out = imported_body(tmp_path, "PRelu", {}, [X, slope])
    check_gradients(runner, {"arg0": X, "arg1": slope}, body, out, (2, 3))


@pytest.mark.parametrize("axis,exclusive,reverse", [(1, 0, 0), (1, 1, 1), (0, 1, 0), (0, 0, 1)])
def test_cumsum_gradient(runner, tmp_path, axis, exclusive, reverse):
    body, out = imported_body(tmp_path, "CumSum", {"exclusive": exclusive, "reverse": reverse}, [X],
                              [("axis", np.array(axis, np.int64))])
    check_gradients(runner, {"arg0": X}, body, out, (2, 3))


# --- 4. accuracy over the f32 sweep ---------------------------------------------------------------
# test_math_approximation.py's sweep and measure (every 4099th f32 bit pattern, a dense grid on
# [-12, 12], the specials) against float64 numpy. The math functions are libm calls: errors in
# f32 ulps. The activations are compositions rounded at every step (and Elu's exp is the
# approximated one): their error is in units of 2^-24 * max(|y|, 1), i.e. relative above 1 and
# absolute below, since exp(x) - 1 and 1 + exp(-|x|) cancel near 0 by construction.
# The bounds are docs/numerics.md's measured maxima rounded up.

def _np(name):
    def reference(x):
        with np.errstate(all="ignore"):
            return getattr(np, name)(x)
    return reference


def _elu(x, alpha=1.0):
    with np.errstate(over="ignore"):
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _softplus(x):
    with np.errstate(over="ignore"):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _mish(x):
    return x * np.tanh(_softplus(x))


SWEEP_MATH = {  # op: (reference, max ulp)
    "Sin": (_np("sin"), 1), "Cos": (_np("cos"), 1), "Tan": (_np("tan"), 1),
    "Asin": (_np("arcsin"), 1), "Acos": (_np("arccos"), 1), "Atan": (_np("arctan"), 1),
    "Sinh": (_np("sinh"), 2), "Cosh": (_np("cosh"), 2), "Asinh": (_np("arcsinh"), 2),
    "Acosh": (_np("arccosh"), 2), "Atanh": (_np("arctanh"), 2),
    "Floor": (_np("floor"), 0), "Ceil": (_np("ceil"), 0), "Round": (_np("rint"), 0),
}
SWEEP_ACTIVATIONS = {  # op: (reference, max error in 2^-24 * max(|y|, 1))
    "Elu": (_elu, 1), "Softplus": (_softplus, 3), "Mish": (_mish, 5),
    "Softsign": (lambda x: x / (1 + np.abs(x)), 2),
}


def sweep_run(mpc_run, op):
    x = sweep()
    proc, out = mpc_run.invoke(single_op_model(op, {}, 18, x.size), {"x": x})
    assert proc.returncode == 0, proc.stderr
    return x, load_npy(out / "y.npy")


@pytest.mark.parametrize("op", sorted(SWEEP_MATH))
def test_math_function_ulp(mpc_run, op):
    reference, bound = SWEEP_MATH[op]
    x, y = sweep_run(mpc_run, op)
    err = ulp_error(y, x, reference)
    worst = int(np.argmax(err))
    print(f"{op}: max {err.max():.3f} ulp at x={x[worst]!r} (got {y[worst]!r})")
    assert err.max() <= bound, f"{op}: {err.max()} ulp at x={x[worst]!r}, got {y[worst]!r}"


@pytest.mark.parametrize("op", sorted(SWEEP_ACTIVATIONS))
def test_activation_error(mpc_run, op):
    reference, bound = SWEEP_ACTIVATIONS[op]
    x, y = sweep_run(mpc_run, op)
    with np.errstate(all="ignore"):  # inf / inf and inf * 0 in the references: NaN as in mpc
        ref = reference(x.astype(np.float64))
    fin = np.isfinite(ref)
    err = np.zeros(x.shape)
    err[fin] = np.abs(y[fin] - ref[fin]) / (np.maximum(np.abs(ref[fin]), 1.0) * 2.0**-24)
    err[~fin & ~((np.isnan(ref) & np.isnan(y)) | (ref == y))] = np.inf
    worst = int(np.argmax(err))
    print(f"{op}: max {err.max():.3f} at x={x[worst]!r} (got {y[worst]!r})")
    assert err.max() <= bound, f"{op}: {err.max()} at x={x[worst]!r}, got {y[worst]!r}"


# --- 5. in a trainable model ----------------------------------------------------------------------

def activation_mlp(path):
    """x[8, 16] -> Gemm -> the sum of Elu, Selu, Celu, Softplus, Mish, Softsign, HardSigmoid,
    HardSwish, Sin and PRelu (a trained slope) -> CumSum along the features -> Gemm -> logits[8, 5]."""
    rng = np.random.default_rng(7)
    acts = ["Elu", "Selu", "Celu", "Softplus", "Mish", "Softsign", "HardSigmoid", "HardSwish", "Sin"]
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"])]
    nodes += [helper.make_node(op, ["h"], [op.lower()]) for op in acts]
    nodes += [helper.make_node("PRelu", ["h", "slope"], ["prelu"]),
              helper.make_node("Sum", [op.lower() for op in acts] + ["prelu"], ["mixed"]),
              helper.make_node("CumSum", ["mixed", "axis"], ["scanned"]),
              helper.make_node("Gemm", ["scanned", "w2", "b2"], ["logits"])]
    inits = {"w1": rng.standard_normal((16, 32)) * 0.3, "b1": rng.standard_normal(32) * 0.1,
             "slope": np.full(32, 0.25), "w2": rng.standard_normal((32, 5)) * 0.05, "b2": np.zeros(5)}
    graph = helper.make_graph(
        nodes, "activation_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [8, 5])],
        [onnx.numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()]
        + [onnx.numpy_helper.from_array(np.int64(1), "axis")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))


def test_trainer_step_schedule_matches_cpu_target(tmp_path):
    """The train step of a model built from the new ops (their gradients included) compiles for
    CUDA (ptxas) and, as the CUDA schedule on the CPU, gives the CPU target's step."""
    if not MPC_COMPILE.exists():
        pytest.skip("mpc-compile not built")
    model = tmp_path / "mlp.onnx"
    activation_mlp(model)
    flags = ["--train", "--loss", "cross_entropy", "--label", "label", "--batch", "8",
             "--optimizer", "sgd", "--lr", "0.1"]
    step = tmp_path / "step.mlir"
    proc = subprocess.run([str(MPC_COMPILE), str(model), *flags, "--emit", "mlir", "-o", str(step)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    if PTXAS.exists():
        ptx = tmp_path / "step.ptx"
        proc = subprocess.run([str(MPC_COMPILE), str(model), *flags, "--target", "cuda", "--emit", "ptx",
                               "--cuda-arch", "sm_90", "-o", str(ptx)], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        proc = subprocess.run([str(PTXAS), "-arch=sm_90", str(ptx), "-o", "/dev/null"],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-4000:]
    rng = np.random.default_rng(3)
    feeds = {"x": rng.standard_normal((8, 16)).astype(np.float32),
             "label": rng.integers(0, 5, 8).astype(np.int64)}
    signature = re.search(r"func\.func @train_step\((.*?)\) ->", step.read_text(), re.S).group(1)
    for shape, name, role in re.findall(r'tensor<([^>]*)> \{[^}]*mpc\.name = "([^"]+)"[^}]*mpc\.role = "(\w+)"',
                                        signature):
        if role not in ("input", "label"):
            dims = [int(d) for d in shape.split("x")[:-1]]
            feeds[name] = (rng.standard_normal(dims) * 0.2).astype(np.float32)
    mpc_run = MpcRun(tmp_path)
    outputs = {}
    for flag in [(), ("--cuda-schedule",)]:
        proc, out = mpc_run.invoke(step.read_text(), feeds, "none", extra_args=["--entry", "train_step", *flag])
        assert proc.returncode == 0, proc.stderr[-4000:]
        outputs[flag] = {f.name: load_npy(f) for f in out.glob("*.npy")}
    cpu, schedule = outputs[()], outputs[("--cuda-schedule",)]
    assert cpu.keys() == schedule.keys() and {"w1.npy", "slope.npy", "loss.npy"} <= cpu.keys()
    for file, expected in cpu.items():
        assert np.all(np.isfinite(expected)), file
        scale = float(np.max(np.abs(expected)))
        np.testing.assert_allclose(schedule[file], expected, rtol=1e-5, atol=1e-6 * scale, err_msg=file)
