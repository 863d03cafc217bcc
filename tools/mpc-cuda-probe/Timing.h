//===- Timing.h - mpc-cuda-probe's timed calls ------------------*- C++ -*-===//
//
// Every benchmark of the probe times a call the same way: three warm-up
// calls (plan building, first launches, clocks), then `iterations` calls
// each between two timing events on the runtime's stream.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_CUDA_PROBE_TIMING_H
#define MPC_TOOLS_CUDA_PROBE_TIMING_H

#include "mpc/Runtime/CUDA/Runtime.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace mpc::probe {

struct Timing {
  double medianMs = 0, minMs = 0;
};

inline Timing timeCalls(const std::function<void()> &call, int iterations) {
  for (int i = 0; i < 3; ++i)
    call();
  std::vector<double> ms;
  for (int i = 0; i < iterations; ++i) {
    void *start = mpcCudaTimingEventRecord();
    call();
    void *end = mpcCudaTimingEventRecord();
    ms.push_back(mpcCudaTimingElapsedMs(start, end));
    mpcCudaTimingEventDestroy(start);
    mpcCudaTimingEventDestroy(end);
  }
  std::sort(ms.begin(), ms.end());
  size_t n = ms.size();
  return {n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]), ms.front()};
}

} // namespace mpc::probe

#endif // MPC_TOOLS_CUDA_PROBE_TIMING_H
