//===- Folding.h - what the mpc folders share ------------------*- C++ -*-===//
#ifndef MPC_LIB_DIALECT_FOLDING_H
#define MPC_LIB_DIALECT_FOLDING_H

#include "llvm/ADT/APFloat.h"

namespace mpc {
/// `value` rounded to nearest even into `to`, as the compiled code converts
/// floats (lib/Dialect/CastFolds.cpp says how fp8 is special). With
/// `saturate`, overflows into fp8 clamp to the largest finite value.
llvm::APFloat roundFloat(llvm::APFloat value, const llvm::fltSemantics &to, bool saturate);
} // namespace mpc

#endif // MPC_LIB_DIALECT_FOLDING_H
