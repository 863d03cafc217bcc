//===- Conv.cpp - mpc_cuda_conv over cuDNN's legacy convolution API -------===//
//
// cuDNN is opened on the first call (Cudnn.h). Each distinct problem
// (geometry, types, flags, pointer alignments) gets its descriptors and
// algorithm once: cudnnFindConvolutionForwardAlgorithmEx times the
// algorithms on the call's own X and W and a scratch Y (Y itself may hold
// what the convolution adds to), taking the fastest that succeeded; when
// that fails, cudnnGetConvolutionForwardAlgorithm_v7's heuristic choice.
// The workspace comes from the caching allocator on every call (freed
// right after: the one stream orders its reuse after this convolution).
//
//===----------------------------------------------------------------------===//

#include "Cudnn.h"
#include "Driver.h"

#include "mpc/Runtime/CUDA/Abi.h"
#include "mpc/Runtime/CUDA/ConvPlan.h"
#include "mpc/Runtime/CUDA/Runtime.h"

#include <map>
#include <mutex>
#include <vector>

using namespace mpc::runtime::cuda;

namespace {

/// The largest workspace the algorithm search offers cuDNN: algorithms that
/// need more are not tried.
constexpr size_t kSearchWorkspaceBytes = size_t(128) << 20;

struct Compiled {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  size_t workspaceBytes = 0;
};

// Guarded by cudnnHandleMutex().
struct ConvCache {
  std::map<std::vector<int64_t>, Compiled> compiled;
};

ConvCache &cache() {
  static auto *instance = new ConvCache;
  return *instance;
}


int64_t elementBytes(int32_t code) { return code == MPC_DT_F32 ? 4 : 2; }

/// Elements from Y's first to its last, inclusive.
int64_t extent(const ConvPlan &plan) {
  int64_t last = 0;
  for (int d = 0; d < plan.dims; ++d)
    last += int64_t(plan.y[d] - 1) * plan.yStrides[d];
  return last + 1;
}

/// Whether a search result may be used: it ran, and an f32 convolution
/// without --allow-tf32 keeps full-precision products (FMA math; cuDNN's
/// default math would allow TF32).
bool usable(const cudnnConvolutionFwdAlgoPerf_t &r, bool strictF32) {
  return r.status == CUDNN_STATUS_SUCCESS && (!strictF32 || r.mathType == CUDNN_FMA_MATH);
}

/// Takes search result `r`: its algorithm, the math type it was measured
/// with (which cuDNN may have changed from the descriptor's) and the
/// workspace that pair needs.
void take(const CudnnApi &api, Compiled &c, const cudnnConvolutionFwdAlgoPerf_t &r,
          const std::string &problem) {
  c.algo = r.algo;
  checkCudnn(api.cudnnSetConvolutionMathType(c.conv, r.mathType), "cudnnSetConvolutionMathType",
             problem);
  checkCudnn(api.cudnnGetConvolutionForwardWorkspaceSize(api.handle, c.x, c.w, c.conv, c.y, c.algo,
                                                         &c.workspaceBytes),
             "cudnnGetConvolutionForwardWorkspaceSize", problem);
}

/// The algorithm for `c` on these operands: the fastest that ran in the
/// timed search, else cuDNN's heuristic choice.
void chooseAlgorithm(const CudnnApi &api, Compiled &c, const ConvPlan &plan, int32_t dtype,
                     bool strictF32, const void *x, const void *w, const void *y,
                     const std::string &problem) {
  int count = 0;
  checkCudnn(api.cudnnGetConvolutionForwardAlgorithmMaxCount(api.handle, &count),
             "cudnnGetConvolutionForwardAlgorithmMaxCount", problem);
  std::vector<cudnnConvolutionFwdAlgoPerf_t> results(size_t(count > 0 ? count : 1));
  int returned = 0;
  // The search writes a scratch Y (Y itself may hold what the convolution
  // adds to) at Y's alignment, so that what is timed is what will run.
  size_t misalignment = reinterpret_cast<uintptr_t>(y) % 256;
  char *scratch =
      static_cast<char *>(mpcCudaAlloc(size_t(extent(plan) * elementBytes(dtype)) + 256));
  void *workspace = mpcCudaAlloc(kSearchWorkspaceBytes);
  cudnnStatus_t status = api.cudnnFindConvolutionForwardAlgorithmEx(
      api.handle, c.x, x, c.w, w, c.conv, c.y, scratch + misalignment, int(results.size()),
      &returned, results.data(), workspace, kSearchWorkspaceBytes);
  mpcCudaFree(workspace);
  mpcCudaFree(scratch);
  if (status != CUDNN_STATUS_SUCCESS)
    returned = 0;
  for (int i = 0; i < returned; ++i)
    if (usable(results[size_t(i)], strictF32)) {
      take(api, c, results[size_t(i)], problem);
      return;
    }
  checkCudnn(api.cudnnGetConvolutionForwardAlgorithm_v7(
                 api.handle, c.x, c.w, c.conv, c.y, int(results.size()), &returned, results.data()),
             "cudnnGetConvolutionForwardAlgorithm_v7", problem);
  for (int i = 0; i < returned; ++i)
    if (usable(results[size_t(i)], strictF32)) {
      take(api, c, results[size_t(i)], problem);
      return;
    }
  checkCudnn(CUDNN_STATUS_NOT_SUPPORTED, "cudnnGetConvolutionForwardAlgorithm_v7 (no algorithm)",
             problem);
}

Compiled compile(const CudnnApi &api, const ConvPlan &plan, const ConvProblem &p, const void *x,
                 const void *w, const void *y, const std::string &problem) {
  Compiled c;
  cudnnDataType_t type = cudnnDataTypeOf(p.dtypes[0]);
  checkCudnn(api.cudnnCreateTensorDescriptor(&c.x), "cudnnCreateTensorDescriptor", problem);
  checkCudnn(api.cudnnCreateTensorDescriptor(&c.y), "cudnnCreateTensorDescriptor", problem);
  checkCudnn(api.cudnnCreateFilterDescriptor(&c.w), "cudnnCreateFilterDescriptor", problem);
  checkCudnn(api.cudnnCreateConvolutionDescriptor(&c.conv), "cudnnCreateConvolutionDescriptor",
             problem);
  checkCudnn(api.cudnnSetTensorNdDescriptor(c.x, type, plan.dims, plan.x, plan.xStrides),
             "cudnnSetTensorNdDescriptor(X)", problem);
  checkCudnn(api.cudnnSetTensorNdDescriptor(c.y, type, plan.dims, plan.y, plan.yStrides),
             "cudnnSetTensorNdDescriptor(Y)", problem);
  checkCudnn(api.cudnnSetFilterNdDescriptor(c.w, type, CUDNN_TENSOR_NCHW, plan.dims, plan.w),
             "cudnnSetFilterNdDescriptor(W)", problem);
  checkCudnn(api.cudnnSetConvolutionNdDescriptor(c.conv, plan.dims - 2, plan.pads, plan.strides,
                                                 plan.dilations, CUDNN_CROSS_CORRELATION,
                                                 CUDNN_DATA_FLOAT),
             "cudnnSetConvolutionNdDescriptor", problem);
  checkCudnn(api.cudnnSetConvolutionGroupCount(c.conv, plan.groups),
             "cudnnSetConvolutionGroupCount", problem);
  // f32 keeps full-precision products unless TF32 was allowed; f16/bf16
  // run on tensor cores (f32 accumulation: the PSEUDO_* configurations).
  cudnnMathType_t math = CUDNN_TENSOR_OP_MATH;
  if (p.dtypes[0] == MPC_DT_F32)
    math = (p.flags & MPC_MM_ALLOW_TF32) ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  checkCudnn(api.cudnnSetConvolutionMathType(c.conv, math), "cudnnSetConvolutionMathType", problem);
  bool strictF32 = p.dtypes[0] == MPC_DT_F32 && !(p.flags & MPC_MM_ALLOW_TF32);
  chooseAlgorithm(api, c, plan, p.dtypes[0], strictF32, x, w, y, problem);
  return c;
}

} // namespace

extern "C" void mpc_cuda_conv(int64_t *allocated, int64_t *params, int64_t offset, int64_t size,
                              int64_t stride) {
  (void)allocated;
  LibraryCallScope scope;
  if (size < MPC_CONV_PARAMS || stride != 1 ||
      params[offset + MPC_CONV_SLOT_ABI] != MPC_CONV_ABI_VERSION)
    fatal("mpc_cuda_conv: this program was compiled for another version of the CUDA runtime "
          "(argument block version " +
          std::to_string(size >= 1 ? params[offset + MPC_CONV_SLOT_ABI] : -1) + ", expected " +
          std::to_string(int(MPC_CONV_ABI_VERSION)) + "); recompile it with this mpc");
  const int64_t *slots = params + offset;
  ConvProblem problem = readConvProblem(slots);
  ConvPlan plan = planConv(problem);
  if (!plan.error.empty())
    fatal(plan.error);
  if (plan.empty)
    return;
  int64_t bytes = elementBytes(problem.dtypes[0]);
  char *data[3];
  for (int j = 0; j < 3; ++j) {
    const int64_t *slot = slots + MPC_CONV_SLOT_OPERANDS + j * MPC_CONV_OPERAND_SLOTS;
    data[j] = reinterpret_cast<char *>(slot[0]) + slot[1] * bytes;
  }
  std::string name = describeConv(problem);
  const CudnnApi &api = cudnn();
  // The key: every slot but the pointers and offsets, and the alignments.
  std::vector<int64_t> key(slots + 1, slots + MPC_CONV_SLOT_OPERANDS);
  for (int j = 0; j < 3; ++j) {
    const int64_t *slot = slots + MPC_CONV_SLOT_OPERANDS + j * MPC_CONV_OPERAND_SLOTS;
    key.insert(key.end(), slot + 2, slot + MPC_CONV_OPERAND_SLOTS);
    key.push_back(addressAlignment(data[j]));
  }
  ConvCache &convs = cache();
  std::lock_guard<std::mutex> lock(cudnnHandleMutex());
  auto it = convs.compiled.find(key);
  if (it == convs.compiled.end())
    it = convs.compiled.emplace(key, compile(api, plan, problem, data[0], data[1], data[2], name)).first;
  const Compiled &c = it->second;
  void *workspace = c.workspaceBytes ? mpcCudaAlloc(c.workspaceBytes) : nullptr;
  float alpha = 1.0f, beta = (problem.flags & MPC_MM_BETA0) ? 0.0f : 1.0f;
  CUevent profileStart = profiling() ? profileBegin() : nullptr;
  checkCudnn(api.cudnnConvolutionForward(api.handle, &alpha, c.x, data[0], c.w, data[1], c.conv,
                                         c.algo, workspace, c.workspaceBytes, &beta, c.y, data[2]),
             "cudnnConvolutionForward", name);
  if (profileStart)
    profileEnd(profileStart, name, "conv", plan.flops);
  if (workspace)
    mpcCudaFree(workspace);
  if (syncAfterLaunch())
    check(driver().cuStreamSynchronize(theStream()),
          "cudnnConvolutionForward execution (MPC_CUDA_SYNC)", name);
}
