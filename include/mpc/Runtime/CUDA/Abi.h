/*===- Abi.h - Codes shared by compiled CUDA code and its runtime -*- C -*-===*
 *
 * Plain C: the compiler includes it to emit calls to the runtime, the
 * runtime to decode them. Changing a value breaks every compiled program.
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

/* mpc_cuda_matmul's flag bits. */
enum {
  /* C's prior contents are ignored (beta = 0); without it C += A x B. */
  MPC_MM_BETA0 = 1,
  /* f32 inputs may use TF32 tensor cores (10-bit mantissa products). */
  MPC_MM_ALLOW_TF32 = 2
};

#ifdef __cplusplus
extern "C" {
#endif

/* C = A x B + beta * C (alpha = 1), on the runtime's one stream.
 * desc* are MLIR ranked memref descriptors of the given rank (what an
 * unranked memref argument carries): {T *allocated; T *aligned; int64_t
 * offset; int64_t sizes[rank]; int64_t strides[rank];}, offset and strides
 * in elements. Shapes: A [b?,M,K], B [b?,K,N], C [b?,M,N]; rank 3 is
 * batched over dim 0, and a rank-2 A or B is shared by every batch. In each
 * operand one of the two innermost strides must be 1 (row-major or a
 * transposed view). Errors print one line and exit(1). */
void mpc_cuda_matmul(int64_t rankA, void *descA, int64_t rankB, void *descB,
                     int64_t rankC, void *descC, int32_t dtypeA,
                     int32_t dtypeB, int32_t dtypeC, int32_t flags);

#ifdef __cplusplus
}
#endif

#endif /* MPC_RUNTIME_CUDA_ABI_H */
