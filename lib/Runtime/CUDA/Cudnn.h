//===- Cudnn.h - cuDNN, opened at run time ------------------------*- C++ -*-===//
//
// Private to the CUDA runtime. cudnn.h gives the types only; libcudnn.so.9
// (which opens its own sub-libraries from its folder) is found like
// cuBLASLt (LibrarySearch.h, pip wheel folder nvidia/cudnn/lib) on the
// first call that needs it, with one handle bound to the runtime's stream.
// Both the legacy convolution API (mpc_cuda_conv) and the backend graph API
// (mpc_cuda_attention) are resolved.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_RUNTIME_CUDA_CUDNN_H
#define MPC_LIB_RUNTIME_CUDA_CUDNN_H

#include <cudnn.h>
#include <mutex>
#include <string>

namespace mpc::runtime::cuda {

#define MPC_CUDNN_FUNCTIONS(X)                                                 \
  X(cudnnGetVersion)                                                           \
  X(cudnnGetErrorString)                                                       \
  X(cudnnGetLastErrorString)                                                   \
  X(cudnnCreate)                                                               \
  X(cudnnSetStream)                                                            \
  X(cudnnBackendCreateDescriptor)                                              \
  X(cudnnBackendSetAttribute)                                                  \
  X(cudnnBackendGetAttribute)                                                  \
  X(cudnnBackendFinalize)                                                      \
  X(cudnnBackendDestroyDescriptor)                                             \
  X(cudnnBackendExecute)                                                       \
  X(cudnnCreateTensorDescriptor)                                               \
  X(cudnnSetTensorNdDescriptor)                                                \
  X(cudnnDestroyTensorDescriptor)                                              \
  X(cudnnCreateFilterDescriptor)                                               \
  X(cudnnSetFilterNdDescriptor)                                                \
  X(cudnnDestroyFilterDescriptor)                                              \
  X(cudnnCreateConvolutionDescriptor)                                          \
  X(cudnnSetConvolutionNdDescriptor)                                           \
  X(cudnnSetConvolutionGroupCount)                                             \
  X(cudnnSetConvolutionMathType)                                               \
  X(cudnnDestroyConvolutionDescriptor)                                         \
  X(cudnnGetConvolutionForwardAlgorithmMaxCount)                               \
  X(cudnnFindConvolutionForwardAlgorithmEx)                                    \
  X(cudnnGetConvolutionForwardAlgorithm_v7)                                    \
  X(cudnnGetConvolutionForwardWorkspaceSize)                                   \
  X(cudnnConvolutionForward)

struct CudnnApi {
#define MPC_DECLARE(name) decltype(&::name) name = nullptr;
  MPC_CUDNN_FUNCTIONS(MPC_DECLARE)
#undef MPC_DECLARE
  cudnnHandle_t handle = nullptr; // bound to theStream()
  std::string path;               // the library that was opened
};

/// cuDNN, loaded and with its handle created on first use. Exits naming
/// the library and the places searched when it is not found, or when it is
/// not the major version this runtime was built for.
const CudnnApi &cudnn();

/// cuDNN's data type for an MPC_DT_* code of f32, f16 or bf16 (callers
/// have checked it is one of those).
cudnnDataType_t cudnnDataTypeOf(int64_t code);

/// Held while anything uses the one handle (cuDNN handles are not to be
/// used by two threads at once): convolutions and attention alike.
std::mutex &cudnnHandleMutex();

/// "CUDNN_STATUS_X (cuDNN's last error message)".
std::string describeCudnnStatus(cudnnStatus_t status);

/// Exits with "<call> failed: <status> for <problem>" unless it succeeded.
void checkCudnn(cudnnStatus_t status, const char *call, const std::string &problem);

} // namespace mpc::runtime::cuda

#endif // MPC_LIB_RUNTIME_CUDA_CUDNN_H
