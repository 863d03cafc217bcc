"""mpc-fold-parameter-casts (mpc-run --fold-parameter-casts, on by default)
rounds f32 weights to the policy's precision once at compile time: the
program must compute the same bits as with the cast at run time
(--fold-parameter-casts=false), and the weights it uses must be the f32
ones rounded to nearest even (ml_dtypes), including ties."""
import re

import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import MpcRun, load_npy, output_file_name


def _weights():
    rng = np.random.default_rng(17)
    w1 = (rng.standard_normal((32, 16)) * 0.5).astype(np.float32)
    # Ties of bf16 (1 + 2^-8, 1 + 3 * 2^-8) and of f16 (1 + 2^-11,
    # 1 + 3 * 2^-11), and an f16 subnormal that rounds up (3 * 2^-26).
    w1.flat[:5] = [1.00390625, 1.01171875, 1.00048828125, 1.00146484375, 4.470348358154296875e-08]
    w2 = (rng.standard_normal((32, 8)) * 0.5).astype(np.float32)
    w3 = (rng.standard_normal((2, 8)) * 0.5).astype(np.float32)
    b1 = (rng.standard_normal(32) * 0.1).astype(np.float32)
    return w1, b1, w2, w3


def _model():
    """y = relu(x W1^T + b1) W2 (Gemm transB: a transpose, then a cast of
    W1), z = x * reshape(W3), g = W2[ids] (W2 is read twice: its cast goes
    to a copy)."""
    w1, b1, w2, w3 = _weights()
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("MatMul", ["r", "W2"], ["y"]),
        helper.make_node("Reshape", ["W3", "shape"], ["w3flat"]),
        helper.make_node("Mul", ["x", "w3flat"], ["z"]),
        helper.make_node("Gather", ["W2", "ids"], ["g"], axis=0),
    ]
    inits = [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(b1, "b1"),
             numpy_helper.from_array(w2, "W2"), numpy_helper.from_array(w3, "W3"),
             numpy_helper.from_array(np.array([16], dtype=np.int64), "shape")]
    graph = helper.make_graph(
        nodes, "fold_parameter_casts",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16]),
         helper.make_tensor_value_info("ids", TensorProto.INT64, [3])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in ("y", "z", "g")],
        inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _inputs():
    rng = np.random.default_rng(3)
    return {"x": rng.standard_normal((4, 16)).astype(np.float32),
            "ids": np.array([0, 31, 5], dtype=np.int64)}


DTYPES = {"bf16": ml_dtypes.bfloat16, "fp16": np.float16}


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_folded_weights_give_the_same_bits(tmp_path, precision):
    run = MpcRun(tmp_path)
    model, inputs = _model(), _inputs()
    outputs = {}
    for fold in ("true", "false"):
        proc, out = run.invoke(model, inputs, precision,
                               extra_args=[f"--fold-parameter-casts={fold}"])
        assert proc.returncode == 0, proc.stderr
        outputs[fold] = {name: load_npy(out / output_file_name(name)) for name in ("y", "z", "g")}
    for name in ("y", "z", "g"):
        folded, at_run_time = outputs["true"][name], outputs["false"][name]
        assert folded.dtype == at_run_time.dtype and folded.shape == at_run_time.shape
        assert folded.tobytes() == at_run_time.tobytes(), name

    # The weights the matmuls use are the f32 ones rounded (the policy keeps
    # the Mul and the Gather in f32 here).
    w1, b1, w2, w3 = _weights()
    narrow = DTYPES[precision]
    r16 = lambda a: np.asarray(a).astype(narrow).astype(np.float64)  # noqa: E731
    x = r16(inputs["x"])
    h = np.maximum(r16(r16(x @ r16(w1).T) + r16(b1)), 0)
    np.testing.assert_allclose(outputs["true"]["y"].astype(np.float64), h @ r16(w2),
                               rtol=2e-2, atol=2e-2)
    np.testing.assert_array_equal(outputs["true"]["g"], w2[inputs["ids"]])
    np.testing.assert_array_equal(outputs["true"]["z"], inputs["x"] * w3.reshape(16))


def test_fold_happens_in_mpc_run(tmp_path):
    """After the pass no cast reads a parameter: W1 (transposed by Gemm's
    transB first) and b1 became bf16 under their own names; W2 stays f32
    for the Gather (which the policy keeps in f32) and a copy W2.bf16 feeds
    the matmul. With --fold-parameter-casts=false the casts stay."""
    run = MpcRun(tmp_path)

    def after_pass(extra):
        proc, _ = run.invoke(_model(), _inputs(), "bf16", extra_args=["--print-ir-after-all", *extra])
        assert proc.returncode == 0, proc.stderr
        # The module after the last precision pass (mpc-fold-casts, or this one).
        marker = "(mpc-fold-parameter-casts)" if not extra else "(mpc-fold-casts)"
        dump = proc.stderr.split(marker)
        assert len(dump) > 1, f"no IR dump after {marker}"
        ir = dump[1].split("IR Dump After")[0]
        params = dict(re.findall(r"mpc\.parameter @\"?([\w.]+)\"? : tensor<([^>]*)>", ir))
        reads = set(re.findall(r"(%\d+) = mpc\.get_parameter", ir))
        cast_reads = [v for v in re.findall(r"mpc\.cast (%\d+)", ir) if v in reads]
        return params, cast_reads

    params, cast_reads = after_pass([])
    assert params.get("W1") == "16x32xbf16", params
    assert params.get("b1") == "32xbf16", params
    assert params.get("W2") == "32x8xf32" and params.get("W2.bf16") == "32x8xbf16", params
    assert cast_reads == []
    params, cast_reads = after_pass(["--fold-parameter-casts=false"])
    assert params.get("W1") == "16x32xf32" and "W2.bf16" not in params, params
    assert len(cast_reads) == 3
