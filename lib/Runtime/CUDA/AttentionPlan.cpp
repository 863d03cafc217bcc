//===- AttentionPlan.cpp - mpc_cuda_attention's block, checked ------------===//

#include "mpc/Runtime/CUDA/AttentionPlan.h"

#include "mpc/Runtime/CUDA/Abi.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace mpc::runtime::cuda {

namespace {

const char *const kOperandNames[] = {"Q", "K", "V", "O", "mask"};

const char kFallback[] = "; compile with mpc-compile --cuda-attention=kernels to run attention "
                         "as generated kernels instead";

std::string join(const int64_t *values) {
  std::string out;
  for (int i = 0; i < 4; ++i)
    out += (i ? "," : "") + std::to_string(values[i]);
  return out;
}

std::string describeOperand(const AttentionCall &call, int i) {
  const AttentionOperand &op = call.operands[i];
  const char *type = attentionDtypeName(i == kAttnMask ? call.maskDtype : call.dtype);
  return std::string(kOperandNames[i]) + " " + (type ? type : "?") + "[" + join(op.sizes) +
         "] strides [" + join(op.strides) + "]";
}

// The stride of a size-1 axis means nothing (the ABI pads with 0); cuDNN is
// given what a packed tensor would have there.
AttentionTensor canonical(const AttentionOperand &op) {
  AttentionTensor t;
  for (int d = 0; d < 4; ++d) {
    t.dims[d] = op.sizes[d];
    t.strides[d] = op.strides[d];
  }
  for (int d = 3; d >= 0; --d) {
    if (t.dims[d] != 1)
      continue;
    int64_t extent = 1;
    for (int inner = d + 1; inner < 4; ++inner)
      extent = std::max(extent, t.dims[inner] * t.strides[inner]);
    t.strides[d] = extent;
  }
  return t;
}

} // namespace

float AttentionCall::scale() const {
  uint32_t bits = uint32_t(scaleSlot);
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

double AttentionPlan::flops() const {
  return 2.0 * double(batch) * double(heads) * double(seqQ) * double(seqKv) *
         double(headDim + valueDim);
}

const char *attentionDtypeName(int64_t code) { return mpc_dtype_name(code); }

std::string decodeAttentionBlock(const int64_t *params, int64_t offset, int64_t size,
                                 int64_t stride, AttentionCall &call) {
  int64_t version = size >= 1 && stride == 1 ? params[offset + MPC_ATTN_SLOT_ABI] : -1;
  if (size != MPC_ATTN_PARAMS || stride != 1 || version != MPC_ATTN_ABI_VERSION)
    return "mpc_cuda_attention: this program was compiled for another version of the CUDA "
           "runtime (argument block version " +
           std::to_string(version) + " of " + std::to_string(size) + " slots, expected " +
           std::to_string(int(MPC_ATTN_ABI_VERSION)) + " of " +
           std::to_string(int(MPC_ATTN_PARAMS)) + "); recompile it with this mpc";
  const int64_t *p = params + offset;
  call.dtype = p[MPC_ATTN_SLOT_DTYPE];
  call.maskDtype = p[MPC_ATTN_SLOT_MASK_DTYPE];
  call.flags = p[MPC_ATTN_SLOT_FLAGS];
  call.scaleSlot = uint64_t(p[MPC_ATTN_SLOT_SCALE]);
  for (int i = 0; i < kAttnOperands; ++i) {
    const int64_t *slot = p + MPC_ATTN_SLOT_OPERANDS + i * MPC_ATTN_OPERAND_SLOTS;
    AttentionOperand &op = call.operands[i];
    op.pointer = uint64_t(slot[0]);
    op.offset = slot[1];
    for (int d = 0; d < 4; ++d) {
      op.sizes[d] = slot[2 + d];
      op.strides[d] = slot[6 + d];
    }
  }
  return "";
}

std::string describeAttention(const AttentionCall &call) {
  std::string out;
  for (int i = 0; i < kAttnOperands; ++i) {
    if (i == kAttnMask && !call.hasMask())
      continue;
    out += (i ? ", " : "") + describeOperand(call, i);
  }
  char scale[32];
  std::snprintf(scale, sizeof(scale), "%g", double(call.scale()));
  return out + ", scale " + scale;
}

std::string attentionProfileName(const AttentionPlan &plan, const AttentionCall &call) {
  std::string name = "attention " + std::to_string(plan.batch) + "x" + std::to_string(plan.heads) +
                     "x" + std::to_string(plan.seqQ) + "x" + std::to_string(plan.seqKv) + "x" +
                     std::to_string(plan.headDim);
  if (plan.valueDim != plan.headDim)
    name += "x" + std::to_string(plan.valueDim);
  const char *type = attentionDtypeName(call.dtype);
  name += std::string(" ") + (type ? type : "?");
  return plan.hasMask ? name + " +mask" : name;
}

AttentionPlan planAttention(const AttentionCall &call) {
  AttentionPlan plan;
  auto fail = [&](const std::string &problem, bool fallback = true) {
    plan.error = "mpc_cuda_attention: " + problem + " [" + describeAttention(call) + "]" +
                 (fallback ? kFallback : "");
    return plan;
  };
  auto abiMismatch = [&](const std::string &what) {
    return fail(what + " (this program and its runtime disagree on Abi.h; recompile it with "
                       "this mpc)",
                false);
  };
  const char *type = attentionDtypeName(call.dtype);
  if (!type)
    return abiMismatch("unknown element type code " + std::to_string(call.dtype));
  if (call.dtype != MPC_DT_F16 && call.dtype != MPC_DT_BF16)
    return fail(std::string("cuDNN's flash attention takes f16 or bf16 Q, K, V and O, not ") +
                type);
  if (call.hasMask()) {
    const char *maskType = attentionDtypeName(call.maskDtype);
    if (!maskType)
      return abiMismatch("unknown mask element type code " + std::to_string(call.maskDtype));
    if (call.maskDtype != MPC_DT_F32 && call.maskDtype != MPC_DT_F16 &&
        call.maskDtype != MPC_DT_BF16)
      return fail(std::string("an additive mask must be f32, f16 or bf16, not ") + maskType);
  }
  if (call.flags != 0)
    return abiMismatch("unknown flags " + std::to_string(call.flags));
  if (call.scaleSlot >> 32)
    return abiMismatch("scale slot " + std::to_string(call.scaleSlot) +
                       " is not a zero-extended f32");
  if (!std::isfinite(call.scale()))
    return fail("the scale is not finite");
  for (int i = 0; i < kAttnOperands; ++i) {
    const AttentionOperand &op = call.operands[i];
    bool present = i != kAttnMask || call.hasMask();
    if (present && op.pointer == 0)
      return fail(std::string(kOperandNames[i]) + " has a null device pointer", false);
    if (!present && op.pointer != 0)
      return abiMismatch("a mask pointer without a mask element type");
    if (!present)
      continue;
    for (int d = 0; d < 4; ++d)
      if (op.sizes[d] < 0 || op.strides[d] < 0)
        return fail(std::string(kOperandNames[i]) + " has a negative size or stride", false);
  }
  const AttentionOperand &q = call.operands[kAttnQ], &k = call.operands[kAttnK],
                         &v = call.operands[kAttnV], &o = call.operands[kAttnO];
  int64_t b = q.sizes[0], h = q.sizes[1], sq = q.sizes[2], d = q.sizes[3];
  int64_t skv = k.sizes[2], dv = v.sizes[3];
  if (k.sizes[3] != d || v.sizes[2] != skv || o.sizes[0] != b || o.sizes[1] != h ||
      o.sizes[2] != sq || o.sizes[3] != dv)
    return fail("shapes do not match Q [B,H,Sq,D], K [B,H,Skv,D], V [B,H,Skv,Dv], "
                "O [B,H,Sq,Dv]",
                false);
  for (const AttentionOperand *kv : {&k, &v}) {
    const char *name = kv == &k ? "K" : "V";
    if (kv->sizes[0] != b)
      return fail(std::string(name) + " has batch " + std::to_string(kv->sizes[0]) + " and Q " +
                  std::to_string(b) +
                  ": cuDNN's flash attention does not broadcast K or V over the batch");
    if (h != 0 && (kv->sizes[1] == 0 || h % kv->sizes[1] != 0))
      return fail(std::string(name) + " has " + std::to_string(kv->sizes[1]) +
                  " heads, not a divisor of Q's " + std::to_string(h) +
                  " (grouped-query attention needs one)");
  }
  plan.batch = b;
  plan.heads = h;
  plan.seqQ = sq;
  plan.seqKv = skv;
  plan.headDim = d;
  plan.valueDim = dv;
  plan.hasMask = call.hasMask();
  if (plan.empty())
    return plan;
  if (skv == 0)
    return fail("the key sequence is empty (Skv = 0): softmax over nothing");
  for (int64_t size : {d, dv})
    if (size <= 0 || size % 8 != 0 || size > kAttentionMaxHeadDim)
      return fail("head size " + std::to_string(size) +
                  " is not what cuDNN's flash attention takes (a multiple of 8 up to " +
                  std::to_string(kAttentionMaxHeadDim) + ")");
  for (int i = kAttnQ; i <= kAttnO; ++i)
    if (call.operands[i].strides[3] != 1)
      return fail(std::string(kOperandNames[i]) + "'s head axis (the last) has stride " +
                  std::to_string(call.operands[i].strides[3]) +
                  ": cuDNN's flash attention needs it contiguous (stride 1)");
  for (int d2 = 0; d2 < 4; ++d2)
    if (o.sizes[d2] > 1 && o.strides[d2] == 0)
      return fail("O has stride 0 on an axis of size " + std::to_string(o.sizes[d2]) +
                      ": its elements would overwrite each other",
                  false);
  plan.q = canonical(q);
  plan.v = canonical(v);
  plan.o = canonical(o);
  AttentionTensor kt = canonical(k);
  std::swap(kt.dims[2], kt.dims[3]);
  std::swap(kt.strides[2], kt.strides[3]);
  plan.kTransposed = kt;
  if (!plan.hasMask)
    return plan;
  const AttentionOperand &m = call.operands[kAttnMask];
  const int64_t full[4] = {b, h, sq, skv};
  const char *const axes[4] = {"batch", "head", "query", "key"};
  for (int a = 0; a < 3; ++a)
    if (m.sizes[a] != full[a] && m.sizes[a] != 1)
      return fail("the mask's " + std::string(axes[a]) + " axis has size " +
                      std::to_string(m.sizes[a]) + ", neither 1 nor " + std::to_string(full[a]),
                  false);
  if (m.sizes[3] != skv || (skv > 1 && m.strides[3] != 1))
    return fail("the mask must cover the key axis contiguously (size Skv = " + std::to_string(skv) +
                ", stride 1)");
  AttentionTensor mask = canonical(m);
  // Batch and query broadcasts become stride-0 axes; a mask shared by all
  // heads keeps its head axis of 1.
  for (int a : {0, 2})
    if (m.sizes[a] == 1 && full[a] > 1) {
      mask.dims[a] = full[a];
      mask.strides[a] = 0;
    }
  plan.mask = mask;
  return plan;
}

} // namespace mpc::runtime::cuda
