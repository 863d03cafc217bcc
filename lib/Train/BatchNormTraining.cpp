//===- BatchNormTraining.cpp - batch norm with batch statistics -----------===//
//
// Rewrites every mpc.batch_norm of @main into the train-mode computation
// built from primitive ops (reduce_mean, sub, mul, sqrt, div, add), so that
// mpc-autodiff differentiates it through the primitives' own rules instead
// of needing a batch-norm gradient. The running statistics become extra
// results of @main (role "buffer") that later passes turn into state.
//
//===----------------------------------------------------------------------===//
#include "TrainBuilder.h"

#include "mpc/Train/Passes.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"

namespace mpc {
#define GEN_PASS_DEF_BATCHNORMTRAININGPASS
#include "mpc/Train/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using mpc::train::castElements;
using mpc::train::describeOp;
using mpc::train::scalarConstant;

namespace {

/// The parameter a running statistic is read from; an error naming the node
/// when it is a computed value (it would have nowhere to be written back).
FailureOr<StringRef> runningStatParameter(mpc::BatchNormOp op, Value stat, StringRef what) {
  if (auto read = stat.getDefiningOp<mpc::GetParameterOp>())
    return read.getName();
  op.emitError() << "mpc-batch-norm-training: the running " << what << " of " << describeOp(op)
                 << " is computed in the graph, not read from a parameter (initializer); "
                    "training can only update running statistics stored as initializers";
  return failure();
}

/// A running statistic's parameter must be nothing else: training overwrites
/// it with the running update. torch.onnx.export (eval mode) merges
/// initializers of equal value, so a fresh model's running variance (ones)
/// can become the very initializer that is also the scale (ones); training
/// would then silently never train the scale. Refuse that, naming both uses.
LogicalResult checkStatisticsAreOwnParameters(func::FuncOp main) {
  llvm::StringSet<> statistics;
  main.walk([&](mpc::BatchNormOp op) {
    for (Value stat : {op.getMean(), op.getVariance()})
      if (auto read = stat.getDefiningOp<mpc::GetParameterOp>())
        statistics.insert(read.getName());
  });
  LogicalResult result = success();
  main.walk([&](mpc::GetParameterOp read) {
    if (!statistics.contains(read.getName()))
      return;
    for (OpOperand &use : read->getUses()) {
      auto norm = dyn_cast<mpc::BatchNormOp>(use.getOwner());
      if (norm && (use.get() == norm.getMean() || use.get() == norm.getVariance()) &&
          use.getOperandNumber() >= 3)
        continue;
      use.getOwner()->emitError()
          << "mpc-batch-norm-training: parameter '" << read.getName()
          << "' is a batch norm's running statistic and is also read by " << describeOp(use.getOwner())
          << " (operand " << use.getOperandNumber()
          << "); training would overwrite it with running statistics. Exporters merge "
             "initializers of equal value (torch.onnx.export in eval mode does so for a fresh "
             "model's ones and zeros): re-export once the running statistics differ from the "
             "scale and bias (e.g. set them to their intended values, or train a step first)";
      result = failure();
    }
  });
  return result;
}

/// Sets the node name of `op` on the ops the rewrite inserted before it, so
/// that diagnostics of later passes still name the ONNX node.
void tagInsertedOps(Operation *firstNew, Operation *op) {
  auto node = op->getAttrOfType<StringAttr>(mpc::kNodeNameAttr);
  if (!node)
    return;
  for (Operation *it = firstNew; it && it != op; it = it->getNextNode())
    if (isa<mpc::MpcDialect>(it->getDialect()))
      it->setAttr(mpc::kNodeNameAttr, node);
}

struct Rewritten {
  Value meanUpdate, varianceUpdate;
};

FailureOr<Rewritten> rewriteBatchNorm(mpc::BatchNormOp op) {
  auto inputType = cast<RankedTensorType>(op.getInput().getType());
  int64_t rank = inputType.getRank();
  if (rank < 2) {
    op.emitError() << "mpc-batch-norm-training: " << describeOp(op) << " has a rank-" << rank
                   << " input; batch norm needs (N, C, ...)";
    return failure();
  }
  ArrayRef<int64_t> shape = inputType.getShape();
  int64_t channels = shape[1];
  int64_t perChannel = inputType.getNumElements() / channels;
  if (perChannel < 2) {
    // PyTorch refuses too: the unbiased variance would divide by zero.
    op.emitError() << "mpc-batch-norm-training: " << describeOp(op)
                   << " sees one value per channel (input " << inputType
                   << "); training needs a batch (or spatial size) above 1";
    return failure();
  }

  SmallVector<int64_t> axes{0};
  SmallVector<int64_t> statShape(rank, 1);
  statShape[1] = channels;
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);

  Operation *before = op->getPrevNode();
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type element = inputType.getElementType();
  Value x = op.getInput();

  // Normalize with the batch mean and biased variance (PyTorch train mode).
  Value mean = mpc::ReduceMeanOp::create(b, loc, x, axes, /*keepdims=*/true, TypeAttr());
  Value centered = mpc::SubOp::create(b, loc, x, mean);
  Value variance = mpc::ReduceMeanOp::create(b, loc, mpc::MulOp::create(b, loc, centered, centered),
                                             axes, /*keepdims=*/true, TypeAttr());
  Value epsilon = scalarConstant(b, loc, element, op.getEpsilon().convertToDouble());
  Value stddev = mpc::SqrtOp::create(b, loc, mpc::AddOp::create(b, loc, variance, epsilon));
  Value normalized = mpc::DivOp::create(b, loc, centered, stddev);
  auto perChannelShape = [&](Value v) -> Value {
    return mpc::ReshapeOp::create(b, loc, castElements(b, loc, v, element), statShape);
  };
  Value scaled = mpc::MulOp::create(b, loc, normalized, perChannelShape(op.getScale()));
  Value result = mpc::AddOp::create(b, loc, scaled, perChannelShape(op.getBias()));

  // running = momentum * running + (1 - momentum) * batch, ONNX's convention;
  // the running variance takes the unbiased (n / (n - 1)) batch variance.
  double momentum = op.getMomentum().convertToDouble();
  auto update = [&](Value running, Value batch, double correction) -> Value {
    Type statElement = cast<RankedTensorType>(running.getType()).getElementType();
    Value flat = mpc::ReshapeOp::create(b, loc, batch, ArrayRef<int64_t>{channels});
    flat = castElements(b, loc, flat, statElement);
    if (correction != 1.0)
      flat = mpc::MulOp::create(b, loc, flat, scalarConstant(b, loc, statElement, correction));
    Value kept = mpc::MulOp::create(b, loc, running, scalarConstant(b, loc, statElement, momentum));
    Value added =
        mpc::MulOp::create(b, loc, flat, scalarConstant(b, loc, statElement, 1.0 - momentum));
    return mpc::AddOp::create(b, loc, kept, added);
  };
  Rewritten rewritten;
  rewritten.meanUpdate = update(op.getMean(), mean, 1.0);
  rewritten.varianceUpdate =
      update(op.getVariance(), variance, double(perChannel) / double(perChannel - 1));

  tagInsertedOps(before ? before->getNextNode() : &op->getBlock()->front(), op);
  op.getResult().replaceAllUsesWith(result);
  return rewritten;
}

struct BatchNormTrainingPassImpl : mpc::impl::BatchNormTrainingPassBase<BatchNormTrainingPassImpl> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, mpc::MpcDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal()) {
      module.emitError("mpc-batch-norm-training: the module has no @main function to train");
      return signalPassFailure();
    }
    SmallVector<mpc::BatchNormOp> norms;
    main.walk([&](mpc::BatchNormOp op) { norms.push_back(op); });
    if (failed(checkStatisticsAreOwnParameters(main)))
      return signalPassFailure();

    llvm::StringSet<> updated;
    for (mpc::BatchNormOp op : norms) {
      FailureOr<StringRef> meanName = runningStatParameter(op, op.getMean(), "mean");
      FailureOr<StringRef> varName = runningStatParameter(op, op.getVariance(), "variance");
      if (failed(meanName) || failed(varName))
        return signalPassFailure();
      for (StringRef name : {*meanName, *varName})
        if (!updated.insert(name).second) {
          op.emitError() << "mpc-batch-norm-training: " << describeOp(op)
                         << " shares the running statistic '" << name
                         << "' with another batch norm or as both mean and variance; "
                            "each batch norm needs its own running statistics to train";
          return signalPassFailure();
        }
      FailureOr<Rewritten> rewritten = rewriteBatchNorm(op);
      if (failed(rewritten))
        return signalPassFailure();
      // Names are copied before the op (and maybe its reads) go away.
      std::string mean = meanName->str(), var = varName->str();
      op.erase();
      mpc::train::appendResult(main, rewritten->meanUpdate, mean, mpc::train::kRoleBuffer);
      mpc::train::appendResult(main, rewritten->varianceUpdate, var, mpc::train::kRoleBuffer);
    }
  }
};
} // namespace
