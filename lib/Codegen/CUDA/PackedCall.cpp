//===- PackedCall.cpp - calls to the CUDA runtime's packed entries --------===//
#include "PackedCall.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mpc::cuda {

PackedCall::PackedCall(OpBuilder &b, Location loc, int64_t slots) : b(b), loc(loc) {
  params = memref::AllocaOp::create(b, loc, MemRefType::get({slots}, b.getI64Type()));
  params->setAttr("mpc.host_buffer", b.getUnitAttr());
}

void PackedCall::put(int64_t slot, Value value) {
  if (value.getType().isIndex())
    value = arith::IndexCastOp::create(b, loc, b.getI64Type(), value);
  memref::StoreOp::create(b, loc, value, params,
                          ValueRange{arith::ConstantIndexOp::create(b, loc, slot)});
}

void PackedCall::put(int64_t slot, int64_t value) {
  put(slot, arith::ConstantIntOp::create(b, loc, b.getI64Type(), value));
}

void PackedCall::putOperand(int64_t base, Value view, const OperandSlots &layout) {
  auto type = cast<MemRefType>(view.getType());
  int64_t rank = type.getRank();
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, view);
  put(base, memref::ExtractAlignedPointerAsIndexOp::create(b, loc, view));
  put(base + 1, meta.getOffset());
  int64_t sizes = base + 2;
  if (layout.rank)
    put(sizes++, rank);
  int64_t strides = sizes + layout.axes;
  int64_t first = layout.padLeading ? layout.axes - rank : 0;
  for (int64_t axis = 0; axis < layout.axes; ++axis) {
    int64_t d = axis - first;
    if (d < 0 || d >= rank) {
      put(sizes + axis, 1);
      put(strides + axis, 0);
      continue;
    }
    put(sizes + axis, meta.getSizes()[d]);
    if (layout.zeroUnitStrides && type.getDimSize(d) == 1)
      put(strides + axis, 0);
    else
      put(strides + axis, meta.getStrides()[d]);
  }
}

void PackedCall::putZeros(int64_t base, int64_t count) {
  for (int64_t slot = base; slot < base + count; ++slot)
    put(slot, 0);
}

func::CallOp PackedCall::call(ModuleOp module, StringRef callee) {
  auto func = module.lookupSymbol<func::FuncOp>(callee);
  if (!func) {
    OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
    func = func::FuncOp::create(mb, loc, callee, mb.getFunctionType({params.getType()}, {}));
    func.setPrivate();
  }
  return func::CallOp::create(b, loc, func, ValueRange{params});
}

SmallVector<Value> packedBuffers(func::CallOp call) {
  SmallVector<Value> buffers;
  for (Value operand : call.getOperands()) {
    auto block = operand.getDefiningOp<memref::AllocaOp>();
    if (!block || !block->hasAttr("mpc.host_buffer"))
      continue;
    for (Operation *user : block->getUsers()) {
      auto store = dyn_cast<memref::StoreOp>(user);
      if (!store || store.getMemRef() != block)
        continue;
      Value slot = store.getValueToStore();
      if (auto cast = slot.getDefiningOp<arith::IndexCastOp>())
        slot = cast.getIn();
      if (auto pointer = slot.getDefiningOp<memref::ExtractAlignedPointerAsIndexOp>())
        buffers.push_back(pointer.getSource());
    }
  }
  return buffers;
}

} // namespace mpc::cuda
