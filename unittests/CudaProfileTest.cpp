//===- CudaProfileTest.cpp - MPC_CUDA_PROFILE's table and JSON ------------===//
//
// The aggregation and the writer, without a GPU; and that a process with
// MPC_CUDA_PROFILE set but no driver still fails with the one-line message.
//
//===----------------------------------------------------------------------===//

#include "mpc/Runtime/CUDA/Mgpu.h"
#include "mpc/Runtime/CUDA/Profile.h"
#include "mpc/Runtime/CUDA/Runtime.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace mpc::runtime::cuda;

namespace {

TEST(CudaProfile, AggregatesPerName) {
  ProfileTable table;
  table.add("k0", "kernel", 10);
  table.add("k1", "kernel", 1);
  table.add("k0", "kernel", 30);
  table.add("gemm 4x8x16 bf16*bf16->f32", "gemm", 2, 2.0 * 4 * 8 * 16);
  std::vector<ProfileEntry> entries = table.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "k0"); // largest total first
  EXPECT_EQ(entries[0].calls, 2u);
  EXPECT_DOUBLE_EQ(entries[0].totalUs, 40);
  EXPECT_DOUBLE_EQ(entries[0].meanUs(), 20);
  EXPECT_DOUBLE_EQ(entries[0].minUs, 10);
  EXPECT_DOUBLE_EQ(entries[0].maxUs, 30);
  EXPECT_EQ(entries[1].kind, "gemm");
  EXPECT_DOUBLE_EQ(entries[1].flopsPerCall, 1024);
  EXPECT_EQ(entries[2].name, "k1");
  EXPECT_DOUBLE_EQ(table.totalUs(), 43);
}

TEST(CudaProfile, WritesJson) {
  ProfileTable table;
  table.add("k\"0", "kernel", 1.5);
  table.add("gemm 2x2x2 f32*f32->f32", "gemm", 1, 16e6);
  table.add("gemm 2x2x2 f32*f32->f32", "gemm", 3, 16e6);
  std::string json = table.toJson("Test GPU\n");
  EXPECT_NE(json.find("\"format\": \"mpc-cuda-profile-1\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"device\": \"Test GPU\\n\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"total_us\": 5.5"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"name\": \"gemm 2x2x2 f32*f32->f32\", \"kind\": \"gemm\", "
                      "\"calls\": 2, \"total_us\": 4, \"mean_us\": 2, \"min_us\": 1, "
                      "\"max_us\": 3, \"flops_per_call\": 1.6e+07, \"tflops\": 8}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("{\"name\": \"k\\\"0\", \"kind\": \"kernel\", \"calls\": 1"),
            std::string::npos)
      << json;
  EXPECT_EQ(json.find("flops_per_call", json.find("k\\\"0")), std::string::npos) << json;
}

TEST(CudaProfile, EmptyTable) {
  EXPECT_EQ(ProfileTable().toJson("d"),
            "{\n  \"format\": \"mpc-cuda-profile-1\",\n  \"device\": \"d\",\n"
            "  \"total_us\": 0,\n  \"entries\": []\n}\n");
}

TEST(CudaProfile, QuotesControlCharacters) {
  EXPECT_EQ(jsonQuote(std::string("a\\b\t\x01", 5)), "\"a\\\\b\\t\\u0001\"");
}

TEST(CudaProfile, PathFromEnv) {
  EXPECT_EQ(profilePathFromEnv(nullptr, 7), "");
  EXPECT_EQ(profilePathFromEnv("", 7), "");
  EXPECT_EQ(profilePathFromEnv("/tmp/p.json", 7), "/tmp/p.json");
  EXPECT_EQ(profilePathFromEnv("/tmp/p-%p-%p.json", 42), "/tmp/p-42-42.json");
}

TEST(CudaProfile, GemmNames) {
  EXPECT_EQ(gemmProfileName(1, 8192, 768, 3072, "bf16", "bf16", "bf16", false, false),
            "gemm 8192x768x3072 bf16*bf16->bf16");
  EXPECT_EQ(gemmProfileName(12, 128, 128, 64, "f32", "f32", "f32", true, true),
            "gemm 12x128x128x64 f32*f32->f32 +tf32 +acc");
}

TEST(CudaProfile, WithoutDriverStillOneLine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::string why;
  if (mpcCudaAvailable(&why))
    GTEST_SKIP() << "a CUDA device is present";
  EXPECT_EXIT(
      {
        setenv("MPC_CUDA_PROFILE", "/dev/null", 1);
        mgpuStreamCreate();
      },
      ::testing::ExitedWithCode(1), "^mpc: error: no CUDA (driver|device): [^\n]*\n$");
}

} // namespace
