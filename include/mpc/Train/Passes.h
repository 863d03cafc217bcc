//===- Passes.h - the training passes ---------------------------*- C++ -*-===//
#ifndef MPC_TRAIN_PASSES_H
#define MPC_TRAIN_PASSES_H

#include "mpc/Train/PassOptions.h"

#include "mlir/Pass/Pass.h"

namespace mpc {
#define GEN_PASS_DECL
#include "mpc/Train/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Train/Passes.h.inc"
} // namespace mpc

#endif // MPC_TRAIN_PASSES_H
