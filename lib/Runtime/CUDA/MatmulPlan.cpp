//===- MatmulPlan.cpp - mpc_cuda_matmul's operands as cuBLASLt sees them --===//

#include "mpc/Runtime/CUDA/MatmulPlan.h"

#include <algorithm>

namespace mpc::runtime::cuda {

MemrefShape readMemrefShape(int64_t rank, const void *descriptor) {
  MemrefShape shape;
  shape.rank = rank;
  if (rank < 2 || rank > 3)
    return shape;
  auto *fields = reinterpret_cast<const int64_t *>(
      static_cast<void *const *>(descriptor) + 2);
  for (int64_t d = 0; d < rank; ++d) {
    shape.sizes[d] = fields[1 + d];
    shape.strides[d] = fields[1 + rank + d];
  }
  return shape;
}

char *memrefData(const void *descriptor, int64_t elementBytes) {
  auto *pointers = static_cast<char *const *>(descriptor);
  int64_t offset = *reinterpret_cast<const int64_t *>(pointers + 2);
  return pointers[1] + offset * elementBytes;
}

namespace {

const char *const kNames[] = {"A", "B", "C"};

std::string describe(int operand, const MemrefShape &s) {
  std::string sizes, strides;
  for (int64_t d = 0; d < s.rank; ++d) {
    sizes += (d ? "," : "") + std::to_string(s.sizes[d]);
    strides += (d ? "," : "") + std::to_string(s.strides[d]);
  }
  return std::string(kNames[operand]) + " [" + sizes + "] (strides [" +
         strides + "])";
}

// The column-major matrix a [rows, cols] view is stored as; `stored
// transposed` when it is the view's transpose (a row-major view).
struct Stored {
  uint64_t rows, cols;
  int64_t ld;
  bool transposed;
};

bool storeMatrix(const MemrefShape &s, int operand, Stored &out,
                 std::string &error) {
  int64_t r = s.rank - 2;
  int64_t rows = s.sizes[r], cols = s.sizes[r + 1];
  // The stride of a dimension of size 1, and every stride of an empty
  // matrix, mean nothing.
  bool empty = rows == 0 || cols == 0;
  int64_t rowStride = rows <= 1 || empty ? 1 : s.strides[r];
  int64_t colStride = cols <= 1 || empty ? 1 : s.strides[r + 1];
  if (colStride == 1) {
    int64_t ld = rows <= 1 || empty ? std::max<int64_t>(cols, 1) : rowStride;
    if (ld >= std::max<int64_t>(cols, 1)) {
      out = {uint64_t(cols), uint64_t(rows), ld, true};
      return true;
    }
  }
  if (rowStride == 1) {
    int64_t ld = cols <= 1 || empty ? std::max<int64_t>(rows, 1) : colStride;
    if (ld >= std::max<int64_t>(rows, 1)) {
      out = {uint64_t(rows), uint64_t(cols), ld, false};
      return true;
    }
  }
  error = "mpc_cuda_matmul: " + describe(operand, s) +
          " is not a matrix cuBLASLt can read: one of its two inner strides "
          "must be 1 and the other at least the size it steps over";
  return false;
}

} // namespace

GemmPlan planGemm(const MemrefShape &a, const MemrefShape &b,
                  const MemrefShape &c) {
  GemmPlan plan;
  const MemrefShape *shapes[] = {&a, &b, &c};
  for (int i = 0; i < 3; ++i) {
    if (shapes[i]->rank != 2 && shapes[i]->rank != 3) {
      plan.error = "mpc_cuda_matmul: " + std::string(kNames[i]) +
                   " has rank " + std::to_string(shapes[i]->rank) +
                   ", not 2 or 3";
      return plan;
    }
    for (int64_t d = 0; d < shapes[i]->rank; ++d)
      if (shapes[i]->sizes[d] < 0) {
        plan.error = "mpc_cuda_matmul: " + describe(i, *shapes[i]) +
                     " has a negative size";
        return plan;
      }
  }
  auto inner = [](const MemrefShape &s, int i) { return s.sizes[s.rank - 2 + i]; };
  int64_t m = inner(c, 0), n = inner(c, 1), k = inner(a, 1);
  if (inner(a, 0) != m || inner(b, 0) != k || inner(b, 1) != n) {
    plan.error = "mpc_cuda_matmul: shapes do not match: " + describe(0, a) +
                 " x " + describe(1, b) + " -> " + describe(2, c);
    return plan;
  }
  int64_t batch = c.rank == 3 ? c.sizes[0] : 1;
  for (const MemrefShape *s : {&a, &b})
    if (s->rank == 3 && s->sizes[0] != batch && s->sizes[0] != 1) {
      plan.error = "mpc_cuda_matmul: batch sizes do not match: " +
                   describe(0, a) + " x " + describe(1, b) + " -> " +
                   describe(2, c);
      return plan;
    }
  plan.batch = batch;
  Stored stored[3];
  for (int i = 0; i < 3; ++i)
    if (!storeMatrix(*shapes[i], i, stored[i], plan.error))
      return plan;
  auto batchStride = [&](const MemrefShape &s) -> int64_t {
    return s.rank == 3 && s.sizes[0] > 1 ? s.strides[0] : 0;
  };
  auto operand = [&](int i, bool transpose) {
    GemmOperand op;
    op.operand = i;
    op.rows = stored[i].rows;
    op.cols = stored[i].cols;
    op.ld = stored[i].ld;
    op.batchStride = batchStride(*shapes[i]);
    op.transpose = transpose;
    return op;
  };
  if (stored[2].transposed) {
    // C^T (N x M) = B^T A^T: a stored transpose is already what is needed.
    plan.m = uint64_t(n);
    plan.n = uint64_t(m);
    plan.swapped = true;
    plan.first = operand(1, !stored[1].transposed);
    plan.second = operand(0, !stored[0].transposed);
  } else {
    plan.m = uint64_t(m);
    plan.n = uint64_t(n);
    plan.first = operand(0, stored[0].transposed);
    plan.second = operand(1, stored[1].transposed);
  }
  plan.k = uint64_t(k);
  plan.out = operand(2, false);
  if (batch > 1 && plan.out.batchStride == 0) {
    plan.error = "mpc_cuda_matmul: " + describe(2, c) +
                 " has batch stride 0: the batches would overwrite each other";
    return plan;
  }
  return plan;
}

std::string checkBias(const GemmPlan &plan, int64_t size, int64_t stride) {
  // (A C with one column or one row counts as row-major: swapped too.)
  uint64_t n = plan.swapped ? plan.m : plan.n;
  if (size < 0 || uint64_t(size) != n)
    return "mpc_cuda_matmul: the bias has " + std::to_string(size) +
           " elements, not N = " + std::to_string(n);
  if (!plan.swapped)
    return "mpc_cuda_matmul: a bias over N needs a row-major C (N's stride "
           "1): cuBLASLt adds it along the rows of a column-major C";
  if (stride != 1 && size > 1)
    return "mpc_cuda_matmul: the bias must be contiguous (stride 1, not " + std::to_string(stride) +
           ")";
  return "";
}

} // namespace mpc::runtime::cuda
