//===- AppendLoss.cpp - the mpc-append-loss pass --------------------------===//
//
// Turns @main (inference) into a function that also returns the training
// loss: a label argument is appended and the loss becomes result 0, the
// model outputs following it (docs/training.md, step 1). The loss ops are
// Sensitive, so precision assignment keeps them in f32.
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Train/Passes.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace mpc {
#define GEN_PASS_DEF_APPENDLOSSPASS
#include "mpc/Train/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc::train;

namespace {

/// "'a', 'b'" for messages; unnamed results are shown by index.
std::string listResults(func::FuncOp func, ArrayRef<unsigned> indices) {
  std::string out;
  llvm::raw_string_ostream os(out);
  llvm::interleaveComma(indices, os, [&](unsigned i) {
    StringRef name = resultName(func, i);
    if (name.empty())
      os << "#" << i;
    else
      os << "'" << name << "'";
  });
  return out;
}

struct AppendLossPassImpl : mpc::impl::AppendLossPassBase<AppendLossPassImpl> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>("main");
    if (!func || func.isExternal()) {
      module.emitError("mpc-append-loss: the module has no @main function to add a loss to");
      return signalPassFailure();
    }
    if (!func.getBody().hasOneBlock()) {
      func.emitError("mpc-append-loss: @main must have a single block");
      return signalPassFailure();
    }
    if (findResult(func, kRoleLoss)) {
      func.emitError("mpc-append-loss: @main already returns a loss (result with mpc.role = "
                     "\"loss\"); run the pass once");
      return signalPassFailure();
    }
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      if (argName(func, i) == label) {
        func.emitError() << "mpc-append-loss: the label name '" << label
                         << "' is already the name of input #" << i
                         << " of @main; pass label=NAME with an unused name";
        return signalPassFailure();
      }

    FailureOr<unsigned> chosen = chooseOutput(func);
    if (failed(chosen))
      return signalPassFailure();
    Value output = getReturn(func).getOperand(*chosen);
    auto outputType = cast<RankedTensorType>(output.getType());
    std::string outputName = resultName(func, *chosen).str();
    if (outputName.empty())
      outputName = "#" + std::to_string(*chosen);

    Type labelType;
    if (loss == mpc::LossKind::CrossEntropy) {
      if (outputType.getRank() == 0) {
        func.emitError() << "mpc-append-loss: output '" << outputName
                         << "' is a scalar; cross_entropy needs logits with the classes on the "
                            "last axis (pass output=NAME for a logits output, or loss=mse)";
        return signalPassFailure();
      }
      labelType = RankedTensorType::get(outputType.getShape().drop_back(),
                                        IntegerType::get(&getContext(), 64));
    } else {
      labelType = outputType;
    }

    // Existing arguments and results get their training roles.
    Builder builder(&getContext());
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      if (argRole(func, i).empty())
        func.setArgAttr(i, kRoleAttr, builder.getStringAttr(kRoleInput));
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
      if (resultRole(func, i).empty())
        func.setResultAttr(i, kRoleAttr, builder.getStringAttr(kRoleOutput));

    unsigned labelIndex = appendArgument(func, labelType, label, kRoleLabel);
    Value labelValue = func.getArgument(labelIndex);
    func::ReturnOp ret = getReturn(func);
    OpBuilder b(ret);
    Location loc = output.getLoc();
    Value lossValue;
    if (loss == mpc::LossKind::CrossEntropy)
      lossValue = mpc::SoftmaxCrossEntropyOp::create(b, loc, output, labelValue);
    else
      lossValue = mpc::MseLossOp::create(b, loc, output, labelValue);

    DictionaryAttr attrs = builder.getDictionaryAttr(
        {builder.getNamedAttr(mpc::kIONameAttr, builder.getStringAttr("loss")),
         builder.getNamedAttr(kRoleAttr, builder.getStringAttr(kRoleLoss))});
    if (failed(func.insertResult(0, lossValue.getType(), attrs))) {
      func.emitError("mpc-append-loss: cannot add the loss result");
      return signalPassFailure();
    }
    ret->insertOperands(0, lossValue);
  }

  /// The result the loss is taken on: the `output` option's, or the only
  /// float result.
  FailureOr<unsigned> chooseOutput(func::FuncOp func) {
    SmallVector<unsigned> all, floats;
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
      all.push_back(i);
      auto type = dyn_cast<RankedTensorType>(func.getResultTypes()[i]);
      if (type && isa<FloatType>(type.getElementType()))
        floats.push_back(i);
    }
    if (!output.empty()) {
      for (unsigned i : all)
        if (resultName(func, i) == output) {
          if (!llvm::is_contained(floats, i)) {
            func.emitError() << "mpc-append-loss: output '" << output
                             << "' of @main is not a float tensor; a loss needs float "
                                "predictions (pass output=NAME for one of "
                             << listResults(func, floats) << ")";
            return failure();
          }
          return i;
        }
      func.emitError() << "mpc-append-loss: @main has no output named '" << output
                       << "'; its outputs are " << (all.empty() ? "none" : listResults(func, all));
      return failure();
    }
    if (floats.empty()) {
      func.emitError("mpc-append-loss: @main has no float output to take a loss on");
      return failure();
    }
    if (floats.size() > 1) {
      func.emitError() << "mpc-append-loss: @main has several float outputs ("
                       << listResults(func, floats)
                       << "); pass output=NAME to choose the one the loss is taken on";
      return failure();
    }
    return floats.front();
  }
};
} // namespace
