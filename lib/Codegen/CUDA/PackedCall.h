//===- PackedCall.h - calls to the CUDA runtime's packed entries -*- C++ -*-===//
//
// Internal to lib/Codegen/CUDA: the runtime's library entries
// (mpc_cuda_matmul, mpc_cuda_attention; include/mpc/Runtime/CUDA/Abi.h) take
// one memref<N x i64> the compiled code fills on the host stack. This builds
// such a block, fills it with constants and memref operands, and calls.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_CODEGEN_CUDA_PACKEDCALL_H
#define MPC_LIB_CODEGEN_CUDA_PACKEDCALL_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace mpc::cuda {
using namespace mlir;

/// How a memref operand is laid out in its slots: aligned pointer, offset,
/// then (with `rank`) its rank, then `axes` sizes and `axes` strides. A
/// lower-rank operand is padded with size-1, stride-0 axes after its own
/// (`padLeading` false) or before them.
struct OperandSlots {
  int64_t axes;
  bool rank = false;
  bool padLeading = false;
  /// Stride 0 on axes of static size 1 (broadcast axes), not the buffer's.
  bool zeroUnitStrides = false;
};

class PackedCall {
public:
  /// An alloca of `slots` i64 before `b`'s insertion point, tagged
  /// `mpc.host_buffer` (mpc-cuda-device-memory leaves it on the host).
  PackedCall(OpBuilder &b, Location loc, int64_t slots);

  void put(int64_t slot, Value value); // index or i64
  void put(int64_t slot, int64_t value);
  /// `view`'s descriptor from slot `base`, laid out as `layout` says.
  void putOperand(int64_t base, Value view, const OperandSlots &layout);
  /// Zeros in `count` slots from `base` (an absent operand).
  void putZeros(int64_t base, int64_t count);
  /// Calls `callee` (declared private in `module` if it is not yet) with
  /// the block.
  func::CallOp call(ModuleOp module, StringRef callee);

private:
  OpBuilder &b;
  Location loc;
  memref::AllocaOp params;
};

/// The buffers whose addresses `call` receives in a packed block (an
/// operand built by PackedCall): what a runtime call may read or write
/// beside its memref operands.
SmallVector<Value> packedBuffers(func::CallOp call);

} // namespace mpc::cuda

#endif // MPC_LIB_CODEGEN_CUDA_PACKEDCALL_H
