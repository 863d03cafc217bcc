//===- ConvolutionMatch.h - recognizing convolution generics ----*- C++ -*-===//
//
// mpc-lower-to-linalg lowers mpc.conv (and the phases of its input
// gradient) to one linalg.generic (buildConvAccumulation in
// lib/Conversion/MpcToLinalg/Convolution.cpp) and the filter gradient to
// another. The CPU target rewrites both into im2col + matmul
// (mpc-conv-to-matmul); the CUDA target may hand the forward one to cuDNN
// (mpc-cuda-map-to-kernels). Both recognise them here, on tensors or on
// buffers, so that they cannot disagree on what a convolution is.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_CODEGEN_COMMON_CONVOLUTIONMATCH_H
#define MPC_CODEGEN_COMMON_CONVOLUTIONMATCH_H

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"

#include <optional>

namespace mpc {

/// The two generics: the forward convolution, loops (n, g, m, o..., c,
/// k...), input [N, G, C, S...] read at o * stride + k * dilation, weight
/// [G, M, C, K...], accumulator [N, G, M, O...]; and the filter gradient,
/// loops (g, m, c, k..., n, o...), the same input, dy [N, G, M, O...],
/// accumulator [G, M, C, K...].
enum class ConvKind { Forward, FilterGradient };

/// A recognised convolution: which one, its spatial dims and their strides
/// and dilations.
struct ConvMatch {
  ConvKind kind = ConvKind::Forward;
  int64_t spatial = 0;
  llvm::SmallVector<int64_t> strides, dilations;
};

/// Which of the two generics `op` is (static shapes, a body that reads no
/// loop index, operands in one of the two layouts whatever the loops'
/// numbering); nothing for any other op. Works on tensors and on buffers.
std::optional<ConvMatch> matchConvolution(mlir::linalg::LinalgOp op);

/// A forward convolution a convolution library (cuDNN's legacy API) runs as
/// it stands: 1 to 3 spatial dims, input, weight and accumulator of one
/// element type among f32, f16 and bf16, and a body that is exactly
/// `acc + input * weight` (no casts, nothing fused in). Mixed types (bf16
/// products summed in f32) and integer convolutions are not.
std::optional<ConvMatch> matchLibraryConvolution(mlir::linalg::LinalgOp op);

} // namespace mpc

#endif // MPC_CODEGEN_COMMON_CONVOLUTIONMATCH_H
