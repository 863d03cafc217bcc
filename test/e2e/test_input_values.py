"""Graph inputs whose values decide shapes (Reshape's shape, Slice's starts,
Pad's pads, ...): mpc-run and mpc-debug read them from the data they are
given and specialize the program on them; mpc-compile takes them with
--onnx-input-value NAME=FILE.npy, and without one says which input, which
node and which flag. Results are checked against onnxruntime on the same
values.
"""
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mpc_e2e import BUILD_DIR, commands, run_onnxruntime

MPC_COMPILE = BUILD_DIR / "bin" / "mpc-compile"
MPC_DEBUG = BUILD_DIR / "bin" / "mpc-debug"
OPSET = 18


def model(nodes, inputs, outputs):
    """inputs/outputs: (name, ONNX type, shape) triples."""
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(*i) for i in inputs],
                              [helper.make_tensor_value_info(*o) for o in outputs])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


F, I = TensorProto.FLOAT, TensorProto.INT64
X = np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 11.5


def ints(*values):
    return np.array(values, np.int64)


# name: (model, {input: value}); `x` is X unless the case gives it.
CASES = {
    "reshape": (model([helper.make_node("Reshape", ["x", "shape"], ["y"], name="r")],
                      [("x", F, [2, 3, 4]), ("shape", I, [2])], [("y", F, None)]),
                {"shape": ints(4, -1)}),
    "expand": (model([helper.make_node("Expand", ["x", "shape"], ["y"], name="e")],
                     [("x", F, [2, 3, 4]), ("shape", I, [4])], [("y", F, None)]),
               {"shape": ints(2, 2, 1, 4)}),
    "slice": (model([helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"],
                                      name="s")],
                    [("x", F, [2, 3, 4]), ("starts", I, [2]), ("ends", I, [2]), ("axes", I, [2]),
                     ("steps", I, [2])], [("y", F, None)]),
              {"starts": ints(-1, 0), "ends": ints(-100, 3), "axes": ints(2, 1),
               "steps": ints(-2, 2)}),
    "unsqueeze_squeeze": (model([helper.make_node("Unsqueeze", ["x", "axes"], ["u"], name="u"),
                                 helper.make_node("Squeeze", ["u", "axes"], ["y"], name="q")],
                                [("x", F, [2, 3, 4]), ("axes", I, [2])], [("y", F, None)]),
                          {"axes": ints(0, -1)}),
    "pad": (model([helper.make_node("Pad", ["x", "pads", "value"], ["y"], name="p")],
                  [("x", F, [2, 3, 4]), ("pads", I, [6]), ("value", F, [])], [("y", F, None)]),
            {"pads": ints(0, 1, 0, 1, 0, 2), "value": np.array(7, np.float32)}),
    "split": (model([helper.make_node("Split", ["x", "sizes"], ["a", "b"], name="sp", axis=2)],
                    [("x", F, [2, 3, 4]), ("sizes", I, [2])], [("a", F, None), ("b", F, None)]),
              {"sizes": ints(1, 3)}),
    "reduce_sum": (model([helper.make_node("ReduceSum", ["x", "axes"], ["y"], name="rs",
                                           keepdims=0)],
                         [("x", F, [2, 3, 4]), ("axes", I, [1])], [("y", F, None)]),
                   {"axes": ints(-2)}),
    "constant_of_shape": (model([helper.make_node("Shape", ["x"], ["s"]),
                                 helper.make_node("Concat", ["s", "extra"], ["shape"], axis=0),
                                 helper.make_node("ConstantOfShape", ["shape"], ["c"], name="cos",
                                                  value=helper.make_tensor("v", F, [1], [0.5])),
                                 helper.make_node("Unsqueeze", ["x", "last"], ["xu"]),
                                 helper.make_node("Add", ["xu", "c"], ["y"])],
                                [("x", F, [2, 3, 4]), ("extra", I, [1]), ("last", I, [1])],
                                [("y", F, None)]),
                          {"extra": ints(2), "last": ints(3)}),
    # Resize reads float scales through hostValues, not hostInts: the same specialization.
    "resize": (model([helper.make_node("Resize", ["x", "", "scales"], ["y"], name="rz", mode="nearest")],
                     [("x", F, [2, 3, 4]), ("scales", F, [3])], [("y", F, None)]),
               {"scales": np.array([1, 1, 2], np.float32)}),
    "range": (model([helper.make_node("Range", ["start", "limit", "delta"], ["y"], name="rg")],
                    [("start", I, []), ("limit", I, []), ("delta", I, [])], [("y", I, None)]),
              {"start": np.array(10, np.int64), "limit": np.array(-3, np.int64),
               "delta": np.array(-4, np.int64)}),
}


def inputs_of(name):
    onnx_model, values = CASES[name]
    declared = [i.name for i in onnx_model.graph.input]
    return onnx_model, {**({"x": X} if "x" in declared else {}), **values}


@pytest.mark.parametrize("name", sorted(CASES))
def test_mpc_run_specializes_on_the_given_values(mpc_run, name):
    onnx_model, inputs = inputs_of(name)
    got = mpc_run(onnx_model, inputs)
    expected = run_onnxruntime(onnx_model, inputs)
    for output, want in expected.items():
        assert got[output].shape == want.shape, output
        np.testing.assert_array_equal(got[output], want)


def test_mpc_run_rejects_a_value_of_the_wrong_type(mpc_run):
    onnx_model, inputs = inputs_of("reshape")
    proc, _ = mpc_run.invoke(onnx_model, {**inputs, "shape": inputs["shape"].astype(np.int32)})
    assert proc.returncode != 0
    assert "input 'shape': the model expects element type i64" in proc.stderr, proc.stderr


def test_mpc_debug_runs_a_model_with_shape_inputs(tmp_path):
    if not MPC_DEBUG.exists():
        pytest.skip(f"{MPC_DEBUG} not built (set MPC_BUILD_DIR)")
    onnx_model, inputs = inputs_of("reshape")
    path = tmp_path / "model.onnx"
    onnx.save(onnx_model, str(path))
    args = [str(MPC_DEBUG), "compare", str(path), "--precision", "fp16"]
    for name, value in inputs.items():
        np.save(tmp_path / f"{name}.npy", value)
        args += ["--input", f"{name}={tmp_path / name}.npy"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "0  r     mpc.reshape" in proc.stdout, proc.stdout
    assert "outputs: max relative error 0 (within tolerance)" in proc.stdout, proc.stdout


@pytest.fixture
def compiler(tmp_path):
    if not MPC_COMPILE.exists():
        pytest.skip(f"{MPC_COMPILE} not built (set MPC_BUILD_DIR)")

    def compile_model(name, values):
        onnx_model, inputs = inputs_of(name)
        path = tmp_path / f"{name}.onnx"
        onnx.save(onnx_model, str(path))
        files = {}
        for input_name, value in values.items():
            files[input_name] = tmp_path / f"value_{input_name}.npy"
            np.save(files[input_name], value)
        exe = tmp_path / f"{name}_runner"
        args = commands.mpc_compile_infer(MPC_COMPILE, path, exe, input_values=files)
        proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
        return proc, exe, onnx_model, inputs

    return compile_model


@pytest.mark.parametrize("name", ["reshape", "slice"])
def test_mpc_compile_takes_onnx_input_value(compiler, tmp_path, name):
    onnx_model, inputs = inputs_of(name)
    values = {k: v for k, v in inputs.items() if k != "x"}
    proc, exe, onnx_model, inputs = compiler(name, values)
    assert proc.returncode == 0, proc.stderr
    x_path = tmp_path / "x.npy"
    np.save(x_path, X)
    out = tmp_path / "out"
    run = subprocess.run(commands.runner(exe, {"x": x_path}, output_dir=out), capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    expected = run_onnxruntime(onnx_model, inputs)
    for output, want in expected.items():
        np.testing.assert_array_equal(np.load(out / commands.mpc_run_output_file(output)), want)


def test_mpc_compile_without_the_value_names_input_node_and_flag(compiler):
    proc, *_ = compiler("reshape", {})
    assert proc.returncode != 0
    assert ("reshape.onnx: node 'r' (Reshape, opset 18): shape (input 'shape') is a graph input"
            in proc.stderr), proc.stderr
    assert "--onnx-input-value shape=FILE.npy" in proc.stderr, proc.stderr


def test_mpc_compile_rejects_a_value_that_decides_no_shape(compiler):
    proc, *_ = compiler("reshape", {"shape": ints(4, 6), "x": X})
    assert proc.returncode != 0
    assert "--onnx-input-value 'x': the model has no graph input of that name whose value decides "\
        "a shape" in proc.stderr, proc.stderr
