//===- ConvProbe.h - mpc-cuda-probe's checks of mpc_cuda_conv ---*- C++ -*-===//
#ifndef MPC_TOOLS_MPC_CUDA_PROBE_CONVPROBE_H
#define MPC_TOOLS_MPC_CUDA_PROBE_CONVPROBE_H

#include <string>

namespace mpc::probe {

/// Runs mpc_cuda_conv on small problems (groups, strides, pads, dilations,
/// 1-D to 3-D, f32 / TF32 / f16 / bf16, accumulation) and compares every
/// output with a double-precision host reference; prints PASS/FAIL lines
/// and returns the number of failures.
int checkConvolutions();

/// TFLOP/s of mpc_cuda_conv (cuDNN) on ResNet-50's convolution shapes at
/// batch `batch`, in f32, tf32, bf16 and fp16: the median of `iterations`
/// event-timed calls after 3 warm-up calls (the first finds the algorithm).
/// A table, and JSON in `jsonPath` unless empty. Returns the exit status.
int benchConvolutions(int batch, int iterations, const std::string &jsonPath);

} // namespace mpc::probe

#endif // MPC_TOOLS_MPC_CUDA_PROBE_CONVPROBE_H
