//===- WidenLongSums.cpp - f64 accumulators for long f32 sums -------------===//
//
// The CPU lowering of a reduction adds its elements in order into one
// accumulator; in f32 the rounding of a long running sum dominates the
// result's error (docs/numerics.md, "Long f32 sums"). An f64 accumulator
// keeps that sum exact to well below one f32 ulp for any length seen in
// practice, so the result is rounded once, as PyTorch's many-accumulator
// sums nearly are.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/Passes.h"
#include "mpc/Dialect/MpcDialect.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_WIDENLONGSUMSPASS
#include "mpc/Codegen/CPU/Passes.h.inc"

namespace {

/// Elements reduced into each result (saturating); 0 when a reduced dim is
/// dynamic.
uint64_t reducedCount(RankedTensorType input, ArrayRef<int64_t> axes) {
  uint64_t count = 1;
  for (int64_t axis : axes) {
    if (axis < 0 || axis >= input.getRank() || input.isDynamicDim(axis))
      return 0;
    count = llvm::SaturatingMultiply(count, static_cast<uint64_t>(input.getDimSize(axis)));
  }
  return count;
}

template <typename OpT>
void widen(OpT op, int64_t minCount) {
  auto input = dyn_cast<RankedTensorType>(op.getInput().getType());
  if (!input || !input.getElementType().isF32() || op.getAccTypeAttr())
    return;
  if (minCount > 0 && reducedCount(input, op.getAxes()) < static_cast<uint64_t>(minCount))
    return;
  op.setAccTypeAttr(TypeAttr::get(Float64Type::get(op.getContext())));
}

struct WidenLongSumsPass : impl::WidenLongSumsPassBase<WidenLongSumsPass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation()->walk([&](Operation *op) {
      if (auto sum = dyn_cast<ReduceSumOp>(op))
        widen(sum, minCount);
      else if (auto mean = dyn_cast<ReduceMeanOp>(op))
        widen(mean, minCount);
    });
  }
};

} // namespace
} // namespace mpc
