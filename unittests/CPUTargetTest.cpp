//===- CPUTargetTest.cpp - feature names -> CPU target -> register tiles --===//
//
// No host dependency: the feature lists are written out, and resolveCPU is
// only asked about named CPUs, whose features LLVM fixes.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/CPUTarget.h"
#include "mpc/Target/CPU/TargetMachine.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {
using mpc::CPUTarget;
using mpc::RegisterTile;

TEST(CPUTargetTest, FeaturesGiveVectorWidthRegistersAndFlags) {
  CPUTarget avx2 = CPUTarget::fromFeatures({"+sse2", "+avx", "+avx2", "+fma", "+f16c", "-avx512f"});
  EXPECT_EQ(avx2.vectorBits, 256);
  EXPECT_EQ(avx2.vectorRegisters, 16);
  EXPECT_TRUE(avx2.fma && avx2.f16c && avx2.avx2);
  EXPECT_FALSE(avx2.avx512f || avx2.avx512bf16);

  CPUTarget avx512 = CPUTarget::fromFeatures(
      {"+avx", "+avx2", "+fma", "+avx512f", "+avx512bf16", "+avx512fp16", "+amx-bf16", "+avxneconvert"});
  EXPECT_EQ(avx512.vectorBits, 512);
  EXPECT_EQ(avx512.vectorRegisters, 32);
  EXPECT_TRUE(avx512.avx512bf16 && avx512.avx512fp16 && avx512.amxBf16 && avx512.avxNeConvert);

  CPUTarget sse = CPUTarget::fromFeatures({"+sse2", "+cx16"});
  EXPECT_EQ(sse.vectorBits, 128);
  EXPECT_EQ(sse.vectorRegisters, 16);
  EXPECT_FALSE(sse.fma || sse.f16c);
}

TEST(CPUTargetTest, LastMentionWinsAndOtherNamesAreIgnored) {
  CPUTarget target = CPUTarget::fromFeatures({"+avx512f", "-avx512f", "+avx", "avx2", "+", "+no-such"});
  EXPECT_FALSE(target.avx512f);
  EXPECT_FALSE(target.avx2); // no sign: not a feature entry
  EXPECT_EQ(target.vectorBits, 256);
}

TEST(CPUTargetTest, MissingFeaturesAreNamed) {
  CPUTarget v4 = CPUTarget::fromFeatures({"+avx", "+avx2", "+fma", "+f16c", "+avx512f"});
  CPUTarget v3 = CPUTarget::fromFeatures({"+avx", "+avx2", "+fma", "+f16c"});
  EXPECT_EQ(v4.missingOn(v3), std::vector<std::string>{"avx512f"});
  EXPECT_TRUE(v3.missingOn(v4).empty());
  EXPECT_EQ(v4.summary(), "512-bit vectors x 32 registers, avx avx2 fma f16c avx512f");
  EXPECT_EQ(CPUTarget::fromFeatures({"+sse2"}).summary(), "128-bit vectors x 16 registers");
}

void expectTile(const RegisterTile &tile, int64_t rows, int64_t columns, int64_t block) {
  EXPECT_EQ(tile.rows, rows);
  EXPECT_EQ(tile.columns, columns);
  EXPECT_EQ(tile.reduction, 8);
  EXPECT_EQ(tile.block, block);
}

TEST(CPUTargetTest, RegisterTilesFitTheRegisters) {
  // AVX-512: today's 8 x 32 (16 of 32 zmm accumulators), 256-step blocks.
  expectTile(mpc::registerTileFor(512, 32), 8, 32, 256);
  // AVX2: 6 x 16 = 12 ymm accumulators + 2 column vectors + 1 broadcast.
  expectTile(mpc::registerTileFor(256, 16), 6, 16, 512);
  expectTile(mpc::registerTileFor(128, 16), 6, 8, 1024);
  for (auto [bits, registers] : {std::pair<int64_t, int64_t>{512, 32}, {256, 16}, {128, 16}}) {
    RegisterTile tile = mpc::registerTileFor(bits, registers);
    int64_t vectorsPerRow = tile.columns / (bits / 32);
    EXPECT_LE(tile.rows * vectorsPerRow + vectorsPerRow + 1, registers) << bits;
    // The column operand's cache block stays at 32 KiB of f32.
    EXPECT_EQ(tile.block * tile.columns * 4, 32 * 1024) << bits;
  }
}

TEST(CPUTargetTest, NamedCPUsResolveToTheirLevel) {
  llvm::Expected<mpc::ResolvedCPU> v3 = mpc::resolveCPU("x86-64-v3");
  ASSERT_TRUE(static_cast<bool>(v3)) << llvm::toString(v3.takeError());
  EXPECT_EQ(v3->cpu, "x86-64-v3");
  EXPECT_TRUE(v3->features.empty());
  EXPECT_EQ(v3->target.vectorBits, 256);
  EXPECT_TRUE(v3->target.fma && v3->target.f16c && !v3->target.avx512f);

  llvm::Expected<mpc::ResolvedCPU> v4 = mpc::resolveCPU("x86-64-v4");
  ASSERT_TRUE(static_cast<bool>(v4)) << llvm::toString(v4.takeError());
  EXPECT_EQ(v4->target.vectorBits, 512);
  EXPECT_EQ(v4->target.vectorRegisters, 32);
  EXPECT_FALSE(v4->target.avx512bf16);

  llvm::Expected<mpc::ResolvedCPU> generic = mpc::resolveCPU("generic");
  ASSERT_TRUE(static_cast<bool>(generic)) << llvm::toString(generic.takeError());
  EXPECT_EQ(generic->target.vectorBits, 128);
  EXPECT_FALSE(generic->target.f16c);

  llvm::Expected<mpc::ResolvedCPU> zen4 = mpc::resolveCPU("znver4");
  ASSERT_TRUE(static_cast<bool>(zen4)) << llvm::toString(zen4.takeError());
  EXPECT_TRUE(zen4->target.avx512bf16 && zen4->target.avx512f);
}

TEST(CPUTargetTest, UnknownCPUIsAnErrorNamingTheOption) {
  llvm::Expected<mpc::ResolvedCPU> bad = mpc::resolveCPU("pentium9");
  ASSERT_FALSE(static_cast<bool>(bad));
  std::string message = llvm::toString(bad.takeError());
  EXPECT_NE(message.find("--mcpu: 'pentium9' is not a CPU LLVM knows"), std::string::npos) << message;
}
// --native-dot-products applies where the CPU has avx512bf16, is dropped
// (with a warning on stderr) where it has not, and is never turned on
// unasked.
TEST(CPUTargetTest, NativeDotProductsNeedAvx512Bf16) {
  llvm::Expected<mpc::ResolvedCPU> zen4 = mpc::resolveCPU("znver4");
  llvm::Expected<mpc::ResolvedCPU> v4 = mpc::resolveCPU("x86-64-v4");
  ASSERT_TRUE(static_cast<bool>(zen4)) << llvm::toString(zen4.takeError());
  ASSERT_TRUE(static_cast<bool>(v4)) << llvm::toString(v4.takeError());
  EXPECT_TRUE(mpc::useNativeBf16Dot(*zen4, true, "test"));
  EXPECT_FALSE(mpc::useNativeBf16Dot(*zen4, false, "test"));
  testing::internal::CaptureStderr();
  EXPECT_FALSE(mpc::useNativeBf16Dot(*v4, true, "test"));
  std::string warning = testing::internal::GetCapturedStderr();
  EXPECT_NE(warning.find("test: warning: --native-dot-products: CPU 'x86-64-v4' has no avx512bf16"),
            std::string::npos)
      << warning;
  testing::internal::CaptureStderr();
  EXPECT_FALSE(mpc::useNativeBf16Dot(*v4, false, "test"));
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}
} // namespace
