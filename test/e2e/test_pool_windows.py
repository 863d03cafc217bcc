"""Pooling windows vectorized along the output width (mpc-vectorize-generics,
window reductions) give exactly the results of the scalar loops: max pooling
is exact in any precision (the max of the rounded inputs), average pooling
sums each window in f32 in row-major window order, divides by the window's
count and rounds once. The references below compute that in numpy, element
by element in the same order, and are compared bit for bit. The shapes cover
16-lane chunks in a loop, power-of-two tails (8, 4, 2, 1 lanes), stride-2
reads that start early at the row's end, dilation and ceil_mode."""
import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper

RNG = np.random.default_rng(17)
STORAGE = {"fp32": np.float32, "bf16": ml_dtypes.bfloat16, "fp16": np.float16}


def out_size(size, kernel, stride, pad_begin, pad_end, dilation, ceil_mode):
    span = size + pad_begin + pad_end - dilation * (kernel - 1) - 1
    count = (-(-span // stride) if ceil_mode else span // stride) + 1
    # ONNX: a last window that starts in the end padding is dropped.
    if ceil_mode and (count - 1) * stride >= size + pad_begin:
        count -= 1
    return count


def reference(x, op, kernel, stride, pads, dilation, ceil_mode, count_include_pad, dtype):
    """The pooling of x (values of `dtype`, held in f32) in the scalar loops'
    order, in f32 (the max is exact; the average sums in f32 and divides)."""
    n, c, h, w = x.shape
    oh = out_size(h, kernel[0], stride[0], pads[0], pads[2], dilation[0], ceil_mode)
    ow = out_size(w, kernel[1], stride[1], pads[1], pads[3], dilation[1], ceil_mode)
    fill = -np.inf if op == "MaxPool" else 0.0
    height = max(h + pads[0] + pads[2], (oh - 1) * stride[0] + (kernel[0] - 1) * dilation[0] + 1)
    width = max(w + pads[1] + pads[3], (ow - 1) * stride[1] + (kernel[1] - 1) * dilation[1] + 1)
    padded = np.full((n, c, height, width), fill, np.float32)
    padded[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + w] = x
    acc = np.full((n, c, oh, ow), fill, np.float32)
    for kh in range(kernel[0]):
        for kw in range(kernel[1]):
            rows = kh * dilation[0] + stride[0] * np.arange(oh)
            cols = kw * dilation[1] + stride[1] * np.arange(ow)
            window = padded[:, :, rows[:, None], cols[None, :]]
            acc = np.maximum(acc, window) if op == "MaxPool" else (acc + window).astype(np.float32)
    if op == "AveragePool":
        def counts(size, out, k, s, begin, end):
            start = np.arange(out) * s - begin
            if count_include_pad:
                return np.minimum(start + k, size + end) - start
            return np.minimum(start + k, size) - np.maximum(start, 0)
        count = np.outer(counts(h, oh, kernel[0], stride[0], pads[0], pads[2]),
                         counts(w, ow, kernel[1], stride[1], pads[1], pads[3])).astype(np.float32)
        acc = (acc / count).astype(np.float32)
    return acc


CASES = [
    # op, input shape, kernel, stride, pads, dilation, ceil_mode, count_include_pad
    pytest.param("MaxPool", (2, 4, 16, 16), (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), 0, 0, id="max-2x2-s2-w16"),
    pytest.param("MaxPool", (1, 3, 112, 112), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 0, 0, id="max-3x3-s2-w112"),
    pytest.param("MaxPool", (1, 2, 13, 13), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 0, 0, id="max-3x3-s1-w13"),
    pytest.param("MaxPool", (1, 2, 9, 47), (3, 3), (2, 2), (0, 0, 0, 0), (1, 1), 1, 0, id="max-ceil-w47"),
    pytest.param("MaxPool", (1, 2, 8, 40), (2, 3), (1, 2), (0, 0, 0, 0), (2, 2), 0, 0, id="max-dilated-w40"),
    pytest.param("AveragePool", (2, 4, 16, 16), (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), 0, 0, id="avg-2x2-s2-w16"),
    pytest.param("AveragePool", (1, 3, 56, 58), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 0, 0, id="avg-3x3-s2-w58"),
    pytest.param("AveragePool", (1, 2, 11, 30), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 0, 1, id="avg-count-pad-w30"),
]


MLIR_TYPE = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}
BITS = {"fp32": np.uint32, "bf16": np.uint16, "fp16": np.uint16}


def array_attr(values):
    return "array<i64: " + ", ".join(str(v) for v in values) + ">"


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("op,shape,kernel,stride,pads,dilation,ceil_mode,include_pad", CASES)
def test_pool_bit_exact(mpc_run, op, shape, kernel, stride, pads, dilation, ceil_mode, include_pad, precision):
    """The pooling op on an input of the precision's own type (a graph
    input: no cast is fused into the window loops), its output bits against
    the reference's."""
    dtype, element = STORAGE[precision], MLIR_TYPE[precision]
    x = (RNG.standard_normal(shape) * 4).astype(dtype)
    expected = reference(x.astype(np.float32), op, kernel, stride, pads, dilation, ceil_mode, include_pad, dtype)
    attrs = (f"kernel_shape = {array_attr(kernel)}, strides = {array_attr(stride)}, pads = {array_attr(pads)}, "
             f"ceil_mode = {'true' if ceil_mode else 'false'}")
    if op == "MaxPool":
        name, attrs = "mpc.max_pool", attrs + f", dilations = {array_attr(dilation)}"
    else:
        name = "mpc.avg_pool"
        attrs += f", count_include_pad = {'true' if include_pad else 'false'}, acc_type = f32"
    x_type = f"tensor<{'x'.join(map(str, shape))}x{element}>"
    y_type = f"tensor<{'x'.join(map(str, expected.shape))}x{element}>"
    module = (f'func.func @main(%x: {x_type} {{mpc.name = "x"}}) -> ({y_type} {{mpc.name = "y"}}) {{\n'
              f"  %y = {name} %x {{{attrs}}} : ({x_type}) -> {y_type}\n"
              f"  return %y : {y_type}\n}}\n")
    actual = mpc_run(module, {"x": x}, precision="none", output_names=["y"])["y"]
    assert actual.shape == expected.shape
    bits = BITS[precision]
    mismatched = np.count_nonzero(actual.view(bits) != expected.astype(dtype).view(bits))
    assert mismatched == 0, f"{mismatched} of {expected.size} outputs differ"
