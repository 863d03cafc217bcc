//===- FlattenConstantGlobals.cpp - weights as 1-D globals ----------------===//
//
// LLVM represents an N-D constant global as nested arrays with one constant
// object per innermost row. A ResNet-50 1x1 convolution weight
// (2048x512x1x1) is then a million one-element rows: translating, walking
// and codegen-ing such globals took over a minute and 4 GB for the model.
// Stored as one flat array, a weight is a single byte blob; readers get the
// N-D view back through memref.expand_shape, which costs nothing at run time.
//
//===----------------------------------------------------------------------===//
#include "ConversionPasses.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_FLATTENCONSTANTGLOBALSPASS
#include "ConversionPasses.h.inc"

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
      auto flatTensor = RankedTensorType::get({type.getNumElements()}, type.getElementType());
      global.setType(MemRefType::get(flatTensor.getShape(), type.getElementType(), MemRefLayoutAttrInterface(),
                                     type.getMemorySpace()));
      global.setInitialValueAttr(value.reshape(flatTensor));
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
      auto flat = memref::GetGlobalOp::create(
          builder, get.getLoc(),
          MemRefType::get({type.getNumElements()}, type.getElementType(), MemRefLayoutAttrInterface(),
                          type.getMemorySpace()),
          get.getName());
      auto view = memref::ExpandShapeOp::create(builder, get.getLoc(), type, flat, allDims);
      get.replaceAllUsesWith(view.getResult());
      get.erase();
    });
  }
};
} // namespace
} // namespace mpc
