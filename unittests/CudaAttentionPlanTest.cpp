//===- CudaAttentionPlanTest.cpp - mpc_cuda_attention's block, checked ----===//

#include "mpc/Runtime/CUDA/Abi.h"
#include "mpc/Runtime/CUDA/AttentionPlan.h"
#include "mpc/Runtime/CUDA/Runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using namespace mpc::runtime::cuda;

namespace {

uint64_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

// A packed block as compiled code fills it: row-major [B,H,S,D] operands
// at fake (aligned) addresses, no mask.
struct Block {
  std::vector<int64_t> slots = std::vector<int64_t>(MPC_ATTN_PARAMS, 0);

  Block(int64_t b, int64_t h, int64_t sq, int64_t skv, int64_t d, int64_t dv = -1,
        int32_t dtype = MPC_DT_BF16) {
    if (dv < 0)
      dv = d;
    slots[MPC_ATTN_SLOT_ABI] = MPC_ATTN_ABI_VERSION;
    slots[MPC_ATTN_SLOT_DTYPE] = dtype;
    slots[MPC_ATTN_SLOT_MASK_DTYPE] = -1;
    slots[MPC_ATTN_SLOT_SCALE] = int64_t(floatBits(0.125f));
    rowMajor(kAttnQ, {b, h, sq, d});
    rowMajor(kAttnK, {b, h, skv, d});
    rowMajor(kAttnV, {b, h, skv, dv});
    rowMajor(kAttnO, {b, h, sq, dv});
  }

  int64_t *operand(int i) { return &slots[MPC_ATTN_SLOT_OPERANDS + i * MPC_ATTN_OPERAND_SLOTS]; }

  void set(int i, std::initializer_list<int64_t> sizes, std::initializer_list<int64_t> strides) {
    int64_t *slot = operand(i);
    slot[0] = 0x10000 * (i + 1);
    int d = 0;
    for (int64_t s : sizes)
      slot[2 + d++] = s;
    d = 0;
    for (int64_t s : strides)
      slot[6 + d++] = s;
  }

  void rowMajor(int i, std::initializer_list<int64_t> sizes) {
    std::vector<int64_t> s(sizes);
    int64_t st[4];
    int64_t stride = 1;
    for (int d = 3; d >= 0; --d) {
      st[d] = s[size_t(d)] == 1 ? 0 : stride; // the ABI pads with stride 0
      stride *= s[size_t(d)];
    }
    set(i, sizes, {st[0], st[1], st[2], st[3]});
  }

  void mask(int32_t dtype, std::initializer_list<int64_t> sizes) {
    slots[MPC_ATTN_SLOT_MASK_DTYPE] = dtype;
    rowMajor(kAttnMask, sizes);
  }

  AttentionCall decode() const {
    AttentionCall call;
    EXPECT_EQ(decodeAttentionBlock(slots.data(), 0, MPC_ATTN_PARAMS, 1, call), "");
    return call;
  }
  AttentionPlan plan() const { return planAttention(decode()); }
  std::string error() const { return plan().error; }
};

void expectTensor(const AttentionTensor &t, std::vector<int64_t> dims,
                  std::vector<int64_t> strides) {
  EXPECT_EQ(std::vector<int64_t>(t.dims, t.dims + 4), dims);
  EXPECT_EQ(std::vector<int64_t>(t.strides, t.strides + 4), strides);
}

TEST(CudaAttentionPlan, RowMajorOperands) {
  Block block(2, 3, 5, 7, 64);
  AttentionCall call = block.decode();
  EXPECT_EQ(call.scale(), 0.125f);
  EXPECT_EQ(call.operands[kAttnK].pointer, 0x20000u);
  AttentionPlan p = planAttention(call);
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.batch, 2);
  EXPECT_EQ(p.heads, 3);
  EXPECT_EQ(p.seqQ, 5);
  EXPECT_EQ(p.seqKv, 7);
  EXPECT_EQ(p.headDim, 64);
  EXPECT_EQ(p.valueDim, 64);
  EXPECT_FALSE(p.hasMask);
  expectTensor(p.q, {2, 3, 5, 64}, {960, 320, 64, 1});
  // K [2,3,7,64] read as K^T [2,3,64,7]: no copy, strides swapped.
  expectTensor(p.kTransposed, {2, 3, 64, 7}, {1344, 448, 1, 64});
  expectTensor(p.v, {2, 3, 7, 64}, {1344, 448, 64, 1});
  expectTensor(p.o, {2, 3, 5, 64}, {960, 320, 64, 1});
  EXPECT_DOUBLE_EQ(p.flops(), 4.0 * 2 * 3 * 5 * 7 * 64);
  EXPECT_EQ(attentionProfileName(p, call), "attention 2x3x5x7x64 bf16");
}

TEST(CudaAttentionPlan, SizeOneAxesGetPackedStrides) {
  // The ABI pads missing axes with stride 0; cuDNN sees packed strides.
  Block block(1, 1, 16, 16, 32, 16, MPC_DT_F16);
  AttentionPlan p = block.plan();
  ASSERT_EQ(p.error, "");
  expectTensor(p.q, {1, 1, 16, 32}, {512, 512, 32, 1});
  expectTensor(p.v, {1, 1, 16, 16}, {256, 256, 16, 1});
  EXPECT_EQ(attentionProfileName(p, block.decode()), "attention 1x1x16x16x32x16 f16");
}

TEST(CudaAttentionPlan, HeadMajorViewsKeepTheirStrides) {
  // Q, K, V as torch leaves them after a transpose: [B,S,H,D] memory seen
  // as [B,H,S,D].
  Block block(2, 4, 8, 8, 16);
  for (int i : {kAttnQ, kAttnK, kAttnV, kAttnO})
    block.set(i, {2, 4, 8, 16}, {512, 16, 64, 1});
  AttentionPlan p = block.plan();
  ASSERT_EQ(p.error, "");
  expectTensor(p.q, {2, 4, 8, 16}, {512, 16, 64, 1});
  expectTensor(p.kTransposed, {2, 4, 16, 8}, {512, 16, 1, 64});
}

TEST(CudaAttentionPlan, GroupedQueryAttention) {
  Block block(1, 8, 4, 4, 8);
  block.rowMajor(kAttnK, {1, 2, 4, 8});
  block.rowMajor(kAttnV, {1, 1, 4, 8});
  EXPECT_EQ(block.error(), "");
  block.rowMajor(kAttnK, {1, 3, 4, 8});
  EXPECT_NE(block.error().find("K has 3 heads, not a divisor of Q's 8"), std::string::npos)
      << block.error();
}

TEST(CudaAttentionPlan, PaddingMaskBroadcastsOverQueries) {
  Block block(2, 12, 128, 128, 64);
  block.mask(MPC_DT_F32, {2, 1, 1, 128});
  AttentionPlan p = block.plan();
  ASSERT_EQ(p.error, "");
  EXPECT_TRUE(p.hasMask);
  // What PyTorch's expand() of a [B,1,1,Skv] mask hands cuDNN.
  expectTensor(p.mask, {2, 1, 128, 128}, {128, 128, 0, 1});
  EXPECT_EQ(attentionProfileName(p, block.decode()), "attention 2x12x128x128x64 bf16 +mask");
}

TEST(CudaAttentionPlan, SharedMaskBroadcastsOverTheBatch) {
  Block block(3, 2, 16, 24, 64);
  block.mask(MPC_DT_BF16, {1, 1, 16, 24});
  AttentionPlan p = block.plan();
  ASSERT_EQ(p.error, "");
  expectTensor(p.mask, {3, 1, 16, 24}, {0, 384, 24, 1});
  block.mask(MPC_DT_F16, {3, 2, 16, 24});
  p = block.plan();
  ASSERT_EQ(p.error, "");
  expectTensor(p.mask, {3, 2, 16, 24}, {768, 384, 24, 1});
}

TEST(CudaAttentionPlan, EmptyOutputNeedsNothing) {
  Block block(2, 3, 0, 7, 64);
  AttentionPlan p = block.plan();
  EXPECT_EQ(p.error, "");
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(Block(2, 3, 5, 0, 64).error().find("mpc_cuda_attention: the key sequence is empty"),
            0u);
}

TEST(CudaAttentionPlan, BlockFromAnotherAbiIsRefused) {
  Block block(1, 1, 8, 8, 8);
  AttentionCall call;
  std::string error = decodeAttentionBlock(block.slots.data(), 0, MPC_ATTN_PARAMS - 1, 1, call);
  EXPECT_EQ(error.find("mpc_cuda_attention: this program was compiled for another version"), 0u)
      << error;
  EXPECT_NE(decodeAttentionBlock(block.slots.data(), 0, MPC_ATTN_PARAMS, 2, call), "");
  block.slots[MPC_ATTN_SLOT_ABI] = MPC_ATTN_ABI_VERSION + 1;
  error = decodeAttentionBlock(block.slots.data(), 0, MPC_ATTN_PARAMS, 1, call);
  EXPECT_NE(error.find("argument block version 2 of 55 slots, expected 1 of 55"), std::string::npos)
      << error;
}

// Each refusal names the problem, lists the operands, and (where the
// program itself is fine) points at the kernel fallback.
struct Refusal {
  const char *problem;
  bool suggestsKernels;
};

void expectRefusal(const Block &block, Refusal want) {
  std::string error = block.error();
  EXPECT_EQ(error.rfind("mpc_cuda_attention: ", 0), 0u) << error;
  EXPECT_NE(error.find(want.problem), std::string::npos) << error;
  EXPECT_NE(error.find("[Q "), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_EQ(error.find("mpc-compile --cuda-attention=kernels") != std::string::npos,
            want.suggestsKernels)
      << error;
}

TEST(CudaAttentionPlan, TypesFlagsAndScale) {
  expectRefusal(Block(1, 1, 8, 8, 8, 8, MPC_DT_F32),
                {"takes f16 or bf16 Q, K, V and O, not f32", true});
  expectRefusal(Block(1, 1, 8, 8, 8, 8, 17), {"unknown element type code 17", false});
  Block mask(1, 1, 8, 8, 8);
  mask.mask(MPC_DT_F8E4M3, {1, 1, 8, 8});
  expectRefusal(mask, {"an additive mask must be f32, f16 or bf16, not f8E4M3FN", true});
  mask.slots[MPC_ATTN_SLOT_MASK_DTYPE] = 9;
  expectRefusal(mask, {"unknown mask element type code 9", false});
  Block flags(1, 1, 8, 8, 8);
  flags.slots[MPC_ATTN_SLOT_FLAGS] = 4;
  expectRefusal(flags, {"unknown flags 4", false});
  Block scale(1, 1, 8, 8, 8);
  scale.slots[MPC_ATTN_SLOT_SCALE] = int64_t(floatBits(std::numeric_limits<float>::infinity()));
  expectRefusal(scale, {"the scale is not finite", true});
  scale.slots[MPC_ATTN_SLOT_SCALE] = int64_t(1) << 40;
  expectRefusal(scale, {"is not a zero-extended f32", false});
}

TEST(CudaAttentionPlan, PointersAndShapes) {
  Block null(1, 1, 8, 8, 8);
  null.operand(kAttnV)[0] = 0;
  expectRefusal(null, {"V has a null device pointer", false});
  Block strayMask(1, 1, 8, 8, 8);
  strayMask.operand(kAttnMask)[0] = 0x1000;
  expectRefusal(strayMask, {"a mask pointer without a mask element type", false});
  Block mismatch(1, 2, 8, 8, 16);
  mismatch.rowMajor(kAttnO, {1, 2, 9, 16});
  expectRefusal(mismatch, {"shapes do not match", false});
  Block batch(2, 2, 8, 8, 16);
  batch.rowMajor(kAttnK, {1, 2, 8, 16});
  expectRefusal(batch, {"does not broadcast K or V over the batch", true});
  Block negative(1, 1, 8, 8, 8);
  negative.operand(kAttnQ)[6] = -1;
  expectRefusal(negative, {"Q has a negative size or stride", false});
}

TEST(CudaAttentionPlan, HeadSizesAndLayouts) {
  expectRefusal(Block(1, 1, 8, 8, 60), {"head size 60 is not what", true});
  expectRefusal(Block(1, 1, 8, 8, 64, 264), {"head size 264", true});
  EXPECT_EQ(Block(1, 1, 8, 8, 256).error(), "");
  Block strided(1, 1, 8, 8, 16);
  strided.set(kAttnK, {1, 1, 8, 16}, {256, 256, 32, 2});
  expectRefusal(strided, {"K's head axis (the last) has stride 2", true});
  Block overlap(1, 2, 8, 8, 16);
  overlap.set(kAttnO, {1, 2, 8, 16}, {256, 0, 16, 1});
  expectRefusal(overlap, {"O has stride 0 on an axis of size 2", false});
}

TEST(CudaAttentionPlan, MaskShapes) {
  Block heads(2, 4, 8, 16, 16);
  heads.mask(MPC_DT_F32, {2, 3, 8, 16});
  expectRefusal(heads, {"the mask's head axis has size 3, neither 1 nor 4", false});
  Block keys(2, 4, 8, 16, 16);
  keys.mask(MPC_DT_F32, {2, 1, 8, 1});
  expectRefusal(keys, {"the mask must cover the key axis contiguously", true});
}

TEST(CudaAttentionPlan, DescribesTheCall) {
  Block block(1, 2, 4, 8, 16);
  block.mask(MPC_DT_F32, {1, 1, 1, 8});
  EXPECT_EQ(describeAttention(block.decode()),
            "Q bf16[1,2,4,16] strides [0,64,16,1], K bf16[1,2,8,16] strides [0,128,16,1], "
            "V bf16[1,2,8,16] strides [0,128,16,1], O bf16[1,2,4,16] strides [0,64,16,1], "
            "mask f32[1,1,1,8] strides [0,0,0,1], scale 0.125");
}

// The entry point checks the block before it needs cuDNN or the device.
TEST(CudaAttentionAbi, BadBlockIsReportedBeforeTheDevice) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Block block(1, 1, 8, 8, 60);
  EXPECT_EXIT(mpc_cuda_attention(block.slots.data(), block.slots.data(), 0, MPC_ATTN_PARAMS, 1),
              ::testing::ExitedWithCode(1),
              "^mpc: error: mpc_cuda_attention: head size 60 is not what cuDNN's flash "
              "attention takes[^\n]*--cuda-attention=kernels[^\n]*\n$");
  block.slots[MPC_ATTN_SLOT_ABI] = 7;
  EXPECT_EXIT(mpc_cuda_attention(block.slots.data(), block.slots.data(), 0, MPC_ATTN_PARAMS, 1),
              ::testing::ExitedWithCode(1),
              "compiled for another version of the CUDA runtime \\(argument block version 7");
}

TEST(CudaAttentionAbi, EmptyOutputTouchesNothing) {
  Block block(2, 3, 0, 7, 64);
  mpc_cuda_attention(block.slots.data(), block.slots.data(), 0, MPC_ATTN_PARAMS, 1);
}

TEST(CudaAttentionAbi, WithoutADriverSaysSoInOneLine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  if (mpcCudaAvailable())
    GTEST_SKIP() << "a CUDA device is present";
  Block block(1, 2, 8, 8, 64);
  EXPECT_EXIT(mpc_cuda_attention(block.slots.data(), block.slots.data(), 0, MPC_ATTN_PARAMS, 1),
              ::testing::ExitedWithCode(1),
              "^mpc: error: (no CUDA (driver|device)|cuDNN not found)[^\n]*\n$");
}

} // namespace
