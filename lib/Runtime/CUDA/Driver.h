//===- Driver.h - The CUDA driver, opened at run time -------------*- C++ -*-===//
//
// Private to the CUDA runtime. cuda.h gives the types only: every entry
// point is looked up with dlsym under the versioned name cuda.h maps it to.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_RUNTIME_CUDA_DRIVER_H
#define MPC_LIB_RUNTIME_CUDA_DRIVER_H

#include "mpc/Runtime/CUDA/CachingAllocator.h"

#include <cuda.h>
#include <string>

namespace mpc::runtime::cuda {

#define MPC_CUDA_DRIVER_FUNCTIONS(X)                                           \
  X(cuInit, "cuInit")                                                          \
  X(cuDriverGetVersion, "cuDriverGetVersion")                                  \
  X(cuDeviceGetCount, "cuDeviceGetCount")                                      \
  X(cuDeviceGet, "cuDeviceGet")                                                \
  X(cuDeviceGetName, "cuDeviceGetName")                                        \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute")                              \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")                      \
  X(cuCtxSetCurrent, "cuCtxSetCurrent")                                        \
  X(cuGetErrorName, "cuGetErrorName")                                          \
  X(cuGetErrorString, "cuGetErrorString")                                      \
  X(cuStreamCreate, "cuStreamCreate")                                          \
  X(cuStreamSynchronize, "cuStreamSynchronize")                                \
  X(cuStreamWaitEvent, "cuStreamWaitEvent")                                    \
  X(cuEventCreate, "cuEventCreate")                                            \
  X(cuEventDestroy, "cuEventDestroy_v2")                                       \
  X(cuEventRecord, "cuEventRecord")                                            \
  X(cuEventSynchronize, "cuEventSynchronize")                                  \
  X(cuMemAlloc, "cuMemAlloc_v2")                                               \
  X(cuMemFree, "cuMemFree_v2")                                                 \
  X(cuMemAllocManaged, "cuMemAllocManaged")                                    \
  X(cuMemHostAlloc, "cuMemHostAlloc")                                          \
  X(cuMemFreeHost, "cuMemFreeHost")                                            \
  X(cuMemHostRegister, "cuMemHostRegister_v2")                                 \
  X(cuMemHostUnregister, "cuMemHostUnregister")                                \
  X(cuMemcpyAsync, "cuMemcpyAsync")                                            \
  X(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2")                                 \
  X(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2")                                 \
  X(cuMemsetD32Async, "cuMemsetD32Async")                                      \
  X(cuMemsetD16Async, "cuMemsetD16Async")                                      \
  X(cuMemsetD2D8Async, "cuMemsetD2D8Async")                                    \
  X(cuModuleLoadData, "cuModuleLoadData")                                      \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx")                                  \
  X(cuModuleUnload, "cuModuleUnload")                                          \
  X(cuModuleGetFunction, "cuModuleGetFunction")                                \
  X(cuFuncSetAttribute, "cuFuncSetAttribute")                                  \
  X(cuLaunchKernel, "cuLaunchKernel")                                          \
  X(cuLaunchKernelEx, "cuLaunchKernelEx")

struct DriverApi {
#define MPC_DECLARE(name, symbol) decltype(&::name) name = nullptr;
  MPC_CUDA_DRIVER_FUNCTIONS(MPC_DECLARE)
#undef MPC_DECLARE
  // Optional (null when the driver lacks it): only MPC_CUDA_PROFILE uses it.
  // CUDA 13's cuda.h maps it to cuEventElapsedTime_v2, which older drivers
  // lack; the unversioned symbol is tried next.
  decltype(&::cuEventElapsedTime) cuEventElapsedTime = nullptr;
  decltype(&::cuEventQuery) cuEventQuery = nullptr;
};

/// Loads and initializes the driver, once; false (and *why) when there is
/// no driver or no device.
bool tryStartDriver(std::string *why);

/// The driver, started, with the runtime's context current on this thread.
/// Exits with the reason when there is no driver or device.
const DriverApi &driver();

/// The one stream everything runs on.
CUstream theStream();

/// Prints "mpc: error: <message>" as one line and exits with status 1.
[[noreturn]] void fatal(const std::string &message);

/// "CUDA_ERROR_X (its description)".
std::string describeError(CUresult result);

/// Exits naming the error, `operation` and `detail` when result fails.
void check(CUresult result, const char *operation,
           const std::string &detail = "");

/// "kernel 'k' (ONNX nodes: a, b)", from mpcCudaRegisterKernelInfo.
std::string describeKernel(const std::string &kernel);

/// Declared at the top of each library entry point (mpc_cuda_matmul,
/// mpc_cuda_conv, mpc_cuda_attention): until it returns, fatal() names the
/// call site compiled code announced with mpc_cuda_library_call; afterwards
/// no later error is blamed on it.
struct LibraryCallScope {
  LibraryCallScope() = default;
  LibraryCallScope(const LibraryCallScope &) = delete;
  LibraryCallScope &operator=(const LibraryCallScope &) = delete;
  ~LibraryCallScope();
};

/// Remembers the last kernel launched, to attribute asynchronous faults.
void noteLaunch(const std::string &kernel);

/// Whether MPC_CUDA_SYNC asks for a synchronization after every launch.
bool syncAfterLaunch();

/// Whether MPC_CUDA_PROFILE names a file (read once). When false the
/// launch paths skip profileBegin/profileEnd entirely.
bool profiling();

/// Records a timing event on the stream before a launch or GEMM; only when
/// profiling().
CUevent profileBegin();

/// Records the matching end event and queues the pair under `name`; the
/// times are resolved when the events have completed (checked every few
/// hundred launches, without waiting) and at exit, when the file is written.
void profileEnd(CUevent begin, const std::string &name, const char *kind,
                double flopsPerCall = 0);

/// The largest power of two up to 256 that divides the address: what a
/// library call's operand is known to be aligned to (part of its plan keys).
uint32_t addressAlignment(const void *pointer);

/// The device allocator behind mgpuMemAlloc and mpcCudaAlloc.
CachingAllocator &deviceAllocator();

/// True once exit began: teardown calls (module unload, frees from static
/// destructors) then do nothing.
bool shuttingDown();

} // namespace mpc::runtime::cuda

#endif // MPC_LIB_RUNTIME_CUDA_DRIVER_H
