//===- LossScaling.cpp - (placeholder until implemented) ----------------------===//
#include "mpc/Passes.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/IR/BuiltinOps.h"

namespace mpc {
#define GEN_PASS_DEF_LOSSSCALINGPASS
#include "mpc/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {
struct LossScalingPassImpl : mpc::impl::LossScalingPassBase<LossScalingPassImpl> {
  using Base::Base;
  void runOnOperation() override {
    getOperation().emitError("pass not implemented yet");
    signalPassFailure();
  }
};
} // namespace
