"""If (docs/supported-ops.md): mpc compiles static graphs, so the importer
resolves the condition and imports the branch it takes inline. Checked
against onnxruntime (conditions from constants, folded shapes and graph inputs
whose values mpc-run specializes on, nested Ifs, outer-scope names), and in
training: the gradient flows through the inlined branch exactly as through
the same ops without an If, and --save writes the model back with its If,
both branches, and the trained initializers.
"""
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import commands, run_onnxruntime
from mpc_train import MPC_COMPILE, compile_trainer, read_log, step_losses

F, B = TensorProto.FLOAT, TensorProto.BOOL
RNG = np.random.default_rng(7)
X = RNG.standard_normal((2, 3)).astype(np.float32)


def model(nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(*i) for i in inputs],
                              [helper.make_tensor_value_info(*o) for o in outputs],
                              initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def branch(name, nodes, outputs, initializers=()):
    return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(*o) for o in outputs],
                             initializer=list(initializers))


def if_node(cond, output, then_branch, else_branch, name="pick"):
    return helper.make_node("If", [cond], [output], name=name, then_branch=then_branch,
                            else_branch=else_branch)


def const_bool(name, value):
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, B, [], [value]))


W = numpy_helper.from_array(RNG.standard_normal(3).astype(np.float32), "w")
RELU = branch("then", [helper.make_node("Mul", ["x", "w"], ["m"]),
                       helper.make_node("Relu", ["m"], ["t"])], [("t", F, [2, 3])])
SUM = branch("else", [helper.make_node("ReduceSum", ["x"], ["e"], keepdims=0)], [("e", F, [])])


def nested(outer_value):
    """If(shape(x)[0] == 2) { If(c) { exp(x) } else { -x } * w } else { x }"""
    inner = if_node("c", "i", branch("ithen", [helper.make_node("Exp", ["x"], ["t"])],
                                     [("t", F, [2, 3])]),
                    branch("ielse", [helper.make_node("Neg", ["x"], ["n"])], [("n", F, [2, 3])]),
                    name="inner")
    outer_then = branch("othen", [inner, helper.make_node("Mul", ["i", "w"], ["o"])],
                        [("o", F, [2, 3])])
    outer_else = branch("oelse", [helper.make_node("Identity", ["x"], ["p"])], [("p", F, [2, 3])])
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "zero"], ["d"]),
             helper.make_node("Equal", ["d", "two"], ["is2"]),
             const_bool("c", outer_value),
             if_node("is2", "y", outer_then, outer_else, name="outer")]
    inits = [W, numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array(2, np.int64), "two")]
    return model(nodes, [("x", F, [2, 3])], [("y", F, [2, 3])], inits)


# name: (model, inputs beside x)
CASES = {
    "const_true": (model([const_bool("c", True), if_node("c", "y", RELU, SUM)],
                         [("x", F, [2, 3])], [("y", F, None)], [W]), {}),
    "const_false": (model([const_bool("c", False), if_node("c", "y", RELU, SUM)],
                          [("x", F, [2, 3])], [("y", F, None)], [W]), {}),
    "input_true": (model([if_node("cond", "y", RELU, SUM)], [("x", F, [2, 3]), ("cond", B, [])],
                         [("y", F, None)], [W]), {"cond": np.array(True)}),
    "input_false": (model([if_node("cond", "y", RELU, SUM)], [("x", F, [2, 3]), ("cond", B, [])],
                          [("y", F, None)], [W]), {"cond": np.array(False)}),
    "nested_then": (nested(True), {}),
    "nested_else": (nested(False), {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_if_matches_onnxruntime(mpc_run, name):
    onnx_model, values = CASES[name]
    inputs = {"x": X, **values}
    got = mpc_run(onnx_model, inputs)
    expected = run_onnxruntime(onnx_model, inputs)
    for output, want in expected.items():
        assert got[output].shape == want.shape, output
        np.testing.assert_allclose(got[output], want, rtol=1e-6, atol=1e-6)


def test_debian_if_with_graph_input_condition(mpc_run):
    """Debian's test_if (opset 11, upgraded): the condition is the graph input."""
    path = "/usr/share/libonnx-testdata/data/node/test_if/model.onnx"
    try:
        onnx_model = onnx.load(path)
    except FileNotFoundError:
        pytest.skip(f"{path} not installed")
    for cond in (True, False):
        inputs = {"cond": np.array(cond)}
        got = mpc_run(onnx_model, inputs)
        want = run_onnxruntime(onnx_model, inputs)
        np.testing.assert_array_equal(got["res"], want["res"])


def test_data_dependent_condition_is_an_error(mpc_run):
    """A condition computed from trained weights (mpc-run would specialize on
    one computed from an input: it has the input's value)."""
    nodes = [helper.make_node("ReduceSum", ["w"], ["s"], keepdims=0),
             helper.make_node("Greater", ["s", "zero"], ["c"]), if_node("c", "y", RELU, RELU)]
    zero = numpy_helper.from_array(np.array(0, np.float32), "zero")
    proc, _ = mpc_run.invoke(model(nodes, [("x", F, [2, 3])], [("y", F, None)], [W, zero]),
                             {"x": X})
    assert proc.returncode != 0
    assert "node 'pick' (If, opset 17): the condition is data-dependent" in proc.stderr, proc.stderr


def test_sequence_branches_are_unsupported(mpc_run):
    """test_if_seq: the branches build sequences, which mpc does not support."""
    path = "/usr/share/libonnx-testdata/data/node/test_if_seq/model.onnx"
    try:
        onnx_model = onnx.load(path)
    except FileNotFoundError:
        pytest.skip(f"{path} not installed")
    proc, _ = mpc_run.invoke(onnx_model, {"cond": np.array(True)})
    assert proc.returncode != 0
    assert "(SequenceConstruct, opset 13): unsupported op" in proc.stderr, proc.stderr


# --------------------------------------------------------------------------
# Training through an If
# --------------------------------------------------------------------------

def classifier(with_if):
    """x[8,4] -> Gemm(w1, b1) -> Relu -> Gemm(w2) -> logits[8,3]; with_if puts
    the hidden layer in the then branch of an If on a constant (its else
    branch reads an initializer nothing else uses)."""
    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 5)).astype(np.float32) * 0.5, "w1"),
             numpy_helper.from_array(np.zeros(5, np.float32), "b1"),
             numpy_helper.from_array(rng.standard_normal((5, 3)).astype(np.float32) * 0.5, "w2")]
    hidden = [helper.make_node("Gemm", ["x", "w1", "b1"], ["g"], name="fc1"),
              helper.make_node("Relu", ["g"], ["h"], name="act")]
    head = helper.make_node("Gemm", ["h", "w2"], ["logits"], name="fc2")
    if not with_if:
        return model(hidden + [head], [("x", F, [8, 4])], [("logits", F, [8, 3])], inits)
    inits.append(numpy_helper.from_array(np.ones((4, 5), np.float32), "unused"))
    taken = branch("taken", hidden, [("h", F, [8, 5])])
    other = branch("other", [helper.make_node("MatMul", ["x", "unused"], ["u"], name="fc_other")],
                   [("u", F, [8, 5])])
    nodes = [const_bool("c", True), if_node("c", "h", taken, other, name="choose"), head]
    return model(nodes, [("x", F, [8, 4])], [("logits", F, [8, 3])], inits)


def test_training_through_if(tmp_path):
    if not MPC_COMPILE.exists():
        pytest.skip(f"{MPC_COMPILE} not built (set MPC_BUILD_DIR)")
    rng = np.random.default_rng(11)
    data = {"x": tmp_path / "x.npy", "label": tmp_path / "label.npy"}
    np.save(data["x"], rng.standard_normal((32, 4)).astype(np.float32))
    np.save(data["label"], rng.integers(0, 3, 32).astype(np.int64))
    results = {}
    for with_if in (False, True):
        tag = "if" if with_if else "plain"
        path = tmp_path / f"{tag}.onnx"
        onnx.save(classifier(with_if), str(path))
        exe = tmp_path / f"{tag}_trainer"
        compile_trainer(path, exe, "--batch", 8, "--loss", "cross_entropy", "--label", "label",
                        "--optimizer", "sgd", "--lr", "0.1")
        log, saved = tmp_path / f"{tag}.jsonl", tmp_path / f"{tag}_trained.onnx"
        proc = subprocess.run(commands.trainer(exe, data, steps=8, shuffle=False, log=log,
                                               save=saved), capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        results[tag] = (step_losses(read_log(log)), onnx.load(str(saved)))
    (plain_losses, plain_model), (if_losses, if_model) = results["plain"], results["if"]
    assert len(if_losses) == 8 and if_losses == plain_losses
    assert if_losses[-1] < if_losses[0]
    trained = {t.name: numpy_helper.to_array(t) for t in if_model.graph.initializer}
    for tensor in plain_model.graph.initializer:
        np.testing.assert_array_equal(trained[tensor.name], numpy_helper.to_array(tensor))
    # The saved model keeps the If and both branches; what only the branch not
    # taken reads is saved as it was.
    assert [n.op_type for n in if_model.graph.node] == ["Constant", "If", "Gemm"]
    np.testing.assert_array_equal(trained["unused"], np.ones((4, 5), np.float32))
    x = np.load(data["x"])[:8]
    np.testing.assert_allclose(run_onnxruntime(if_model, {"x": x})["logits"],
                               run_onnxruntime(plain_model, {"x": x})["logits"], rtol=1e-6)


def test_mpc_compile_specializes_on_the_condition(tmp_path):
    """mpc-compile takes the condition with --onnx-input-value; without it the
    error names the node, says why and gives the flag."""
    if not MPC_COMPILE.exists():
        pytest.skip(f"{MPC_COMPILE} not built (set MPC_BUILD_DIR)")
    onnx_model, values = CASES["input_false"]
    path, exe = tmp_path / "if.onnx", tmp_path / "if_runner"
    onnx.save(onnx_model, str(path))
    np.save(tmp_path / "cond.npy", values["cond"])
    np.save(tmp_path / "x.npy", X)
    proc = subprocess.run(commands.mpc_compile_infer(MPC_COMPILE, path, exe),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert ("node 'pick' (If, opset 17): the condition is data-dependent" in proc.stderr
            and "--onnx-input-value cond=FILE.npy" in proc.stderr), proc.stderr
    proc = subprocess.run(commands.mpc_compile_infer(MPC_COMPILE, path, exe,
                                                     input_values={"cond": tmp_path / "cond.npy"}),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    run = subprocess.run(commands.runner(exe, {"x": tmp_path / "x.npy"}, output_dir=out),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    want = run_onnxruntime(onnx_model, {"x": X, **values})["y"]
    np.testing.assert_allclose(np.load(out / commands.mpc_run_output_file("y")), want, rtol=1e-6)
