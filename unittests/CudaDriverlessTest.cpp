//===- CudaDriverlessTest.cpp - The CUDA runtime without a driver ---------===//
//
// On a machine without libcuda.so.1 (the build machines) every entry point
// that needs the device prints one line and exits 1. Where a driver and a
// device exist, these tests are skipped.
//
//===----------------------------------------------------------------------===//

#include "mpc/Runtime/CUDA/Abi.h"
#include "mpc/Runtime/CUDA/Mgpu.h"
#include "mpc/Runtime/CUDA/Runtime.h"

#include <gtest/gtest.h>

namespace {

class CudaDriverless : public ::testing::Test {
protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    if (mpcCudaAvailable(&why))
      GTEST_SKIP() << "a CUDA device is present";
  }
  std::string why;
};

const char *const kNoDriver =
    "^mpc: error: no CUDA (driver|device): [^\n]*\n$";

TEST_F(CudaDriverless, AvailableSaysWhy) {
  EXPECT_TRUE(why.rfind("no CUDA driver: libcuda.so.1 not found", 0) == 0 ||
              why.rfind("no CUDA device", 0) == 0)
      << why;
  std::string again;
  EXPECT_FALSE(mpcCudaAvailable(&again));
  EXPECT_EQ(again, why);
}

TEST_F(CudaDriverless, EntryPointsExitWithOneLine) {
  EXPECT_EXIT(mgpuStreamCreate(), ::testing::ExitedWithCode(1), kNoDriver);
  EXPECT_EXIT(mgpuMemAlloc(1024, nullptr, false), ::testing::ExitedWithCode(1),
              kNoDriver);
  EXPECT_EXIT(mpcCudaAlloc(16), ::testing::ExitedWithCode(1), kNoDriver);
  EXPECT_EXIT(mpcCudaSynchronize(), ::testing::ExitedWithCode(1), kNoDriver);
  char host[16] = {};
  EXPECT_EXIT(mpcCudaUpload(host, host, sizeof(host)),
              ::testing::ExitedWithCode(1), kNoDriver);
}

TEST_F(CudaDriverless, ModulesLoadOnFirstLaunch) {
  // What a global constructor does: no driver needed.
  static const char image[] = "not a real cubin";
  void *module = mgpuModuleLoad(const_cast<char *>(image), sizeof(image));
  ASSERT_NE(module, nullptr);
  void *function = mgpuModuleGetFunction(module, "main_kernel");
  EXPECT_EQ(mgpuModuleGetFunction(module, "main_kernel"), function);
  EXPECT_NE(mgpuModuleGetFunction(module, "other_kernel"), function);
  EXPECT_EXIT(mgpuLaunchKernel(function, 1, 1, 1, 32, 1, 1, 0, nullptr,
                               nullptr, nullptr, 0),
              ::testing::ExitedWithCode(1), kNoDriver);
  mgpuModuleUnload(module);
}

TEST(CudaMatmulAbi, BadLayoutIsReportedBeforeTheDevice) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  struct Desc {
    float *allocated, *aligned;
    int64_t offset, sizes[2], strides[2];
  };
  float buffer[64];
  Desc a = {buffer, buffer, 0, {4, 3}, {6, 2}}; // neither inner stride is 1
  Desc b = {buffer, buffer, 0, {3, 5}, {5, 1}};
  Desc c = {buffer, buffer, 0, {4, 5}, {5, 1}};
  EXPECT_EXIT(mpc_cuda_matmul_descriptors(2, &a, 2, &b, 2, &c, MPC_DT_F32, MPC_DT_F32,
                              MPC_DT_F32, MPC_MM_BETA0),
              ::testing::ExitedWithCode(1),
              "^mpc: error: mpc_cuda_matmul: A \\[4,3\\] \\(strides \\[6,2\\]\\) "
              "is not a matrix cuBLASLt can read[^\n]*\n$");
  EXPECT_EXIT(mpc_cuda_matmul_descriptors(2, &a, 2, &b, 2, &c, 9, MPC_DT_F32, MPC_DT_F32,
                              0),
              ::testing::ExitedWithCode(1),
              "mpc: error: mpc_cuda_matmul: unknown element type code 9 for "
              "operand A");
}

} // namespace
