//===- Building.h - small op builders shared by the structural importers -===//
//
// ConvTranspose, Resize, Einsum, TopK and the other structural ops are
// rewritten at import into ops mpc already lowers and differentiates; these
// wrappers keep those rewrites to one line per step.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_IMPORT_BUILDING_H
#define MPC_LIB_IMPORT_BUILDING_H

#include "Importer.h"

namespace mpc::importer {
/// Window attributes (Conv's, the pools', ConvTranspose's) beyond this are
/// rejected so that window arithmetic cannot overflow; Resize output dims
/// likewise.
inline constexpr int64_t kMaxWindowSize = int64_t(1) << 20;
inline constexpr int64_t kMaxResizedDim = int64_t(1) << 24;
/// The window attribute `name` (strides, pads, dilations...): `size`
/// entries, each from `minValue` to kMaxWindowSize, or `size` x `dflt` when
/// absent.
mlir::FailureOr<llvm::SmallVector<int64_t>> windowList(NodeImporter &n, llvm::StringRef name,
                                                       size_t size, int64_t dflt,
                                                       int64_t minValue);
/// mpc.transpose unless `perm` is the identity.
mlir::FailureOr<mlir::Value> transposed(NodeImporter &n, mlir::Value x,
                                        llvm::ArrayRef<int64_t> perm);
/// An arith.constant of `host`.
mlir::FailureOr<mlir::Value> hostConstant(NodeImporter &n, const HostTensor &host);
/// GatherElements along `axis` with i64 `indices` already made
/// non-negative: `data` is flattened and read at the linear positions.
mlir::FailureOr<mlir::Value> gatherElements(NodeImporter &n, mlir::Value data,
                                            mlir::Value indices, int64_t axis);
/// The row-major strides of `shape`.
llvm::SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape);
} // namespace mpc::importer

#endif // MPC_LIB_IMPORT_BUILDING_H
