//===- Optimizer.cpp - SGD / AdamW updates; @main becomes @train_step -----===//
//
// Replaces each gradient result by the updated parameter, computed in-graph
// with PyTorch's torch.optim.SGD / AdamW formulas, adds the optimizer state
// as arguments and results, gates every state update on the "finite" flag
// (a skipped step changes nothing) and puts the signature in the order the
// trainer runtime expects (docs/training.md).
//
//===----------------------------------------------------------------------===//
#include "TrainBuilder.h"

#include "mpc/Train/Passes.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <cstdio>

namespace mpc {
#define GEN_PASS_DEF_OPTIMIZERPASS
#include "mpc/Train/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc::train;

namespace {

/// A hyperparameter as the user wrote it (0.9, not 9.000000e-01).
std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

/// One result of the rewritten function.
struct NewResult {
  Value value;
  DictionaryAttr attrs;
};

struct OptimizerPassImpl : mpc::impl::OptimizerPassBase<OptimizerPassImpl> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, mpc::MpcDialect>();
  }

  LogicalResult checkOptions(ModuleOp module) {
    auto bad = [&](const Twine &what) { return module.emitError("mpc-optimizer: " + what); };
    if (!(lr > 0) || !std::isfinite(lr))
      return bad("lr must be a finite number above 0") << ", got " << number(lr);
    if (!(weightDecay >= 0) || !std::isfinite(weightDecay))
      return bad("weight-decay must be a finite number >= 0") << ", got " << number(weightDecay);
    if (optimizer == mpc::OptimizerKind::SGD) {
      if (!(momentum >= 0) || !std::isfinite(momentum))
        return bad("momentum must be a finite number >= 0") << ", got " << number(momentum);
      if (nesterov && momentum == 0)
        return bad("nesterov needs a momentum above 0 (as torch.optim.SGD)");
      return success();
    }
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
      return bad("beta1 and beta2 must lie in [0, 1)")
             << ", got " << number(beta1) << " and " << number(beta2);
    if (!(eps > 0) || !std::isfinite(eps))
      return bad("eps must be a finite number above 0") << ", got " << number(eps);
    return success();
  }

  /// A new optimizer-state argument initialized to zeros.
  Value addState(func::FuncOp main, Type type, const Twine &name) {
    unsigned index = appendArgument(main, type, name.str(), kRoleOpt);
    auto tensor = cast<RankedTensorType>(type);
    main.setArgAttr(index, kInitAttr,
                    DenseElementsAttr::get(tensor, FloatAttr::get(tensor.getElementType(), 0.0)));
    return main.getArgument(index);
  }

  /// torch.optim.SGD (dampening 0): g += wd * w; b = momentum * b + g;
  /// g = nesterov ? g + momentum * b : b; w -= lr * g. The buffer starts at
  /// zero, which gives PyTorch's first-step b = g exactly (momentum * 0 + g),
  /// so no step counter is needed.
  Value sgdUpdate(OpBuilder &b, Location loc, func::FuncOp main, StringRef name, Value w, Value g,
                  Value keep, SmallVectorImpl<std::pair<Value, Value>> &state) {
    auto c = [&](double v) { return scalarConstant(b, loc, b.getF32Type(), v); };
    Value d = g;
    if (weightDecay != 0)
      d = mpc::AddOp::create(b, loc, d, mpc::MulOp::create(b, loc, w, c(weightDecay)));
    if (momentum != 0) {
      Value buffer = addState(main, w.getType(), name + ".momentum_buffer");
      Value updated =
          mpc::AddOp::create(b, loc, mpc::MulOp::create(b, loc, buffer, c(momentum)), d);
      d = nesterov ? Value(mpc::AddOp::create(b, loc, d,
                                              mpc::MulOp::create(b, loc, updated, c(momentum))))
                   : updated;
      state.push_back({buffer, gate(b, loc, keep, updated, buffer)});
    }
    Value stepped = mpc::SubOp::create(b, loc, w, mpc::MulOp::create(b, loc, d, c(lr)));
    return gate(b, loc, keep, stepped, w);
  }

  /// Values every AdamW parameter shares: the step after increment and the
  /// bias corrections, computed in-graph from the `step` state.
  struct AdamShared {
    Value stepSize;        // lr / (1 - beta1^t)
    Value correction2Sqrt; // sqrt(1 - beta2^t)
  };

  AdamShared adamShared(OpBuilder &b, Location loc, func::FuncOp main, Value keep,
                        SmallVectorImpl<std::pair<Value, Value>> &state) {
    Type f32 = b.getF32Type(), f64 = b.getF64Type();
    Value step = addState(main, RankedTensorType::get({}, f32), "step");
    Value t = mpc::AddOp::create(b, loc, step, scalarConstant(b, loc, f32, 1));
    state.push_back({step, gate(b, loc, keep, t, step)});
    // In f64 as PyTorch (Python floats): 1 - 0.999^t in f32 would lose four
    // digits to cancellation in the first steps.
    auto c = [&](double v) { return scalarConstant(b, loc, f64, v); };
    Value t64 = castElements(b, loc, t, f64);
    Value correction1 = mpc::SubOp::create(b, loc, c(1), mpc::PowOp::create(b, loc, c(beta1), t64));
    Value correction2 = mpc::SubOp::create(b, loc, c(1), mpc::PowOp::create(b, loc, c(beta2), t64));
    Value stepSize = mpc::DivOp::create(b, loc, c(lr), correction1);
    Value correction2Sqrt = mpc::SqrtOp::create(b, loc, correction2);
    return {castElements(b, loc, stepSize, f32), castElements(b, loc, correction2Sqrt, f32)};
  }

  /// torch.optim.AdamW: w *= 1 - lr * wd; m = b1 m + (1 - b1) g;
  /// v = b2 v + (1 - b2) g^2; w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
  Value adamwUpdate(OpBuilder &b, Location loc, func::FuncOp main, StringRef name, Value w, Value g,
                    Value keep, const AdamShared &shared,
                    SmallVectorImpl<std::pair<Value, Value>> &state) {
    auto c = [&](double v) { return scalarConstant(b, loc, b.getF32Type(), v); };
    Value m = addState(main, w.getType(), name + ".exp_avg");
    Value v = addState(main, w.getType(), name + ".exp_avg_sq");
    Value decayed =
        weightDecay != 0 ? Value(mpc::MulOp::create(b, loc, w, c(1 - lr * weightDecay))) : w;
    Value newM = mpc::AddOp::create(b, loc, mpc::MulOp::create(b, loc, m, c(beta1)),
                                    mpc::MulOp::create(b, loc, g, c(1 - beta1)));
    Value g2 = mpc::MulOp::create(b, loc, g, g);
    Value newV = mpc::AddOp::create(b, loc, mpc::MulOp::create(b, loc, v, c(beta2)),
                                    mpc::MulOp::create(b, loc, g2, c(1 - beta2)));
    Value denom = mpc::AddOp::create(
        b, loc,
        mpc::DivOp::create(b, loc, mpc::SqrtOp::create(b, loc, newV), shared.correction2Sqrt),
        c(eps));
    Value delta =
        mpc::MulOp::create(b, loc, mpc::DivOp::create(b, loc, newM, denom), shared.stepSize);
    Value stepped = mpc::SubOp::create(b, loc, decayed, delta);
    state.push_back({m, gate(b, loc, keep, newM, m)});
    state.push_back({v, gate(b, loc, keep, newV, v)});
    return gate(b, loc, keep, stepped, w);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkOptions(module)))
      return signalPassFailure();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal()) {
      module.emitError("mpc-optimizer: the module has no @main function to train");
      return signalPassFailure();
    }
    if (module.lookupSymbol("train_step")) {
      module.emitError("mpc-optimizer: the module already has a @train_step symbol");
      return signalPassFailure();
    }
    SmallVector<unsigned> grads = findResults(main, kRoleGrad);
    if (grads.empty()) {
      main.emitError("mpc-optimizer: @main has no gradient results (role 'grad'); run "
                     "mpc-autodiff first");
      return signalPassFailure();
    }

    func::ReturnOp ret = getReturn(main);
    OpBuilder b(ret);
    Location loc = main.getLoc();
    std::optional<unsigned> finiteIndex = findResult(main, kRoleFinite);
    Value keep = finiteIndex ? ret.getOperand(*finiteIndex) : Value();

    // New value of each state argument, by argument.
    SmallVector<std::pair<Value, Value>> state;
    std::optional<AdamShared> shared;
    if (optimizer == mpc::OptimizerKind::AdamW)
      shared = adamShared(b, loc, main, keep, state);
    llvm::StringSet<> seen;
    for (unsigned index : grads) {
      StringRef name = resultName(main, index);
      if (!seen.insert(name).second) {
        main.emitError() << "mpc-optimizer: parameter '" << name
                         << "' has two gradient results; expected one per parameter";
        return signalPassFailure();
      }
      std::optional<unsigned> param =
          name.empty() ? std::nullopt : findArgument(main, kRoleParam, name);
      if (!param) {
        main.emitError() << "mpc-optimizer: gradient result '" << name
                         << "' has no parameter argument of that name (role 'param'); run "
                            "mpc-parameters-to-arguments before mpc-autodiff";
        return signalPassFailure();
      }
      Value w = main.getArgument(*param);
      auto wType = dyn_cast<RankedTensorType>(w.getType());
      Value g = ret.getOperand(index);
      auto gType = dyn_cast<RankedTensorType>(g.getType());
      if (!wType || !wType.getElementType().isF32() || !gType ||
          gType.getShape() != wType.getShape()) {
        main.emitError() << "mpc-optimizer: parameter '" << name << "' (" << w.getType()
                         << ") and its gradient (" << g.getType()
                         << ") must have the same shape, with f32 master weights";
        return signalPassFailure();
      }
      g = castElements(b, loc, g, wType.getElementType());
      Value updated = optimizer == mpc::OptimizerKind::SGD
                          ? sgdUpdate(b, loc, main, name, w, g, keep, state)
                          : adamwUpdate(b, loc, main, name, w, g, keep, *shared, state);
      state.push_back({w, updated});
    }
    if (failed(reorderResults(main, keep, state)))
      return signalPassFailure();
    main.setSymName("train_step");
  }

  /// State in argument order, then loss, finite, outputs; grads dropped.
  LogicalResult reorderResults(func::FuncOp main, Value keep,
                               ArrayRef<std::pair<Value, Value>> state) {
    func::ReturnOp ret = getReturn(main);
    OpBuilder b(ret);
    Location loc = main.getLoc();
    llvm::DenseMap<Value, Value> updates(state.begin(), state.end());
    // Results the earlier passes already computed for state, by name.
    llvm::StringMap<unsigned> stateResults;
    for (unsigned i = 0, e = main.getNumResults(); i < e; ++i)
      if (isStateRole(resultRole(main, i)))
        stateResults.try_emplace(resultName(main, i), i);

    SmallVector<NewResult> results;
    llvm::SmallBitVector used(main.getNumResults());
    for (unsigned i = 0, e = main.getNumArguments(); i < e; ++i) {
      StringRef role = argRole(main, i);
      if (!isStateRole(role))
        continue;
      Value arg = main.getArgument(i);
      Value value = updates.lookup(arg);
      if (!value) {
        value = arg;
        auto found = stateResults.find(argName(main, i));
        if (found != stateResults.end() && resultRole(main, found->second) == role) {
          used.set(found->second);
          value = ret.getOperand(found->second);
          // The scaler gates itself: it must back off on a skipped step.
          if (role != kRoleScaler)
            value = gate(b, loc, keep, value, arg);
        }
      }
      results.push_back(
          {value, b.getDictionaryAttr({
                      b.getNamedAttr(mpc::kIONameAttr, b.getStringAttr(argName(main, i))),
                      b.getNamedAttr(kRoleAttr, b.getStringAttr(role)),
                  })});
    }
    // A state result needs its argument: the old value a skipped step keeps.
    for (unsigned i = 0, e = main.getNumResults(); i < e; ++i)
      if (!used.test(i) && isStateRole(resultRole(main, i))) {
        main.emitError() << "mpc-optimizer: result '" << resultName(main, i) << "' (role '"
                         << resultRole(main, i)
                         << "') has no state argument of that name and role; run "
                            "mpc-parameters-to-arguments before the optimizer";
        return failure();
      }
    auto keepResult = [&](unsigned i) {
      results.push_back({ret.getOperand(i), main.getResultAttrDict(i)});
    };
    for (StringRef role : {kRoleLoss, kRoleFinite})
      for (unsigned i = 0, e = main.getNumResults(); i < e; ++i)
        if (resultRole(main, i) == role)
          keepResult(i);
    for (unsigned i = 0, e = main.getNumResults(); i < e; ++i) {
      StringRef role = resultRole(main, i);
      if (!isStateRole(role) && role != kRoleLoss && role != kRoleFinite && role != kRoleGrad)
        keepResult(i);
    }

    SmallVector<Value> values;
    SmallVector<Type> types;
    SmallVector<Attribute> attrs;
    for (const NewResult &r : results) {
      values.push_back(r.value);
      types.push_back(r.value.getType());
      attrs.push_back(r.attrs ? r.attrs : b.getDictionaryAttr({}));
    }
    func::ReturnOp::create(b, ret.getLoc(), values);
    ret.erase();
    main.setType(FunctionType::get(main.getContext(), main.getArgumentTypes(), types));
    main.setAllResultAttrs(attrs);
    return success();
  }
};
} // namespace
