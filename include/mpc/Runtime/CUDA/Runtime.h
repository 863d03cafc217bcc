//===- Runtime.h - What a runner calls in the CUDA runtime -------*- C++ -*-===//
//
// Compiled CUDA programs run on one device, one stream and one context (the
// device's primary context), all set up lazily on first use. The driver
// (libcuda.so.1) is opened with dlopen, never linked, so a program starts on
// a machine without it and says so. Every CUDA error prints one line to
// stderr, "mpc: error: ...", and exits with status 1.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_CUDA_RUNTIME_H
#define MPC_RUNTIME_CUDA_RUNTIME_H

#include <cstddef>
#include <string>

/// Whether the driver loads, initializes and has a device; when not, *why
/// (if given) is the reason, the text the exiting entry points print after
/// "mpc: error: ". Never exits.
bool mpcCudaAvailable(std::string *why = nullptr);

/// "NVIDIA H100 80GB HBM3 (device 0, sm_90, 132 SMs), driver 13.0", for
/// logs. Exits when there is no device.
std::string mpcCudaDeviceDescription();

/// Names the ONNX nodes a kernel was generated from, for error messages.
/// Both strings are copied. A later call for the same kernel replaces it.
extern "C" void mpcCudaRegisterKernelInfo(const char *kernel,
                                          const char *onnxNodes);

/// Device memory from the caching allocator (256-byte aligned at least);
/// the same pool as mgpuMemAlloc/mgpuMemFree.
extern "C" void *mpcCudaAlloc(size_t bytes);
extern "C" void mpcCudaFree(void *device);

/// Host <-> device copies on the one stream through a reused pinned staging
/// buffer. An upload returns once the host data is staged (the host buffer
/// may then be reused); a download returns once the data is in *host, after
/// everything queued before it.
extern "C" void mpcCudaUpload(void *device, const void *host, size_t bytes);
extern "C" void mpcCudaDownload(void *host, const void *device, size_t bytes);

/// Pinned (page-locked) host memory, for asynchronous uploads; freeing it
/// while a queued copy still reads it is the caller's bug.
extern "C" void *mpcCudaHostAlloc(size_t bytes);
extern "C" void mpcCudaHostFree(void *host);

/// Queues a host -> device copy from pinned memory on the one stream and
/// returns at once: `host` must stay unchanged until an event recorded
/// after it (mgpuEventRecord) has completed.
extern "C" void mpcCudaUploadAsync(void *device, const void *host,
                                   size_t bytes);

/// Waits for everything queued on the stream.
extern "C" void mpcCudaSynchronize();

/// Timing events for benchmarks (mpc-cuda-probe --bench-gemm): a new event
/// with timing, recorded on the stream now; the milliseconds between two
/// such events (waits for `end`); destroying one.
extern "C" void *mpcCudaTimingEventRecord();
extern "C" float mpcCudaTimingElapsedMs(void *start, void *end);
extern "C" void mpcCudaTimingEventDestroy(void *event);

#endif // MPC_RUNTIME_CUDA_RUNTIME_H
