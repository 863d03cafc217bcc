"""Folding must not change a value: an op the importer folds on constants
(lib/Dialect/MpcFolds.cpp) gives, bit for bit, what the compiled program
computes for the same op on the same elements at run time.

Each model computes every op twice, once on graph inputs (run time) and once
on Constant nodes holding the same values (folded while importing), in one
element type; both paths cast the inputs from f64/int64 into that type (the
cast folds too) and the results back."""
import re
import subprocess

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import BUILD_DIR

FINITE = [0.0, -0.0, 1.0, -1.0, 0.5, -2.75, 3.0, 7.0, 1.0 / 3.0, 100.0, -1e-6, 6e-8, 250.0,
          -60000.0, 0.1, 1.5]
SPECIAL = FINITE[:6] + [np.nan, np.inf, -np.inf]
NONZERO = [1.0, -1.0, 3.0, 0.1, -7.0, 1.0 / 3.0, 250.0, 1e-3, 6e-8]
NONNEGATIVE = [0.0, -0.0, 1.0, 2.0, 3.0, 0.1, 1e-6, 250.0, 60000.0, 1.0 / 3.0]
# fp8 results out of range do not fold (MpcFolds.cpp says why): values whose
# sums, products and quotients stay within f8E4M3FN's 448.
FP8_FINITE = [0.0, -0.0, 1.0, -1.0, 0.5, -2.75, 3.0, 7.0, 1.0 / 3.0, 0.1, 1.5, -12.0, 0.0625]
FP8_SPECIAL = FP8_FINITE[:6] + [np.nan]
FP8_NONZERO = [1.0, -1.0, 3.0, 0.1, -7.0, 1.0 / 3.0, 0.25]

INT_VALUES = [0, 1, -1, 7, -7, 100, 127, -128, 2**31 - 1, -2**31, 2**40, -2**63]
INT_DIVISORS = [1, 2, 3, -2, 7, 100, -100]

FLOAT_TYPES = {
    "f32": TensorProto.FLOAT, "f16": TensorProto.FLOAT16, "bf16": TensorProto.BFLOAT16,
    "f64": TensorProto.DOUBLE, "f8E4M3FN": TensorProto.FLOAT8E4M3FN,
    "f8E5M2": TensorProto.FLOAT8E5M2,
}
INT_TYPES = {"i64": TensorProto.INT64, "i32": TensorProto.INT32, "i8": TensorProto.INT8}
COMPARES = ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"]

# op -> the inputs it reads (names of the value sets above, as graph inputs).
FLOAT_OPS = {
    "Add": ("a", "b"), "Sub": ("a", "b"), "Mul": ("a", "b"), "Div": ("a", "d"),
    "Max": ("a", "s"), "Min": ("a", "s"), "Neg": ("s",), "Abs": ("s",), "Relu": ("s",),
    "Sqrt": ("p",), "Reciprocal": ("d",), "Clip": ("s",),
    **{op: ("a", "s") for op in COMPARES},
}
INT_OPS = {
    "Add": ("a", "b"), "Sub": ("a", "b"), "Mul": ("a", "b"), "Div": ("a", "d"),
    "Max": ("a", "b"), "Min": ("a", "b"), "Neg": ("a",), "Abs": ("a",), "Clip": ("a",),
    **{op: ("a", "b") for op in COMPARES},
}


def _inputs(sets):
    """Value sets shaped so that binary ops see every pair: a is a column."""
    return {name: np.array(values)[:, None] if name == "a" else np.array(values)[None, :]
            for name, values in sets.items()}


def _model(onnx_type, wide_type, ops, values):
    nodes, outputs = [], []
    for name, value in values.items():
        nodes.append(helper.make_node("Cast", [name], [f"run_{name}"], to=onnx_type))
        nodes.append(helper.make_node("Constant", [], [f"const_{name}"],
                                      value=numpy_helper.from_array(value, f"const_{name}")))
        nodes.append(helper.make_node("Cast", [f"const_{name}"], [f"fold_{name}"], to=onnx_type))
    clip_bounds = [np.array(-0.5 if onnx_type not in INT_TYPES.values() else -3),
                   np.array(6.0 if onnx_type not in INT_TYPES.values() else 100)]
    for i, bound in enumerate(clip_bounds):
        bound = bound.astype(values["a"].dtype)
        nodes.append(helper.make_node("Constant", [], [f"bound{i}"],
                                      value=numpy_helper.from_array(bound, f"bound{i}")))
        nodes.append(helper.make_node("Cast", [f"bound{i}"], [f"clip{i}"], to=onnx_type))
    for op, operands in ops.items():
        for path in ("run", "fold"):
            args = [f"{path}_{name}" for name in operands]
            if op == "Clip":
                args += ["clip0", "clip1"]
            nodes.append(helper.make_node(op, args, [f"{path}_{op}_t"], name=f"{path}_{op}"))
            if op in COMPARES:
                nodes.append(helper.make_node("Identity", [f"{path}_{op}_t"], [f"{path}_{op}"]))
                out_type = TensorProto.BOOL
            else:
                nodes.append(helper.make_node("Cast", [f"{path}_{op}_t"], [f"{path}_{op}"],
                                              to=wide_type))
                out_type = wide_type
            outputs.append(helper.make_tensor_value_info(f"{path}_{op}", out_type, None))
    inputs = [helper.make_tensor_value_info(name, wide_type, value.shape)
              for name, value in values.items()]
    graph = helper.make_graph(nodes, "folding", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])


def _not_folded(model, tmp_path):
    """The ops of the constant path that the import left as ops."""
    path = tmp_path / "imported.onnx"
    path.write_bytes(model.SerializeToString())
    text = subprocess.run([str(BUILD_DIR / "bin" / "mpc-translate"), "--import-onnx", str(path)],
                          capture_output=True, text=True, check=True).stdout
    return re.findall(r'= mpc\.\w+ .*mpc\.node = "fold_(\w+)"', text)


def _check(mpc_run, tmp_path, onnx_type, wide_type, ops, sets):
    values = _inputs(sets)
    model = _model(onnx_type, wide_type, ops, values)
    assert _not_folded(model, tmp_path) == []
    out = mpc_run(model, values)
    for op in ops:
        run, fold = out[f"run_{op}"], out[f"fold_{op}"]
        assert run.dtype == fold.dtype and run.shape == fold.shape, op
        if run.dtype.kind == "f":
            # The same number, or both NaN: which NaN the hardware makes is
            # its choice, and only NaN-ness is promised.
            same = (run.view(np.uint64) == fold.view(np.uint64)) | (np.isnan(run) & np.isnan(fold))
        else:
            same = run == fold
        assert same.all(), f"{op}: run time {run[~same]} but folded {fold[~same]}"


@pytest.mark.parametrize("name", list(FLOAT_TYPES))
def test_float_folds_match_run_time(mpc_run, tmp_path, name):
    if name.startswith("f8"):
        sets = {"a": FP8_FINITE, "b": FP8_FINITE, "d": FP8_NONZERO, "s": FP8_SPECIAL,
                "p": NONNEGATIVE}
    else:
        sets = {"a": FINITE, "b": FINITE, "d": NONZERO, "s": SPECIAL, "p": NONNEGATIVE}
    _check(mpc_run, tmp_path, FLOAT_TYPES[name], TensorProto.DOUBLE, FLOAT_OPS, sets)


@pytest.mark.parametrize("name", list(INT_TYPES))
def test_int_folds_match_run_time(mpc_run, tmp_path, name):
    sets = {"a": INT_VALUES, "b": INT_VALUES, "d": INT_DIVISORS}
    _check(mpc_run, tmp_path, INT_TYPES[name], TensorProto.INT64, INT_OPS, sets)


def test_undefined_and_nan_making_ops_stay(mpc_run, tmp_path):
    """0/0 and sqrt(-1) make a NaN whose bits are the hardware's; integer
    division by zero is undefined: none of them folds."""
    values = {"a": np.array([[0.0], [1.0]]), "b": np.array([[0.0, -1.0]])}
    ops = {"Div": ("a", "b"), "Sqrt": ("b",)}
    model = _model(TensorProto.FLOAT, TensorProto.DOUBLE, ops, values)
    assert sorted(_not_folded(model, tmp_path)) == ["Div", "Sqrt"]
