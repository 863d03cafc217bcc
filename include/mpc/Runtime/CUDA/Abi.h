/*===- Abi.h - what compiled CUDA code and lib/Runtime/CUDA agree on -----===*
 *
 * Plain C, included by the compiler (lib/Codegen/CUDA) and the runtime.
 *
 *===---------------------------------------------------------------------===*/
#ifndef MPC_RUNTIME_CUDA_ABI_H
#define MPC_RUNTIME_CUDA_ABI_H

/* Element type codes of library calls' operands. */
#define MPC_DT_F32 0
#define MPC_DT_F16 1
#define MPC_DT_BF16 2
#define MPC_DT_F8E4M3 3
#define MPC_DT_F8E5M2 4

/* Flags of mpc_cuda_matmul. */
#define MPC_MM_BETA0 1      /* C's prior contents are ignored (beta = 0); else C += A x B */
#define MPC_MM_ALLOW_TF32 2 /* f32 GEMMs may use TF32 tensor cores */

/* mpc_cuda_matmul's one argument is a memref<MPC_MM_PARAMSxi64> the compiled
 * code fills on the host stack; in C it arrives as that memref's lowered
 * descriptor: (int64_t *allocated, int64_t *aligned, int64_t offset,
 * int64_t size, int64_t stride). Its slots: */
#define MPC_MM_SYMBOL "mpc_cuda_matmul"
#define MPC_MM_ABI_VERSION 1
#define MPC_MM_SLOT_ABI 0
#define MPC_MM_SLOT_DTYPE_A 1
#define MPC_MM_SLOT_DTYPE_B 2
#define MPC_MM_SLOT_DTYPE_C 3
#define MPC_MM_SLOT_FLAGS 4
/* Then A [b?, M, K], B [b?, K, N], C [b?, M, N], MPC_MM_OPERAND_SLOTS each:
 * aligned device pointer, offset (elements), rank (2 or 3), sizes[3],
 * strides[3] (elements; unused entries size 1 stride 0). A rank-2 A or B
 * is shared by every batch of a rank-3 C. */
#define MPC_MM_SLOT_OPERANDS 5
#define MPC_MM_OPERAND_SLOTS 9
#define MPC_MM_PARAMS (MPC_MM_SLOT_OPERANDS + 3 * MPC_MM_OPERAND_SLOTS)

#endif /* MPC_RUNTIME_CUDA_ABI_H */
