//===- AttentionProbe.h - mpc-cuda-probe's mpc_cuda_attention checks -*- C++ -*-===//
//
// The attention half of mpc-cuda-probe: --selftest cases for
// mpc_cuda_attention (cuDNN's flash attention) against a host reference, and
// --bench-attention. Both need a device; main checks for one first.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_MPC_CUDA_PROBE_ATTENTIONPROBE_H
#define MPC_TOOLS_MPC_CUDA_PROBE_ATTENTIONPROBE_H

#include <string>

namespace mpc::probe {

/// Runs every attention case, printing a PASS or FAIL line for each; returns
/// the number that failed.
int checkAttention();

/// TFLOP/s of mpc_cuda_attention for BERT-like shapes in bf16 and f16, with
/// and without a padding mask: the median of `iterations` event-timed calls
/// after 3 warm-up calls; a table, and JSON when `jsonPath` is not empty.
/// Returns the exit status.
int benchAttention(int iterations, const std::string &jsonPath);

} // namespace mpc::probe

#endif // MPC_TOOLS_MPC_CUDA_PROBE_ATTENTIONPROBE_H
