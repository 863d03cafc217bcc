//===- VectorizeGenerics.cpp - lane-wise vectors for elementwise generics -===//
//
// convert-linalg-to-loops turns the elementwise generics of a model (bias
// adds, activations, residual adds, layer-norm scaling, transposes, copies)
// into scalar loops: one element per iteration. Here the innermost loop,
// when it is parallel and walks contiguous memory, is tiled by up to 16 and
// vectorized instead; every other loop stays a scalar loop with step 1.
// Each vector op applies the body's scalar op to 16 elements, so every
// element sees the same operations in the same order (results are
// bit-identical to the scalar loops), and no tile is unrolled beyond one
// vector op per body op (compile time stays flat).
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_VECTORIZEGENERICSPASS
#include "mpc/Codegen/CPU/Passes.h.inc"

namespace {
/// Vectors narrower than this gain too little over the scalar loop to pay
/// for the extra loop level and the vector/scalar moves.
constexpr int64_t kMinLanes = 4;

/// The largest divisor of `size` that is at most `limit` (static tiles, no
/// masks), or 0 if that is below kMinLanes. `powerOfTwo`: only power-of-two
/// divisors.
int64_t laneCount(int64_t size, int64_t limit, bool powerOfTwo) {
  for (int64_t t = std::min(size, limit); t >= kMinLanes; --t)
    if (size % t == 0 && (!powerOfTwo || llvm::isPowerOf2_64(t)))
      return t;
  return 0;
}

/// True when an operand holds bf16 or f16. The x86 backend (LLVM 22)
/// legalizes vectors of those types without native arithmetic by promoting
/// them, and aborts ("Do not know how to soft promote this operator's
/// operand") on odd widths: a bf16 copy into a 9-wide padded row became a
/// load and store of vector<9xbf16>. Power-of-two widths lower fine.
bool touches16BitFloats(linalg::GenericOp op) {
  for (Value operand : op->getOperands()) {
    Type element = getElementTypeOrSelf(operand.getType());
    if (element.isBF16() || element.isF16())
      return true;
  }
  return false;
}


/// Math ops that convert-math-to-llvm turns into LLVM intrinsics, which
/// accept vectors (LLVM calls the same libm function per lane where the
/// target has no instruction, so results do not change). The others (erf,
/// tanh, atan, ...) go to convert-math-to-libm, which runs after the vector
/// dialect is lowered and so cannot unroll a vector operand.
bool lowersToIntrinsic(Operation &op) {
  return isa<math::AbsFOp, math::CeilOp, math::CopySignOp, math::CosOp, math::ExpOp, math::Exp2Op, math::FloorOp,
             math::FmaOp, math::LogOp, math::Log2Op, math::Log10Op, math::PowFOp, math::RoundOp,
             math::RoundEvenOp, math::SinOp, math::SqrtOp, math::TruncOp>(op);
}

/// The body is arith/math only, and bf16/f16/fp8 values appear only as the
/// source of an extension to f32 or the result of a rounding from f32 (the
/// vector forms of those lower through mpc-emulate-narrow-floats / LLVM).
/// The CPU pipeline widens bf16/f16 arithmetic to that form first; what
/// still computes in a narrow type stays scalar. fp8 casts are scalar bit
/// arithmetic there: left alone.
/// With `approximatedMath` (mpc-approximate-math runs later), f32 erf and
/// tanh too: that pass expands them into the same arith/fma polynomial for a
/// vector as for a scalar, lane by lane (the GELU bodies of the transformers
/// were scalar loops for this alone).
bool hasVectorizableBody(linalg::GenericOp op, bool approximatedMath) {
  // arith ops all lower lane-wise; linalg.index and memref.load (gathers)
  // are left to the scalar loops.
  Block &body = op.getRegion().front();
  for (Operation &inner : body.without_terminator()) {
    bool approximated = approximatedMath && isa<math::ErfOp, math::TanhOp>(inner) &&
                        inner.getResult(0).getType().isF32();
    if (!isa<arith::ArithDialect>(inner.getDialect()) && !lowersToIntrinsic(inner) && !approximated)
      return false;
    bool isCast = isa<arith::ExtFOp, arith::TruncFOp>(inner);
    for (Type type : llvm::concat<Type>(inner.getOperandTypes(), inner.getResultTypes())) {
      auto f = dyn_cast<FloatType>(type);
      if (!f || f.getWidth() >= 32)
        continue;
      if (!isCast || !(f.isBF16() || f.isF16()))
        return false;
    }
  }
  return true;
}

/// Every operand either ignores the innermost loop (a broadcast along it) or
/// walks its own innermost, unit-stride dimension with it: the vector reads
/// and writes are then contiguous loads and stores.
bool innermostIsContiguous(linalg::GenericOp op, unsigned innermost) {
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type)
      continue; // a scalar (fill value): broadcast
    // A vector of i1 is bit-packed in memory, a memref of i1 holds one byte
    // per element: a vector load or store would misread it.
    if (!type.getElementType().isIntOrFloat() || type.getElementTypeBitWidth() % 8 != 0)
      return false;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    bool usesInnermost = false;
    for (AffineExpr expr : map.getResults())
      usesInnermost |= expr.isFunctionOfDim(innermost);
    if (!usesInnermost)
      continue;
    if (map.getNumResults() == 0 || map.getResults().back() != getAffineDimExpr(innermost, op.getContext()) ||
        !type.isLastDimUnitStride())
      return false;
  }
  return true;
}

/// The element width of a plain copy on buffers, which the copy lowerings
/// below move as vectors: one input, one output, of the same int or float
/// element type, both with a unit-stride last dim; static loops, none a
/// reduction; a body that yields the input element. None otherwise.
std::optional<unsigned> copiedBits(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() == 0 || op.getNumReductionLoops() != 0)
    return std::nullopt;
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (body.getOperations().size() != 1 || yield.getValues().size() != 1 ||
      yield.getValues()[0] != body.getArgument(0))
    return std::nullopt;
  if (llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
    return std::nullopt;
  auto in = dyn_cast<MemRefType>(op.getDpsInputs()[0].getType());
  auto out = dyn_cast<MemRefType>(op.getDpsInits()[0].getType());
  if (!in || !out || in.getRank() == 0 || in.getElementType() != out.getElementType() ||
      !in.getElementType().isIntOrFloat() || !in.isLastDimUnitStride() || !out.isLastDimUnitStride())
    return std::nullopt;
  return in.getElementTypeBitWidth();
}

/// The indices `map` gives for the loop indices `point`: the loop index
/// itself for a plain dim, an affine.apply of the result otherwise.
SmallVector<Value> mapIndices(RewriterBase &rewriter, Location loc, AffineMap map, ArrayRef<Value> point) {
  SmallVector<Value> indices;
  for (unsigned i = 0; i < map.getNumResults(); ++i) {
    if (auto dim = dyn_cast<AffineDimExpr>(map.getResult(i)))
      indices.push_back(point[dim.getPosition()]);
    else
      indices.push_back(affine::AffineApplyOp::create(rewriter, loc, map.getSubMap({i}), point));
  }
  return indices;
}

/// A copy whose innermost loop walks the last dimension of both operands
/// at unit step, the source's shifted by the other loops: out[..., j] =
/// in[f(...), j + g(...)], with the result written through an identity map.
/// The im2col copy of a stride-1 convolution (patches[c, kh, kw, oh, ow] =
/// input[c, oh + kh, ow + kw]) is one; its input map is no projected
/// permutation, so linalg::vectorize refuses it, and as scalar loops it
/// was 5-10% of ResNet-18's run time.
bool isShiftedRowCopy(linalg::GenericOp op) {
  std::optional<unsigned> bits = copiedBits(op);
  if (!bits || *bits % 8 != 0 || op.getStaticLoopRanges().back() < kMinLanes)
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  // Plain copies (projected permutations) take the general path below.
  if (!maps[1].isIdentity() || maps[0].getNumSymbols() != 0 || maps[0].isProjectedPermutation())
    return false;
  unsigned inner = ranges.size() - 1;
  MLIRContext *ctx = op.getContext();
  ArrayRef<AffineExpr> results = maps[0].getResults();
  for (AffineExpr expr : results.drop_back())
    if (expr.isFunctionOfDim(inner))
      return false;
  AffineExpr shift = simplifyAffineExpr(results.back() - getAffineDimExpr(inner, ctx), maps[0].getNumDims(), 0);
  return !shift.isFunctionOfDim(inner);
}

/// isShiftedRowCopy's op as scalar loops over all but the innermost
/// dimension, and that one as vector loads and stores: 16-lane chunks, then
/// one chunk of each power of two down to 1 for the rest (power-of-two
/// widths: see touches16BitFloats). Same elements copied, no arithmetic.
void lowerShiftedRowCopy(RewriterBase &rewriter, linalg::GenericOp op, int64_t maxLanes) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  Value in = op.getDpsInputs()[0], out = op.getDpsInits()[0];
  AffineMap inMap = op.getIndexingMapsArray()[0];
  Type element = cast<MemRefType>(in.getType()).getElementType();
  SmallVector<Value> ivs;
  OpBuilder::InsertionGuard guard(rewriter);
  for (int64_t range : ArrayRef<int64_t>(ranges).drop_back()) {
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value upper = arith::ConstantIndexOp::create(rewriter, loc, range);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(rewriter, loc, zero, upper, one);
    ivs.push_back(loop.getInductionVar());
    rewriter.setInsertionPoint(loop.getBody()->getTerminator());
  }
  auto copyChunk = [&](Value start, int64_t width) {
    SmallVector<Value> point(ivs);
    point.push_back(start);
    SmallVector<Value> source = mapIndices(rewriter, loc, inMap, point);
    auto vectorType = VectorType::get({width}, element);
    SmallVector<bool> inBounds{true};
    Value chunk = vector::TransferReadOp::create(rewriter, loc, vectorType, in, source,
                                                 /*padding=*/std::nullopt, inBounds);
    vector::TransferWriteOp::create(rewriter, loc, chunk, out, point, inBounds);
  };
  int64_t size = ranges.back();
  int64_t lanes = llvm::bit_floor(static_cast<uint64_t>(std::max<int64_t>(maxLanes, 1)));
  int64_t whole = size / lanes * lanes;
  if (whole > 0) {
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value upper = arith::ConstantIndexOp::create(rewriter, loc, whole);
    Value step = arith::ConstantIndexOp::create(rewriter, loc, lanes);
    auto loop = scf::ForOp::create(rewriter, loc, zero, upper, step);
    OpBuilder::InsertionGuard inLoop(rewriter);
    rewriter.setInsertionPoint(loop.getBody()->getTerminator());
    copyChunk(loop.getInductionVar(), lanes);
  }
  for (int64_t width = lanes / 2, at = whole; width >= 1; width /= 2)
    if (size - at >= width) {
      copyChunk(arith::ConstantIndexOp::create(rewriter, loc, at), width);
      at += width;
    }
}

/// Side of the square blocks a transpose moves through registers (16: one
/// AVX-512 register of f32 per row), or half that for dims of 8 to 15.
constexpr int64_t kTransposeBlock = 16;

int64_t transposeBlock(int64_t innerRange, int64_t outerRange) {
  int64_t shorter = std::min(innerRange, outerRange);
  return shorter >= kTransposeBlock ? kTransposeBlock : shorter >= kTransposeBlock / 2 ? kTransposeBlock / 2 : 0;
}

/// A 32-bit copy that transposes the two innermost memory dims: out[...,
/// o, ..., i] = in[..., i + f, ..., o + g], the output written through a
/// permutation, `inner` (i) the output's innermost loop, `outer` (o) the
/// one that walks the input's innermost dim at unit step, f and g shifts
/// by the other loops (none for a plain transpose; the kernel offsets of
/// mpc-conv-to-matmul's transposed im2col, patches[p, k, c] = input[c,
/// oh + kh, ow + kw]). As loops it reads or writes one element per cache
/// line: LLVM vectorized them with scatters or gathers (the transposes back
/// from mpc-conv-to-matmul's positions-x-channels form: 11 ns per element,
/// 2.5% of ResNet-18's run time, all on one thread) or left them scalar (the
/// im2col: 4 cycles per element). Both dims must be at least 8 long.
bool isBlockTranspose(linalg::GenericOp op, unsigned &inner, unsigned &outer) {
  if (copiedBits(op) != 32u || op.getNumLoops() < 2)
    return false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!maps[1].isPermutation() || maps[0].getNumSymbols() != 0)
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  inner = cast<AffineDimExpr>(maps[1].getResults().back()).getPosition();
  MLIRContext *ctx = op.getContext();
  unsigned dims = maps[0].getNumDims();
  // `expr` is d + (something free of `inner` and `d`).
  auto walksAtUnitStep = [&](AffineExpr expr, unsigned d) {
    if (!expr.isFunctionOfDim(d))
      return false;
    AffineExpr shift = simplifyAffineExpr(expr - getAffineDimExpr(d, ctx), dims, 0);
    return !shift.isFunctionOfDim(d) && !shift.isFunctionOfDim(inner);
  };
  ArrayRef<AffineExpr> results = maps[0].getResults();
  // Of the loops that walk it (ow and kw in the im2col), the longest.
  bool found = false;
  for (unsigned d = 0; d < dims; ++d)
    if (d != inner && walksAtUnitStep(results.back(), d) && (!found || ranges[d] > ranges[outer])) {
      outer = d;
      found = true;
    }
  if (!found)
    return false;
  unsigned innerResults = 0;
  for (AffineExpr expr : results.drop_back()) {
    if (expr.isFunctionOfDim(outer))
      return false;
    if (expr.isFunctionOfDim(inner)) {
      if (!walksAtUnitStep(expr, inner))
        return false;
      ++innerResults;
    }
  }
  return innerResults == 1 && transposeBlock(ranges[inner], ranges[outer]) > 0;
}

/// isBlockTranspose's op as scalar loops over the other dims and, over
/// square blocks of the two transposed ones (transposeBlock), a row load per
/// row, a vector.transpose (16x16: AVX-512 shuffles, Shuffle16x16) and a row
/// store per column. A dim that is no multiple of the block ends with a block
/// that overlaps the one before it (its elements are copied twice, with the
/// same values: the output is not the input), so no element is left to
/// scalar code. Same elements, no arithmetic.
void lowerBlockTranspose(RewriterBase &rewriter, linalg::GenericOp op, unsigned inner, unsigned outer) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  Value in = op.getDpsInputs()[0], out = op.getDpsInits()[0];
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  Type element = cast<MemRefType>(in.getType()).getElementType();
  int64_t block = transposeBlock(ranges[inner], ranges[outer]);

  OpBuilder::InsertionGuard guard(rewriter);
  SmallVector<Value> point;
  MLIRContext *ctx = rewriter.getContext();
  for (auto [d, range] : llvm::enumerate(ranges)) {
    bool blocked = d == inner || d == outer;
    int64_t blocks = blocked ? llvm::divideCeil(range, block) : range;
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value upper = arith::ConstantIndexOp::create(rewriter, loc, blocks);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(rewriter, loc, zero, upper, one);
    rewriter.setInsertionPoint(loop.getBody()->getTerminator());
    Value iv = loop.getInductionVar();
    if (blocked) // block b starts at min(b * block, range - block)
      iv = affine::AffineMinOp::create(
          rewriter, loc,
          AffineMap::get(1, 0, {getAffineDimExpr(0, ctx) * block, getAffineConstantExpr(range - block, ctx)}, ctx),
          ValueRange{iv});
    point.push_back(iv);
  }
  auto rowType = VectorType::get({block}, element);
  auto blockType = VectorType::get({block, block}, element);
  SmallVector<bool> inBounds{true};
  // Row r of the block: input elements (inner = i0 + r, outer = o0 ..).
  Value tile = arith::ConstantOp::create(rewriter, loc, blockType, rewriter.getZeroAttr(blockType));
  for (int64_t r = 0; r < block; ++r) {
    SmallVector<Value> at(point);
    at[inner] = arith::AddIOp::create(rewriter, loc, point[inner], arith::ConstantIndexOp::create(rewriter, loc, r));
    Value row = vector::TransferReadOp::create(rewriter, loc, rowType, in, mapIndices(rewriter, loc, maps[0], at),
                                               /*padding=*/std::nullopt, inBounds);
    tile = vector::InsertOp::create(rewriter, loc, row, tile, r);
  }
  Value transposed = vector::TransposeOp::create(rewriter, loc, tile, ArrayRef<int64_t>{1, 0});
  // Row c of the transposed block: output elements (outer = o0 + c, inner = i0 ..).
  for (int64_t c = 0; c < block; ++c) {
    SmallVector<Value> at(point);
    at[outer] = arith::AddIOp::create(rewriter, loc, point[outer], arith::ConstantIndexOp::create(rewriter, loc, c));
    Value row = vector::ExtractOp::create(rewriter, loc, transposed, c);
    vector::TransferWriteOp::create(rewriter, loc, row, out, mapIndices(rewriter, loc, maps[1], at), inBounds);
  }
}

/// `expr` as sum(coefficients[d] * d) + constant, if it is one (constant
/// coefficients, no mod/floordiv/symbols).
bool linearForm(AffineExpr expr, SmallVectorImpl<int64_t> &coefficients, int64_t &constant) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
    ++coefficients[dim.getPosition()];
    return true;
  }
  if (auto value = dyn_cast<AffineConstantExpr>(expr)) {
    constant += value.getValue();
    return true;
  }
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return false;
  if (binary.getKind() == AffineExprKind::Add)
    return linearForm(binary.getLHS(), coefficients, constant) &&
           linearForm(binary.getRHS(), coefficients, constant);
  if (binary.getKind() != AffineExprKind::Mul)
    return false;
  auto factor = dyn_cast<AffineConstantExpr>(binary.getRHS());
  if (!factor)
    return false;
  SmallVector<int64_t> inner(coefficients.size(), 0);
  int64_t innerConstant = 0;
  if (!linearForm(binary.getLHS(), inner, innerConstant))
    return false;
  for (auto [total, c] : llvm::zip(coefficients, inner))
    total += c * factor.getValue();
  constant += innerConstant * factor.getValue();
  return true;
}

/// A window reduction (max or average pooling): the parallel loops come
/// first and index the output through an identity map, the reduction loops
/// (the window) follow, and every input the body reads either walks the
/// innermost parallel loop `lanes` (the output width) in its last,
/// unit-stride dim as `stride * lanes + dilation * window + offset`, where
/// `window` is the innermost loop of all (the window's width) or absent, or
/// does not depend on `lanes` at all (read as a scalar and broadcast). As
/// loops, the input map is no projected permutation and the innermost loop
/// a reduction, so the tiling below leaves it scalar: torch_cnn's f16 max
/// pooling, 2x2 windows at stride 2, one F16C conversion per element, was
/// 57% of its fp16 run time.
struct WindowReduction {
  unsigned lanes = 0;
  std::optional<unsigned> window;
  /// Per input: (stride, dilation, offset) when it walks `lanes`.
  SmallVector<std::optional<std::array<int64_t, 3>>> walks;
  /// Chunks of the output width: (start, width); `looped` leading full
  /// chunks run in an scf.for.
  SmallVector<std::pair<int64_t, int64_t>> chunks;
  int64_t looped = 0;
};

/// Elements a chunk's read of `input` starts before its first used element
/// so that all its `width * stride` elements lie in the row of `size`
/// elements; negative if the row cannot hold them.
int64_t readShift(int64_t first, int64_t width, int64_t stride, int64_t size) {
  if (stride == 1)
    return 0;
  int64_t shift = std::max<int64_t>(0, first + width * stride - size);
  return shift <= first ? shift : -1;
}

std::optional<WindowReduction> matchWindowReduction(linalg::GenericOp op, int64_t maxLanes) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0 ||
      op.getNumParallelLoops() == 0)
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned parallel = op.getNumParallelLoops(), loops = ranges.size();
  for (unsigned d = 0; d < loops; ++d)
    if ((iterators[d] == utils::IteratorType::parallel) != (d < parallel))
      return std::nullopt;
  if (!hasVectorizableBody(op, /*approximatedMath=*/false))
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  WindowReduction w;
  w.lanes = parallel - 1;
  if (ranges[w.lanes] < kMinLanes)
    return std::nullopt;
  OpOperand *init = op.getDpsInitOperand(0);
  auto outType = dyn_cast<MemRefType>(init->get().getType());
  AffineMap outMap = op.getMatchingIndexingMap(init);
  if (!outType || !outType.isLastDimUnitStride() || !outType.getElementType().isIntOrFloat() ||
      outType.getElementTypeBitWidth() % 8 != 0 ||
      outMap != AffineMap::getMultiDimIdentityMap(loops, ctx).getMajorSubMap(parallel))
    return std::nullopt;
  Block &body = op.getRegion().front();
  // Per input: the row size and the first element each chunk reads, checked
  // once the chunks are known.
  SmallVector<std::pair<OpOperand *, int64_t>> rows;
  for (OpOperand *input : op.getDpsInputOperands()) {
    w.walks.push_back(std::nullopt);
    if (body.getArgument(input->getOperandNumber()).use_empty())
      continue;
    auto type = dyn_cast<MemRefType>(input->get().getType());
    if (!type)
      continue; // a scalar: broadcast
    if (!type.getElementType().isIntOrFloat() || type.getElementTypeBitWidth() % 8 != 0)
      return std::nullopt;
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!map.isFunctionOfDim(w.lanes))
      continue; // read as a scalar per point of the other loops
    ArrayRef<AffineExpr> results = map.getResults();
    for (AffineExpr expr : results.drop_back())
      if (expr.isFunctionOfDim(w.lanes))
        return std::nullopt;
    SmallVector<int64_t> coefficients(loops, 0);
    int64_t offset = 0;
    if (!type.isLastDimUnitStride() || type.isDynamicDim(type.getRank() - 1) ||
        !linearForm(results.back(), coefficients, offset) || coefficients[w.lanes] < 1 || offset < 0)
      return std::nullopt;
    std::array<int64_t, 3> walk{coefficients[w.lanes], 0, offset};
    for (unsigned d = 0; d < loops; ++d) {
      if (d == w.lanes || coefficients[d] == 0)
        continue;
      // Only the innermost loop, a reduction, may shift the row.
      if (d != loops - 1 || d < parallel || coefficients[d] < 0 || (w.window && *w.window != d))
        return std::nullopt;
      w.window = d;
      walk[1] = coefficients[d];
    }
    w.walks.back() = walk;
    rows.emplace_back(input, type.getDimSize(type.getRank() - 1));
  }
  // Window widths are small (pooling kernels): the window loop is unrolled.
  if (w.window && ranges[*w.window] > 16)
    return std::nullopt;
  if (rows.empty())
    return std::nullopt;

  // Full chunks of `lanes` (a power of two: see touches16BitFloats), then
  // one of each smaller power of two for the rest.
  int64_t size = ranges[w.lanes];
  int64_t lanes = llvm::bit_floor(static_cast<uint64_t>(std::clamp<int64_t>(maxLanes, 1, size)));
  int64_t at = 0;
  for (; at + lanes <= size; at += lanes)
    w.chunks.emplace_back(at, lanes);
  for (int64_t width = lanes / 2; width >= 1; width /= 2)
    if (size - at >= width) {
      w.chunks.emplace_back(at, width);
      at += width;
    }
  // Every read must stay in its row; the leading full chunks that read no
  // element past it for any window offset run in a loop.
  int64_t windowSize = w.window ? ranges[*w.window] : 1;
  bool prefix = true;
  for (auto [start, width] : w.chunks) {
    bool unshifted = true;
    for (auto [input, rowSize] : rows) {
      const std::array<int64_t, 3> &walk = *w.walks[input->getOperandNumber()];
      for (int64_t k = 0; k < windowSize; ++k) {
        int64_t first = walk[0] * start + walk[1] * k + walk[2];
        int64_t shift = readShift(first, width, walk[0], rowSize);
        if (shift < 0 || first + (width - 1) * walk[0] >= rowSize)
          return std::nullopt;
        unshifted &= shift == 0;
      }
    }
    prefix &= unshifted && width == lanes;
    if (prefix)
      ++w.looped;
  }
  if (w.looped < 2)
    w.looped = 0;
  return w;
}

/// The body's ops applied lane-wise to `args` (one per block argument: a
/// vector of `width` lanes, or null where unused); values from outside the
/// body are broadcast. Returns the yielded vector.
Value applyBodyToVectors(RewriterBase &rewriter, Location loc, Block &body, ArrayRef<Value> args, int64_t width) {
  IRMapping mapping;
  for (auto [arg, value] : llvm::zip(body.getArguments(), args))
    if (value)
      mapping.map(arg, value);
  auto vectorOf = [&](Type type) { return VectorType::get({width}, type); };
  for (Operation &op : body.without_terminator()) {
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto type = vectorOf(constant.getType());
      mapping.map(constant.getResult(),
                  arith::ConstantOp::create(rewriter, loc, type,
                                            SplatElementsAttr::get(type, ArrayRef<Attribute>{constant.getValue()})));
      continue;
    }
    SmallVector<Value> operands;
    for (Value operand : op.getOperands()) {
      Value vector = mapping.lookupOrNull(operand);
      if (!vector)
        vector = vector::BroadcastOp::create(rewriter, loc, vectorOf(operand.getType()), operand);
      operands.push_back(vector);
    }
    SmallVector<Type> types;
    for (Type type : op.getResultTypes())
      types.push_back(vectorOf(type));
    OperationState state(loc, op.getName(), operands, types, op.getAttrs());
    Operation *vectorOp = rewriter.create(state);
    mapping.map(op.getResults(), vectorOp->getResults());
  }
  return mapping.lookup(body.getTerminator()->getOperand(0));
}

/// matchWindowReduction's op as scalar loops over the parallel dims but the
/// output width, which goes in chunks of vectors: the chunk's outputs are
/// loaded as the accumulator, the reduction loops run around it in their
/// order (the window's width unrolled innermost), each step applies the
/// body lane-wise to the window elements of the chunk's outputs, and the
/// accumulator is stored. Each output element sees the same body ops on the
/// same elements in the same order as in the scalar loops: bit-identical.
/// A strided input (stride s) is read as `width * s` contiguous elements
/// (started up to s - 1 elements early where the row would end before
/// them) and every s-th one picked with a shuffle.
void lowerWindowReduction(RewriterBase &rewriter, linalg::GenericOp op, const WindowReduction &w) {
  Location loc = op.getLoc();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned loops = ranges.size(), parallel = op.getNumParallelLoops();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  Block &body = op.getRegion().front();
  Value out = op.getDpsInits()[0];
  Type outElement = cast<MemRefType>(out.getType()).getElementType();
  SmallVector<bool> inBounds{true};
  auto index = [&](int64_t value) { return arith::ConstantIndexOp::create(rewriter, loc, value); };

  SmallVector<Value> point(loops);
  for (unsigned d = 0; d < w.lanes; ++d) {
    auto loop = scf::ForOp::create(rewriter, loc, index(0), index(ranges[d]), index(1));
    point[d] = loop.getInductionVar();
    rewriter.setInsertionPoint(loop.getBody()->getTerminator());
  }

  // One step of the window at `point` (the chunk start in point[lanes], the
  // window's width offset `windowOffset`).
  int64_t windowOffset = 0;
  auto step = [&](Value acc, int64_t width, std::optional<int64_t> start) {
    SmallVector<Value> args;
    for (OpOperand *input : op.getDpsInputOperands()) {
      unsigned n = input->getOperandNumber();
      Value source = input->get();
      if (body.getArgument(n).use_empty()) {
        args.push_back(nullptr);
        continue;
      }
      if (!isa<MemRefType>(source.getType())) {
        args.push_back(vector::BroadcastOp::create(rewriter, loc, VectorType::get({width}, source.getType()), source));
        continue;
      }
      SmallVector<Value> at = mapIndices(rewriter, loc, maps[n], point);
      Type element = cast<MemRefType>(source.getType()).getElementType();
      if (!w.walks[n]) {
        Value scalar = memref::LoadOp::create(rewriter, loc, source, at);
        args.push_back(vector::BroadcastOp::create(rewriter, loc, VectorType::get({width}, element), scalar));
        continue;
      }
      auto [stride, dilation, offset] = *w.walks[n];
      if (stride == 1) {
        args.push_back(vector::TransferReadOp::create(rewriter, loc, VectorType::get({width}, element), source, at,
                                                      /*padding=*/std::nullopt, inBounds));
        continue;
      }
      int64_t shift = 0;
      if (start) {
        auto type = cast<MemRefType>(source.getType());
        shift = readShift(stride * *start + dilation * windowOffset + offset, width, stride, type.getDimSize(type.getRank() - 1));
      }
      if (shift != 0)
        at.back() = arith::SubIOp::create(rewriter, loc, at.back(), index(shift));
      Value wide = vector::TransferReadOp::create(rewriter, loc, VectorType::get({width * stride}, element), source,
                                                  at, /*padding=*/std::nullopt, inBounds);
      // 16-bit floats shuffle as integers (the x86 backend promotes bf16/f16
      // vector ops it has no instructions for).
      Type bits = element.isBF16() || element.isF16() ? IntegerType::get(rewriter.getContext(), 16) : element;
      if (bits != element)
        wide = vector::BitCastOp::create(rewriter, loc, VectorType::get({width * stride}, bits), wide);
      SmallVector<int64_t> mask;
      for (int64_t i = 0; i < width; ++i)
        mask.push_back(i * stride + shift);
      Value picked = vector::ShuffleOp::create(rewriter, loc, wide, wide, mask);
      if (bits != element)
        picked = vector::BitCastOp::create(rewriter, loc, VectorType::get({width}, element), picked);
      args.push_back(picked);
    }
    args.push_back(acc);
    return applyBodyToVectors(rewriter, loc, body, args, width);
  };

  // The reduction loops from `d` on around the accumulator.
  std::function<Value(unsigned, Value, int64_t, std::optional<int64_t>)> reduce =
      [&](unsigned d, Value acc, int64_t width, std::optional<int64_t> start) -> Value {
    if (d == loops)
      return step(acc, width, start);
    if (w.window && d == *w.window) {
      for (int64_t k = 0; k < ranges[d]; ++k) {
        point[d] = index(k);
        windowOffset = k;
        acc = reduce(d + 1, acc, width, start);
      }
      return acc;
    }
    auto loop = scf::ForOp::create(rewriter, loc, index(0), index(ranges[d]), index(1), ValueRange{acc});
    OpBuilder::InsertionGuard inLoop(rewriter);
    rewriter.setInsertionPointToStart(loop.getBody());
    point[d] = loop.getInductionVar();
    Value next = reduce(d + 1, loop.getRegionIterArgs()[0], width, start);
    scf::YieldOp::create(rewriter, loc, next);
    return loop.getResult(0);
  };

  auto chunk = [&](Value start, int64_t width, std::optional<int64_t> staticStart) {
    point[w.lanes] = start;
    SmallVector<Value> at(point.begin(), point.begin() + parallel);
    auto type = VectorType::get({width}, outElement);
    Value acc = vector::TransferReadOp::create(rewriter, loc, type, out, at, /*padding=*/std::nullopt, inBounds);
    acc = reduce(parallel, acc, width, staticStart);
    vector::TransferWriteOp::create(rewriter, loc, acc, out, at, inBounds);
  };

  ArrayRef<std::pair<int64_t, int64_t>> chunks(w.chunks);
  if (w.looped > 0) {
    int64_t width = chunks.front().second;
    auto loop = scf::ForOp::create(rewriter, loc, index(0), index(w.looped * width), index(width));
    OpBuilder::InsertionGuard inLoop(rewriter);
    rewriter.setInsertionPoint(loop.getBody()->getTerminator());
    chunk(loop.getInductionVar(), width, std::nullopt);
  }
  for (auto [start, width] : chunks.drop_front(w.looped))
    chunk(index(start), width, start);
}

/// Tile sizes for a reduction over its innermost loop (softmax's row max
/// and sum of exps, a layer norm's sums, a mean over the last dim), or
/// empty: [1, ..., 1, rows, lanes], the rows from the innermost parallel
/// loop. linalg::vectorize makes of such a tile a [rows x lanes]
/// multi-reduction with the [rows] output as its accumulator, which the
/// InnerParallel lowering (below) transposes and then reduces lane-wise
/// over the reduction, one step after the other from the accumulator: each
/// row still adds its elements in order into one accumulator (the reduction
/// tiles run in order), so results are bit-identical to the scalar loops,
/// and the body's other ops (softmax's exp) run `rows` lanes wide. As
/// scalar loops, the BERT-style encoder's softmax sums were 6% of its run
/// time, one polynomial exp per element. The reduction must walk the
/// operands that read it contiguously; an operand without it (the output,
/// the row max) reads the rows at unit stride or not at all.
SmallVector<int64_t> rowReductionTiles(linalg::GenericOp op, ArrayRef<int64_t> ranges, int64_t limit,
                                       bool approximatedMath) {
  unsigned loops = ranges.size();
  if (loops < 2 || op.getNumReductionLoops() != 1)
    return {};
  // The rows: the innermost parallel loop that is more than one long (a
  // layer norm's [batch, tokens, 1] statistics have a unit loop between).
  unsigned reduction = loops - 1, rows = reduction;
  while (rows > 0 && ranges[--rows] == 1)
    ;
  if (op.getIteratorTypesArray()[rows] != utils::IteratorType::parallel || ranges[rows] == 1)
    return {};
  if (!hasVectorizableBody(op, approximatedMath) || !innermostIsContiguous(op, reduction))
    return {};
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (map.isFunctionOfDim(reduction) || !map.isFunctionOfDim(rows))
      continue;
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    std::optional<unsigned> position = map.getResultPosition(getAffineDimExpr(rows, op.getContext()));
    SmallVector<int64_t> strides;
    int64_t offset;
    if (!type || !position || failed(type.getStridesAndOffset(strides, offset)) || strides[*position] != 1)
      return {};
  }
  bool powerOfTwo = touches16BitFloats(op);
  int64_t rowLanes = laneCount(ranges[rows], limit, powerOfTwo);
  int64_t lanes = laneCount(ranges[reduction], limit, powerOfTwo);
  if (rowLanes == 0 || lanes == 0)
    return {};
  SmallVector<int64_t> tiles(loops, 1);
  tiles[rows] = rowLanes;
  tiles[reduction] = lanes;
  return tiles;
}

/// Tile sizes [1, ..., 1, lanes] if `op` qualifies, empty otherwise.
SmallVector<int64_t> tileSizesFor(linalg::GenericOp op, int64_t limit, bool approximatedMath) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0)
    return {};
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return {};
  unsigned innermost = ranges.size() - 1;
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/true))
      return {};
  if (op.getIteratorTypesArray()[innermost] != utils::IteratorType::parallel)
    return rowReductionTiles(op, ranges, limit, approximatedMath);
  if (!hasVectorizableBody(op, approximatedMath) || !innermostIsContiguous(op, innermost))
    return {};
  int64_t lanes = laneCount(ranges[innermost], limit, touches16BitFloats(op));
  if (lanes == 0)
    return {};
  SmallVector<int64_t> tiles(ranges.size(), 1);
  tiles[innermost] = lanes;
  return tiles;
}

/// A row reduction's tile without its unit loops ([1, rows, 1, lanes] ->
/// [rows, lanes]), its operands through rank-reducing subviews: vectorized
/// with them, the [rows x 1 x lanes] block's transpose was lowered to one
/// extract and insert per element (a layer norm's statistics over [batch,
/// tokens, 1]). (linalg::dropUnitDims leaves strided memrefs, i.e. every
/// tile's subview, alone.) The body has no linalg.index (see
/// hasVectorizableBody), so the loops renumber freely.
Operation *dropUnitLoops(RewriterBase &rewriter, linalg::GenericOp tile) {
  SmallVector<int64_t> ranges = tile.getStaticLoopRanges();
  MLIRContext *ctx = tile.getContext();
  SmallVector<AffineExpr> replacements;
  SmallVector<utils::IteratorType> iterators;
  for (auto [d, range] : llvm::enumerate(ranges)) {
    if (range == 1) {
      replacements.push_back(getAffineConstantExpr(0, ctx));
      continue;
    }
    replacements.push_back(getAffineDimExpr(iterators.size(), ctx));
    iterators.push_back(tile.getIteratorTypesArray()[d]);
  }
  if (iterators.size() == ranges.size())
    return tile;
  rewriter.setInsertionPoint(tile);
  SmallVector<Value> operands;
  SmallVector<AffineMap> maps;
  for (OpOperand &operand : tile->getOpOperands()) {
    auto type = cast<MemRefType>(operand.get().getType());
    AffineMap map = tile.getMatchingIndexingMap(&operand);
    SmallVector<int64_t> shape;
    SmallVector<AffineExpr> results;
    for (auto [size, expr] : llvm::zip(type.getShape(), map.getResults())) {
      AffineExpr replaced = expr.replaceDims(replacements);
      if (size == 1 && isa<AffineConstantExpr>(replaced))
        continue;
      shape.push_back(size);
      results.push_back(replaced);
    }
    FailureOr<Value> reduced = memref::SubViewOp::rankReduceIfNeeded(rewriter, tile.getLoc(), operand.get(), shape);
    if (failed(reduced))
      return tile;
    operands.push_back(*reduced);
    maps.push_back(AffineMap::get(iterators.size(), 0, results, ctx));
  }
  unsigned inputs = tile.getNumDpsInputs();
  auto reduced = linalg::GenericOp::create(rewriter, tile.getLoc(), TypeRange{},
                                           ArrayRef(operands).take_front(inputs),
                                           ArrayRef(operands).drop_front(inputs), maps, iterators);
  rewriter.inlineRegionBefore(tile.getRegion(), reduced.getRegion(), reduced.getRegion().begin());
  rewriter.eraseOp(tile);
  return reduced;
}

struct VectorizeGenericsPass : impl::VectorizeGenericsPassBase<VectorizeGenericsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);

    // Copies, transposes, fills and broadcasts are generics in disguise.
    SmallVector<linalg::LinalgOp> named;
    func.walk([&](linalg::LinalgOp op) {
      if (isa<linalg::CopyOp, linalg::TransposeOp, linalg::FillOp, linalg::BroadcastOp>(op) &&
          op.hasPureBufferSemantics())
        named.push_back(op);
    });
    for (linalg::LinalgOp op : named) {
      rewriter.setInsertionPoint(op);
      (void)linalg::generalizeNamedOp(rewriter, op);
    }

    SmallVector<linalg::GenericOp> rowCopies;
    func.walk([&](linalg::GenericOp op) {
      if (isShiftedRowCopy(op))
        rowCopies.push_back(op);
    });
    for (linalg::GenericOp op : rowCopies) {
      lowerShiftedRowCopy(rewriter, op, vectorSize);
      rewriter.eraseOp(op);
    }

    SmallVector<std::tuple<linalg::GenericOp, unsigned, unsigned>> transposes;
    func.walk([&](linalg::GenericOp op) {
      unsigned inner, outer;
      if (isBlockTranspose(op, inner, outer))
        transposes.emplace_back(op, inner, outer);
    });
    for (auto [op, inner, outer] : transposes) {
      lowerBlockTranspose(rewriter, op, inner, outer);
      rewriter.eraseOp(op);
    }

    SmallVector<std::pair<linalg::GenericOp, WindowReduction>> windows;
    func.walk([&](linalg::GenericOp op) {
      if (std::optional<WindowReduction> w = matchWindowReduction(op, vectorSize))
        windows.emplace_back(op, std::move(*w));
    });
    for (auto &[op, w] : windows) {
      lowerWindowReduction(rewriter, op, w);
      rewriter.eraseOp(op);
    }

    SmallVector<std::pair<linalg::GenericOp, SmallVector<int64_t>>> candidates;
    func.walk([&](linalg::GenericOp op) {
      SmallVector<int64_t> tiles = tileSizesFor(op, vectorSize, approximatedMath);
      if (!tiles.empty())
        candidates.emplace_back(op, std::move(tiles));
    });

    for (auto &[op, tiles] : candidates) {
      rewriter.setInsertionPoint(op);
      linalg::LinalgTilingOptions tiling;
      tiling.setTileSizes(tiles);
      tiling.setLoopType(linalg::LinalgTilingLoopType::Loops);
      FailureOr<linalg::TiledLinalgOp> tiled = linalg::tileLinalgOp(rewriter, op, tiling);
      if (failed(tiled))
        continue; // convert-linalg-to-loops still lowers the untiled op
      rewriter.eraseOp(op);
      Operation *tile = tiled->op.getOperation();
      if (cast<linalg::GenericOp>(tile).getNumReductionLoops() > 0)
        tile = dropUnitLoops(rewriter, cast<linalg::GenericOp>(tile));
      if (failed(linalg::vectorizeOpPrecondition(tile)))
        continue; // the tile is a valid generic: it becomes scalar loops
      rewriter.setInsertionPoint(tile);
      FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(rewriter, tile);
      if (failed(vectorized))
        continue;
      rewriter.replaceOp(tile, vectorized->replacements);
    }

    // The tiles' vectors are [1, ..., 1, lanes]: drop the unit dimensions so
    // that reads and writes become 1-D vector loads and stores, and lower
    // the size-1 multi-reductions (reductions over outer loops) to
    // lane-wise adds, in the scalar loops' order. (Broadcast lowering is
    // left out: with the leading-one-dim patterns it rewrote a scalar
    // broadcast back and forth forever; convert-vector-to-llvm lowers the
    // remaining 1-D broadcasts.)
    RewritePatternSet patterns(ctx);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorMultiReductionLoweringPatterns(patterns,
                                                         vector::VectorMultiReductionLowering::InnerParallel);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    vector::populateVectorTransferLoweringPatterns(patterns, /*maxTransferRank=*/1);
    vector::populateVectorTransposeLoweringPatterns(patterns, vector::VectorTransposeLowering::Shuffle16x16);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
} // namespace mpc
