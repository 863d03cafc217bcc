//===- Driver.cpp - The CUDA driver, opened at run time -------------------===//

#include "Driver.h"

#include "mpc/Runtime/CUDA/Mgpu.h"
#include "mpc/Runtime/CUDA/Runtime.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace mpc::runtime::cuda {
namespace {

// Heap objects never destroyed: module unloads and frees run from static
// destructors in any order, after this file's statics would be gone.
struct DriverState {
  DriverApi api;
  bool started = false;
  std::string whyNot;
  int deviceOrdinal = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
};

DriverState &state() {
  static DriverState *instance = new DriverState;
  return *instance;
}

std::once_flag startOnce;
bool requestedDeviceSet = false;
int requestedDevice = 0;
volatile bool exiting = false;

struct KernelRegistry {
  std::mutex mutex;
  std::unordered_map<std::string, std::string> onnxNodes;
  std::vector<std::string> order; // names in registration order
  std::string lastLaunched;
};

// The library call (mpc_cuda_matmul, ...) this thread is in, named by
// mpc_cuda_library_call right before it; empty outside one.
thread_local std::string currentLibraryCall;

KernelRegistry &kernels() {
  static KernelRegistry *instance = new KernelRegistry;
  return *instance;
}

class DriverBackend : public DeviceMemoryBackend {
public:
  uintptr_t allocate(size_t bytes) override {
    CUdeviceptr block = 0;
    CUresult result = driver().cuMemAlloc(&block, bytes);
    if (result == CUDA_ERROR_OUT_OF_MEMORY)
      return 0;
    check(result, "cuMemAlloc", std::to_string(bytes) + " bytes");
    return static_cast<uintptr_t>(block);
  }
  void release(uintptr_t block, size_t) override {
    CUresult result = driver().cuMemFree(static_cast<CUdeviceptr>(block));
    if (!shuttingDown())
      check(result, "cuMemFree");
  }
};

std::string resultText(const DriverApi &api, CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (api.cuGetErrorName)
    api.cuGetErrorName(result, &name);
  if (api.cuGetErrorString)
    api.cuGetErrorString(result, &text);
  std::string out = name ? name : "CUDA error " + std::to_string(result);
  if (text)
    out += std::string(" (") + text + ")";
  return out;
}

/// MPC_CUDA_MEMORY_STATS=1: one line on stderr at exit with the most device
/// memory the caching allocator held at once (blocks in use and cached, the
/// libraries' workspaces included), to set beside another framework's peak.
void reportMemoryAtExit() {
  const char *wanted = std::getenv("MPC_CUDA_MEMORY_STATS");
  if (!wanted || !*wanted || std::strcmp(wanted, "0") == 0)
    return;
  CachingAllocatorStats stats = deviceAllocator().stats();
  std::fprintf(stderr,
               "mpc: GPU memory: peak %zu bytes reserved (%.2f GiB), %zu allocations, %zu "
               "served from the cache\n",
               stats.peakBytesReserved, double(stats.peakBytesReserved) / (1 << 30),
               stats.allocations, stats.cacheHits);
}

void releaseAtExit() {
  exiting = true;
  DriverState &s = state();
  if (!s.started)
    return;
  s.api.cuCtxSetCurrent(s.context);
  if (s.stream)
    s.api.cuStreamSynchronize(s.stream);
  reportMemoryAtExit();
  deviceAllocator().releaseAll();
}

void start(DriverState &s) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    s.whyNot = "no CUDA driver: libcuda.so.1 not found (install the NVIDIA "
               "driver, or run on a machine with a GPU)";
    return;
  }
#define MPC_RESOLVE(name, symbol)                                              \
  s.api.name = reinterpret_cast<decltype(s.api.name)>(dlsym(lib, symbol));     \
  if (!s.api.name) {                                                           \
    s.whyNot = "CUDA driver too old: libcuda.so.1 has no " symbol              \
               " (a CUDA 12 or newer driver is needed)";                       \
    return;                                                                    \
  }
  MPC_CUDA_DRIVER_FUNCTIONS(MPC_RESOLVE)
#undef MPC_RESOLVE
  for (const char *symbol : {"cuEventElapsedTime_v2", "cuEventElapsedTime"})
    if (!s.api.cuEventElapsedTime)
      s.api.cuEventElapsedTime =
          reinterpret_cast<decltype(s.api.cuEventElapsedTime)>(
              dlsym(lib, symbol));
  s.api.cuEventQuery =
      reinterpret_cast<decltype(s.api.cuEventQuery)>(dlsym(lib, "cuEventQuery"));
  DriverApi &api = s.api;
  if (CUresult result = api.cuInit(0)) {
    s.whyNot = "no CUDA device: cuInit failed: " + resultText(api, result);
    return;
  }
  int count = 0;
  if (CUresult result = api.cuDeviceGetCount(&count)) {
    s.whyNot = "no CUDA device: cuDeviceGetCount failed: " +
               resultText(api, result);
    return;
  }
  s.deviceOrdinal = requestedDeviceSet ? requestedDevice : 0;
  if (count == 0 || s.deviceOrdinal < 0 || s.deviceOrdinal >= count) {
    s.whyNot = "no CUDA device: device " + std::to_string(s.deviceOrdinal) +
               " requested, the driver sees " + std::to_string(count);
    return;
  }
  CUdevice device;
  CUresult result = api.cuDeviceGet(&device, s.deviceOrdinal);
  if (!result)
    result = api.cuDevicePrimaryCtxRetain(&s.context, device);
  if (!result)
    result = api.cuCtxSetCurrent(s.context);
  if (!result)
    result = api.cuStreamCreate(&s.stream, CU_STREAM_NON_BLOCKING);
  if (result) {
    s.whyNot = "CUDA device " + std::to_string(s.deviceOrdinal) +
               " unusable: " + resultText(api, result);
    return;
  }
  s.started = true;
  std::atexit(releaseAtExit);
}

} // namespace

bool tryStartDriver(std::string *why) {
  DriverState &s = state();
  std::call_once(startOnce, [&] { start(s); });
  if (!s.started && why)
    *why = s.whyNot;
  return s.started;
}

const DriverApi &driver() {
  std::string why;
  if (!tryStartDriver(&why))
    fatal(why);
  static thread_local bool contextCurrent = false;
  DriverState &s = state();
  if (!contextCurrent) {
    check(s.api.cuCtxSetCurrent(s.context), "cuCtxSetCurrent");
    contextCurrent = true;
  }
  return s.api;
}

CUstream theStream() {
  driver();
  return state().stream;
}

void fatal(const std::string &message) {
  std::fflush(stdout);
  std::string text = message;
  if (!currentLibraryCall.empty() && message.find(currentLibraryCall) == std::string::npos)
    text += " (in " + describeKernel(currentLibraryCall) + ")";
  std::fprintf(stderr, "mpc: error: %s\n", text.c_str());
  std::fflush(stderr);
  // _Exit: static destructors and atexit handlers would call back into a
  // driver that just failed.
  std::_Exit(1);
}

std::string describeError(CUresult result) {
  return resultText(state().api, result);
}

void check(CUresult result, const char *operation, const std::string &detail) {
  if (result == CUDA_SUCCESS)
    return;
  std::string message = std::string(operation) + " failed: " +
                        describeError(result);
  if (!detail.empty())
    message += " [" + detail + "]";
  std::string last;
  {
    KernelRegistry &k = kernels();
    std::lock_guard<std::mutex> lock(k.mutex);
    last = k.lastLaunched;
  }
  if (!last.empty() && result != CUDA_ERROR_OUT_OF_MEMORY &&
      detail.find(last) == std::string::npos)
    message += "; last kernel launched: " + describeKernel(last) +
               (syncAfterLaunch() ? ""
                                  : " (an earlier kernel may be at fault: "
                                    "rerun with MPC_CUDA_SYNC=1 to know)");
  fatal(message);
}

std::string describeKernel(const std::string &kernel) {
  KernelRegistry &k = kernels();
  std::lock_guard<std::mutex> lock(k.mutex);
  auto it = k.onnxNodes.find(kernel);
  std::string out = "kernel '" + kernel + "'";
  if (it != k.onnxNodes.end())
    out += " (ONNX nodes: " + it->second + ")";
  return out;
}

uint32_t addressAlignment(const void *pointer) {
  auto address = reinterpret_cast<uintptr_t>(pointer);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment)
    alignment /= 2;
  return alignment;
}

LibraryCallScope::~LibraryCallScope() { currentLibraryCall.clear(); }

void noteLaunch(const std::string &kernel) {
  KernelRegistry &k = kernels();
  std::lock_guard<std::mutex> lock(k.mutex);
  k.lastLaunched = kernel;
}

bool syncAfterLaunch() {
  static const bool enabled = [] {
    const char *value = std::getenv("MPC_CUDA_SYNC");
    return value && *value && std::strcmp(value, "0") != 0;
  }();
  return enabled;
}

CachingAllocator &deviceAllocator() {
  static DriverBackend *backend = new DriverBackend;
  static CachingAllocator *allocator = new CachingAllocator(*backend);
  return *allocator;
}

bool shuttingDown() { return exiting; }

} // namespace mpc::runtime::cuda

using namespace mpc::runtime::cuda;

bool mpcCudaAvailable(std::string *why) { return tryStartDriver(why); }

std::string mpcCudaDeviceDescription() {
  const DriverApi &api = driver();
  DriverState &s = state();
  CUdevice device;
  check(api.cuDeviceGet(&device, s.deviceOrdinal), "cuDeviceGet");
  char name[256] = "";
  check(api.cuDeviceGetName(name, sizeof(name), device), "cuDeviceGetName");
  auto attribute = [&](CUdevice_attribute which) {
    int value = 0;
    check(api.cuDeviceGetAttribute(&value, which, device),
          "cuDeviceGetAttribute");
    return std::to_string(value);
  };
  int version = 0;
  check(api.cuDriverGetVersion(&version), "cuDriverGetVersion");
  return std::string(name) + " (device " + std::to_string(s.deviceOrdinal) +
         ", sm_" + attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) +
         attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR) + ", " +
         attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT) +
         " SMs), driver " + std::to_string(version / 1000) + "." +
         std::to_string(version % 1000 / 10);
}

extern "C" void mpcCudaRegisterKernelInfo(const char *kernel,
                                          const char *onnxNodes) {
  KernelRegistry &k = kernels();
  std::lock_guard<std::mutex> lock(k.mutex);
  k.onnxNodes[kernel ? kernel : ""] = onnxNodes ? onnxNodes : "";
  k.order.push_back(kernel ? kernel : "");
}

extern "C" void mpc_cuda_library_call(int64_t index) {
  std::string name;
  {
    KernelRegistry &k = kernels();
    std::lock_guard<std::mutex> lock(k.mutex);
    if (index >= 0 && size_t(index) < k.order.size())
      name = k.order[size_t(index)];
  }
  currentLibraryCall = name;
  if (!name.empty())
    noteLaunch(name);
}

extern "C" void mgpuSetDefaultDevice(int32_t device) {
  DriverState &s = state();
  if (s.started && device != s.deviceOrdinal)
    fatal("mgpuSetDefaultDevice(" + std::to_string(device) +
          ") after the CUDA runtime started on device " +
          std::to_string(s.deviceOrdinal));
  requestedDeviceSet = true;
  requestedDevice = device;
}
