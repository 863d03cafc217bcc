//===- Kernels.cpp - Modules loaded on first launch, and launches ---------===//
//
// gpu-to-llvm loads each gpu.binary from a global constructor, before main:
// touching the driver there would fail without a GPU before the program
// could say so, and would cost the driver's start-up in programs that only
// print their help. So a module handle records the image, and the first
// launch of one of its kernels loads it.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"

#include "mpc/Runtime/CUDA/Mgpu.h"

#include <climits>
#include <memory>
#include <mutex>
#include <unordered_map>

using namespace mpc::runtime::cuda;

namespace {

struct LazyModule;

struct LazyFunction {
  LazyModule *module;
  std::string name;
  CUfunction function = nullptr;
  int32_t maxDynamicSmem = 48 << 10; // what a launch may use without opt-in
};

struct LazyModule {
  LazyModule(const void *image, size_t size, int optLevel)
      : image(image), size(size), optLevel(optLevel) {}
  const void *image;
  size_t size;   // 0 for PTX (NUL-terminated)
  int optLevel;  // -1: a cubin or fatbinary
  std::mutex mutex;
  CUmodule module = nullptr;
  std::unordered_map<std::string, std::unique_ptr<LazyFunction>> functions;
};

void loadModule(LazyModule &m, const std::string &forKernel) {
  const DriverApi &api = driver();
  std::string what = "module of " + describeKernel(forKernel) +
                     (m.optLevel < 0 ? ", " + std::to_string(m.size) +
                                           "-byte cubin/fatbinary image"
                                     : ", PTX image");
  if (m.optLevel < 0) {
    check(api.cuModuleLoadData(&m.module, m.image), "cuModuleLoadData", what);
    return;
  }
  char log[1024] = "";
  CUjit_option options[] = {CU_JIT_OPTIMIZATION_LEVEL,
                            CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {reinterpret_cast<void *>(intptr_t(m.optLevel)), log,
                    reinterpret_cast<void *>(intptr_t(sizeof(log)))};
  CUresult result = api.cuModuleLoadDataEx(&m.module, m.image, 3, options,
                                           values);
  if (result != CUDA_SUCCESS && log[0]) {
    std::string firstLine(log);
    firstLine = firstLine.substr(0, firstLine.find('\n'));
    what += "; ptxas: " + firstLine;
  }
  check(result, "cuModuleLoadDataEx (PTX JIT)", what);
}

unsigned dim(intptr_t value, const char *what, const LazyFunction &f) {
  if (value < 1 || value > intptr_t(UINT_MAX))
    fatal("cannot launch " + describeKernel(f.name) + ": " + what + " is " +
          std::to_string(value));
  return unsigned(value);
}

// The kernel, its module loaded, allowed `smem` bytes of dynamic shared
// memory. Taken under the module's lock: launches may come from threads.
CUfunction prepare(LazyFunction &f, int32_t smem) {
  LazyModule &m = *f.module;
  std::lock_guard<std::mutex> lock(m.mutex);
  if (!m.module)
    loadModule(m, f.name);
  if (!f.function)
    check(driver().cuModuleGetFunction(&f.function, m.module, f.name.c_str()),
          "cuModuleGetFunction", describeKernel(f.name));
  if (smem > f.maxDynamicSmem) {
    check(driver().cuFuncSetAttribute(
              f.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
              smem),
          "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)",
          describeKernel(f.name) + ", " + std::to_string(smem) +
              " bytes of dynamic shared memory");
    f.maxDynamicSmem = smem;
  }
  return f.function;
}

void afterLaunch(const LazyFunction &f) {
  noteLaunch(f.name);
  if (syncAfterLaunch())
    check(driver().cuStreamSynchronize(theStream()),
          "kernel execution (MPC_CUDA_SYNC)", describeKernel(f.name));
}

} // namespace

extern "C" void *mgpuModuleLoad(void *data, size_t size) {
  return new LazyModule(data, size, -1);
}

extern "C" void *mgpuModuleLoadJIT(void *data, int optLevel) {
  return new LazyModule(data, 0, optLevel < 0 ? 0 : optLevel);
}

extern "C" void mgpuModuleUnload(void *module) {
  // At exit the process is going away with its context: leave it be.
  if (!module || shuttingDown())
    return;
  auto *m = static_cast<LazyModule *>(module);
  if (m->module)
    check(driver().cuModuleUnload(m->module), "cuModuleUnload");
  delete m;
}

extern "C" void *mgpuModuleGetFunction(void *module, const char *name) {
  auto *m = static_cast<LazyModule *>(module);
  std::lock_guard<std::mutex> lock(m->mutex);
  std::unique_ptr<LazyFunction> &f = m->functions[name];
  if (!f)
    f.reset(new LazyFunction{m, name});
  return f.get();
}

extern "C" void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                                 intptr_t gridZ, intptr_t blockX,
                                 intptr_t blockY, intptr_t blockZ, int32_t smem,
                                 void *, void **params, void **extra,
                                 size_t /*paramsCount*/) {
  LazyFunction &f = *static_cast<LazyFunction *>(function);
  CUfunction fn = prepare(f, smem);
  CUevent profileStart = profiling() ? profileBegin() : nullptr;
  check(driver().cuLaunchKernel(
            fn, dim(gridX, "grid x", f), dim(gridY, "grid y", f),
            dim(gridZ, "grid z", f), dim(blockX, "block x", f),
            dim(blockY, "block y", f), dim(blockZ, "block z", f),
            unsigned(smem), theStream(), params, extra),
        "cuLaunchKernel",
        describeKernel(f.name) + ", grid " + std::to_string(gridX) + "x" +
            std::to_string(gridY) + "x" + std::to_string(gridZ) + ", block " +
            std::to_string(blockX) + "x" + std::to_string(blockY) + "x" +
            std::to_string(blockZ) + ", " + std::to_string(smem) +
            " bytes of shared memory");
  if (profileStart)
    profileEnd(profileStart, f.name, "kernel");
  afterLaunch(f);
}

extern "C" void mgpuLaunchClusterKernel(
    void *function, intptr_t clusterX, intptr_t clusterY, intptr_t clusterZ,
    intptr_t gridX, intptr_t gridY, intptr_t gridZ, intptr_t blockX,
    intptr_t blockY, intptr_t blockZ, int32_t smem, void *, void **params,
    void **extra) {
  LazyFunction &f = *static_cast<LazyFunction *>(function);
  CUfunction fn = prepare(f, smem);
  CUlaunchAttribute cluster{};
  cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  cluster.value.clusterDim.x = dim(clusterX, "cluster x", f);
  cluster.value.clusterDim.y = dim(clusterY, "cluster y", f);
  cluster.value.clusterDim.z = dim(clusterZ, "cluster z", f);
  CUlaunchConfig config{};
  config.gridDimX = dim(gridX, "grid x", f);
  config.gridDimY = dim(gridY, "grid y", f);
  config.gridDimZ = dim(gridZ, "grid z", f);
  config.blockDimX = dim(blockX, "block x", f);
  config.blockDimY = dim(blockY, "block y", f);
  config.blockDimZ = dim(blockZ, "block z", f);
  config.sharedMemBytes = unsigned(smem);
  config.hStream = theStream();
  config.attrs = &cluster;
  config.numAttrs = 1;
  CUevent profileStart = profiling() ? profileBegin() : nullptr;
  check(driver().cuLaunchKernelEx(&config, fn, params, extra),
        "cuLaunchKernelEx",
        describeKernel(f.name) + ", cluster " + std::to_string(clusterX) +
            "x" + std::to_string(clusterY) + "x" + std::to_string(clusterZ));
  if (profileStart)
    profileEnd(profileStart, f.name, "kernel");
  afterLaunch(f);
}
