"""fp16 overflow and the value-range analysis (docs/precision-range.md).

The model scales its input by 300 and multiplies it with 64 weights ~10, so
every output is ~1.4e5, past fp16's largest finite value 65504. Without range
information mpc-run --precision fp16 runs the matmul in fp16 (f32 accumulator,
fp16 result) and the outputs overflow to inf: that proves the test can fail.
With the input's range (stated or from calibration data) the analysis forces
the matmul to f32 and the outputs are finite and close to fp32.
"""
import subprocess

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import BUILD_DIR, normalized_error, run_onnxruntime

# The matmul runs in f32 once forced; what is left in fp16 is the x * 300
# product (one rounding, u = 2^-11 ~ 4.9e-4) and the input's cast to fp16
# (another u): a few u, relative to the output's scale.
FP16_TOLERANCE = 5e-3
BATCH, K, N = 8, 64, 16


def overflowing_model(rng):
    w = rng.uniform(8, 12, (K, N)).astype(np.float32)
    nodes = [
        helper.make_node("Mul", ["x", "scale"], ["scaled"], name="scale"),
        helper.make_node("MatMul", ["scaled", "w"], ["y"], name="fc"),
    ]
    graph = helper.make_graph(
        nodes, "overflow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [BATCH, K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [BATCH, N])],
        [numpy_helper.from_array(np.array(300, np.float32), "scale"),
         numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    model = overflowing_model(rng)
    inputs = {"x": rng.uniform(0.5, 1.0, (BATCH, K)).astype(np.float32)}
    return model, inputs, run_onnxruntime(model, inputs)["y"]


def run_fp16(mpc_run, model, inputs, extra_args=()):
    proc, out = mpc_run.invoke(model, inputs, "fp16", extra_args)
    assert proc.returncode == 0, f"mpc-run failed:\n{proc.stderr}"
    return np.load(out / "y.npy")


def test_reference_exceeds_fp16(case):
    _, _, reference = case
    assert np.all(np.isfinite(reference))
    assert np.min(np.abs(reference)) > 65504


def test_fp16_without_ranges_overflows(mpc_run, case):
    model, inputs, _ = case
    y = run_fp16(mpc_run, model, inputs)
    bad = int(np.count_nonzero(~np.isfinite(y)))
    print(f"fp16 without ranges: {bad} of {y.size} outputs inf/NaN")
    assert bad == y.size


def test_fp16_with_input_ranges_is_finite(mpc_run, case):
    model, inputs, reference = case
    y = run_fp16(mpc_run, model, inputs, ["--input-ranges", "x:0:1"])
    assert np.all(np.isfinite(y))
    error = normalized_error(y, reference)
    print(f"fp16 with --input-ranges: normalized error {error:.2e}")
    assert error < FP16_TOLERANCE


def test_fp16_with_calibration_data_is_finite(mpc_run, case, tmp_path):
    model, inputs, reference = case
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    np.save(calibration / "x.npy", inputs["x"])
    y = run_fp16(mpc_run, model, inputs, ["--calibration-data", str(calibration)])
    assert np.all(np.isfinite(y))
    assert normalized_error(y, reference) < FP16_TOLERANCE


def test_bad_input_range_is_an_error(mpc_run, case):
    model, inputs, _ = case
    proc, _ = mpc_run.invoke(model, inputs, "fp16", ["--input-ranges", "nosuch:0:1"])
    assert proc.returncode != 0
    assert "no graph input is named 'nosuch'; inputs are 'x'" in proc.stderr


def test_report_shows_the_range_reason(case, tmp_path):
    mpc_opt = BUILD_DIR / "bin" / "mpc-opt"
    if not mpc_opt.exists():
        pytest.skip(f"{mpc_opt} not built (set MPC_BUILD_DIR)")
    model, _, _ = case
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    proc = subprocess.run(
        [str(mpc_opt), str(path), "--mpc-assign-precision=policy=fp16 input-ranges=x:0:1",
         "--mpc-precision-report", "-o", "/dev/null"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout + proc.stderr
    assert "range: |y| may reach" in report
    assert "> fp16 max 65504 (input x in [0, 1])" in report
