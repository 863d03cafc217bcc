//===- ShapeInference.h - shape rules shared by verifiers and importer ----===//
//
// Pure functions over static shapes. The ops' type inference, their verifiers
// and the ONNX importer all call these, so the rules cannot drift apart. On
// failure they return failure() and set `error` to a sentence naming what is
// wrong.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_DIALECT_SHAPEINFERENCE_H
#define MPC_DIALECT_SHAPEINFERENCE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "mlir/Support/LLVM.h"
#include "mlir/Support/LogicalResult.h"

#include <cstdint>
#include <string>

namespace mpc::shape {
using Shape = llvm::SmallVector<int64_t, 6>;

/// Numpy/ONNX multidirectional broadcasting of two shapes.
mlir::FailureOr<Shape> broadcast(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b,
                                 std::string &error);
/// True when `from` broadcasts to exactly `to`.
bool broadcastsTo(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to);
/// [..., M, K] x [..., K, N] -> [..., M, N]; both ranks >= 2, batch dims broadcast.
mlir::FailureOr<Shape> matmul(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs,
                              std::string &error);
/// Output size of one spatial dim of a sliding window (conv and pools).
mlir::FailureOr<int64_t> windowOutputSize(int64_t in, int64_t kernel, int64_t stride,
                                          int64_t padBegin, int64_t padEnd, int64_t dilation,
                                          bool ceilMode, std::string &error);
/// N C spatial... input, M C/group kernel... weight.
mlir::FailureOr<Shape> conv(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                            llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> pads,
                            llvm::ArrayRef<int64_t> dilations, int64_t group, std::string &error);
mlir::FailureOr<Shape> pool(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> kernel,
                            llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> pads,
                            llvm::ArrayRef<int64_t> dilations, bool ceilMode, std::string &error);
/// `axes` must be sorted, unique and in [0, rank).
mlir::FailureOr<Shape> reduce(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> axes,
                              bool keepdims, std::string &error);
mlir::FailureOr<Shape> reshape(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> shape,
                               std::string &error);
mlir::FailureOr<Shape> transpose(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> perm,
                                 std::string &error);
mlir::FailureOr<Shape> concat(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs, int64_t axis,
                              std::string &error);
mlir::FailureOr<Shape> slice(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> offsets,
                             llvm::ArrayRef<int64_t> sizes, llvm::ArrayRef<int64_t> strides,
                             std::string &error);
mlir::FailureOr<Shape> gather(llvm::ArrayRef<int64_t> data, llvm::ArrayRef<int64_t> indices,
                              int64_t axis, std::string &error);
/// Number of elements (1 for a scalar).
int64_t numElements(llvm::ArrayRef<int64_t> shape);
} // namespace mpc::shape

#endif // MPC_DIALECT_SHAPEINFERENCE_H
