//===- SymbolUses.h - symbol reference counts for the inference folds -----===//
#ifndef MPC_LIB_INFERENCE_SYMBOLUSES_H
#define MPC_LIB_INFERENCE_SYMBOLUSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"

namespace mpc::inference {

/// How many times each symbol is referenced in `module`. Every use counts,
/// not only reads, so a parameter referenced in any other way is never
/// taken as read by one op only (and rewritten in place).
inline llvm::DenseMap<mlir::Attribute, unsigned> countSymbolUses(mlir::ModuleOp module) {
  llvm::DenseMap<mlir::Attribute, unsigned> counts;
  if (auto uses = mlir::SymbolTable::getSymbolUses(&module.getBodyRegion()))
    for (const mlir::SymbolTable::SymbolUse &use : *uses)
      ++counts[use.getSymbolRef().getRootReference()];
  return counts;
}

} // namespace mpc::inference

#endif // MPC_LIB_INFERENCE_SYMBOLUSES_H
