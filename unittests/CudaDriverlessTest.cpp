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
  EXPECT_EXIT(mpcCudaHostAlloc(16), ::testing::ExitedWithCode(1), kNoDriver);
  EXPECT_EXIT(mpcCudaUploadAsync(host, host, sizeof(host)),
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

// The packed argument block compiled code passes (Abi.h): decoded into the
// same operands, so the same layout error; a block from another ABI version
// is refused by name.
TEST(CudaMatmulAbi, PackedBlockIsDecodedIntoOperands) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  float buffer[64];
  int64_t p[MPC_MM_PARAMS] = {};
  p[MPC_MM_SLOT_ABI] = MPC_MM_ABI_VERSION;
  p[MPC_MM_SLOT_DTYPE_A] = p[MPC_MM_SLOT_DTYPE_B] = p[MPC_MM_SLOT_DTYPE_C] = MPC_DT_F32;
  p[MPC_MM_SLOT_FLAGS] = MPC_MM_BETA0;
  auto put = [&](int operand, int64_t rows, int64_t cols, int64_t rowStride, int64_t colStride) {
    int64_t *slot = p + MPC_MM_SLOT_OPERANDS + operand * MPC_MM_OPERAND_SLOTS;
    slot[0] = reinterpret_cast<int64_t>(buffer);
    slot[1] = 0;
    slot[2] = 2;
    slot[3] = rows, slot[4] = cols, slot[5] = 1;
    slot[6] = rowStride, slot[7] = colStride, slot[8] = 0;
  };
  put(0, 4, 3, 6, 2); // neither inner stride is 1
  put(1, 3, 5, 5, 1);
  put(2, 4, 5, 5, 1);
  EXPECT_EXIT(mpc_cuda_matmul(p, p, 0, MPC_MM_PARAMS, 1), ::testing::ExitedWithCode(1),
              "^mpc: error: mpc_cuda_matmul: A \\[4,3\\] \\(strides \\[6,2\\]\\) "
              "is not a matrix cuBLASLt can read[^\n]*\n$");
  p[MPC_MM_SLOT_OPERANDS + 2] = 4; // rank 4
  EXPECT_EXIT(mpc_cuda_matmul(p, p, 0, MPC_MM_PARAMS, 1), ::testing::ExitedWithCode(1),
              "mpc_cuda_matmul: operands must have rank 2 or 3, not 4");
  p[MPC_MM_SLOT_ABI] = MPC_MM_ABI_VERSION + 1;
  EXPECT_EXIT(mpc_cuda_matmul(p, p, 0, MPC_MM_PARAMS, 1), ::testing::ExitedWithCode(1),
              "compiled for another version of the CUDA runtime \\(argument block version 3, "
              "expected 2\\); recompile it");
}

// Epilogues are checked before the device too: the bias's type and length,
// and that it runs over N (a row-major C).
TEST(CudaMatmulAbi, EpilogueErrorsAreReportedBeforeTheDevice) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  float buffer[64];
  int64_t p[MPC_MM_PARAMS] = {};
  p[MPC_MM_SLOT_ABI] = MPC_MM_ABI_VERSION;
  p[MPC_MM_SLOT_DTYPE_A] = p[MPC_MM_SLOT_DTYPE_B] = p[MPC_MM_SLOT_DTYPE_C] = MPC_DT_F32;
  p[MPC_MM_SLOT_FLAGS] = MPC_MM_BETA0;
  auto put = [&](int operand, int64_t rows, int64_t cols, int64_t rowStride, int64_t colStride) {
    int64_t *slot = p + MPC_MM_SLOT_OPERANDS + operand * MPC_MM_OPERAND_SLOTS;
    slot[0] = reinterpret_cast<int64_t>(buffer);
    slot[2] = 2;
    slot[3] = rows, slot[4] = cols, slot[5] = 1;
    slot[6] = rowStride, slot[7] = colStride;
  };
  put(0, 4, 3, 3, 1);
  put(1, 3, 5, 5, 1);
  put(2, 4, 5, 1, 4); // column-major C
  p[MPC_MM_SLOT_EPILOGUE] = MPC_MM_EPILOGUE_RELU_BIAS;
  p[MPC_MM_SLOT_DTYPE_BIAS] = MPC_DT_F32;
  p[MPC_MM_SLOT_BIAS + 0] = reinterpret_cast<int64_t>(buffer);
  p[MPC_MM_SLOT_BIAS + 2] = 5;
  p[MPC_MM_SLOT_BIAS + 3] = 1;
  EXPECT_EXIT(mpc_cuda_matmul(p, p, 0, MPC_MM_PARAMS, 1), ::testing::ExitedWithCode(1),
              "^mpc: error: mpc_cuda_matmul: a bias over N needs a row-major C[^\n]*\n$");
  put(2, 4, 5, 5, 1);
  p[MPC_MM_SLOT_BIAS + 2] = 4;
  EXPECT_EXIT(mpc_cuda_matmul(p, p, 0, MPC_MM_PARAMS, 1), ::testing::ExitedWithCode(1),
              "the bias has 4 elements, not N = 5");
  p[MPC_MM_SLOT_DTYPE_BIAS] = MPC_DT_BF16;
  EXPECT_EXIT(mpc_cuda_matmul(p, p, 0, MPC_MM_PARAMS, 1), ::testing::ExitedWithCode(1),
              "the bias's element type code 2 is not C's \\(0\\)");
  p[MPC_MM_SLOT_EPILOGUE] = 9;
  EXPECT_EXIT(mpc_cuda_matmul(p, p, 0, MPC_MM_PARAMS, 1), ::testing::ExitedWithCode(1),
              "unknown epilogue code 9");
}

// mpc_cuda_conv checks its block before anything touches the driver or
// cuDNN: a block from another ABI version, then a wrong shape, by name.
TEST(CudaConvAbi, PackedBlockIsCheckedFirst) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int64_t p[MPC_CONV_PARAMS] = {};
  p[MPC_CONV_SLOT_ABI] = MPC_CONV_ABI_VERSION + 1;
  EXPECT_EXIT(mpc_cuda_conv(p, p, 0, MPC_CONV_PARAMS, 1), ::testing::ExitedWithCode(1),
              "^mpc: error: mpc_cuda_conv: this program was compiled for another version of the "
              "CUDA runtime \\(argument block version 2, expected 1\\); recompile it");
  p[MPC_CONV_SLOT_ABI] = MPC_CONV_ABI_VERSION;
  p[MPC_CONV_SLOT_DTYPE_X] = p[MPC_CONV_SLOT_DTYPE_W] = p[MPC_CONV_SLOT_DTYPE_Y] = MPC_DT_F32;
  p[MPC_CONV_SLOT_GROUPS] = 1;
  p[MPC_CONV_SLOT_SPATIAL] = 1;
  p[MPC_CONV_SLOT_STRIDES] = p[MPC_CONV_SLOT_DILATIONS] = 1;
  int64_t shapes[3][3] = {{1, 4, 9}, {6, 4, 3}, {1, 6, 8}}; // Y's width should be 7
  for (int j = 0; j < 3; ++j) {
    int64_t *slot = p + MPC_CONV_SLOT_OPERANDS + j * MPC_CONV_OPERAND_SLOTS;
    slot[2] = 3;
    for (int d = 2, stride = 1; d >= 0; stride *= int(shapes[j][d]), --d) {
      slot[3 + d] = shapes[j][d];
      slot[8 + d] = stride;
    }
  }
  EXPECT_EXIT(mpc_cuda_conv(p, p, 0, MPC_CONV_PARAMS, 1), ::testing::ExitedWithCode(1),
              "^mpc: error: mpc_cuda_conv: Y's spatial dim 0 must be 7 [^\n]*conv1d f32 "
              "X\\[1,4,9\\] W\\[6,4,3\\] -> Y\\[1,6,8\\][^\n]*\n$");
}

} // namespace

// A library call's errors name the call site compiled code announced (its
// position in the registered kernel table) and its ONNX nodes; once the
// call returned, later errors are not blamed on it.
TEST(CudaLibraryCalls, ErrorsNameTheAnnouncedCallSite) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int64_t p[MPC_MM_PARAMS] = {};
  p[MPC_MM_SLOT_ABI] = MPC_MM_ABI_VERSION + 1;
  auto announcedCall = [&] {
    mpcCudaRegisterKernelInfo("main_k0", "/Relu");
    mpcCudaRegisterKernelInfo("main_k1", "/fc1/Gemm, /Relu_1");
    mpc_cuda_library_call(1);
    mpc_cuda_matmul(p, p, 0, MPC_MM_PARAMS, 1);
  };
  EXPECT_EXIT(announcedCall(), ::testing::ExitedWithCode(1),
              "recompile it with this mpc \\(in kernel 'main_k1' \\(ONNX nodes: /fc1/Gemm, "
              "/Relu_1\\)\\)\n$");
  // Out of range (a table this runtime never saw): the plain message.
  auto unknownCall = [&] {
    mpc_cuda_library_call(7);
    mpc_cuda_matmul(p, p, 0, MPC_MM_PARAMS, 1);
  };
  EXPECT_EXIT(unknownCall(), ::testing::ExitedWithCode(1), "recompile it with this mpc\n$");
}
