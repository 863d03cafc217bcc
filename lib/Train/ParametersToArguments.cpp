//===- ParametersToArguments.cpp - parameter reads become @main arguments -===//
//
// Training state has to flow through the step function (docs/training.md):
// each non-frozen float parameter @main reads becomes one appended argument,
// so autodiff can differentiate with respect to it and the optimizer can
// return its new value. Integer and frozen parameters stay constant reads.
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Train/Passes.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/MapVector.h"

namespace mpc {
#define GEN_PASS_DEF_PARAMETERSTOARGUMENTSPASS
#include "mpc/Train/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {

bool isTrainable(mpc::ParameterOp param) {
  auto type = dyn_cast<RankedTensorType>(param.getType());
  return !param.getFrozen() && type && isa<FloatType>(type.getElementType());
}

struct ParametersToArgumentsPassImpl
    : mpc::impl::ParametersToArgumentsPassBase<ParametersToArgumentsPassImpl> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal()) {
      module.emitError("mpc-parameters-to-arguments: the module has no @main function with a body");
      return signalPassFailure();
    }
    // One argument per parameter, in the order @main first reads them.
    llvm::MapVector<Operation *, SmallVector<mpc::GetParameterOp>> reads;
    main.walk([&](mpc::GetParameterOp read) {
      auto param = SymbolTable::lookupNearestSymbolFrom<mpc::ParameterOp>(read, read.getNameAttr());
      if (param && isTrainable(param))
        reads[param].push_back(read);
    });
    for (auto &[op, uses] : reads) {
      auto param = cast<mpc::ParameterOp>(op);
      StringRef name = param.getSymName();
      // Running statistics are state the model updates itself (mpc-batch-norm-
      // training returns them), not something the optimizer trains.
      bool isBuffer = mpc::train::findResult(main, mpc::train::kRoleBuffer, name).has_value();
      unsigned index = mpc::train::appendArgument(
          main, param.getType(), name, isBuffer ? mpc::train::kRoleBuffer : mpc::train::kRoleParam);
      main.setArgAttr(index, mpc::train::kParamRefAttr, FlatSymbolRefAttr::get(param.getSymNameAttr()));
      Value argument = main.getArgument(index);
      for (mpc::GetParameterOp read : uses) {
        if (read.getType() != argument.getType()) {
          read.emitError() << "mpc-parameters-to-arguments: reads parameter @" << name << " as "
                           << read.getType() << " but it holds " << argument.getType()
                           << "; fix the mpc.get_parameter result type";
          return signalPassFailure();
        }
        read.replaceAllUsesWith(argument);
        read.erase();
      }
    }
  }
};

} // namespace
