//===- Signedness.cpp - unsigned element types -> signless + op markers --===//
//
// The mpc dialect keeps ONNX's uint8..uint64 as MLIR's unsigned integer
// types (ui8 ...), so that folds, shape rules and the runtime see the real
// type. arith and linalg only take signless integers: before lowering, every
// op that reads (or, for mpc.cast, produces) unsigned values is marked, then
// the whole module is retyped to signless. The patterns pick the unsigned
// arith ops (divui, maxui, cmpi ult, uitofp, extui, ...) from the marks.
//
//===----------------------------------------------------------------------===//
#include "LoweringUtils.h"

#include "mpc/Dialect/MpcDialect.h"

#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace mpc::lowering {
namespace {

bool isUnsignedElement(Type type) { return getElementTypeOrSelf(type).isUnsignedInteger(); }

IntegerType signless(IntegerType type) { return IntegerType::get(type.getContext(), type.getWidth()); }

void markUnsignedOps(ModuleOp module, MpcDialect *mpcDialect) {
  UnitAttr unit = UnitAttr::get(module.getContext());
  module.walk([&](Operation *op) {
    if (op->getDialect() != mpcDialect)
      return;
    if (llvm::any_of(op->getOperandTypes(), isUnsignedElement))
      op->setAttr(kUnsignedOperandsAttr, unit);
    if (llvm::any_of(op->getResultTypes(), isUnsignedElement))
      op->setAttr(kUnsignedResultsAttr, unit);
  });
}

} // namespace

bool readsUnsigned(Operation *op) { return op->hasAttr(kUnsignedOperandsAttr); }
bool producesUnsigned(Operation *op) { return op->hasAttr(kUnsignedResultsAttr); }

void dropUnsignedTypes(ModuleOp module) {
  markUnsignedOps(module, module.getContext()->getLoadedDialect<MpcDialect>());
  AttrTypeReplacer replacer;
  replacer.addReplacement([](IntegerType type) -> std::optional<Type> {
    if (!type.isUnsigned())
      return std::nullopt;
    return signless(type);
  });
  // A dense constant's bytes stay; only its type changes.
  replacer.addReplacement([](DenseIntOrFPElementsAttr attr) -> std::optional<Attribute> {
    if (!isUnsignedElement(attr.getType()))
      return std::nullopt;
    return attr.bitcast(signless(cast<IntegerType>(attr.getElementType())));
  });
  replacer.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true, /*replaceLocs=*/false,
                                        /*replaceTypes=*/true);
}

} // namespace mpc::lowering
