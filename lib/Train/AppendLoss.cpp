//===- AppendLoss.cpp - (placeholder until implemented) ----------------------===//
#include "mpc/Passes.h"
#include "mpc/Train/TrainIR.h"

#include "mlir/IR/BuiltinOps.h"

namespace mpc {
#define GEN_PASS_DEF_APPENDLOSSPASS
#include "mpc/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {
struct AppendLossPassImpl : mpc::impl::AppendLossPassBase<AppendLossPassImpl> {
  using Base::Base;
  void runOnOperation() override {
    getOperation().emitError("pass not implemented yet");
    signalPassFailure();
  }
};
} // namespace
