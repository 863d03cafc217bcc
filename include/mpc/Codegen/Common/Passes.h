//===- Passes.h - passes every target wants ---------------------*- C++ -*-===//
#ifndef MPC_CODEGEN_COMMON_PASSES_H
#define MPC_CODEGEN_COMMON_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mpc {
#define GEN_PASS_DECL
#include "mpc/Codegen/Common/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Codegen/Common/Passes.h.inc"
} // namespace mpc

#endif // MPC_CODEGEN_COMMON_PASSES_H
