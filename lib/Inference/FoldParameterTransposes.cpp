//===- FoldParameterTransposes.cpp - mpc-fold-parameter-transposes --------===//
//
// At inference the weights are constants, so transposing one is work that
// can be done once, here, instead of on every run: in a BERT-style export
// without constant folding the weight transposes were 37% of the run time.
// The permutation is applied to the stored bytes, so any element type whose
// elements are whole bytes moves bit for bit.
//
// Training must not run this: parameters change every step.
//
//===----------------------------------------------------------------------===//
#include "SymbolUses.h"
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Dialect/TransposeElements.h"
#include "mpc/Inference/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

namespace mpc {
#define GEN_PASS_DEF_FOLDPARAMETERTRANSPOSESPASS
#include "mpc/Inference/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {
struct FoldParameterTransposesPass
    : mpc::impl::FoldParameterTransposesPassBase<FoldParameterTransposesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    llvm::DenseMap<Attribute, unsigned> useCount = mpc::inference::countSymbolUses(module);

    SmallVector<mpc::TransposeOp> transposes;
    module.walk([&](mpc::TransposeOp op) { transposes.push_back(op); });
    for (mpc::TransposeOp op : transposes) {
      auto resultType = dyn_cast<RankedTensorType>(op.getType());
      if (!resultType || !resultType.hasStaticShape())
        continue;
      OpBuilder builder(op);
      DenseElementsAttr dense;
      if (matchPattern(op.getInput(), m_Constant(&dense))) {
        if (std::optional<DenseElementsAttr> moved = mpc::transposeElements(dense, resultType, op.getPerm())) {
          Value folded = arith::ConstantOp::create(builder, op.getLoc(), resultType, *moved);
          op.getResult().replaceAllUsesWith(folded);
          op->erase();
        }
        continue;
      }
      auto read = op.getInput().getDefiningOp<mpc::GetParameterOp>();
      if (!read)
        continue;
      auto parameter = symbols.lookup<mpc::ParameterOp>(read.getNameAttr().getAttr());
      if (!parameter)
        continue;
      auto values = dyn_cast<DenseElementsAttr>(parameter.getValue());
      if (!values || values.getType() != op.getInput().getType())
        continue;
      std::optional<DenseElementsAttr> moved = mpc::transposeElements(values, resultType, op.getPerm());
      if (!moved)
        continue;
      if (read->hasOneUse() && useCount.lookup(read.getNameAttr().getAttr()) == 1) {
        // The only reader: the parameter becomes its transpose.
        parameter.setTypeAttr(TypeAttr::get(resultType));
        parameter.setValueAttr(*moved);
        read.getResult().setType(resultType);
        op.getResult().replaceAllUsesWith(read.getResult());
        op->erase();
        continue;
      }
      std::string name = parameter.getSymName().str() + ".T";
      for (int64_t d : op.getPerm())
        name += std::to_string(d);
      OpBuilder atModule(parameter);
      atModule.setInsertionPointAfter(parameter);
      auto copy = mpc::ParameterOp::create(atModule, parameter.getLoc(), name, resultType, *moved,
                                           parameter.getFrozen());
      symbols.insert(copy); // renames on a clash
      Value newRead = mpc::GetParameterOp::create(builder, op.getLoc(), resultType,
                                                  FlatSymbolRefAttr::get(copy.getSymNameAttr()));
      newRead.getDefiningOp()->setDiscardableAttrs(op->getDiscardableAttrDictionary());
      op.getResult().replaceAllUsesWith(newRead);
      op->erase();
      if (read->use_empty())
        read->erase();
    }
    // Parameters no function reads any more (all their transposes moved to
    // copies) leave the program's memory.
    SmallVector<mpc::ParameterOp> parameters(module.getOps<mpc::ParameterOp>());
    for (mpc::ParameterOp parameter : parameters)
      if (SymbolTable::symbolKnownUseEmpty(parameter, module))
        parameter->erase();
  }
};
} // namespace
