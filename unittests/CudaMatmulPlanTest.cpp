//===- CudaMatmulPlanTest.cpp - mpc_cuda_matmul's layout mapping ----------===//

#include "mpc/Runtime/CUDA/MatmulPlan.h"

#include <gtest/gtest.h>

using namespace mpc::runtime::cuda;

namespace {

MemrefShape rowMajor(std::initializer_list<int64_t> sizes) {
  MemrefShape s;
  s.rank = int64_t(sizes.size());
  int64_t i = 0;
  for (int64_t size : sizes)
    s.sizes[i++] = size;
  int64_t stride = 1;
  for (int64_t d = s.rank - 1; d >= 0; --d) {
    s.strides[d] = stride;
    stride *= s.sizes[d];
  }
  return s;
}

// The view of a row-major [.., C, R] buffer as [.., R, C].
MemrefShape transposedView(std::initializer_list<int64_t> storedSizes) {
  MemrefShape s = rowMajor(storedSizes);
  std::swap(s.sizes[s.rank - 1], s.sizes[s.rank - 2]);
  std::swap(s.strides[s.rank - 1], s.strides[s.rank - 2]);
  return s;
}

TEST(CudaMatmulPlan, RowMajorSwapsOperands) {
  // C[4,5] = A[4,3] x B[3,5], all row-major: C^T = B^T A^T, no transposes.
  GemmPlan p = planGemm(rowMajor({4, 3}), rowMajor({3, 5}), rowMajor({4, 5}));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.m, 5u);
  EXPECT_EQ(p.n, 4u);
  EXPECT_EQ(p.k, 3u);
  EXPECT_EQ(p.first.operand, 1);
  EXPECT_FALSE(p.first.transpose);
  EXPECT_EQ(p.first.rows, 5u);
  EXPECT_EQ(p.first.cols, 3u);
  EXPECT_EQ(p.first.ld, 5);
  EXPECT_EQ(p.second.operand, 0);
  EXPECT_FALSE(p.second.transpose);
  EXPECT_EQ(p.second.rows, 3u);
  EXPECT_EQ(p.second.cols, 4u);
  EXPECT_EQ(p.second.ld, 3);
  EXPECT_EQ(p.out.rows, 5u);
  EXPECT_EQ(p.out.cols, 4u);
  EXPECT_EQ(p.out.ld, 5);
  EXPECT_EQ(p.batch, 1);
}

TEST(CudaMatmulPlan, TransposedWeightsAreTheTNForm) {
  // B is a transposed view of a row-major [N,K] weight (a Linear layer):
  // cuBLASLt sees op(first) = T, op(second) = N (what fp8 requires).
  GemmPlan p =
      planGemm(rowMajor({8, 16}), transposedView({32, 16}), rowMajor({8, 32}));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.first.operand, 1);
  EXPECT_TRUE(p.first.transpose);
  EXPECT_EQ(p.first.rows, 16u); // stored K x N, ld K
  EXPECT_EQ(p.first.cols, 32u);
  EXPECT_EQ(p.first.ld, 16);
  EXPECT_FALSE(p.second.transpose);
}

TEST(CudaMatmulPlan, TransposedAAndColumnMajorC) {
  // A is a transposed view; C is column-major (its M stride is 1).
  MemrefShape c = transposedView({6, 4}); // C [4,6] strides [1,4]
  GemmPlan p = planGemm(transposedView({3, 4}), rowMajor({3, 6}), c);
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.m, 4u);
  EXPECT_EQ(p.n, 6u);
  EXPECT_EQ(p.first.operand, 0);
  EXPECT_FALSE(p.first.transpose); // A [4,3] strides [1,4]: column-major
  EXPECT_EQ(p.first.ld, 4);
  EXPECT_EQ(p.second.operand, 1);
  EXPECT_TRUE(p.second.transpose); // B row-major
  EXPECT_EQ(p.out.ld, 4);
}

TEST(CudaMatmulPlan, BatchedWithBroadcastWeights) {
  GemmPlan p =
      planGemm(rowMajor({7, 4, 3}), rowMajor({3, 5}), rowMajor({7, 4, 5}));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.batch, 7);
  EXPECT_EQ(p.first.operand, 1);
  EXPECT_EQ(p.first.batchStride, 0);
  EXPECT_EQ(p.second.batchStride, 12);
  EXPECT_EQ(p.out.batchStride, 20);
  // A batch of one in a rank-3 operand is broadcast too.
  p = planGemm(rowMajor({7, 4, 3}), rowMajor({1, 3, 5}), rowMajor({7, 4, 5}));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.first.batchStride, 0);
}

TEST(CudaMatmulPlan, PaddedRowsKeepTheirStride) {
  MemrefShape a = rowMajor({4, 3});
  a.strides[0] = 8; // a [4,3] window of a [4,8] buffer
  GemmPlan p = planGemm(a, rowMajor({3, 5}), rowMajor({4, 5}));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.second.ld, 8);
}

TEST(CudaMatmulPlan, SizeOneDimensionsIgnoreTheirStrides) {
  // M = 1 (a vector-matrix product) with an arbitrary stride on M.
  MemrefShape a = rowMajor({1, 3});
  a.strides[0] = 1;
  MemrefShape c = rowMajor({1, 5});
  c.strides[0] = 77;
  GemmPlan p = planGemm(a, rowMajor({3, 5}), c);
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.out.ld, 5);
  EXPECT_EQ(p.second.ld, 3);
  // N = 1 with a column-major A.
  p = planGemm(transposedView({3, 4}), rowMajor({3, 1}), rowMajor({4, 1}));
  ASSERT_EQ(p.error, "");
  EXPECT_GE(p.out.ld, int64_t(p.out.rows));
}

TEST(CudaMatmulPlan, EmptyAndZeroK) {
  EXPECT_TRUE(planGemm(rowMajor({0, 3}), rowMajor({3, 5}), rowMajor({0, 5}))
                  .empty());
  GemmPlan p = planGemm(rowMajor({4, 0}), rowMajor({0, 5}), rowMajor({4, 5}));
  ASSERT_EQ(p.error, "");
  EXPECT_FALSE(p.empty());
  EXPECT_EQ(p.k, 0u);
}

TEST(CudaMatmulPlan, Errors) {
  MemrefShape strided = rowMajor({4, 3});
  strided.strides[1] = 2;
  strided.strides[0] = 6;
  GemmPlan p = planGemm(strided, rowMajor({3, 5}), rowMajor({4, 5}));
  EXPECT_NE(p.error.find("A [4,3] (strides [6,2]) is not a matrix cuBLASLt "
                         "can read"),
            std::string::npos)
      << p.error;
  MemrefShape overlapping = rowMajor({3, 5});
  overlapping.strides[0] = 2; // rows overlap, and the column stride is not 1
  p = planGemm(rowMajor({4, 3}), overlapping, rowMajor({4, 5}));
  EXPECT_NE(p.error.find("B [3,5]"), std::string::npos) << p.error;
  p = planGemm(rowMajor({4, 3}), rowMajor({2, 5}), rowMajor({4, 5}));
  EXPECT_NE(p.error.find("shapes do not match"), std::string::npos) << p.error;
  p = planGemm(rowMajor({2, 4, 3}), rowMajor({3, 3, 5}), rowMajor({2, 4, 5}));
  EXPECT_NE(p.error.find("batch sizes do not match"), std::string::npos);
  MemrefShape sharedC = rowMajor({2, 4, 5});
  sharedC.strides[0] = 0;
  p = planGemm(rowMajor({2, 4, 3}), rowMajor({3, 5}), sharedC);
  EXPECT_NE(p.error.find("batch stride 0"), std::string::npos) << p.error;
  MemrefShape rank4;
  rank4.rank = 4;
  p = planGemm(rank4, rowMajor({3, 5}), rowMajor({4, 5}));
  EXPECT_NE(p.error.find("A has rank 4"), std::string::npos) << p.error;
}

TEST(CudaMatmulPlan, BiasRunsAlongTheSwappedRows) {
  // Row-major C [4,5]: cuBLASLt computes C^T (5 x 4), whose rows are the
  // caller's N: a bias[5] over N is cuBLASLt's bias over its m rows.
  GemmPlan p = planGemm(rowMajor({4, 3}), rowMajor({3, 5}), rowMajor({4, 5}));
  ASSERT_EQ(p.error, "");
  EXPECT_TRUE(p.swapped);
  EXPECT_EQ(p.m, 5u);
  EXPECT_EQ(checkBias(p, 5, 1), "");
  EXPECT_NE(checkBias(p, 4, 1).find("4 elements, not N = 5"), std::string::npos);
  EXPECT_NE(checkBias(p, 5, 2).find("contiguous"), std::string::npos);
  // Batched, weights shared: the bias is shared by every batch too.
  p = planGemm(rowMajor({2, 4, 3}), transposedView({5, 3}), rowMajor({2, 4, 5}));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(checkBias(p, 5, 1), "");
  // N = 1: C [4,1] counts as row-major (one element, any stride).
  p = planGemm(rowMajor({4, 3}), rowMajor({3, 1}), rowMajor({4, 1}));
  ASSERT_EQ(p.error, "");
  EXPECT_TRUE(p.swapped);
  EXPECT_EQ(checkBias(p, 1, 7), "");
}

TEST(CudaMatmulPlan, BiasOverAColumnMajorCIsRefused) {
  // C [4,6] column-major: cuBLASLt's rows are the caller's M, so its bias
  // would run over M; a bias over N cannot be expressed.
  GemmPlan p = planGemm(transposedView({3, 4}), rowMajor({3, 6}), transposedView({6, 4}));
  ASSERT_EQ(p.error, "");
  EXPECT_FALSE(p.swapped);
  EXPECT_EQ(p.m, 4u);
  EXPECT_NE(checkBias(p, 6, 1).find("needs a row-major C"), std::string::npos)
      << checkBias(p, 6, 1);
  EXPECT_NE(checkBias(p, 4, 1).find("not N = 6"), std::string::npos);
}

TEST(CudaMatmulPlan, ReadsMemrefDescriptors) {
  struct {
    float *allocated, *aligned;
    int64_t offset, sizes[3], strides[3];
  } desc;
  float buffer[64];
  desc = {buffer, buffer + 4, 2, {2, 3, 4}, {12, 4, 1}};
  MemrefShape s = readMemrefShape(3, &desc);
  EXPECT_EQ(s.rank, 3);
  EXPECT_EQ(s.sizes[2], 4);
  EXPECT_EQ(s.strides[0], 12);
  EXPECT_EQ(memrefData(&desc, 4), reinterpret_cast<char *>(buffer + 6));
  struct {
    float *allocated, *aligned;
    int64_t offset, sizes[2], strides[2];
  } desc2 = {buffer, buffer, 1, {3, 5}, {1, 3}};
  s = readMemrefShape(2, &desc2);
  EXPECT_EQ(s.sizes[1], 5);
  EXPECT_EQ(s.strides[1], 3);
}

} // namespace
