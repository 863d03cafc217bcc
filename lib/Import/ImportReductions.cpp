//===- ImportReductions.cpp - ReduceL1/L2/LogSum/LogSumExp/SumSquare ------===//
//
// The reductions ONNX defines on top of a sum or a max, built at import from
// the elementwise ops and mpc.reduce_sum/reduce_max: they need no op of their
// own, and lowering, precision rules and gradients come with the parts.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;
using namespace mpc::importer;

namespace {
enum class Composite { L1, L2, LogSum, LogSumExp, SumSquare };

template <typename OpTy> FailureOr<Value> unary(NodeImporter &n, FailureOr<Value> x) {
  return failed(x) ? x : n.createOrFold<OpTy>(x->getType(), *x);
}

template <typename OpTy> FailureOr<Value> binary(NodeImporter &n, Value lhs, FailureOr<Value> rhs) {
  return failed(rhs) ? rhs : n.createOrFold<OpTy>(n.inferred(), lhs, *rhs);
}

/// Reduces over `spec.axes`; over no axes (noop_with_empty_axes) the value
/// is its own reduction, so the elementwise parts still apply.
template <typename OpTy>
FailureOr<Value> reduce(NodeImporter &n, FailureOr<Value> x, const ReduceSpec &spec,
                        bool keepdims) {
  if (failed(x) || spec.axes.empty())
    return x;
  return n.createOrFold<OpTy>(n.inferred(), *x, ArrayRef<int64_t>(spec.axes), keepdims, TypeAttr());
}

/// max + log(sum(exp(x - max))): exp never overflows, and the largest term
/// contributes exactly 1 to the sum.
FailureOr<Value> logSumExp(NodeImporter &n, Value x, const ReduceSpec &spec) {
  FailureOr<Value> max = reduce<mpc::ReduceMaxOp>(n, x, spec, true);
  if (failed(max))
    return failure();
  FailureOr<Value> shifted = binary<mpc::SubOp>(n, x, *max);
  FailureOr<Value> logSum =
      unary<mpc::LogOp>(n, reduce<mpc::ReduceSumOp>(n, unary<mpc::ExpOp>(n, shifted), spec, true));
  FailureOr<Value> result = binary<mpc::AddOp>(n, *max, logSum);
  if (failed(result) || spec.keepdims || spec.axes.empty())
    return result;
  std::string message;
  FailureOr<Shape> shape = rules::reduce(n.shapeOf(0), spec.axes, false, message);
  if (failed(shape))
    return n.shapeError(message);
  return n.reshape(*result, *shape);
}

FailureOr<Value> build(NodeImporter &n, Composite kind, Value x, const ReduceSpec &spec) {
  switch (kind) {
  case Composite::L1:
    return reduce<mpc::ReduceSumOp>(n, unary<mpc::AbsOp>(n, x), spec, spec.keepdims);
  case Composite::L2:
    return unary<mpc::SqrtOp>(
        n, reduce<mpc::ReduceSumOp>(n, binary<mpc::MulOp>(n, x, x), spec, spec.keepdims));
  case Composite::LogSum:
    return unary<mpc::LogOp>(n, reduce<mpc::ReduceSumOp>(n, x, spec, spec.keepdims));
  case Composite::LogSumExp:
    return logSumExp(n, x, spec);
  case Composite::SumSquare:
    return reduce<mpc::ReduceSumOp>(n, binary<mpc::MulOp>(n, x, x), spec, spec.keepdims);
  }
  llvm_unreachable("covered switch");
}

template <Composite Kind> LogicalResult importComposite(NodeImporter &n) {
  FailureOr<ReduceSpec> spec = readReduceSpec(n, n.opset() >= 18);
  if (failed(spec))
    return failure();
  bool needsFloat =
      Kind == Composite::L2 || Kind == Composite::LogSum || Kind == Composite::LogSumExp;
  int32_t dtype = n.dtypeOf(0);
  if (!isFloatDType(dtype) && (needsFloat || (dtype != kInt32 && dtype != kInt64)))
    return n.error() << "data of type " << dtypeName(dtype) << " is not supported"
                     << (needsFloat ? "; it must be a float type"
                                    : "; use int32, int64 or a float type");
  FailureOr<Value> x = n.value(0);
  if (failed(x))
    return failure();
  FailureOr<Value> result = build(n, Kind, *x, *spec);
  if (failed(result))
    return failure();
  return n.setOutput(0, *result);
}

const char *kAxes = "axes: attribute before opset 18, compile-time input from 18; keepdims, "
                    "noop_with_empty_axes (18+; the elementwise part still applies)";

const OpImportInfo kTable[] = {
    {"ReduceL1", 13, kMaxOpset, importComposite<Composite::L1>, "mpc.abs + mpc.reduce_sum", kAxes},
    {"ReduceL2", 13, kMaxOpset, importComposite<Composite::L2>,
     "mpc.mul + mpc.reduce_sum + mpc.sqrt", kAxes},
    {"ReduceLogSum", 13, kMaxOpset, importComposite<Composite::LogSum>, "mpc.reduce_sum + mpc.log",
     kAxes},
    {"ReduceLogSumExp", 13, kMaxOpset, importComposite<Composite::LogSumExp>,
     "mpc.reduce_max + mpc.sub + mpc.exp + mpc.reduce_sum + mpc.log + mpc.add",
     "computed as max + log(sum(exp(x - max))); axes as for ReduceL1"},
    {"ReduceSumSquare", 13, kMaxOpset, importComposite<Composite::SumSquare>,
     "mpc.mul + mpc.reduce_sum", kAxes},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::compositeReduceOpTable() { return kTable; }
