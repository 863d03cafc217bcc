//===- AttentionPlan.h - mpc_cuda_attention's block, checked -----*- C++ -*-===//
//
// Decodes the packed argument block of mpc_cuda_attention (Abi.h, MPC_ATTN_*)
// and checks it against what cuDNN's fused flash attention (forward) accepts,
// then gives every tensor's dims and strides as the cuDNN graph declares
// them. Pure arithmetic, tested without a GPU; Attention.cpp builds the graph.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_CUDA_ATTENTIONPLAN_H
#define MPC_RUNTIME_CUDA_ATTENTIONPLAN_H

#include <cstdint>
#include <string>

namespace mpc::runtime::cuda {

/// One operand of the block: element 0 is at pointer + offset * element
/// bytes; sizes and strides in elements.
struct AttentionOperand {
  uint64_t pointer = 0;
  int64_t offset = 0;
  int64_t sizes[4] = {1, 1, 1, 1};
  int64_t strides[4] = {0, 0, 0, 0};
};

enum AttentionOperandIndex { kAttnQ = 0, kAttnK, kAttnV, kAttnO, kAttnMask, kAttnOperands };

/// The block's contents, not yet checked.
struct AttentionCall {
  int64_t dtype = -1;     // MPC_DT_*, of Q, K, V and O
  int64_t maskDtype = -1; // MPC_DT_*, or -1: no mask
  int64_t flags = 0;
  uint64_t scaleSlot = 0; // the scale's f32 bits, zero-extended
  AttentionOperand operands[kAttnOperands];
  bool hasMask() const { return maskDtype != -1; }
  float scale() const;
};

/// Reads a memref<MPC_ATTN_PARAMS x i64> given as its lowered descriptor's
/// aligned pointer, offset, size and stride. Empty string, or why the block
/// is not one this runtime reads (wrong size, stride or ABI version).
std::string decodeAttentionBlock(const int64_t *params, int64_t offset, int64_t size,
                                 int64_t stride, AttentionCall &call);

/// A 4-D tensor of the cuDNN graph.
struct AttentionTensor {
  int64_t dims[4] = {1, 1, 1, 1};
  int64_t strides[4] = {1, 1, 1, 1};
};

/// The largest head size (D and Dv) accepted. cuDNN 9's flash attention
/// needs multiples of 8; the frontend's support checks (cudnn-frontend
/// sdpa_support_surface.h) cap them at 128 on sm_80 and 256 on sm_90 only for
/// cuDNN <= 9.9, so above 128 the device and cuDNN version decide.
constexpr int64_t kAttentionMaxHeadDim = 256;

struct AttentionPlan {
  std::string error; // when not empty, nothing else is meaningful
  int64_t batch = 0, heads = 0, seqQ = 0, seqKv = 0, headDim = 0, valueDim = 0;
  // Q [B,H,Sq,D]; K^T [B,Hk,D,Skv] (K's strides permuted, no copy);
  // V [B,Hv,Skv,Dv]; O [B,H,Sq,Dv]; mask [B,Hm,Sq,Skv] with stride 0 where
  // the block broadcasts it (the form PyTorch's cuDNN attention passes).
  AttentionTensor q, kTransposed, v, o, mask;
  bool hasMask = false;
  /// Nothing to compute: O has no elements.
  bool empty() const { return batch == 0 || heads == 0 || seqQ == 0 || valueDim == 0; }
  /// 2*B*H*Sq*Skv*(D + Dv): both matrix products.
  double flops() const;
};

/// Checks the call (types, flags, scale, pointers, shapes, broadcasts,
/// layouts) and lays out the graph's tensors. Errors are one line naming the
/// problem and the operands, and suggest the compiler's kernel fallback.
AttentionPlan planAttention(const AttentionCall &call);

/// "f16", "bf16", "f32", ... for an MPC_DT_* code; nullptr when unknown.
const char *attentionDtypeName(int64_t code);

/// "Q bf16[2,12,128,64] strides [...], K ..., V ..., O ..., mask ..., scale
/// 0.125" (the mask only when present).
std::string describeAttention(const AttentionCall &call);

/// "attention 32x12x128x128x64 bf16" (B x H x Sq x Skv x D, then "x Dv"
/// when it differs) with " +mask" when there is one.
std::string attentionProfileName(const AttentionPlan &plan, const AttentionCall &call);

} // namespace mpc::runtime::cuda

#endif // MPC_RUNTIME_CUDA_ATTENTIONPLAN_H
