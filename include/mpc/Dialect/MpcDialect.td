//===- MpcDialect.td - the mpc dialect --------------------*- tablegen -*-===//
#ifndef MPC_DIALECT_TD
#define MPC_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Mpc_Dialect : Dialect {
  let name = "mpc";
  let cppNamespace = "::mpc";
  let summary = "Tensor-level ops for mixed-precision compilation of ONNX models";
  let description = [{
    One op per concept (not one per ONNX op). Tensors are ranked and statically
    shaped; a tensor's element type is its storage precision. Numerically
    sensitive ops (softmax, normalizations, reductions) keep their identity so
    the precision passes can see them.
  }];
  let useDefaultAttributePrinterParser = 0;
  // Folded mpc.cast of a constant becomes arith.constant (CastFolds.cpp).
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def Mpc_PrecisionCategory : I32EnumAttr<"PrecisionCategory",
    "how an op's precision is chosen", [
  I32EnumAttrCase<"ComputeBound", 0, "compute_bound">,
  I32EnumAttrCase<"Sensitive", 1, "sensitive">,
  I32EnumAttrCase<"Follow", 2, "follow">,
  I32EnumAttrCase<"DataMovement", 3, "data_movement">
]> {
  let cppNamespace = "::mpc";
  let genSpecializedAttr = 0;
}

#endif // MPC_DIALECT_TD
