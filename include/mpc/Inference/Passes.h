//===- Passes.h - inference-only rewrites -----------------------*- C++ -*-===//
#ifndef MPC_INFERENCE_PASSES_H
#define MPC_INFERENCE_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mpc {
#define GEN_PASS_DECL
#include "mpc/Inference/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Inference/Passes.h.inc"
} // namespace mpc

#endif // MPC_INFERENCE_PASSES_H
