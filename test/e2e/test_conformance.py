"""The ONNX conformance sweep (test/conformance/conformance.py) as a
regression guard, and the importer fixes the sweep found.

test_conformance_sweep runs the whole sweep with --check (both sources: the
onnx package's cases, generated into the build dir when missing, and Debian's
libonnx-testdata). It fails when a test that test/conformance_baseline.json
lists as passing no longer passes, or when mpc-run crashes on any test. It
costs about 95 s of CPU time (1-2 minutes on 2 idle cores, 3.5-5 on a loaded
shared machine); generating the cases once costs about 10 s more. Skipped when
no node tests are available.
"""
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from onnx import TensorProto, helper

from mpc_e2e import BUILD_DIR, MPC_RUN

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "test" / "conformance" / "conformance.py"

sys.path.insert(0, str(ROOT / "test" / "conformance"))
import conformance  # noqa: E402


def _need_sweep():
    if not MPC_RUN.exists():
        pytest.skip(f"{MPC_RUN} not built (set MPC_BUILD_DIR)")
    if not conformance.node_tests(BUILD_DIR, log=lambda _: None):
        pytest.skip("no ONNX node tests (neither the onnx package's cases nor libonnx-testdata)")


def _sweep(*args):
    return subprocess.run([sys.executable, str(SCRIPT), "--build-dir", str(BUILD_DIR),
                           "--jobs", "2", *args], capture_output=True, text=True, timeout=900)


def test_conformance_sweep():
    _need_sweep()
    proc = _sweep("--check")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "check: OK" in proc.stdout


def test_check_reports_regressions(tmp_path):
    """--check fails when a baseline test does not pass (here: one mpc does not support)."""
    _need_sweep()
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"passed": 2, "tests": ["pip/test_abs", "pip/test_det_2d"]}')
    proc = _sweep("--check", "--baseline", str(baseline), "--filter", "^pip/test_(abs|det_2d)$")
    assert proc.returncode == 1, proc.stdout
    assert "REGRESSIONS: 1" in proc.stdout and "test_det_2d" in proc.stdout


def test_check_tells_changed_models_apart(tmp_path):
    """A baseline test whose recorded model digest differs (the onnx package
    re-exported the case) is reported as changed, not as a regression."""
    _need_sweep()
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"passed": 1, "tests": ["pip/test_ceil"], '
                        '"signatures": {"pip/test_ceil": "0000000000000000"}}')
    proc = _sweep("--check", "--baseline", str(baseline), "--filter", "^pip/test_ceil$")
    assert proc.returncode == 0, proc.stdout
    assert "1 baseline tests have another model" in proc.stdout


def test_load_output_float8_e5m2(tmp_path):
    """Outputs saved with descr '<f1' (float8_e5m2, which np.load rejects) load
    as float8_e5m2; other arrays load as np.load reads them."""
    import ml_dtypes
    a = np.array([1.5, -2.0, 0.25, np.inf], ml_dtypes.float8_e5m2)
    np.save(tmp_path / "a.npy", a)
    got = conformance.load_output(tmp_path / "a.npy")
    assert got.dtype == ml_dtypes.float8_e5m2 and np.array_equal(got.view(np.uint8), a.view(np.uint8))
    f = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.save(tmp_path / "f.npy", f)
    assert np.array_equal(conformance.load_output(tmp_path / "f.npy"), f)


def test_compare_rules():
    """The sweep's comparison: rtol 1e-4/atol 1e-5 for floats, NaNs in place,
    integers exact, shapes and dtypes equal."""
    f = np.array([1.0, np.nan, 0.0], np.float32)
    assert conformance.compare("o", f, f * np.float32(1 + 5e-5)) is None
    assert conformance.compare("o", f, f * np.float32(1 + 1e-3)) is not None
    assert conformance.compare("o", f, f + np.float32(2e-5)) is not None
    assert conformance.compare("o", f, np.array([1.0, 0.0, 0.0], np.float32)) is not None
    i = np.array([1, 2], np.int64)
    assert conformance.compare("o", i, i) is None
    assert conformance.compare("o", i, i + 1) is not None
    assert conformance.compare("o", i, i.astype(np.int32)) is not None
    assert conformance.compare("o", i, i.reshape(2, 1)) is not None


def _run_single(mpc_run, op, inputs, out_type, attrs=None):
    nodes = [helper.make_node(op, list(inputs), ["out"], **(attrs or {}))]
    graph = helper.make_graph(
        nodes, op,
        [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
         for k, v in inputs.items()],
        [helper.make_tensor_value_info("out", out_type, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return mpc_run(model, inputs)["out"]


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint8, np.uint16])
def test_narrow_int_max_min_clip(mpc_run, dtype):
    """Max/Min/Clip on narrow integers (mpc.max/min take i32/i64): widened and narrowed back."""
    info = np.iinfo(dtype)
    a = np.array([info.min, -3 if info.min < 0 else 3, 7, info.max], dtype)
    b = np.array([info.max, 5, 7, info.min], dtype)
    onnx_type = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    got = _run_single(mpc_run, "Max", {"a": a, "b": b}, onnx_type)
    assert got.dtype == dtype and np.array_equal(got, np.maximum(a, b))
    got = _run_single(mpc_run, "Min", {"a": a, "b": b}, onnx_type)
    assert got.dtype == dtype and np.array_equal(got, np.minimum(a, b))
    lo, hi = np.array(-2 if info.min < 0 else 2, dtype), np.array(6, dtype)
    got = _run_single(mpc_run, "Clip", {"a": a, "lo": lo, "hi": hi}, onnx_type)
    assert got.dtype == dtype and np.array_equal(got, np.clip(a, lo, hi))


@pytest.mark.parametrize("op,ref", [("Add", np.add), ("Sub", np.subtract),
                                    ("Mul", np.multiply)])
def test_int8_arithmetic_wraps(mpc_run, op, ref):
    """Add/Sub/Mul on int8 run in i32 and are narrowed back: overflow wraps as in numpy."""
    a = np.array([100, -100, 7, 127, -128], np.int8)
    b = np.array([100, 100, -3, 2, 3], np.int8)
    got = _run_single(mpc_run, op, {"a": a, "b": b}, TensorProto.INT8)
    with np.errstate(over="ignore"):
        assert got.dtype == np.int8 and np.array_equal(got, ref(a, b))


def test_int8_div_and_compare(mpc_run):
    """Div on int8 truncates toward zero (ONNX integer Div); comparisons give bool."""
    a = np.array([7, -7, 127, -128, 5], np.int8)
    b = np.array([2, 2, -1, 3, -5], np.int8)
    got = _run_single(mpc_run, "Div", {"a": a, "b": b}, TensorProto.INT8)
    assert got.dtype == np.int8 and np.array_equal(got, np.array([3, -3, -127, -42, -1], np.int8))
    for op, ref in (("Less", np.less), ("GreaterOrEqual", np.greater_equal), ("Equal", np.equal)):
        got = _run_single(mpc_run, op, {"a": a, "b": b}, TensorProto.BOOL)
        assert got.dtype == np.bool_ and np.array_equal(got, ref(a, b)), op


@pytest.mark.parametrize("base,exp", [(np.int32, np.int32), (np.int64, np.int64),
                                      (np.int32, np.float32), (np.int64, np.float32)])
def test_integer_pow(mpc_run, base, exp):
    """Pow with an integer base (result in the base's type), computed in f64."""
    x = np.array([1, 2, 3, -4, 10], base)
    y = np.array([4, 5, 6, 3, 9], exp)
    got = _run_single(mpc_run, "Pow", {"x": x, "y": y},
                      helper.np_dtype_to_tensor_dtype(np.dtype(base)))
    assert got.dtype == base
    assert np.array_equal(got, np.power(x.astype(np.float64), y.astype(np.float64)).astype(base))
