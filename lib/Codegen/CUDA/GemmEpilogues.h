//===- GemmEpilogues.h - elementwise ops cuBLASLt applies to a GEMM -*- C++ -*-===//
//
// Internal to lib/Codegen/CUDA: the elementwise op right after a library
// GEMM that cuBLASLt can compute as the GEMM's epilogue instead of a kernel
// of its own: out = act(C + bias[n]), act(C) or C + bias[n] with act ReLU or
// GELU (tanh form), bias over the GEMM's N.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_CODEGEN_CUDA_GEMMEPILOGUES_H
#define MPC_LIB_CODEGEN_CUDA_GEMMEPILOGUES_H

#include "KernelBuilder.h"

namespace mpc::cuda {

/// An elementwise op a GEMM's epilogue replaces.
struct GemmEpilogue {
  linalg::GenericOp op;
  int32_t kind = 0; // MPC_MM_EPILOGUE_*
  /// D: the op's output buffer, which the GEMM writes instead of C.
  Value out;
  int32_t outDtype = 0;
  /// The bias buffer (null without a bias), its dims in the order of the
  /// GEMM's N dims, contiguous; `biasCast` the type it is converted to
  /// first (out's element type) when its own differs.
  Value bias;
  Type biasCast;
  int64_t biasLength = 0;
  /// The allocation of `out` and the views of the buffers the op reads
  /// when they come after the GEMM: to be moved before it, in this order.
  SmallVector<Operation *> hoists;
};

/// The epilogue of `gemm` (a library GEMM whose C starts at zero, `match`
/// its operands): the next op touching C's buffer, when it computes
/// act(C + bias) as cuBLASLt does (in f32, rounded once to the output's
/// type, so at least as accurate as the op), C is dead after it, and its
/// output can be the GEMM's D.
std::optional<GemmEpilogue> matchGemmEpilogue(linalg::LinalgOp gemm, const GemmMatch &match);

/// The kernel report's name of an epilogue: "bias", "relu", "bias+relu",
/// "gelu_tanh", "bias+gelu_tanh".
StringRef epilogueName(int32_t kind);

} // namespace mpc::cuda

#endif // MPC_LIB_CODEGEN_CUDA_GEMMEPILOGUES_H
