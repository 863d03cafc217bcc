//===- InitAll.h - every dialect, pass and pipeline of mpc ------*- C++ -*-===//
//
// What the tools register: one place, so that a new library or target is
// added here once and every tool sees it (lib/InitAll.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef MPC_INITALL_H
#define MPC_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mpc {
/// Every dialect mpc's tools read or produce, with the external interface
/// models bufferization, tiling and the LLVM conversions need.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Every mpc pass and named pipeline, for mpc-opt and `--pass-pipeline`.
void registerAllPasses();
} // namespace mpc

#endif // MPC_INITALL_H
