//===- Profile.h - Per-kernel GPU times (MPC_CUDA_PROFILE) -------*- C++ -*-===//
//
// With MPC_CUDA_PROFILE=FILE in the environment, the CUDA runtime brackets
// every kernel launch and every mpc_cuda_matmul with two timing events on its
// one stream, resolves them lazily (in batches, and at exit), and at process
// exit writes FILE: per kernel name (GEMMs as "gemm MxNxK types"), calls and
// total/mean/min/max microseconds, plus FLOPs for GEMMs. Unset, nothing is
// recorded (one cached flag test per launch).
//
// ProfileTable is the aggregation and the JSON writer, with no driver
// dependency (unit-tested without a GPU).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_RUNTIME_CUDA_PROFILE_H
#define MPC_RUNTIME_CUDA_PROFILE_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mpc::runtime::cuda {

struct ProfileEntry {
  std::string name;
  std::string kind;          // "kernel" or "gemm"
  uint64_t calls = 0;
  double totalUs = 0, minUs = 0, maxUs = 0;
  double flopsPerCall = 0;   // GEMMs: 2*batch*M*N*K; kernels: 0 (unknown here)
  double meanUs() const { return calls ? totalUs / double(calls) : 0; }
};

class ProfileTable {
public:
  /// One timed call of `name` (a kernel, or a GEMM problem).
  void add(const std::string &name, const std::string &kind, double micros,
           double flopsPerCall = 0);
  /// Entries, largest total time first (ties by name).
  std::vector<ProfileEntry> entries() const;
  double totalUs() const;
  /// {"format": "mpc-cuda-profile-1", "device": ..., "total_us": ...,
  ///  "entries": [{"name", "kind", "calls", "total_us", "mean_us", "min_us",
  ///  "max_us"[, "flops_per_call", "tflops"]}]}
  std::string toJson(const std::string &device) const;

private:
  std::map<std::string, ProfileEntry> byName;
};

/// A JSON string literal (quotes included) for any byte string.
std::string jsonQuote(const std::string &text);

/// The file MPC_CUDA_PROFILE names, "%p" replaced by the process id (so that
/// several processes can share one setting); empty when unset.
std::string profilePathFromEnv(const char *value, long pid);

/// "gemm 8192x768x3072 bf16*bf16->bf16" (batched: "gemm 12x128x128x64 ...",
/// batch first), "+tf32" when TF32 was allowed, "+acc" when C accumulates.
std::string gemmProfileName(int64_t batch, int64_t m, int64_t n, int64_t k,
                            const char *typeA, const char *typeB,
                            const char *typeC, bool tf32, bool accumulate);

} // namespace mpc::runtime::cuda

#endif // MPC_RUNTIME_CUDA_PROFILE_H
