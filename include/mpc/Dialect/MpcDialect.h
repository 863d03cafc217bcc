//===- MpcDialect.h - the mpc dialect ---------------------------*- C++ -*-===//
#ifndef MPC_DIALECT_MPCDIALECT_H
#define MPC_DIALECT_MPCDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mpc/Support/Interval.h"

#include "mpc/Dialect/MpcDialect.h.inc"
#include "mpc/Dialect/MpcEnums.h.inc"

#include "mpc/Dialect/MpcTraits.h"

namespace mpc::detail {
/// Elements of the op's largest float operand or result (static shapes
/// only): PrecisionOpInterface's FLOP estimate for an op that is not a
/// contraction.
int64_t largestFloatElements(mlir::Operation *op);
} // namespace mpc::detail

#include "mpc/Dialect/MpcInterfaces.h.inc"

#define GET_OP_CLASSES
#include "mpc/Dialect/MpcOps.h.inc"

namespace mpc {
/// Discardable attributes written by the precision passes.
inline constexpr llvm::StringLiteral kPrecisionAttr = "mpc.precision";
inline constexpr llvm::StringLiteral kReasonAttr = "mpc.reason";
/// The ONNX node an op was imported from (for reports and diagnostics).
inline constexpr llvm::StringLiteral kNodeNameAttr = "mpc.node";
/// Function argument/result attribute: the ONNX graph input/output name.
inline constexpr llvm::StringLiteral kIONameAttr = "mpc.name";
/// Module attribute: the ONNX nodes the importer folded away (into a
/// constant, or into one of their inputs), which no op names any more.
inline constexpr llvm::StringLiteral kFoldedNodesAttr = "mpc.folded_nodes";
/// Module attribute: the ONNX graph inputs whose values decided shapes and
/// were imported as constants (ONNXImportOptions::inputValue); the program
/// does not take them.
inline constexpr llvm::StringLiteral kInputValuesAttr = "mpc.input_values";
/// Module attribute: the default-domain opset the model was saved at, when
/// the importer upgraded it with ONNX's version converter (i64).
inline constexpr llvm::StringLiteral kUpgradedFromOpsetAttr = "mpc.upgraded_from_opset";
/// Op attributes set by mpc-lower-to-linalg before it retypes ui8..ui64 to
/// signless integers: the op read unsigned operands / produced unsigned
/// results. The lowering picks unsigned arith ops from them; the folders,
/// whose integer rules are signed, leave such ops alone.
inline constexpr llvm::StringLiteral kUnsignedOperandsAttr = "mpc.unsigned_operands";
inline constexpr llvm::StringLiteral kUnsignedResultsAttr = "mpc.unsigned_results";
/// True when `op` carries either mark, or has an operand or result of an
/// unsigned integer element type.
bool computesUnsigned(mlir::Operation *op);
} // namespace mpc

#endif // MPC_DIALECT_MPCDIALECT_H
