/*===- Abi.h - Codes shared by compiled CUDA code and its runtime -*- C -*-===*
 *
 * Plain C: the compiler (lib/Codegen/CUDA) includes it to emit calls to the
 * runtime, the runtime (lib/Runtime/CUDA) to decode them. Changing a value
 * breaks every compiled program.
 *
 *===----------------------------------------------------------------------===*/
#ifndef MPC_RUNTIME_CUDA_ABI_H
#define MPC_RUNTIME_CUDA_ABI_H

#include <stdint.h>

/* Element types of mpc_cuda_matmul's operands. */
enum {
  MPC_DT_F32 = 0,
  MPC_DT_F16 = 1,
  MPC_DT_BF16 = 2,
  MPC_DT_F8E4M3 = 3, /* f8E4M3FN */
  MPC_DT_F8E5M2 = 4
};

/* The MLIR spelling of an MPC_DT_* code ("bf16"); NULL for an unknown one. */
static inline const char *mpc_dtype_name(int64_t code) {
  switch (code) {
  case MPC_DT_F32: return "f32";
  case MPC_DT_F16: return "f16";
  case MPC_DT_BF16: return "bf16";
  case MPC_DT_F8E4M3: return "f8E4M3FN";
  case MPC_DT_F8E5M2: return "f8E5M2";
  default: return 0;
  }
}

/* mpc_cuda_matmul's flag bits. */
enum {
  /* C's prior contents are ignored (beta = 0); without it C += A x B. */
  MPC_MM_BETA0 = 1,
  /* f32 inputs may use TF32 tensor cores (10-bit mantissa products). */
  MPC_MM_ALLOW_TF32 = 2
};

/* What cuBLASLt applies to A x B (+ C without MPC_MM_BETA0) in f32 before
 * rounding to C's type: a bias vector over N (the caller's columns, bias[n]
 * added to every row of every batch), then ReLU (max(x, 0)) or GELU in its
 * tanh form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
enum {
  MPC_MM_EPILOGUE_NONE = 0,
  MPC_MM_EPILOGUE_BIAS = 1,
  MPC_MM_EPILOGUE_RELU = 2,
  MPC_MM_EPILOGUE_RELU_BIAS = 3,
  MPC_MM_EPILOGUE_GELU = 4,
  MPC_MM_EPILOGUE_GELU_BIAS = 5
};

/* Compiled code calls mpc_cuda_matmul with one memref<MPC_MM_PARAMS x i64>
 * it fills on the host stack; in C that arrives as the memref's lowered
 * descriptor (allocated, aligned, offset, size, stride). Its slots: */

enum {
  MPC_MM_ABI_VERSION = 2,
  MPC_MM_SLOT_ABI = 0, /* MPC_MM_ABI_VERSION */
  MPC_MM_SLOT_DTYPE_A = 1,
  MPC_MM_SLOT_DTYPE_B = 2,
  MPC_MM_SLOT_DTYPE_C = 3, /* C is also D, the epilogue's result */
  MPC_MM_SLOT_FLAGS = 4,
  /* Then A [b?, M, K], B [b?, K, N], C [b?, M, N], MPC_MM_OPERAND_SLOTS
   * each: aligned device pointer, offset (elements), rank (2 or 3),
   * sizes[3], strides[3] (elements; unused entries size 1, stride 0). */
  MPC_MM_SLOT_OPERANDS = 5,
  MPC_MM_OPERAND_SLOTS = 9,
  /* MPC_MM_EPILOGUE_*. */
  MPC_MM_SLOT_EPILOGUE = MPC_MM_SLOT_OPERANDS + 3 * MPC_MM_OPERAND_SLOTS,
  /* The bias's element type: C's (cuBLASLt's rule); -1 without a bias. */
  MPC_MM_SLOT_DTYPE_BIAS = MPC_MM_SLOT_EPILOGUE + 1,
  /* The bias vector [N], MPC_MM_BIAS_SLOTS: aligned device pointer,
   * offset, size and stride (elements; stride 1 unless N is 1). All 0
   * without a bias. */
  MPC_MM_SLOT_BIAS = MPC_MM_SLOT_DTYPE_BIAS + 1,
  MPC_MM_BIAS_SLOTS = 4,
  MPC_MM_PARAMS = MPC_MM_SLOT_BIAS + MPC_MM_BIAS_SLOTS
};

/* mpc_cuda_conv: a forward convolution through cuDNN, called with one
 * memref<MPC_CONV_PARAMS x i64> like mpc_cuda_matmul. Y = conv(X, W),
 * NC(D)HW / KC(T)RS layouts given by strides, padding symmetric per axis. */
enum {
  MPC_CONV_ABI_VERSION = 1,
  MPC_CONV_SLOT_ABI = 0,
  MPC_CONV_SLOT_DTYPE_X = 1,
  MPC_CONV_SLOT_DTYPE_W = 2,
  MPC_CONV_SLOT_DTYPE_Y = 3,
  MPC_CONV_SLOT_FLAGS = 4,    /* MPC_MM_BETA0 | MPC_MM_ALLOW_TF32 */
  MPC_CONV_SLOT_GROUPS = 5,
  MPC_CONV_SLOT_SPATIAL = 6,  /* 1, 2 or 3 spatial axes */
  MPC_CONV_SLOT_PADS = 7,     /* [3]: per spatial axis, both sides */
  MPC_CONV_SLOT_STRIDES = 10, /* [3] */
  MPC_CONV_SLOT_DILATIONS = 13, /* [3] */
  /* Then X, W, Y, MPC_CONV_OPERAND_SLOTS each: aligned device pointer,
   * offset (elements), rank (3..5), sizes[5], strides[5] (elements). */
  MPC_CONV_SLOT_OPERANDS = 16,
  MPC_CONV_OPERAND_SLOTS = 13,
  MPC_CONV_PARAMS = MPC_CONV_SLOT_OPERANDS + 3 * MPC_CONV_OPERAND_SLOTS
};

/* mpc_cuda_attention: softmax(scale * Q K^T + mask) V through cuDNN's fused
 * flash attention, called with one memref<MPC_ATTN_PARAMS x i64>. Q [B,H,Sq,D],
 * K [B,H,Skv,D], V [B,H,Skv,Dv], O [B,H,Sq,Dv], mask (optional) broadcastable
 * to [B,H,Sq,Skv] (stride 0 on broadcast axes); every operand given as 4
 * sizes and 4 strides in elements (lower-rank operands padded with leading
 * size-1, stride-0 axes). Q, K, V and O share one element type (f16/bf16). */
enum {
  MPC_ATTN_ABI_VERSION = 1,
  MPC_ATTN_SLOT_ABI = 0,
  MPC_ATTN_SLOT_DTYPE = 1,      /* Q, K, V, O */
  MPC_ATTN_SLOT_MASK_DTYPE = 2, /* -1 when there is no mask */
  MPC_ATTN_SLOT_FLAGS = 3,      /* none defined yet: 0 */
  MPC_ATTN_SLOT_SCALE = 4,      /* the scale's f32 bits, zero-extended */
  /* Then Q, K, V, O, mask, MPC_ATTN_OPERAND_SLOTS each: aligned device
   * pointer (0 for an absent mask), offset (elements), sizes[4], strides[4]. */
  MPC_ATTN_SLOT_OPERANDS = 5,
  MPC_ATTN_OPERAND_SLOTS = 10,
  MPC_ATTN_PARAMS = MPC_ATTN_SLOT_OPERANDS + 5 * MPC_ATTN_OPERAND_SLOTS
};

#ifdef __cplusplus
extern "C" {
#endif

/* The entry compiled code calls: the packed slots above. */
void mpc_cuda_matmul(int64_t *allocated, int64_t *params, int64_t offset, int64_t size,
                     int64_t stride);

/* C = A x B + beta * C (alpha = 1), on the runtime's one stream.
 * desc* are MLIR ranked memref descriptors of the given rank: {T *allocated;
 * T *aligned; int64_t offset; int64_t sizes[rank]; int64_t strides[rank];},
 * offset and strides in elements. Shapes: A [b?,M,K], B [b?,K,N],
 * C [b?,M,N]; rank 3 is batched over dim 0, and a rank-2 A or B is shared
 * by every batch. In each operand one of the two innermost strides must be
 * 1 (row-major or a transposed view). Errors print one line and exit(1). */
void mpc_cuda_matmul_descriptors(int64_t rankA, void *descA, int64_t rankB, void *descB,
                                 int64_t rankC, void *descC, int32_t dtypeA, int32_t dtypeB,
                                 int32_t dtypeC, int32_t flags);

/* The same with an epilogue (MPC_MM_EPILOGUE_*): C = act(A x B + beta * C
 * + bias). descBias is a rank-1 memref descriptor of the bias [N] ({T *,
 * T *, offset, size, stride}), NULL without a bias; dtypeBias must be
 * dtypeC. The bias needs a row-major C (N's stride 1: cuBLASLt adds it
 * along the rows of its column-major D, which C^T is). */
void mpc_cuda_matmul_epilogue_descriptors(int64_t rankA, void *descA, int64_t rankB, void *descB,
                                          int64_t rankC, void *descC, int32_t dtypeA,
                                          int32_t dtypeB, int32_t dtypeC, int32_t flags,
                                          int32_t epilogue, void *descBias, int32_t dtypeBias);

/* Compiled code calls this right before each library call (mpc_cuda_*)
 * with the call's position in the kernel table its constructor registered
 * (mpcCudaRegisterKernelInfo, in order): errors and asynchronous faults of
 * the call then name it and its ONNX nodes. */
void mpc_cuda_library_call(int64_t index);

/* The entries for the blocks above (same descriptor convention). */
void mpc_cuda_conv(int64_t *allocated, int64_t *params, int64_t offset, int64_t size,
                   int64_t stride);
void mpc_cuda_attention(int64_t *allocated, int64_t *params, int64_t offset, int64_t size,
                        int64_t stride);

#ifdef __cplusplus
}
#endif

#endif /* MPC_RUNTIME_CUDA_ABI_H */
