//===- Mgpu.h - The mgpu* functions MLIR 22's gpu-to-llvm calls --*- C++ -*-===//
//
// Signatures as MLIR 22.1's gpu-to-llvm and gpu.binary translation emit them
// (checked with mlir-opt/mlir-translate 22.1): pointers are opaque here, so
// that callers need no cuda.h. Stream, event, module and function handles
// are the runtime's: do not pass them to the driver.
//
// Differences from MLIR's own CUDA wrappers, on purpose:
//  - mgpuStreamCreate returns the one process-wide stream; StreamDestroy does
//    nothing. Everything is ordered on that stream.
//  - mgpuModuleLoad/LoadJIT only record the image (they run from global
//    constructors, before main); it is loaded on the first launch.
//  - mgpuMemAlloc/MemFree go through a caching allocator.
//  - Errors are fatal: one line on stderr, exit status 1.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_CUDA_MGPU_H
#define MPC_RUNTIME_CUDA_MGPU_H

#include <cstddef>
#include <cstdint>

extern "C" {
void *mgpuStreamCreate();
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate();
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);

/// isHostShared: managed memory (cuMemAllocManaged), not cached.
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, uint32_t value, size_t count, void *stream);
void mgpuMemset16(void *dst, uint16_t value, size_t count, void *stream);
/// Page-locks the memref's buffer; rank and descriptor as in Abi.h.
void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                               int64_t elementSizeBytes);
void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                 int64_t elementSizeBytes);

/// data: a cubin or fatbinary of `size` bytes (the driver picks the cubin
/// for the device, or JIT-compiles the PTX in it).
void *mgpuModuleLoad(void *data, size_t size);
/// data: NUL-terminated PTX; optLevel 0-4 (CU_JIT_OPTIMIZATION_LEVEL).
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);
void mgpuLaunchClusterKernel(void *function, intptr_t clusterX,
                             intptr_t clusterY, intptr_t clusterZ,
                             intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                             intptr_t blockX, intptr_t blockY,
                             intptr_t blockZ, int32_t smem, void *stream,
                             void **params, void **extra);
/// Must come before the first use of the device.
void mgpuSetDefaultDevice(int32_t device);
}

#endif // MPC_RUNTIME_CUDA_MGPU_H
