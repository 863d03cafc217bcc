//===- Passes.h - precision assignment, casts, report -----------*- C++ -*-===//
#ifndef MPC_PRECISION_PASSES_H
#define MPC_PRECISION_PASSES_H

#include "mpc/Precision/PassOptions.h"

#include "mlir/Pass/Pass.h"

namespace mpc {
#define GEN_PASS_DECL
#include "mpc/Precision/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Precision/Passes.h.inc"
} // namespace mpc

#endif // MPC_PRECISION_PASSES_H
