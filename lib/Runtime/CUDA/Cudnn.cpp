//===- Cudnn.cpp - cuDNN, opened at run time ------------------------------===//
#include "Cudnn.h"

#include "Driver.h"

#include "mpc/Runtime/CUDA/Abi.h"
#include "mpc/Runtime/CUDA/LibrarySearch.h"

#include <cuda.h>
#include <dlfcn.h>
#include <vector>

namespace mpc::runtime::cuda {

// cuDNN's runtime-fusion engines (flash attention among them) compile their
// kernels with NVRTC, which cuDNN opens by soname. Loading it here first,
// from the same places as every other CUDA library (pip wheels included),
// lets cuDNN's own dlopen find the copy already in the process. Best effort:
// most convolution engines do without it, and a plan that needs it says so.
static void preloadNvrtc() {
  std::string major = std::to_string(CUDA_VERSION / 1000);
  std::vector<std::string> wheels = {"nvidia/cuda_nvrtc/lib", "nvidia/cu" + major + "/lib"};
  LoadedLibrary nvrtc = loadCudaLibrary("libnvrtc.so." + major, "NVRTC", wheels);
  (void)nvrtc; // kept open for the life of the process; absent is fine
}

const CudnnApi &cudnn() {
  static CudnnApi *instance = [] {
    auto *api = new CudnnApi;
    LoadedLibrary lib = loadCudaLibrary("libcudnn.so." + std::to_string(CUDNN_MAJOR), "cuDNN",
                                        {"nvidia/cudnn/lib", "nvidia/cu13/lib"});
    if (!lib.handle)
      fatal(lib.error);
    api->path = lib.path;
#define MPC_RESOLVE(name)                                                                          \
  api->name = reinterpret_cast<decltype(api->name)>(dlsym(lib.handle, #name));                     \
  if (!api->name)                                                                                  \
    fatal(lib.path + " has no " #name ": not the cuDNN this program was built for (" +            \
          std::to_string(CUDNN_MAJOR) + ".x)");
    MPC_CUDNN_FUNCTIONS(MPC_RESOLVE)
#undef MPC_RESOLVE
    size_t version = api->cudnnGetVersion();
    if (version / 10000 != CUDNN_MAJOR)
      fatal(lib.path + " is cuDNN " + std::to_string(version) + "; this program needs cuDNN " +
            std::to_string(CUDNN_MAJOR) + ".x");
    preloadNvrtc();
    driver(); // the context current on this thread first
    if (cudnnStatus_t status = api->cudnnCreate(&api->handle))
      fatal("cudnnCreate failed: " + std::string(api->cudnnGetErrorString(status)) + " (" +
            lib.path + ")");
    if (cudnnStatus_t status = api->cudnnSetStream(api->handle, theStream()))
      fatal("cudnnSetStream failed: " + std::string(api->cudnnGetErrorString(status)));
    return api;
  }();
  return *instance;
}

cudnnDataType_t cudnnDataTypeOf(int64_t code) {
  switch (code) {
  case MPC_DT_F16:
    return CUDNN_DATA_HALF;
  case MPC_DT_BF16:
    return CUDNN_DATA_BFLOAT16;
  default:
    return CUDNN_DATA_FLOAT;
  }
}

std::mutex &cudnnHandleMutex() {
  static auto *mutex = new std::mutex; // never destroyed: used until exit
  return *mutex;
}

std::string describeCudnnStatus(cudnnStatus_t status) {
  const CudnnApi &api = cudnn();
  std::string text = api.cudnnGetErrorString(status);
  char message[512] = {0};
  api.cudnnGetLastErrorString(message, sizeof(message));
  if (message[0])
    text += std::string(" (") + message + ")";
  return text;
}

void checkCudnn(cudnnStatus_t status, const char *call, const std::string &problem) {
  if (status != CUDNN_STATUS_SUCCESS)
    fatal(std::string(call) + " failed: " + describeCudnnStatus(status) + " for " + problem);
}

} // namespace mpc::runtime::cuda
