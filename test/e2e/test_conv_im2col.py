"""Convolutions large enough for mpc-conv-to-matmul (>= 2^12 multiply-adds:
im2col patches + a register-tiled matmul) compute the same numbers as
onnxruntime, on the shapes ResNet-style networks use and on the ones the
rewrite must keep right (groups, depthwise, dilation, 1-D, odd sizes), and
on small ones (a small CNN's convolutions, below the former 2^20
threshold; position counts padded to the vector width)."""
import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mpc_e2e import normalized_error, run_onnxruntime


def conv_model(x_shape, w_shape, bias=True, seed=0, **attrs):
    """One ONNX Conv of input `x_shape` with an initializer weight (and
    bias); the output shape is left for onnxruntime and mpc to infer."""
    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(
        (rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))).astype(np.float32), "w")]
    inputs = ["x", "w"]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(w_shape[0]).astype(np.float32), "b"))
        inputs.append("b")
    graph = helper.make_graph(
        [helper.make_node("Conv", inputs, ["y"], name="conv", **attrs)], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


# (input shape, weight shape, Conv attributes); every case has >= 2^20
# multiply-adds so that the im2col path is the one under test.
CASES = {
    "3x3-s1-p1-64ch": ((1, 64, 28, 28), (64, 64, 3, 3), dict(pads=[1, 1, 1, 1])),
    "3x3-s2-p1-odd": ((2, 32, 29, 29), (48, 32, 3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1])),
    "1x1-batch8-odd-channels": ((8, 40, 14, 14), (24, 40, 1, 1), {}),
    "1x1-s2": ((2, 64, 16, 16), (160, 64, 1, 1), dict(strides=[2, 2])),
    "7x7-s2-p3-stem": ((1, 3, 56, 56), (64, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3])),
    "3x3-dilated": ((1, 16, 32, 32), (24, 16, 3, 3), dict(dilations=[2, 2], pads=[2, 2, 2, 2])),
    "3x3-asymmetric-pads": ((1, 16, 30, 30), (40, 16, 3, 3), dict(pads=[1, 0, 0, 1])),
    "grouped": ((2, 32, 32, 32), (32, 8, 3, 3), dict(group=4, pads=[1, 1, 1, 1])),
    "depthwise": ((1, 64, 56, 56), (64, 1, 3, 3), dict(group=64, pads=[1, 1, 1, 1])),
    "1d": ((4, 32, 200), (64, 32, 5), dict(strides=[1])),
    # Position counts that are not multiples of the 32-wide register tile
    # (split into 32 + 17 and 192 + 4 columns), channels not multiples of
    # the 8-row tile, batch > 1.
    "7x7-map-batch3": ((3, 64, 7, 7), (100, 64, 3, 3), dict(pads=[1, 1, 1, 1])),
    "14x14-map": ((1, 32, 14, 14), (40, 32, 3, 3), dict(pads=[1, 1, 1, 1])),
    "3x3-s2-to-7x7": ((2, 24, 14, 14), (72, 24, 3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1])),
    # A reduction of 64 (split into two k tiles of 32).
    "1x1-s2-64ch-to-28x28": ((1, 64, 56, 56), (128, 64, 1, 1), dict(strides=[2, 2])),
    # Output channels a multiple of 32 and position counts that are not
    # (49, 196): computed transposed, positions x channels, with the weight
    # packed per 32 channels; per group, per image of a batch, pointwise.
    "channels-as-columns-7x7-batch2": ((2, 64, 7, 7), (96, 64, 3, 3), dict(pads=[1, 1, 1, 1])),
    "channels-as-columns-grouped": ((1, 64, 7, 7), (128, 32, 3, 3), dict(group=2, pads=[1, 1, 1, 1])),
    "channels-as-columns-1x1-14x14": ((1, 128, 14, 14), (64, 128, 1, 1), {}),
}

# Between 2^12 and 2^20 multiply-adds (rewritten since the threshold went
# down to mpc-tile-and-vectorize's): test/Inputs/models/torch_cnn.onnx's two
# convolutions, and small maps whose position counts get padded (49 = 32 +
# 17 -> 32 + 32, 25 -> 32, 9 -> 16, 28 -> 32).
SMALL_CASES = {
    "cnn-conv1-3ch": ((4, 3, 16, 16), (8, 3, 3, 3), dict(pads=[1, 1, 1, 1])),
    "cnn-conv2-s2-batch32": ((32, 8, 8, 8), (16, 8, 3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1])),
    "s2-to-7x7": ((2, 8, 14, 14), (16, 8, 3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1])),
    "grouped-s2-to-5x5": ((2, 8, 9, 9), (12, 4, 3, 3), dict(group=2, strides=[2, 2], pads=[1, 1, 1, 1])),
    "depthwise-small": ((2, 16, 10, 10), (16, 1, 3, 3), dict(group=16, pads=[1, 1, 1, 1])),
    "3x3-map-no-pads": ((3, 16, 5, 5), (24, 16, 3, 3), {}),
    "asymmetric-pads-s2": ((2, 8, 11, 11), (16, 8, 3, 3), dict(strides=[2, 2], pads=[0, 1, 1, 0])),
    "1d-small": ((4, 8, 30), (16, 8, 3), {}),
}
CASES.update(SMALL_CASES)


def conv_macs(x_shape, w_shape, y_shape):
    """Multiply-adds of a Conv: every output times a weight's window."""
    return int(np.prod(y_shape)) * int(np.prod(w_shape[1:]))


@pytest.mark.parametrize("name", list(SMALL_CASES))
def test_small_conv_matches_onnxruntime(mpc_run, name):
    x_shape, w_shape, attrs = SMALL_CASES[name]
    model = conv_model(x_shape, w_shape, **attrs)
    x = np.random.default_rng(4).standard_normal(x_shape).astype(np.float32)
    ref = run_onnxruntime(model, {"x": x})["y"]
    # Really in the range the former threshold left as scalar loops.
    assert 2**12 <= conv_macs(x_shape, w_shape, ref.shape) < 2**20
    fp32 = mpc_run(model, {"x": x}, "fp32")["y"]
    assert fp32.shape == ref.shape
    np.testing.assert_allclose(fp32, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", list(CASES))
def test_conv_matches_onnxruntime(mpc_run, name):
    x_shape, w_shape, attrs = CASES[name]
    model = conv_model(x_shape, w_shape, bias=name != "grouped", **attrs)
    x = np.random.default_rng(1).standard_normal(x_shape).astype(np.float32)
    ref = run_onnxruntime(model, {"x": x})["y"]
    fp32 = mpc_run(model, {"x": x}, "fp32")["y"]
    assert fp32.shape == ref.shape
    np.testing.assert_allclose(fp32, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", ["3x3-s2-p1-odd", "1x1-batch8-odd-channels", "7x7-s2-p3-stem", "depthwise",
                                  "7x7-map-batch3", "14x14-map", "cnn-conv2-s2-batch32", "s2-to-7x7",
                                  "grouped-s2-to-5x5", "channels-as-columns-7x7-batch2",
                                  "channels-as-columns-grouped"])
@pytest.mark.parametrize("precision,tol", [("bf16", 3e-2), ("fp16", 5e-3)])
def test_low_precision_conv_stays_close(mpc_run, name, precision, tol):
    """bf16/f16 inputs, f32 accumulation: near the fp32 result, and really
    rounded (not silently computed in fp32)."""
    x_shape, w_shape, attrs = CASES[name]
    model = conv_model(x_shape, w_shape, **attrs)
    x = np.random.default_rng(2).standard_normal(x_shape).astype(np.float32)
    fp32 = mpc_run(model, {"x": x}, "fp32")["y"]
    low = mpc_run(model, {"x": x}, precision)["y"]
    assert normalized_error(low, fp32) <= tol
    assert not np.array_equal(low, fp32)


# Filter gradients of >= 2^12 multiply-adds take the im2col path too (one
# batch element per loop iteration); the reference is test_train_ops.py's
# scatter loops, written from the forward op's index map.
GRAD_CASES = {
    "3x3-s1-p1": ((4, 16, 16, 16), (32, 16, 3, 3), [1, 1], [1, 1, 1, 1], [1, 1], 1),
    # A small CNN's second convolution (below the former 2^20 threshold).
    "3x3-s2-small": ((2, 8, 8, 8), (16, 8, 3, 3), [2, 2], [1, 1, 1, 1], [1, 1], 1),
    "3x3-s2-grouped-dilated": ((2, 32, 19, 19), (48, 16, 3, 3), [2, 2], [1, 0, 1, 0], [2, 1], 2),
    "1d-k5": ((4, 32, 100), (64, 32, 5), [1], [0, 0], [1], 1),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
@pytest.mark.parametrize("low", [None, "bf16"])
def test_conv_grad_filter_matches_reference(mpc_run, name, low):
    from test_train_ops import conv_attrs, conv_ref, run, t

    xs, ws, strides, pads, dils, group = GRAD_CASES[name]
    rng = np.random.default_rng(3)
    dtype = ml_dtypes.bfloat16 if low else np.float32
    x = rng.standard_normal(xs).astype(dtype).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    _, grads, outs = conv_ref(x, w, strides, pads, dils, group)
    ys = (xs[0], ws[0], *outs)
    assert np.prod(ws) * xs[0] * np.prod(outs) >= 2**12
    dy = rng.standard_normal(ys).astype(dtype).astype(np.float32)
    _, dw_ref = grads(dy.astype(np.float64))
    xt, wt, yt = t(xs), t(ws), t(ys)
    attrs = conv_attrs(strides, pads, dils, group)
    if low:
        xl, wl, yl = t(xs, low), t(ws, low), t(ys, low)
        body = f"""
  %xl = mpc.cast %x : {xt} to {xl}
  %dyl = mpc.cast %dy : {yt} to {yl}
  %dwl = mpc.conv_grad_filter %xl, %dyl {attrs[:-1]}, acc_type = f32}} : ({xl}, {yl}) -> {wl}
  %dw = mpc.cast %dwl : {wl} to {wt}"""
    else:
        body = f"\n  %dw = mpc.conv_grad_filter %x, %dy {attrs} : ({xt}, {yt}) -> {wt}"
    dw = run(mpc_run, body, [("x", xt), ("dy", yt)], [("dw", wt)], {"x": x, "dy": dy})["dw"]
    if low:
        # f32 sums of exact bf16 products, one rounding to bf16 at the end.
        assert normalized_error(dw, dw_ref) <= 1e-2
        assert not np.array_equal(dw, dw_ref.astype(np.float32))
    else:
        np.testing.assert_allclose(dw, dw_ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["3x3-s1-p1-64ch", "7x7-map-batch3", "grouped", "1x1-batch8-odd-channels",
                                  "cnn-conv2-s2-batch32", "s2-to-7x7", "channels-as-columns-7x7-batch2"])
def test_conv_on_two_threads_is_identical(mpc_run, name):
    """The register tiles inside mpc-conv-to-matmul's row-block loop run on
    threads too (mpc-parallelize-loops keeps one of their dimensions
    parallel): each output is still summed by one thread in the same order,
    so 2 threads give the bits of 1 thread, and both match onnxruntime."""
    x_shape, w_shape, attrs = CASES[name]
    model = conv_model(x_shape, w_shape, bias=name != "grouped", **attrs)
    x = np.random.default_rng(1).standard_normal(x_shape).astype(np.float32)
    ref = run_onnxruntime(model, {"x": x})["y"]
    results = []
    for threads in (1, 2):
        proc, out = mpc_run.invoke(model, {"x": x}, "fp32", extra_args=["--threads", str(threads)])
        assert proc.returncode == 0, f"mpc-run --threads {threads} failed:\n{proc.stderr}"
        results.append(np.load(out / "y.npy"))
    assert results[0].tobytes() == results[1].tobytes()
    assert normalized_error(results[1], ref) < 1e-5


@pytest.mark.parametrize("name", ["channels-as-columns-7x7-batch2", "channels-as-columns-grouped", "3x3-s1-p1-64ch"])
def test_conv_with_weight_input_matches_onnxruntime(mpc_run, name):
    """A weight that is a graph input (as in training, where it changes every
    step) is packed per run instead of at compile time: same numbers."""
    x_shape, w_shape, attrs = CASES[name]
    model = conv_model(x_shape, w_shape, bias=False, **attrs)
    w = numpy_helper.to_array(model.graph.initializer[0])
    del model.graph.initializer[:]
    model.graph.input.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, list(w_shape)))
    x = np.random.default_rng(5).standard_normal(x_shape).astype(np.float32)
    ref = run_onnxruntime(model, {"x": x, "w": w})["y"]
    out = mpc_run(model, {"x": x, "w": w}, "fp32")["y"]
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-4)
