"""mpc-run's user errors: a non-zero exit and a message naming what is wrong."""
import numpy as np
import pytest
from onnx import TensorProto, helper

X = np.ones((2, 3), np.float32)


@pytest.fixture
def model():
    node = helper.make_node("Relu", ["x"], ["y"], name="act")
    graph = helper.make_graph(
        [node], "relu", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def expect_error(proc, *fragments):
    assert proc.returncode != 0, proc.stdout
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr
    assert "Stack dump" not in proc.stderr and "Assertion" not in proc.stderr, proc.stderr


def test_wrong_dtype_names_the_input_and_both_types(mpc_run, model):
    proc, _ = mpc_run.invoke(model, {"x": X.astype(np.int64)})
    expect_error(proc, "input 'x'", "f32", "i64")


def test_unfeedable_input_type_is_named(mpc_run):
    """A graph input of a type mpc-run has no .npy for (here float4e2m1, which
    Debian's ONNX headers do not name) is reported by its ONNX name."""
    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 23, [4])],
                              [helper.make_tensor_value_info("y", 23, [4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
    proc, _ = mpc_run.invoke(model, {"x": np.ones(4, np.uint8)})
    expect_error(proc, "model input 'x' has element type float4e2m1, which mpc-run cannot feed")


def test_wrong_rank_names_the_input(mpc_run, model):
    proc, _ = mpc_run.invoke(model, {"x": np.ones((2, 3, 1), np.float32)})
    expect_error(proc, "'x'")


def test_wrong_shape_of_an_mlir_model_names_both_shapes(mpc_run):
    module = """
func.func @main(%x: tensor<2x3xf32> {mpc.name = "x"}) -> (tensor<2x3xf32> {mpc.name = "y"}) {
  %y = mpc.relu %x : tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
"""
    proc, _ = mpc_run.invoke(module, {"x": np.ones((3, 2), np.float32)})
    expect_error(proc, "input 'x'", "2x3", "3x2")


def test_missing_input_is_named(mpc_run, model):
    proc, _ = mpc_run.invoke(model, {})
    expect_error(proc, "model input 'x'", "--input x=")


def test_unknown_input_is_named_with_the_real_ones(mpc_run, model):
    proc, _ = mpc_run.invoke(model, {"x": X, "z": X})
    expect_error(proc, "--input 'z'", "its inputs: x")


def test_unreadable_and_malformed_files_are_named(mpc_run, model, tmp_path):
    proc, _ = mpc_run.invoke(model, {}, raw_inputs={"x": tmp_path / "missing.npy"})
    expect_error(proc, "missing.npy", "cannot open")
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"not a numpy file")
    proc, _ = mpc_run.invoke(model, {}, raw_inputs={"x": bad})
    expect_error(proc, "bad.npy", "bad magic")
    fortran = tmp_path / "fortran.npy"
    np.save(fortran, np.asfortranarray(np.ones((2, 3), np.float32)))
    proc, _ = mpc_run.invoke(model, {}, raw_inputs={"x": fortran})
    expect_error(proc, "fortran.npy", "Fortran")


def test_unknown_precision_is_rejected(mpc_run, model):
    proc, _ = mpc_run.invoke(model, {"x": X}, precision="fp12")
    expect_error(proc, "unknown --precision 'fp12'")


def test_missing_model_file_is_named(mpc_run, tmp_path):
    proc, _ = mpc_run.invoke(str(tmp_path / "nothing.mlir"), {"x": X})
    assert proc.returncode != 0


def test_iterations_reports_compile_and_run_times(mpc_run, model):
    proc, out = mpc_run.invoke(model, {"x": X}, extra_args=["--iterations", "3"])
    assert proc.returncode == 0, proc.stderr
    assert "compile:" in proc.stdout and "mean over 3 iterations" in proc.stdout
    # The warm-up run is reported on its own, not averaged in.
    assert "after a first run of" in proc.stdout
    np.testing.assert_array_equal(np.load(out / "y.npy"), X)
