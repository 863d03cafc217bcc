//===- CudaConvPlanTest.cpp - mpc_cuda_conv's problem checks and layout ---===//

#include "mpc/Runtime/CUDA/Abi.h"
#include "mpc/Runtime/CUDA/ConvPlan.h"

#include <gtest/gtest.h>

using namespace mpc::runtime::cuda;

namespace {

ConvOperand packed(std::initializer_list<int64_t> sizes) {
  ConvOperand o;
  o.rank = int64_t(sizes.size());
  int64_t i = 0;
  for (int64_t size : sizes)
    o.sizes[i++] = size;
  int64_t stride = 1;
  for (int64_t d = o.rank - 1; d >= 0; --d) {
    o.strides[d] = stride;
    stride *= o.sizes[d];
  }
  return o;
}

// X [2,8,16,16], W [16,4,3,3] in 2 groups, pads 2, strides 2, dilations 2:
// Y [2,16,8,8].
ConvProblem grouped2d(int32_t dtype = MPC_DT_F32) {
  ConvProblem p;
  p.dtypes[0] = p.dtypes[1] = p.dtypes[2] = dtype;
  p.flags = MPC_MM_BETA0;
  p.groups = 2;
  p.spatial = 2;
  for (int i = 0; i < 2; ++i)
    p.pads[i] = p.strides[i] = p.dilations[i] = 2;
  p.x = packed({2, 8, 16, 16});
  p.w = packed({16, 4, 3, 3});
  p.y = packed({2, 16, 8, 8});
  return p;
}

TEST(CudaConvPlan, Grouped2dConvolution) {
  ConvPlan plan = planConv(grouped2d());
  ASSERT_EQ(plan.error, "");
  EXPECT_EQ(plan.dims, 4);
  EXPECT_EQ(plan.groups, 2);
  EXPECT_FALSE(plan.empty);
  for (int d = 0; d < 4; ++d) {
    EXPECT_EQ(plan.x[d], int((int64_t[]){2, 8, 16, 16}[d]));
    EXPECT_EQ(plan.w[d], int((int64_t[]){16, 4, 3, 3}[d]));
    EXPECT_EQ(plan.y[d], int((int64_t[]){2, 16, 8, 8}[d]));
  }
  EXPECT_EQ(plan.xStrides[0], 8 * 16 * 16);
  EXPECT_EQ(plan.yStrides[1], 64);
  EXPECT_EQ(plan.pads[1], 2);
  EXPECT_EQ(plan.strides[0], 2);
  EXPECT_EQ(plan.dilations[1], 2);
  // 2 x N x K x positions x C/groups x taps
  EXPECT_DOUBLE_EQ(plan.flops, 2.0 * 2 * 16 * 64 * 4 * 9);
  EXPECT_EQ(describeConv(grouped2d()),
            "conv2d f32 X[2,8,16,16] W[16,4,3,3] -> Y[2,16,8,8] pads [2,2] strides [2,2] "
            "dilations [2,2] groups 2");
}

TEST(CudaConvPlan, OneDimensionalBecomesHeightOne) {
  ConvProblem p;
  p.dtypes[0] = p.dtypes[1] = p.dtypes[2] = MPC_DT_BF16;
  p.spatial = 1;
  p.pads[0] = 1, p.strides[0] = 2, p.dilations[0] = 3;
  p.x = packed({1, 4, 9});
  p.w = packed({6, 4, 3});
  p.y = packed({1, 6, 3}); // (9 + 2 - 7) / 2 + 1
  ConvPlan plan = planConv(p);
  ASSERT_EQ(plan.error, "");
  EXPECT_EQ(plan.dims, 4);
  EXPECT_EQ(plan.x[2], 1);
  EXPECT_EQ(plan.x[3], 9);
  EXPECT_EQ(plan.xStrides[2], 9);
  EXPECT_EQ(plan.w[2], 1);
  EXPECT_EQ(plan.w[3], 3);
  EXPECT_EQ(plan.pads[0], 0);
  EXPECT_EQ(plan.pads[1], 1);
  EXPECT_EQ(plan.strides[0], 1);
  EXPECT_EQ(plan.strides[1], 2);
  EXPECT_EQ(plan.dilations[1], 3);
  EXPECT_EQ(describeConv(p), "conv1d bf16 X[1,4,9] W[6,4,3] -> Y[1,6,3] pads [1] strides [2] "
                             "dilations [3] groups 1 +acc");
}

TEST(CudaConvPlan, StridedOperandsKeepTheirStrides) {
  ConvProblem p = grouped2d();
  // X a channel slice of [2,16,16,16]; its size-1 batch stride is normalized.
  p.x.strides[0] = 16 * 256;
  p.y = packed({2, 16, 8, 8});
  p.y.sizes[0] = p.x.sizes[0] = 1;
  p.y.strides[0] = 0;
  ConvPlan plan = planConv(p);
  ASSERT_EQ(plan.error, "");
  EXPECT_EQ(plan.xStrides[1], 256);
  EXPECT_EQ(plan.yStrides[0], 16 * 64);
}

TEST(CudaConvPlan, ThreeDimensional) {
  ConvProblem p;
  p.dtypes[0] = p.dtypes[1] = p.dtypes[2] = MPC_DT_F16;
  p.flags = MPC_MM_BETA0;
  p.spatial = 3;
  for (int i = 0; i < 3; ++i)
    p.pads[i] = 1, p.strides[i] = 1, p.dilations[i] = 1;
  p.x = packed({1, 2, 4, 5, 6});
  p.w = packed({3, 2, 3, 3, 3});
  p.y = packed({1, 3, 4, 5, 6});
  ConvPlan plan = planConv(p);
  ASSERT_EQ(plan.error, "");
  EXPECT_EQ(plan.dims, 5);
  EXPECT_EQ(plan.y[4], 6);
  EXPECT_EQ(plan.pads[2], 1);
}

TEST(CudaConvPlan, EmptyOutputDoesNothing) {
  ConvProblem p = grouped2d();
  p.x.sizes[0] = p.y.sizes[0] = 0;
  ConvPlan plan = planConv(p);
  ASSERT_EQ(plan.error, "");
  EXPECT_TRUE(plan.empty);
}

void expectError(const ConvProblem &p, const std::string &part) {
  ConvPlan plan = planConv(p);
  EXPECT_NE(plan.error.find(part), std::string::npos) << plan.error;
  EXPECT_EQ(plan.error.rfind("mpc_cuda_conv: ", 0), 0u) << plan.error;
}

TEST(CudaConvPlan, ErrorsNameTheProblem) {
  ConvProblem p = grouped2d();
  p.y.sizes[3] = 9;
  expectError(p, "Y's spatial dim 1 must be 8 for this input, kernel, padding, stride and "
                 "dilation (conv2d f32 X[2,8,16,16] W[16,4,3,3] -> Y[2,16,8,9]");
  p = grouped2d();
  p.groups = 3;
  expectError(p, "groups must divide X's and W's channels");
  p = grouped2d();
  p.w = packed({16, 8, 3, 3});
  expectError(p, "W has 8 input channels per group; X has 8 channels in 2 groups");
  p = grouped2d();
  p.y = packed({2, 12, 8, 8});
  expectError(p, "Y must be [N, output channels, ...] = [2, 16, ...]");
  p = grouped2d();
  p.dtypes[2] = MPC_DT_F32;
  p.dtypes[0] = p.dtypes[1] = MPC_DT_BF16;
  expectError(p, "X, W and Y must have one element type for cuDNN (conv2d bf16*bf16->f32");
  p = grouped2d(MPC_DT_F8E4M3);
  expectError(p, "cuDNN convolutions take f32, f16 or bf16, not f8E4M3FN");
  p = grouped2d();
  std::swap(p.w.strides[2], p.w.strides[3]);
  expectError(p, "W must be a packed [K, C/groups, kernel...] buffer, its strides are "
                 "[36,9,1,3]");
  p = grouped2d();
  p.spatial = 4;
  expectError(p, "1, 2 or 3 spatial dims expected, not 4");
  p = grouped2d();
  p.x.rank = 3;
  expectError(p, "every operand must have rank 4");
  p = grouped2d();
  p.strides[0] = 0;
  expectError(p, "pads must be >= 0, strides and dilations >= 1");
  p = grouped2d();
  p.x.strides[2] = 0;
  expectError(p, "cuDNN reads no broadcast (stride 0) dims");
  p = grouped2d();
  p.x.strides[0] = int64_t(1) << 40;
  expectError(p, "fit cuDNN's 32-bit dims");
  // A size-1 batch dim gets the packed stride, C*H*W: past 32 bits here
  // although every given size and stride fits.
  p = grouped2d();
  p.x = packed({1, 8, 16384, 16400});
  p.x.strides[0] = 1;
  p.y = packed({1, 16, 8192, 8200});
  p.y.strides[0] = 1;
  expectError(p, "fit cuDNN's 32-bit dims");
}

TEST(CudaConvPlan, ReadsThePackedBlock) {
  int64_t slots[MPC_CONV_PARAMS] = {};
  slots[MPC_CONV_SLOT_ABI] = MPC_CONV_ABI_VERSION;
  slots[MPC_CONV_SLOT_DTYPE_X] = slots[MPC_CONV_SLOT_DTYPE_W] = slots[MPC_CONV_SLOT_DTYPE_Y] =
      MPC_DT_F16;
  slots[MPC_CONV_SLOT_FLAGS] = MPC_MM_BETA0;
  slots[MPC_CONV_SLOT_GROUPS] = 2;
  slots[MPC_CONV_SLOT_SPATIAL] = 2;
  slots[MPC_CONV_SLOT_PADS + 1] = 5;
  slots[MPC_CONV_SLOT_STRIDES] = 3;
  slots[MPC_CONV_SLOT_DILATIONS + 1] = 4;
  int64_t *w = slots + MPC_CONV_SLOT_OPERANDS + MPC_CONV_OPERAND_SLOTS;
  w[2] = 4;
  w[3] = 16, w[8] = 36;
  w[6] = 3, w[11] = 1;
  ConvProblem p = readConvProblem(slots);
  EXPECT_EQ(p.dtypes[1], MPC_DT_F16);
  EXPECT_EQ(p.flags, MPC_MM_BETA0);
  EXPECT_EQ(p.groups, 2);
  EXPECT_EQ(p.spatial, 2);
  EXPECT_EQ(p.pads[1], 5);
  EXPECT_EQ(p.strides[0], 3);
  EXPECT_EQ(p.dilations[1], 4);
  EXPECT_EQ(p.w.rank, 4);
  EXPECT_EQ(p.w.sizes[0], 16);
  EXPECT_EQ(p.w.strides[0], 36);
  EXPECT_EQ(p.w.sizes[3], 3);
  EXPECT_EQ(p.w.strides[3], 1);
}

} // namespace
