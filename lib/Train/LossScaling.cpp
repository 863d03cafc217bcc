//===- LossScaling.cpp - loss scaling and the non-finite step check -------===//
//
// Low-precision backward passes underflow small gradients to zero; scaling
// the seed dL/dL by S and dividing the gradients by S afterwards (in f32)
// keeps them representable. A step whose loss or gradients are not all
// finite must be skipped: the pass computes that flag (result "finite") for
// mpc-optimizer to gate every state update on, and, in dynamic mode, updates
// the scale the way torch.cuda.amp.GradScaler does.
//
//===----------------------------------------------------------------------===//
#include "TrainBuilder.h"

#include "mpc/Train/Passes.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"

#include <cmath>

namespace mpc {
#define GEN_PASS_DEF_LOSSSCALINGPASS
#include "mpc/Train/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc::train;

namespace {

/// A rank-0 f32 that is 0 when every element of `value` is finite and NaN
/// otherwise: x * 0 is NaN exactly for inf and NaN, and a sum propagates it.
Value nonFiniteProbe(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  Value zeros =
      mpc::MulOp::create(b, loc, value, scalarConstant(b, loc, type.getElementType(), 0.0));
  if (type.getRank() > 0) {
    SmallVector<int64_t> axes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      axes.push_back(d);
    zeros = mpc::ReduceSumOp::create(b, loc, zeros, axes, /*keepdims=*/false, TypeAttr());
  }
  return castElements(b, loc, zeros, b.getF32Type());
}

struct LossScalingPassImpl : mpc::impl::LossScalingPassBase<LossScalingPassImpl> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, mpc::MpcDialect>();
  }

  LogicalResult checkOptions(ModuleOp module) {
    auto bad = [&](const Twine &what) { return module.emitError("mpc-loss-scaling: ") << what; };
    if (mode == mpc::LossScalingMode::None)
      return success();
    if (!(initScale > 0) || !std::isfinite(initScale))
      return bad("init-scale must be a finite number above 0");
    if (mode == mpc::LossScalingMode::Static)
      return success();
    if (!(growthFactor > 1) || !std::isfinite(growthFactor))
      return bad("growth-factor must be a finite number above 1");
    if (!(backoffFactor > 0 && backoffFactor < 1))
      return bad("backoff-factor must be in (0, 1)");
    if (growthInterval < 1)
      return bad("growth-interval must be at least 1");
    if (!(minScale > 0) || !(minScale <= maxScale) || !std::isfinite(maxScale))
      return bad("need 0 < min-scale <= max-scale < inf");
    if (initScale < minScale || initScale > maxScale)
      return bad("init-scale must lie in [min-scale, max-scale]");
    return success();
  }

  /// The seed constant mpc-autodiff left behind.
  FailureOr<arith::ConstantOp> findSeed(func::FuncOp main) {
    SmallVector<arith::ConstantOp> seeds;
    main.walk([&](arith::ConstantOp op) {
      if (op->hasAttr(kGradSeedAttr))
        seeds.push_back(op);
    });
    if (seeds.size() == 1)
      return seeds.front();
    if (seeds.empty())
      main.emitError("mpc-loss-scaling: @main has no backward-pass seed (an arith.constant marked "
                     "mpc.grad_seed); run mpc-autodiff first");
    else
      seeds[1].emitError("mpc-loss-scaling: @main has more than one backward-pass seed "
                         "(mpc.grad_seed); expected the single one mpc-autodiff writes");
    return failure();
  }

  /// Dynamic mode: the GradScaler update of (scale, good steps) from `finite`.
  void appendDynamicUpdate(OpBuilder &b, Location loc, func::FuncOp main, Value finite, Value scale,
                           Value goodSteps) {
    Type f32 = b.getF32Type(), i64 = b.getI64Type();
    auto f32c = [&](double v) { return scalarConstant(b, loc, f32, v); };
    auto i64c = [&](double v) { return scalarConstant(b, loc, i64, v); };
    // Non-finite: back off, clamped below so the scale never reaches 0.
    Value backedOff = mpc::MaxOp::create(
        b, loc, mpc::MulOp::create(b, loc, scale, f32c(backoffFactor)), f32c(minScale));
    // Finite: one more good step; after growth-interval of them grow (clamped
    // above so it never reaches inf) and start counting again.
    Value next = mpc::AddOp::create(b, loc, goodSteps, i64c(1));
    Value grow = mpc::EqualOp::create(b, loc, next, i64c(double(growthInterval)));
    Value grown = mpc::MinOp::create(b, loc, mpc::MulOp::create(b, loc, scale, f32c(growthFactor)),
                                     f32c(maxScale));
    Value finiteScale = mpc::WhereOp::create(b, loc, grow, grown, scale);
    Value finiteSteps = mpc::WhereOp::create(b, loc, grow, i64c(0), next);
    Value newScale = mpc::WhereOp::create(b, loc, finite, finiteScale, backedOff);
    Value newSteps = mpc::WhereOp::create(b, loc, finite, finiteSteps, i64c(0));
    appendResult(main, newScale, mpc::manifest::kLossScaleState, kRoleScaler);
    appendResult(main, newSteps, "loss_scale_good_steps", kRoleScaler);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkOptions(module)))
      return signalPassFailure();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal()) {
      module.emitError("mpc-loss-scaling: the module has no @main function to train");
      return signalPassFailure();
    }
    if (findResult(main, kRoleFinite)) {
      main.emitError("mpc-loss-scaling: @main already has a 'finite' result; run the pass once");
      return signalPassFailure();
    }
    std::optional<unsigned> lossIndex = findResult(main, kRoleLoss);
    if (!lossIndex) {
      main.emitError("mpc-loss-scaling: @main has no loss result (role 'loss'); run "
                     "mpc-append-loss first");
      return signalPassFailure();
    }
    SmallVector<unsigned> grads = findResults(main, kRoleGrad);
    if (grads.empty()) {
      main.emitError("mpc-loss-scaling: @main has no gradient results (role 'grad'); run "
                     "mpc-autodiff first");
      return signalPassFailure();
    }
    FailureOr<arith::ConstantOp> seed = findSeed(main);
    if (failed(seed))
      return signalPassFailure();

    Location loc = seed->getLoc();
    Type f32 = Float32Type::get(&getContext());
    auto seedType = cast<RankedTensorType>(seed->getType());
    OpBuilder b(*seed);
    Value scale, goodSteps;
    if (mode == mpc::LossScalingMode::Dynamic) {
      unsigned scaleIndex = appendArgument(main, RankedTensorType::get({}, f32),
                                           mpc::manifest::kLossScaleState, kRoleScaler);
      main.setArgAttr(scaleIndex, kInitAttr, scalarAttr(f32, initScale));
      unsigned stepsIndex = appendArgument(main, RankedTensorType::get({}, b.getI64Type()),
                                           "loss_scale_good_steps", kRoleScaler);
      main.setArgAttr(stepsIndex, kInitAttr, scalarAttr(b.getI64Type(), 0));
      scale = main.getArgument(scaleIndex);
      goodSteps = main.getArgument(stepsIndex);
      Value seedValue = castElements(b, loc, scale, seedType.getElementType());
      if (seedType.getRank() > 0)
        seedValue = mpc::BroadcastOp::create(b, loc, seedValue, seedType.getShape());
      seed->getResult().replaceAllUsesWith(seedValue);
      seed->erase();
    } else if (mode == mpc::LossScalingMode::Static) {
      seed->setValueAttr(
          DenseElementsAttr::get(seedType, FloatAttr::get(seedType.getElementType(), initScale)));
      seed->getOperation()->removeAttr(kGradSeedAttr);
      b.setInsertionPoint(getReturn(main));
      scale = scalarConstant(b, loc, f32, initScale);
    }

    // Unscale in f32 and probe the loss and every gradient for inf/NaN.
    func::ReturnOp ret = getReturn(main);
    b.setInsertionPoint(ret);
    Value probe = nonFiniteProbe(b, loc, ret.getOperand(*lossIndex));
    for (unsigned index : grads) {
      Value grad = castElements(b, loc, ret.getOperand(index), f32);
      if (scale)
        grad = mpc::DivOp::create(b, loc, grad, scale);
      setResult(main, index, grad);
      probe = mpc::AddOp::create(b, loc, probe, nonFiniteProbe(b, loc, grad));
    }
    Value finite = mpc::EqualOp::create(b, loc, probe, scalarConstant(b, loc, f32, 0.0));
    appendResult(main, finite, "finite", kRoleFinite);
    if (mode == mpc::LossScalingMode::Dynamic)
      appendDynamicUpdate(b, loc, main, finite, scale, goodSteps);
  }
};
} // namespace
