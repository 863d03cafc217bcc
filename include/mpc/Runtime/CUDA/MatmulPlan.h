//===- MatmulPlan.h - mpc_cuda_matmul's operands as cuBLASLt sees them -*- C++ -*-===//
//
// cuBLASLt multiplies column-major matrices. A row-major [R, C] view with
// row stride s is the column-major C x R matrix with leading dimension s,
// so every operand whose inner or next-inner stride is 1 maps to a stored
// matrix plus a transpose op, and no data moves:
//  - C column-major (its M stride is 1): C = op(A) op(B);
//  - C row-major: C^T = op(B) op(A), i.e. the operands swap.
// Pure arithmetic on shapes and strides, so that it is tested without a GPU.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_CUDA_MATMULPLAN_H
#define MPC_RUNTIME_CUDA_MATMULPLAN_H

#include <cstdint>
#include <string>

namespace mpc::runtime::cuda {

/// A memref descriptor's geometry (rank 2 or 3), pointers left out.
struct MemrefShape {
  int64_t rank = 2;
  int64_t sizes[3] = {0, 0, 0};
  int64_t strides[3] = {0, 0, 0};
};

/// Reads rank, sizes and strides of a ranked MLIR memref descriptor
/// ({T *, T *, int64_t offset, int64_t sizes[rank], int64_t strides[rank]}).
MemrefShape readMemrefShape(int64_t rank, const void *descriptor);
/// The address of element 0: aligned + offset * elementBytes.
char *memrefData(const void *descriptor, int64_t elementBytes);

/// One cuBLASLt matrix: `rows` x `cols` stored column-major with leading
/// dimension `ld`, used as op(X) (transposed when `transpose`).
struct GemmOperand {
  int operand = 0; // which of A=0, B=1, C=2 it is
  uint64_t rows = 0, cols = 0;
  int64_t ld = 1;
  int64_t batchStride = 0; // 0: the same matrix for every batch
  bool transpose = false;
};

struct GemmPlan {
  std::string error;    // when not empty, nothing else is meaningful
  uint64_t m = 0, n = 0, k = 0; // cuBLASLt's (after a swap)
  int64_t batch = 1;
  GemmOperand first, second, out; // D = op(first) x op(second)
  bool swapped = false;           // C row-major, computed as C^T = B^T A^T
  bool empty() const { return m == 0 || n == 0 || batch == 0; }
};

/// Plans C = A x B for A [b?,M,K], B [b?,K,N], C [b?,M,N].
GemmPlan planGemm(const MemrefShape &a, const MemrefShape &b,
                  const MemrefShape &c);

/// Whether an epilogue's bias of `size` elements `stride` apart fits `plan`:
/// a vector over the caller's N, broadcast over M and the batch. cuBLASLt
/// adds its bias along D's rows (its m), so it must be the swapped plan of
/// a row-major C (m = N); over a column-major C's rows (the caller's M) it
/// would be added to the wrong dim. Returns the error, empty when it fits.
std::string checkBias(const GemmPlan &plan, int64_t size, int64_t stride);

} // namespace mpc::runtime::cuda

#endif // MPC_RUNTIME_CUDA_MATMULPLAN_H
