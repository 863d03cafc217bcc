//===- LoweringUtils.h - shared helpers of the mpc -> linalg lowering -----===//
//
// Private to lib/Conversion/MpcToLinalg. Every lowering builds on the same
// few shapes of linalg.generic (broadcasting elementwise maps, reductions
// over some dims), so they live here once.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_CONVERSION_MPCTOLINALG_LOWERINGUTILS_H
#define MPC_LIB_CONVERSION_MPCTOLINALG_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <functional>

namespace mpc::lowering {
using mlir::Location;
using mlir::OpBuilder;
using mlir::Type;
using mlir::Value;
using mlir::ValueRange;

/// Builds the scalar body of a linalg.generic from its block arguments.
using BodyFn = std::function<Value(OpBuilder &, Location, ValueRange)>;

/// fp8 types have no arithmetic of their own: ops on them compute in f32.
bool isFloat8(Type type);
/// The element type elementwise math runs in for values stored as `type`.
Type computeTypeFor(Type type);

/// Converts a scalar between any two of the dialect's element types (float,
/// int, i1): RNE for float narrowing, truncation toward zero for
/// float -> int, x != 0 for -> i1, wrapping for int narrowing. Integers are
/// signless here: `fromUnsigned`/`toUnsigned` say how to read and write
/// them (zero extension, uitofp, fptoui). fp8 <-> non-f32 goes through f32,
/// which is exact both ways, so only f64 -> fp8 rounds twice.
Value convertScalar(OpBuilder &b, Location loc, Value value, Type to, bool fromUnsigned = false,
                    bool toUnsigned = false);
/// Elementwise convertScalar over a whole tensor (a no-op when the element
/// type already matches).
Value convertTensor(OpBuilder &b, Location loc, Value value, Type elementType);
/// A scalar constant of `type` (float or integer) holding `value`.
Value scalarConstant(OpBuilder &b, Location loc, Type type, double value);
Value indexConst(OpBuilder &b, Location loc, int64_t value);
/// The wider of `type` and f32: where sums of narrow values accumulate.
Type wideAccumulator(OpBuilder &b, Type type);
/// An index as gather treats it: negative counts from the end, then clamped
/// into [0, size) so no read is out of bounds. Returns an index value.
Value normalizeIndex(OpBuilder &b, Location loc, Value raw, int64_t size);

/// acc + lhs * rhs with both factors converted to the accumulator's type.
Value multiplyAccumulate(OpBuilder &b, Location loc, Value lhs, Value rhs, Value acc);
/// The accumulator tensor rounded to the result type (and, with a bias along
/// dim `biasDim`, the bias added in the accumulator type first).
Value finishAccumulation(OpBuilder &b, Location loc, Value acc, mlir::RankedTensorType resultType,
                         Value bias = {}, int64_t biasDim = 0);

/// The map from a result's iteration space to an operand that numpy-broadcasts
/// to it: dims align on the right, size-1 dims that grow read index 0.
mlir::AffineMap broadcastMap(llvm::ArrayRef<int64_t> operandShape,
                             llvm::ArrayRef<int64_t> resultShape, mlir::MLIRContext *ctx);

Value emptyTensor(OpBuilder &b, Location loc, llvm::ArrayRef<int64_t> shape, Type elementType);
Value filledTensor(OpBuilder &b, Location loc, llvm::ArrayRef<int64_t> shape, Value scalar);

/// A parallel linalg.generic over `resultType` whose operands broadcast to it.
/// `body` receives the operands' elements and returns the result element.
Value buildElementwise(OpBuilder &b, Location loc, ValueRange operands,
                       mlir::RankedTensorType resultType, const BodyFn &body);

/// Reduces `input` over `dims` (sorted) into a tensor without those dims,
/// starting from `init` (a scalar of the accumulator type). `combine`
/// receives (input element, accumulator) and returns the new accumulator.
/// `extraInputs` are operands already shaped like the reduced result; the
/// body receives them after the input element, before the accumulator.
Value buildReduction(OpBuilder &b, Location loc, Value input, llvm::ArrayRef<int64_t> dims,
                     Value init, const BodyFn &combine, ValueRange extraInputs = {});

/// `shape` without the entries at `dims` (sorted).
llvm::SmallVector<int64_t> dropDims(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> dims);

/// Reshapes a tensor to `shape` (same element count, row-major order) through
/// collapse/expand, which bufferize to views rather than copies.
Value reshapeTensor(OpBuilder &b, Location loc, Value input, llvm::ArrayRef<int64_t> shape);

/// The accumulator element type of an op implementing PrecisionOpInterface
/// (its result element type when it has none).
Type accumulatorType(mlir::Operation *op);

/// The ±largest finite or infinite value used to start max/min reductions.
Value lowestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned = false);
Value highestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned = false);
/// Scalar max/min that propagate NaN (floats) or compare signed (integers).
Value maxScalar(OpBuilder &b, Location loc, Value x, Value y, bool isUnsigned = false);
Value minScalar(OpBuilder &b, Location loc, Value x, Value y, bool isUnsigned = false);

/// A pooling window (shared by the pools and their gradients).
struct Window {
  llvm::ArrayRef<int64_t> kernel, strides, pads;
  llvm::SmallVector<int64_t> dilations;
  int64_t spatial;
};
/// Fails unless every attribute has one entry per spatial dim (two for pads).
llvm::LogicalResult checkWindow(const Window &w);
/// Pads the spatial dims of `input` with `padValue` so that every window of
/// an [N, C, resultShape...] pooling result reads in bounds.
Value padForWindows(OpBuilder &b, Location loc, Value input, const Window &w,
                    llvm::ArrayRef<int64_t> resultShape, Value padValue);
/// How many elements of one dim's window at output position `out` count
/// toward the average (ONNX: the window clipped to the input, or to the
/// input plus its declared padding with count_include_pad).
int64_t windowCount(int64_t out, int64_t in, int64_t kernel, int64_t stride, int64_t padBegin,
                    int64_t padEnd, bool includePad);

/// The marks dropUnsignedTypes sets (kUnsignedOperandsAttr,
/// kUnsignedResultsAttr): the op read unsigned operands / produced unsigned
/// results, now signless.
bool readsUnsigned(mlir::Operation *op);
bool producesUnsigned(mlir::Operation *op);
/// Marks the ops on unsigned values, then retypes the module's ui8..ui64
/// (values, signatures, constants) to signless i8..i64.
void dropUnsignedTypes(mlir::ModuleOp module);

void populateElementwisePatterns(mlir::RewritePatternSet &patterns);
void populateContractionPatterns(mlir::RewritePatternSet &patterns);
void populateConvolutionPatterns(mlir::RewritePatternSet &patterns);
void populateLossPatterns(mlir::RewritePatternSet &patterns);
void populatePoolingPatterns(mlir::RewritePatternSet &patterns);
void populateNormalizationPatterns(mlir::RewritePatternSet &patterns);
void populateReductionPatterns(mlir::RewritePatternSet &patterns);
void populateDataMovementPatterns(mlir::RewritePatternSet &patterns);
void populateCastPatterns(mlir::RewritePatternSet &patterns);
} // namespace mpc::lowering

#endif // MPC_LIB_CONVERSION_MPCTOLINALG_LOWERINGUTILS_H
