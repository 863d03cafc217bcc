//===- FuseCrossEntropy.cpp - the mpc-fuse-cross-entropy pass -------------===//
//
// The loss and the logits' gradient each need every row's maximum and sum of
// exponentials; as one op they are lowered to one pass over the logits (a
// row kernel on CUDA) instead of a loss, a gradient that recomputes the
// softmax, and the buffers between them (docs/training.md, "Autodiff").
//
//===----------------------------------------------------------------------===//
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Train/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLExtras.h"

namespace mpc {
#define GEN_PASS_DEF_FUSECROSSENTROPYPASS
#include "mpc/Train/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {

/// The loss `grad` is the gradient of: a softmax_cross_entropy of the same
/// logits and labels in the same block.
mpc::SoftmaxCrossEntropyOp forwardOf(mpc::SoftmaxCrossEntropyGradOp grad) {
  for (Operation *user : grad.getLogits().getUsers()) {
    auto loss = dyn_cast<mpc::SoftmaxCrossEntropyOp>(user);
    if (loss && loss.getLabels() == grad.getLabels() && loss->getBlock() == grad->getBlock())
      return loss;
  }
  return {};
}

/// Whether every user of `value` comes after `op` in its block: then nothing
/// before `op`, `dloss` included, is computed from it.
bool usedOnlyAfter(Value value, Operation *op) {
  return llvm::all_of(value.getUsers(), [&](Operation *user) {
    Operation *ancestor = op->getBlock()->findAncestorOpInBlock(*user);
    return ancestor && op->isBeforeInBlock(ancestor);
  });
}

bool sameAccumulator(Operation *a, Operation *b) {
  return cast<mpc::PrecisionOpInterface>(a).getAccumulatorType() ==
         cast<mpc::PrecisionOpInterface>(b).getAccumulatorType();
}

struct FuseCrossEntropyPassImpl : mpc::impl::FuseCrossEntropyPassBase<FuseCrossEntropyPassImpl> {
  void runOnOperation() override {
    SmallVector<mpc::SoftmaxCrossEntropyGradOp> grads;
    getOperation().walk([&](mpc::SoftmaxCrossEntropyGradOp grad) { grads.push_back(grad); });
    for (mpc::SoftmaxCrossEntropyGradOp grad : grads) {
      mpc::SoftmaxCrossEntropyOp loss = forwardOf(grad);
      if (!loss || !loss->isBeforeInBlock(grad) || !usedOnlyAfter(loss.getResult(), grad) ||
          !sameAccumulator(loss, grad))
        continue;
      OpBuilder b(grad);
      auto fused = mpc::SoftmaxCrossEntropyWithGradOp::create(b, grad.getLoc(), grad.getLogits(),
                                                              grad.getLabels(), grad.getDloss());
      fused->setAttrs(grad->getAttrDictionary());
      loss.getResult().replaceAllUsesWith(fused.getLoss());
      grad.getResult().replaceAllUsesWith(fused.getGrad());
      grad->erase();
      loss->erase();
    }
  }
};
} // namespace
