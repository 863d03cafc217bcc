//===- TrainerPipeline.cpp - @train_step and @eval_step from a model ------===//
#include "TrainerPipeline.h"

#include "ModelPipeline.h"

#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Train/Passes.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;

namespace mpc::compile {
namespace {
func::FuncOp lookupMain(ModuleOp module) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    module.emitError("the imported model has no @main function");
  return main;
}

void setRoleIfMissing(func::FuncOp func, unsigned index, bool isArg, StringRef role) {
  StringRef current = isArg ? train::argRole(func, index) : train::resultRole(func, index);
  if (!current.empty())
    return;
  auto value = StringAttr::get(func.getContext(), role);
  if (isArg)
    func.setArgAttr(index, train::kRoleAttr, value);
  else
    func.setResultAttr(index, train::kRoleAttr, value);
}

/// Reorders the arguments so that those with `mpc.param` (the state) come
/// first, keeping the relative order of both groups: the ABI's
/// "state, then inputs".
LogicalResult moveStateFirst(func::FuncOp func) {
  unsigned n = func.getNumArguments();
  SmallVector<unsigned> order;
  for (unsigned i = 0; i < n; ++i)
    if (func.getArgAttr(i, train::kParamRefAttr))
      order.push_back(i);
  for (unsigned i = 0; i < n; ++i)
    if (!func.getArgAttr(i, train::kParamRefAttr))
      order.push_back(i);
  if (llvm::equal(order, llvm::seq(0u, n)))
    return success();
  Block &entry = func.front();
  for (unsigned i : order) {
    BlockArgument old = entry.getArgument(i);
    if (failed(func.insertArgument(func.getNumArguments(), old.getType(), func.getArgAttrDict(i),
                                   old.getLoc())))
      return failure();
    old.replaceAllUsesWith(entry.getArgument(func.getNumArguments() - 1));
  }
  llvm::BitVector erase(func.getNumArguments());
  erase.set(0, n);
  return func.eraseArguments(erase);
}

} // namespace

LogicalResult buildTrainStep(ModuleOp module, const TrainOptions &options) {
  PassManager pm(module.getContext());
  AppendLossPassOptions loss;
  loss.loss = options.loss;
  loss.label = options.label;
  loss.output = options.output;
  pm.addPass(createAppendLossPass(loss));
  pm.addPass(createBatchNormTrainingPass());
  tool::addPrecisionPasses(pm, options.precision, options.policyFile);
  pm.addPass(createParametersToArgumentsPass());
  pm.addPass(createAutodiffPass());
  pm.addPass(createFuseCrossEntropyPass());
  LossScalingPassOptions scaling;
  scaling.mode = options.lossScaleMode;
  if (options.lossScaleMode != LossScalingMode::None)
    scaling.initScale = options.lossScale;
  pm.addPass(createLossScalingPass(scaling));
  OptimizerPassOptions optimizer;
  optimizer.optimizer = options.optimizer;
  optimizer.lr = options.lr;
  optimizer.momentum = options.momentum;
  optimizer.nesterov = options.nesterov;
  optimizer.weightDecay = options.weightDecay;
  optimizer.beta1 = options.beta1;
  optimizer.beta2 = options.beta2;
  optimizer.eps = options.eps;
  pm.addPass(createOptimizerPass(optimizer));
  return pm.run(module);
}

LogicalResult buildEvalStep(ModuleOp module, const TrainOptions &options) {
  PassManager pm(module.getContext());
  tool::addPrecisionPasses(pm, options.precision, options.policyFile);
  pm.addPass(createParametersToArgumentsPass());
  if (failed(pm.run(module)))
    return failure();
  func::FuncOp main = lookupMain(module);
  if (!main)
    return failure();
  main.setSymName(kEvalStep);
  for (unsigned i = 0, e = main.getNumArguments(); i < e; ++i)
    if (!main.getArgAttr(i, train::kParamRefAttr))
      setRoleIfMissing(main, i, /*isArg=*/true, train::kRoleInput);
  for (unsigned i = 0, e = main.getNumResults(); i < e; ++i)
    setRoleIfMissing(main, i, /*isArg=*/false, train::kRoleOutput);
  return moveStateFirst(main);
}

LogicalResult mergeEvalStep(ModuleOp train, ModuleOp eval) {
  SymbolTable trainSymbols(train);
  for (Operation &op : llvm::make_early_inc_range(eval.getBody()->getOperations())) {
    auto symbol = dyn_cast<SymbolOpInterface>(op);
    if (!symbol)
      continue;
    Operation *existing = trainSymbols.lookup(symbol.getName());
    if (auto parameter = dyn_cast<ParameterOp>(op)) {
      // Both imports hold the same parameters; keep one copy.
      if (!existing)
        trainSymbols.insert(op.clone());
      else if (!isa<ParameterOp>(existing) ||
               cast<ParameterOp>(existing).getType() != parameter.getType())
        return parameter.emitError("parameter @")
               << symbol.getName() << " differs between the training and inference functions";
      continue;
    }
    if (existing)
      return op.emitError("symbol @") << symbol.getName()
                                      << " is defined by both the training and the inference "
                                         "function's module";
    trainSymbols.insert(op.clone());
  }
  return success();
}

namespace {
/// A body, and a name and role on every argument and result.
LogicalResult checkNamesAndRoles(func::FuncOp func) {
  if (func.isExternal())
    return func.emitError("@") << func.getSymName() << " is only declared; it needs a body";
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (train::argName(func, i).empty() || train::argRole(func, i).empty())
      return func.emitError("argument #")
             << i << " of @" << func.getSymName() << " lacks an mpc.name or mpc.role attribute";
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
    if (train::resultName(func, i).empty() || train::resultRole(func, i).empty())
      return func.emitError("result #")
             << i << " of @" << func.getSymName() << " lacks an mpc.name or mpc.role attribute";
  return success();
}
} // namespace

LogicalResult checkInferenceModule(ModuleOp module) {
  auto eval = module.lookupSymbol<func::FuncOp>(kEvalStep);
  if (!eval)
    return module.emitError("the inference module needs @")
           << kEvalStep << " (docs/training.md); it has none";
  if (failed(checkNamesAndRoles(eval)))
    return failure();
  for (unsigned i = 0, e = eval.getNumArguments(); i < e; ++i) {
    StringRef role = train::argRole(eval, i);
    bool isState = train::isStateRole(role);
    if (eval.getArgAttr(i, train::kParamRefAttr) && !isState)
      return eval.emitError("argument '")
             << train::argName(eval, i) << "' of @" << kEvalStep
             << " reads a parameter but has role '" << role << "', not a state role";
    if (!isState && role != train::kRoleInput)
      return eval.emitError("argument '")
             << train::argName(eval, i) << "' of @" << kEvalStep << " has role '" << role
             << "'; an inference function takes state and '" << train::kRoleInput << "' arguments";
  }
  return success();
}

LogicalResult checkTrainerModule(ModuleOp module) {
  auto train = module.lookupSymbol<func::FuncOp>(kTrainStep);
  auto eval = module.lookupSymbol<func::FuncOp>(kEvalStep);
  if (!train || !eval)
    return module.emitError("the trainer module needs both @")
           << kTrainStep << " and @" << kEvalStep << " (docs/training.md); it lacks @"
           << (train ? kEvalStep : kTrainStep);
  for (func::FuncOp func : {train, eval})
    if (failed(checkNamesAndRoles(func)))
      return failure();
  if (!train::findResult(train, train::kRoleLoss) || !train::findResult(train, train::kRoleFinite))
    return train.emitError("@") << kTrainStep << " must return a 'loss' and a 'finite' result";
  llvm::StringMap<StringRef> trainState;
  for (unsigned i = 0, e = train.getNumArguments(); i < e; ++i)
    if (train::isStateRole(train::argRole(train, i)))
      trainState[train::argName(train, i)] = train::argRole(train, i);
  for (unsigned i = 0, e = eval.getNumArguments(); i < e; ++i) {
    StringRef name = train::argName(eval, i);
    if (!eval.getArgAttr(i, train::kParamRefAttr) && !train::isStateRole(train::argRole(eval, i)))
      continue;
    auto it = trainState.find(name);
    if (it == trainState.end())
      return eval.emitError("state argument '")
             << name << "' of @" << kEvalStep << " is not state of @" << kTrainStep;
    // Running statistics are plain parameters to the inference function.
    eval.setArgAttr(i, train::kRoleAttr, StringAttr::get(eval.getContext(), it->second));
  }
  return success();
}

} // namespace mpc::compile
