//===- FlattenConstantGlobals.cpp - weights as 1-D globals ----------------===//
//
// LLVM represents an N-D constant global as nested arrays with one constant
// object per innermost row. A ResNet-50 1x1 convolution weight
// (2048x512x1x1) is then a million one-element rows: translating, walking
// and codegen-ing such globals took over a minute and 4 GB for the model.
// Stored as one flat i8 array, a weight is a single byte blob; readers get the
// typed N-D view back through memref.view and memref.expand_shape, which cost
// nothing at run time.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/Common/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_FLATTENCONSTANTGLOBALSPASS
#include "mpc/Codegen/Common/Passes.h.inc"

namespace {
struct FlattenConstantGlobalsPass : impl::FlattenConstantGlobalsPassBase<FlattenConstantGlobalsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<MemRefType> originalTypes;
    for (auto global : module.getOps<memref::GlobalOp>()) {
      MemRefType type = global.getType();
      auto value = dyn_cast_if_present<DenseElementsAttr>(global.getInitialValueAttr());
      if (!global.getConstant() || !value || value.isSplat() || type.getRank() < 2 ||
          !type.getLayout().isIdentity() || !type.hasStaticShape())
        continue;
      // Bytes, not elements: LLVM's AsmPrinter writes an i8 array as one
      // blob but a float array element by element through APFloat, which
      // cost BERT-base (110M floats) minutes. i1 data is bit-packed in the
      // attribute but a byte per element in memory, so it keeps its type.
      unsigned bits = type.getElementTypeBitWidth();
      if (bits % 8 != 0 || type.getMemorySpace())
        continue;
      auto i8 = IntegerType::get(&getContext(), 8);
      auto bytes = RankedTensorType::get({type.getNumElements() * (bits / 8)}, i8);
      global.setType(MemRefType::get(bytes.getShape(), i8));
      global.setInitialValueAttr(DenseElementsAttr::getFromRawBuffer(bytes, value.getRawData()));
      originalTypes[global.getSymName()] = type;
    }
    if (originalTypes.empty())
      return;
    OpBuilder builder(&getContext());
    module.walk([&](memref::GetGlobalOp get) {
      auto it = originalTypes.find(get.getName());
      if (it == originalTypes.end())
        return;
      MemRefType type = it->second;
      builder.setInsertionPointAfter(get);
      SmallVector<ReassociationIndices> allDims(1);
      for (int64_t d = 0; d < type.getRank(); ++d)
        allDims[0].push_back(d);
      Location loc = get.getLoc();
      auto i8 = IntegerType::get(&getContext(), 8);
      auto bytes = memref::GetGlobalOp::create(
          builder, loc, MemRefType::get({type.getNumElements() * (type.getElementTypeBitWidth() / 8)}, i8),
          get.getName());
      Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
      auto flat = memref::ViewOp::create(builder, loc, MemRefType::get({type.getNumElements()}, type.getElementType()),
                                         bytes, zero, ValueRange());
      auto view = memref::ExpandShapeOp::create(builder, loc, type, flat, allDims);
      get.replaceAllUsesWith(view.getResult());
      get.erase();
    });
  }
};
} // namespace
} // namespace mpc
