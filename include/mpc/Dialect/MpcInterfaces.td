//===- MpcInterfaces.td - per-op precision behaviour ------*- tablegen -*-===//
#ifndef MPC_INTERFACES_TD
#define MPC_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Mpc_PrecisionOpInterface : OpInterface<"PrecisionOpInterface"> {
  let cppNamespace = "::mpc";
  let description = [{
    What the precision passes and the report need to know about an op, so
    that they never switch over op names: its category, whether it
    accumulates (and so wants a wider accumulator than its storage type),
    which operands carry data whose precision follows the op's, and how many
    floating-point operations it performs. The category and `accumulates`
    come from the op class's traits (Mpc_CategorizedOp, Mpc_Accumulates);
    only the contractions compute their FLOPs themselves.
  }];
  let methods = [
    InterfaceMethod<"How the op's precision is chosen.",
      "::mpc::PrecisionCategory", "getPrecisionCategory", (ins), [{}],
      [{ return ConcreteOp::kPrecisionCategory; }]>,
    InterfaceMethod<[{True when the op sums many products or terms, so that a
      low-precision compute type needs a wider accumulator.}],
      "bool", "accumulates", (ins), [{}],
      [{ return ConcreteOp::template hasTrait<::mpc::traits::Accumulates>(); }]>,
    InterfaceMethod<[{Operands whose element type follows the op's precision.
      By default every operand with a floating-point element type.}],
      "::llvm::SmallVector<unsigned>", "getPrecisionOperandIndices", (ins), [{}],
      [{
        ::llvm::SmallVector<unsigned> indices;
        for (auto [i, v] : ::llvm::enumerate($_op->getOperands()))
          if (::llvm::isa<::mlir::FloatType>(::mlir::getElementTypeOrSelf(v.getType())))
            indices.push_back(i);
        return indices;
      }]>,
    InterfaceMethod<[{The FLOPs of the op's matrix products, which run on
      matrix units (tensor cores) where a GPU has them: 2 x multiply-adds of a
      contraction, from the static shapes. 0 for every other op and for
      dynamic shapes.}],
      "int64_t", "getGemmFlops", (ins), [{}], [{ return 0; }]>,
    InterfaceMethod<[{Estimated FLOPs: the GEMM FLOPs when there are any;
      else 0 for data movement and one per element of the largest float
      operand or result for any other op, whatever it computes per element.}],
      "int64_t", "getFlops", (ins), [{}],
      [{
        if (int64_t gemm = $_op.getGemmFlops())
          return gemm;
        if ($_op.getPrecisionCategory() == ::mpc::PrecisionCategory::DataMovement)
          return 0;
        return ::mpc::detail::largestFloatElements($_op.getOperation());
      }]>,
  ];
  let extraClassDeclaration = [{
    /// The accumulator element type: the op's `acc_type` attribute when set;
    /// otherwise f32 for an accumulating op whose compute type is narrower
    /// than f32, else the compute type itself.
    ::mlir::Type getAccumulatorType();
    /// The element type the op computes in: that of its first precision operand
    /// (nullptr when it has none).
    ::mlir::Type getComputeType();
  }];
}

def Mpc_RangeOpInterface : OpInterface<"RangeOpInterface"> {
  let cppNamespace = "::mpc";
  let description = [{
    How an op maps the value ranges of its operands to the range of its
    (first) result, for the value-range analysis that keeps ops out of a
    narrow float type they would overflow (docs/precision-range.md). Only
    ops with a rule carry the interface (Mpc_RangeRule); the analysis takes
    the result of any other op as unbounded.
  }];
  let methods = [
    InterfaceMethod<[{A bound on every element of the op's first result,
      given one interval per operand (unbounded for non-float operands and
      for operands nothing is known about).}],
      "::mpc::Interval", "inferResultRange",
      (ins "::llvm::ArrayRef<::mpc::Interval>":$operands)>,
  ];
}

def Mpc_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::mpc";
  let description = [{
    The op's vector-Jacobian product, for reverse-mode autodiff
    (`mpc-autodiff`, docs/training.md). Rules are attached to the ops as
    interface models (lib/Dialect/GradientRules*.cpp), one per op.

    `resultGrads` holds one value per result: the gradient of the loss with
    respect to that result (same type as the result), or a null Value when the
    result does not reach the loss. The rule builds ops at the builder's
    insertion point and fills `operandGrads` with one entry per operand: the
    operand's gradient, with exactly the operand's type, or a null Value when
    the operand is not differentiable (integer data, indices) or its gradient
    is zero. A rule that cannot handle a case emits an error on the op and
    fails.
  }];
  let methods = [
    InterfaceMethod<"Builds the gradients of the op's operands.",
      "::llvm::LogicalResult", "buildGradient",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::ArrayRef<::mlir::Value>":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

#endif // MPC_INTERFACES_TD
