"""Builds the ONNX test models that textual ONNX cannot express compactly.

Usage: make_models.py NAME OUT.onnx   (make_models.py --list prints the names)

Weights are deterministic (seeded) so FileCheck lines stay stable. The
transformer model reproduces what torch.onnx.export writes for a BERT-style
block: shape arithmetic as Shape/Gather/Unsqueeze/Concat/Reshape chains,
Constant nodes, ConstantOfShape/Equal/Where/Expand, a decomposed LayerNorm
and the erf form of GELU.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def weights(name, shape, seed):
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.1, name)


def const(name, value, dtype=np.int64):
    """A torch-style Constant node producing `name`."""
    tensor = numpy_helper.from_array(np.array(value, dtype=dtype), name + "_value")
    return helper.make_node("Constant", [], [name], name=name.replace("out", "node"), value=tensor)


def toposort(nodes, inputs, initializers):
    """Orders nodes so each comes after the producers of its inputs, letting
    the builders below list nodes in the order that reads best."""
    ready = {i.name for i in inputs} | {t.name for t in initializers} | {""}
    pending, ordered = list(nodes), []
    while pending:
        node = next(x for x in pending if all(i in ready for i in x.input))
        pending.remove(node)
        ordered.append(node)
        ready.update(node.output)
    return ordered


def model(nodes, inputs, outputs, initializers=(), opset=17, name="g"):
    nodes = toposort(nodes, inputs, initializers)
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8 if opset < 19 else 9
    return m


def cnn():
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "scale", "bias", "mean", "var"], ["n1"],
                         name="bn1", epsilon=1e-3),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], name="conv2", auto_pad="SAME_UPPER",
                         strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["c2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "wfc", "bfc"], ["logits"], name="fc", transB=1),
    ]
    inits = [weights("w1", (4, 3, 3, 3), 1), weights("b1", (4,), 2), weights("scale", (4,), 3),
             weights("bias", (4,), 4), weights("mean", (4,), 5),
             numpy_helper.from_array(np.full(4, 0.5, np.float32), "var"),
             weights("w2", (6, 4, 2, 2), 6), weights("wfc", (5, 6), 7), weights("bfc", (5,), 8)]
    return model(nodes, [helper.make_tensor_value_info("image", F, ["N", 3, 8, 8])],
                 [helper.make_tensor_value_info("logits", F, ["N", 5])], inits, opset=15)


def transformer(opset=17, fused=False):
    """One encoder block over token ids [batch, seq]; `fused` uses the
    LayerNormalization and Gelu ops instead of their decompositions."""
    H, heads, D, ffn, vocab = 16, 2, 8, 32, 50
    n = []
    # Embedding + learned positions; positions come from Range over the
    # sequence length read off the ids' shape.
    n += [helper.make_node("Gather", ["tok", "ids"], ["emb"], name="embed"),
          helper.make_node("Shape", ["ids"], ["ids_shape"], name="shape_ids"),
          const("one_out", 1),
          helper.make_node("Gather", ["ids_shape", "one_out"], ["seq"], name="seq_len", axis=0),
          const("zero_out", 0),
          helper.make_node("Range", ["zero_out", "seq", "one_out"], ["pos_ids"], name="range"),
          const("axes0_out", [0]),
          helper.make_node("Unsqueeze", ["pos_ids", "axes0_out"], ["pos_ids2"], name="pos_unsq"),
          # torch's expand(-1, ...) pattern: Where(Equal(shape, -1), 1s, shape)
          helper.make_node("Concat", ["batch_u", "seq_u"], ["want"], name="want_shape", axis=0),
          const("minus1_out", [-1, -1]),
          helper.make_node("Equal", ["want", "minus1_out"], ["is_neg"], name="eq"),
          helper.make_node("ConstantOfShape", ["two_out"], ["ones"], name="ones",
                           value=numpy_helper.from_array(np.array([1], np.int64))),
          const("two_out", [2]),
          helper.make_node("Where", ["is_neg", "ones", "want"], ["expand_to"], name="where"),
          helper.make_node("Expand", ["pos_ids2", "expand_to"], ["pos_ids3"], name="expand"),
          helper.make_node("Gather", ["pos", "pos_ids3"], ["pos_emb"], name="pos_embed"),
          helper.make_node("Add", ["emb", "pos_emb"], ["x"], name="add_pos")]
    # batch and seq as 1-D tensors for the Concats.
    n += [const("zero_idx_out", 0),
          helper.make_node("Gather", ["ids_shape", "zero_idx_out"], ["batch"], name="batch_len"),
          helper.make_node("Unsqueeze", ["batch", "axes0_out"], ["batch_u"], name="batch_unsq"),
          helper.make_node("Unsqueeze", ["seq", "axes0_out"], ["seq_u"], name="seq_unsq")]

    def linear(name, inp, out, din, dout):
        return [helper.make_node("MatMul", [inp, name + ".w"], [name + "_mm"], name=name + "/MatMul"),
                helper.make_node("Add", [name + ".b", name + "_mm"], [out], name=name + "/Add")]

    def split_heads(t, out):
        return [const(t + "_h_out", [heads]), const(t + "_d_out", [D]),
                helper.make_node("Concat", ["batch_u", "seq_u", t + "_h_out", t + "_d_out"],
                                 [t + "_shape"], name=t + "/Concat", axis=0),
                helper.make_node("Reshape", [t, t + "_shape"], [t + "_4d"], name=t + "/Reshape"),
                helper.make_node("Transpose", [t + "_4d"], [out], name=t + "/Transpose",
                                 perm=[0, 2, 1, 3])]

    def layer_norm(name, inp, out):
        if fused:
            return [helper.make_node("LayerNormalization", [inp, name + ".g", name + ".b"], [out],
                                     name=name, axis=-1, epsilon=1e-5)]
        return [helper.make_node("ReduceMean", [inp], [name + "_mean"], name=name + "/mean",
                                 axes=[-1]),
                helper.make_node("Sub", [inp, name + "_mean"], [name + "_c"], name=name + "/sub"),
                const(name + "_two_out", 2.0, np.float32),
                helper.make_node("Pow", [name + "_c", name + "_two_out"], [name + "_sq"],
                                 name=name + "/pow"),
                helper.make_node("ReduceMean", [name + "_sq"], [name + "_var"],
                                 name=name + "/var", axes=[-1]),
                const(name + "_eps_out", 1e-5, np.float32),
                helper.make_node("Add", [name + "_var", name + "_eps_out"], [name + "_ve"],
                                 name=name + "/add_eps"),
                helper.make_node("Sqrt", [name + "_ve"], [name + "_std"], name=name + "/sqrt"),
                helper.make_node("Div", [name + "_c", name + "_std"], [name + "_n"],
                                 name=name + "/div"),
                helper.make_node("Mul", [name + "_n", name + ".g"], [name + "_s"],
                                 name=name + "/mul"),
                helper.make_node("Add", [name + "_s", name + ".b"], [out], name=name + "/add")]

    n += linear("q", "x", "q", H, H) + linear("k", "x", "k", H, H) + linear("v", "x", "v", H, H)
    n += split_heads("q", "qh") + split_heads("k", "kh") + split_heads("v", "vh")
    # scores = q @ k^T / sqrt(D), with sqrt(D) computed from the shape as
    # torch does for scaled_dot_product_attention.
    n += [helper.make_node("Transpose", ["kh"], ["kt"], name="k_t", perm=[0, 1, 3, 2]),
          helper.make_node("MatMul", ["qh", "kt"], ["scores"], name="scores"),
          helper.make_node("Shape", ["qh"], ["qh_shape"], name="qh_shape"),
          const("last_out", [-1]),
          helper.make_node("Slice", ["qh_shape", "last_out", "big_out"], ["d_1d"], name="d_slice"),
          const("big_out", [2**62]),
          helper.make_node("Cast", ["d_1d"], ["d_f"], name="d_cast", to=F),
          helper.make_node("Sqrt", ["d_f"], ["d_sqrt"], name="d_sqrt"),
          helper.make_node("Div", ["scores", "d_sqrt"], ["scaled"], name="scale"),
          helper.make_node("Softmax", ["scaled"], ["probs"], name="softmax", axis=-1),
          helper.make_node("MatMul", ["probs", "vh"], ["ctx4"], name="context"),
          helper.make_node("Transpose", ["ctx4"], ["ctx_t"], name="ctx_t", perm=[0, 2, 1, 3]),
          const("hid_out", [H]),
          helper.make_node("Concat", ["batch_u", "seq_u", "hid_out"], ["ctx_shape"],
                           name="ctx_shape", axis=0),
          helper.make_node("Reshape", ["ctx_t", "ctx_shape"], ["ctx"], name="ctx_merge")]
    n += linear("o", "ctx", "attn", H, H)
    n += [helper.make_node("Add", ["x", "attn"], ["res1"], name="residual1")]
    n += layer_norm("ln1", "res1", "h1")
    n += linear("ff1", "h1", "f1", H, ffn)
    if fused:
        n += [helper.make_node("Gelu", ["f1"], ["g"], name="gelu")]
    else:
        n += [const("sqrt2_out", 1.4142135, np.float32),
              helper.make_node("Div", ["f1", "sqrt2_out"], ["g0"], name="gelu/div"),
              helper.make_node("Erf", ["g0"], ["g1"], name="gelu/erf"),
              const("one_f_out", 1.0, np.float32),
              helper.make_node("Add", ["g1", "one_f_out"], ["g2"], name="gelu/add"),
              helper.make_node("Mul", ["f1", "g2"], ["g3"], name="gelu/mul"),
              const("half_out", 0.5, np.float32),
              helper.make_node("Mul", ["g3", "half_out"], ["g"], name="gelu/half")]
    n += linear("ff2", "g", "f2", ffn, H)
    n += [helper.make_node("Add", ["h1", "f2"], ["res2"], name="residual2")]
    n += layer_norm("ln2", "res2", "out")

    inits = [weights("tok", (vocab, H), 10), weights("pos", (16, H), 11)]
    for i, (name, din, dout) in enumerate([("q", H, H), ("k", H, H), ("v", H, H), ("o", H, H),
                                           ("ff1", H, ffn), ("ff2", ffn, H)]):
        inits += [weights(name + ".w", (din, dout), 20 + i), weights(name + ".b", (dout,), 40 + i)]
    for name in ("ln1", "ln2"):
        inits += [numpy_helper.from_array(np.ones(H, np.float32), name + ".g"),
                  numpy_helper.from_array(np.zeros(H, np.float32), name + ".b")]
    return model(n, [helper.make_tensor_value_info("ids", I64, ["batch", "seq"])],
                 [helper.make_tensor_value_info("out", F, ["batch", "seq", H])], inits,
                 opset=opset, name="encoder_block")


def external_data():
    """An initializer whose data lives in another file."""
    m = model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
              [helper.make_tensor_value_info("x", F, [4])],
              [helper.make_tensor_value_info("y", F, [4])],
              [weights("w", (4,), 1)])
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="weights.bin")
    return m


def typed_data():
    """Initializers stored in typed fields instead of raw_data (f16, bf16 and
    fp8 bits in int32_data, doubles, int32), one also listed as a graph input
    as IR version 3 models do."""
    w16 = helper.make_tensor("w16", TensorProto.FLOAT16, [2], [1.0, -2.5])
    wbf = helper.make_tensor("wbf", TensorProto.BFLOAT16, [2], [3.0, 0.5])
    w8 = helper.make_tensor("w8", TensorProto.FLOAT8E4M3FN, [2], [1.0, -2.5])
    wd = helper.make_tensor("wd", TensorProto.DOUBLE, [2], [0.25, 4.0])
    shape = helper.make_tensor("shape", TensorProto.INT32, [2], [1, 2])
    nodes = [helper.make_node("Add", ["x16", "w16"], ["y16"], name="add16"),
             helper.make_node("Mul", ["xd", "wd"], ["yd"], name="muld"),
             helper.make_node("Cast", ["shape"], ["shape64"], name="cast", to=I64),
             helper.make_node("Reshape", ["y16", "shape64"], ["r16"], name="reshape"),
             helper.make_node("Cast", ["wbf"], ["ybf"], name="cast_bf", to=F),
             helper.make_node("Cast", ["w8"], ["y8"], name="cast_f8", to=F)]
    inputs = [helper.make_tensor_value_info("x16", TensorProto.FLOAT16, [2]),
              helper.make_tensor_value_info("xd", TensorProto.DOUBLE, [2]),
              helper.make_tensor_value_info("w16", TensorProto.FLOAT16, [2])]
    outputs = [helper.make_tensor_value_info("r16", TensorProto.FLOAT16, [1, 2]),
               helper.make_tensor_value_info("yd", TensorProto.DOUBLE, [2]),
               helper.make_tensor_value_info("ybf", F, [2]),
               helper.make_tensor_value_info("y8", F, [2])]
    return model(nodes, inputs, outputs, [w16, wbf, w8, wd, shape], opset=19)


def no_default_opset():
    m = model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
              [helper.make_tensor_value_info("x", F, [2])],
              [helper.make_tensor_value_info("y", F, [2])])
    del m.opset_import[:]
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return m


MODELS = {
    "cnn": cnn,
    "transformer": transformer,
    "transformer-fused": lambda: transformer(opset=20, fused=True),
    "external-data": external_data,
    "typed-data": typed_data,
    "no-default-opset": no_default_opset,
}


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(MODELS))
        return 0
    name, out = sys.argv[1], sys.argv[2]
    onnx.save(MODELS[name](), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
