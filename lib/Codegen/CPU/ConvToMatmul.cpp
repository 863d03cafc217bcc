//===- ConvToMatmul.cpp - convolution generics as im2col + matmul ---------===//
//
// mpc.conv lowers to one linalg.generic whose input map is out * stride +
// kernel * dilation. mpc-tile-and-vectorize only tiles plain (projected
// permutation) maps, so convolutions ran as scalar loops (~1 GFLOP/s).
// Copying the input windows into a patches tensor first (im2col) costs
// C * prod(kernel) * prod(out) copies against M times that many multiply-
// adds, and leaves a matmul the register tiles handle: the out-spatial
// positions, flattened, are the tile's columns and the output channels its
// rows. The filter gradient (a sum over batch and output positions) gets
// the same treatment, with the filter entries as the columns. The input
// gradient needs nothing here: mpc-lower-to-linalg lowers it to forward
// convolution generics (one per stride phase, flipped weights), which this
// pass matches like any other. Both generics are recognised by
// matchConvolution (Codegen/Common/ConvolutionMatch.h).
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/Passes.h"
#include "mpc/Codegen/Common/ConvolutionMatch.h"
#include "mpc/Dialect/TransposeElements.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_CONVTOMATMULPASS
#include "mpc/Codegen/CPU/Passes.h.inc"

namespace {

/// Collapses dims [first, first + count) of `value` into one.
Value collapseRange(OpBuilder &b, Location loc, Value value, int64_t first, int64_t count) {
  if (count == 1)
    return value;
  int64_t rank = cast<RankedTensorType>(value.getType()).getRank();
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank; ++i) {
    if (i > first && i < first + count)
      groups.back().push_back(i);
    else
      groups.push_back({i});
  }
  return tensor::CollapseShapeOp::create(b, loc, value, groups);
}

/// A new tensor of `shape` (the element type of `source`) filled by a copy
/// generic: loops over `shape`'s dims, `source` read at `sourceMap`, the
/// result written at `resultMap` (the identity unless the loops follow
/// another order).
/// With `widen`, the copy writes f32 elements (extf of each bf16/f16 one).
Value copyGeneric(OpBuilder &b, Location loc, Value source, ArrayRef<int64_t> shape, AffineMap sourceMap,
                  AffineMap resultMap, bool widen = false) {
  Type element = widen ? b.getF32Type() : cast<RankedTensorType>(source.getType()).getElementType();
  Value init = tensor::EmptyOp::create(b, loc, shape, element);
  unsigned loops = sourceMap.getNumDims();
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{source}, ValueRange{init},
             SmallVector<AffineMap>{sourceMap, resultMap},
             SmallVector<utils::IteratorType>(loops, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value value = widen ? arith::ExtFOp::create(nb, nl, element, args[0]).getResult() : args[0];
               linalg::YieldOp::create(nb, nl, value);
             })
      .getResult(0);
}

Value copyGeneric(OpBuilder &b, Location loc, Value source, ArrayRef<int64_t> shape, AffineMap sourceMap,
                  bool widen = false) {
  return copyGeneric(b, loc, source, shape, sourceMap,
                     AffineMap::getMultiDimIdentityMap(sourceMap.getNumDims(), b.getContext()), widen);
}

/// Output positions per block. Patches for a whole 56x56 image are 7 MB
/// (C = 64, 3x3); every 8-row register tile of output channels streamed
/// them again from memory (a 64x576x3136 matmul ran at 7 GFLOP/s, a
/// 64x576x256 one at 46). A block of at most this many positions keeps its
/// patches in the L2 cache, and they are built right before their use.
constexpr int64_t kBlockColumns = 256;

/// Rows of the first output-spatial dimension per block: its largest
/// divisor whose block has at most kBlockColumns positions (at least 1), so
/// every block has the same static shape.
int64_t rowsPerBlock(ArrayRef<int64_t> out) {
  int64_t rowSize = 1;
  for (int64_t size : out.drop_front())
    rowSize *= size;
  int64_t best = 1;
  for (int64_t rows = 1; rows <= out[0]; ++rows)
    if (out[0] % rows == 0 && rows * rowSize <= kBlockColumns)
      best = rows;
  return best;
}

/// The input rows that batch element `n`'s output rows [row0, row0 + rows)
/// of the first spatial dimension read (all of `input` without `row0`).
Value blockInput(OpBuilder &b, Location loc, Value input, Value n, Value row0, int64_t rows,
                 ArrayRef<int64_t> kernel, const ConvMatch &conv) {
  if (!row0)
    return input;
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t inputRows = (rows - 1) * conv.strides[0] + (kernel[0] - 1) * conv.dilations[0] + 1;
  SmallVector<OpFoldResult> offsets(inputType.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(inputType.getRank(), b.getIndexAttr(1));
  Value stride = arith::ConstantIndexOp::create(b, loc, conv.strides[0]);
  offsets[3] = arith::MulIOp::create(b, loc, row0, stride).getResult();
  for (int64_t size : inputType.getShape())
    sizes.push_back(b.getIndexAttr(size));
  sizes[3] = b.getIndexAttr(inputRows);
  offsets[0] = n;
  sizes[0] = b.getIndexAttr(1);
  return tensor::ExtractSliceOp::create(b, loc, input, offsets, sizes, strides);
}

/// The patches of batch element `n` and output rows [row0, row0 + rows) of
/// the first spatial dimension (the whole batch and all rows without
/// `row0`), as [N or 1, G, C * prod(K), rows * prod(other O)]:
/// patches[n, g, (c, k), o] = input[n, g, c, o * stride + k * dilation]. A
/// 1x1 stride-1 convolution needs no copy: the input rows are its patches.
Value buildPatches(OpBuilder &b, Location loc, Value input, Value n, Value row0, int64_t rows,
                   ArrayRef<int64_t> kernel, ArrayRef<int64_t> out, const ConvMatch &conv) {
  int64_t s = conv.spatial;
  input = blockInput(b, loc, input, n, row0, rows, kernel, conv);
  auto inputType = cast<RankedTensorType>(input.getType());
  bool pointwise = llvm::all_of(kernel, [](int64_t k) { return k == 1; }) &&
                   llvm::all_of(conv.strides, [](int64_t v) { return v == 1; });
  Value patches = input;
  if (!pointwise) {
    SmallVector<int64_t> shape(inputType.getShape().take_front(3));
    shape.append(kernel.begin(), kernel.end());
    shape.append(out.begin(), out.end());
    shape[3 + s] = rows;
    // Loops in the patches' order (n, g, c, k..., o...); the input map is
    // the convolution's with its loops renumbered to that order.
    MLIRContext *ctx = b.getContext();
    int64_t loops = 3 + 2 * s;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> inExprs{d(0), d(1), d(2)};
    for (int64_t i = 0; i < s; ++i)
      inExprs.push_back(d(3 + s + i) * conv.strides[i] + d(3 + i) * conv.dilations[i]);
    patches = copyGeneric(b, loc, input, shape, AffineMap::get(loops, 0, inExprs, ctx));
  }
  // [N, G, C, K..., O...] -> [N, G, C * prod(K), prod(O)]; the pointwise
  // patches are [N, G, C, O...].
  int64_t rank = cast<RankedTensorType>(patches.getType()).getRank();
  patches = collapseRange(b, loc, patches, rank - s, s);
  return collapseRange(b, loc, patches, 2, rank - s - 2);
}

/// A generic over `maps` and `iterators` with the body of `conv` (a
/// convolution or its filter gradient) whose two inputs trade places: `first`
/// is read as the broadcast column of the outer products and `second` as the
/// vector row (contiguous along the innermost parallel loop); the other order
/// transposed every accumulator tile element by element (4x the IR).
Value buildSwappedContraction(OpBuilder &b, Location loc, linalg::GenericOp conv, Value first, Value second,
                              Value acc, ArrayRef<AffineMap> maps, ArrayRef<utils::IteratorType> iterators) {
  auto matmul = linalg::GenericOp::create(b, loc, TypeRange{acc.getType()}, ValueRange{first, second},
                                          ValueRange{acc}, maps, iterators);
  // The body is taken over (same casts and accumulation); its first two
  // arguments trade places, as the operands did, and so do the factors of
  // its products (exact: multiplication commutes), which
  // mpc-tile-and-vectorize expects in operand order.
  IRMapping mapping;
  conv.getRegion().cloneInto(&matmul.getRegion(), mapping);
  Block &body = matmul.getRegion().front();
  BlockArgument oldSecond = body.getArgument(1);
  BlockArgument newFirst = body.insertArgument(0u, oldSecond.getType(), oldSecond.getLoc());
  oldSecond.replaceAllUsesWith(newFirst);
  body.eraseArgument(2);
  body.walk([](Operation *mul) {
    if (isa<arith::MulFOp, arith::MulIOp>(mul))
      mul->setOperands({mul->getOperand(1), mul->getOperand(0)});
  });
  return matmul.getResult(0);
}

/// The register tile's width in output positions (mpc-tile-and-vectorize's
/// column tile).
constexpr int64_t kTileColumns = 32;

/// `value` [..., columns] restricted to columns [first, first + count).
Value columnSlice(OpBuilder &b, Location loc, Value value, int64_t first, int64_t count) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes, strides(rank, b.getIndexAttr(1));
  for (int64_t size : type.getShape())
    sizes.push_back(b.getIndexAttr(size));
  offsets.back() = b.getIndexAttr(first);
  sizes.back() = b.getIndexAttr(count);
  return tensor::ExtractSliceOp::create(b, loc, value, offsets, sizes, strides);
}

/// Lanes of an AVX-512 register of f32: a column tail is padded to a
/// multiple of this (of half of it when it is at most that).
constexpr int64_t kVectorLanes = 16;

/// `value` [..., columns] widened to `columns` columns, the new ones zero.
Value padColumns(OpBuilder &b, Location loc, Value value, int64_t columns) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = columns;
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
  return tensor::createPadHighOp(RankedTensorType::get(shape, type.getElementType()), value, zero,
                                 /*nofold=*/false, loc, b);
}

/// acc [N, G, M, P] += weight [G, M, K] x patches [N, G, K, P]. Loops (n,
/// g, m, p, k): p, the output position, innermost of the parallel ones so
/// that it becomes the vector (column) dimension; k runs over (c,
/// kernel...) row-major, the order of the convolution's reduction loops, so
/// scalar loops add in the same order.
///
/// mpc-tile-and-vectorize shrinks a tile to a divisor of its dimension:
/// 7x7 outputs (49 positions) got 7-wide register tiles and 14x14 or 28x28
/// ones (blocks of 196) 28-wide ones, which ran at 60-75% of the 32-wide
/// tile's speed. Such position counts are split into a multiple of 32 and
/// the rest, two contractions over column slices (49 = 32 + 17, 196 = 192 +
/// 4); every output still adds its products in the same order. A rest that
/// is not a power of two (17) became vectors of odd length that LLVM split
/// into lane inserts and scalar FMAs (ResNet-18's 7x7 convolutions: the
/// 17 columns took 3x the time of the 32); it is computed on copies padded
/// with zero columns to a multiple of the vector width (17 -> 32, 9 -> 16,
/// 5 -> 8: no more FMA instructions than the odd vectors need at best), and
/// the padded columns are dropped. Convolutions with fewer than 32
/// positions (3x3 or 5x5 maps) are padded the same way.
Value buildMatmul(OpBuilder &b, Location loc, linalg::GenericOp conv, Value weight, Value patches, Value acc) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineMap> maps{AffineMap::get(5, 0, {d(1), d(2), d(4)}, ctx),
                              AffineMap::get(5, 0, {d(0), d(1), d(4), d(3)}, ctx),
                              AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)};
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  int64_t columns = cast<RankedTensorType>(acc.getType()).getShape().back();
  int64_t whole = columns / kTileColumns * kTileColumns;
  int64_t rest = columns - whole;
  // Powers of two (4 = 196 - 192) are whole vector registers already.
  bool padRest = rest > 0 && !llvm::isPowerOf2_64(rest);
  if ((whole == 0 || rest == 0) && !padRest)
    return buildSwappedContraction(b, loc, conv, weight, patches, acc, maps, iterators);
  SmallVector<std::pair<int64_t, int64_t>> parts;
  if (whole > 0)
    parts.push_back({0, whole});
  if (rest > 0)
    parts.push_back({whole, rest});
  for (auto [first, count] : parts) {
    Value patchesPart = columnSlice(b, loc, patches, first, count);
    Value accPart = columnSlice(b, loc, acc, first, count);
    bool pad = padRest && first == whole;
    if (pad) {
      int64_t padded = llvm::alignTo(count, count > kVectorLanes / 2 ? kVectorLanes : kVectorLanes / 2);
      patchesPart = padColumns(b, loc, patchesPart, padded);
      accPart = padColumns(b, loc, accPart, padded);
    }
    Value part = buildSwappedContraction(b, loc, conv, weight, patchesPart, accPart, maps, iterators);
    if (pad)
      part = columnSlice(b, loc, part, 0, count);
    auto accType = cast<RankedTensorType>(acc.getType());
    SmallVector<OpFoldResult> offsets(accType.getRank(), b.getIndexAttr(0)), sizes,
        strides(accType.getRank(), b.getIndexAttr(1));
    for (int64_t size : accType.getShape())
      sizes.push_back(b.getIndexAttr(size));
    offsets.back() = b.getIndexAttr(first);
    sizes.back() = b.getIndexAttr(count);
    acc = tensor::InsertSliceOp::create(b, loc, part, acc, offsets, sizes, strides);
  }
  return acc;
}


/// `value` [..., B, A] as [..., A, B] (a copy generic). The loops run over
/// the smaller of A and B innermost, so that the accesses that stride
/// through memory touch only that many cache lines at a time: a [784, 32]
/// to [32, 784] copy that ran along the 784 re-read its 784 source lines
/// (49 KiB, more than L1) for each of the 32.
Value swapLastTwo(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  std::swap(shape[rank - 1], shape[rank - 2]);
  MLIRContext *ctx = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  SmallVector<unsigned> swap = llvm::to_vector(llvm::seq<unsigned>(0, rank));
  std::swap(swap[rank - 1], swap[rank - 2]);
  AffineMap swapped = AffineMap::getPermutationMap(swap, ctx);
  // Loops in the result's order: the innermost runs over its last dim.
  SmallVector<AffineMap> maps{swapped, identity};
  if (shape[rank - 1] > shape[rank - 2])
    maps = {identity, swapped}; // in the source's order
  return copyGeneric(b, loc, value, shape, maps[0], maps[1]);
}

/// `value` [..., A, B] reshaped to [..., A / parts, parts, B] (contiguous).
Value splitSecondLast(OpBuilder &b, Location loc, Value value, int64_t parts) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  shape[rank - 2] /= parts;
  shape.insert(shape.begin() + rank - 1, parts);
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank - 2; ++i)
    groups.push_back({i});
  groups.push_back({rank - 2, rank - 1});
  groups.push_back({rank});
  return tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get(shape, type.getElementType()), value, groups);
}

/// The weight [G, M, C, K...] packed as [G, M / 32, prod(K) * C, 32]: for
/// each 32 output channels (a register tile's columns), their weights, one
/// contiguous row of 32 per reduction step, the steps in the transposed
/// patches' order (kernel offsets outer, input channels inner). Plain [K, M]
/// rows (a stride of 2 KiB for 512 channels) all fell into the same few L1
/// sets. The stored data is moved at compile time when it is a constant
/// (inference), else copied on every run (training: C * prod(K) * M copies
/// against prod(O) times as many multiply-adds).
Value packedWeight(OpBuilder &b, Location loc, Value weight, int64_t spatial, bool channelsInner) {
  auto type = cast<RankedTensorType>(weight.getType());
  ArrayRef<int64_t> shape = type.getShape();
  int64_t offsets = 1;
  for (int64_t size : shape.drop_front(3))
    offsets *= size;
  int64_t groups = shape[0], panels = shape[1] / kTileColumns, channels = shape[2];
  Type element = type.getElementType();
  // [G, M / 32, 32, C, prod(K)] -> [G, M / 32, prod(K), C, 32], or
  // [G, M / 32, C, prod(K), 32] for patches in the convolution's order.
  auto splitType = RankedTensorType::get({groups, panels, kTileColumns, channels, offsets}, element);
  SmallVector<int64_t> perm{0, 1, 4, 3, 2};
  if (!channelsInner)
    perm = {0, 1, 3, 4, 2};
  SmallVector<int64_t> movedShape;
  for (int64_t d : perm)
    movedShape.push_back(splitType.getDimSize(d));
  auto movedType = RankedTensorType::get(movedShape, element);
  auto resultType = RankedTensorType::get({groups, panels, offsets * channels, kTileColumns}, element);
  DenseElementsAttr dense;
  if (matchPattern(weight, m_Constant(&dense)))
    if (std::optional<DenseElementsAttr> moved = transposeElements(dense.reshape(splitType), movedType, perm))
      return arith::ConstantOp::create(b, loc, resultType, moved->reshape(resultType));
  Value split = tensor::ExpandShapeOp::create(
      b, loc, splitType, collapseRange(b, loc, weight, 3, spatial),
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
  // moved[j] = split[perm[j]]: the split is read at the inverse permutation.
  AffineMap toMoved = AffineMap::getPermutationMap(SmallVector<unsigned>(perm.begin(), perm.end()), b.getContext());
  Value moved = copyGeneric(b, loc, split, movedShape, inversePermutation(toMoved));
  return collapseRange(b, loc, moved, 2, 2);
}

/// The patches of `buildPatches` transposed, [N or 1, G, rows * prod(other
/// O), C * prod(K)]: one row of C * prod(K) entries per output position.
Value buildTransposedPatches(OpBuilder &b, Location loc, Value input, Value n, Value row0, int64_t rows,
                             ArrayRef<int64_t> kernel, ArrayRef<int64_t> out, const ConvMatch &conv,
                             bool channelsInner, bool widen) {
  int64_t s = conv.spatial;
  input = blockInput(b, loc, input, n, row0, rows, kernel, conv);
  auto inputType = cast<RankedTensorType>(input.getType());
  // Loops (n, g, o..., k..., c) in the patches' order: each position's row
  // is prod(K) runs of C channels. A stride-1 run of positions of one input
  // channel is then one row of a transpose into those runs, which
  // mpc-vectorize-generics moves in [16 x 16] register blocks.
  // Otherwise (c, k...), the convolution's order.
  SmallVector<int64_t> shape(inputType.getShape().take_front(2));
  shape.append(out.begin(), out.end());
  shape[2] = rows;
  if (!channelsInner)
    shape.push_back(inputType.getDimSize(2));
  shape.append(kernel.begin(), kernel.end());
  if (channelsInner)
    shape.push_back(inputType.getDimSize(2));
  MLIRContext *ctx = b.getContext();
  int64_t loops = 3 + 2 * s;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  int64_t channel = channelsInner ? 2 + 2 * s : 2 + s, firstOffset = channelsInner ? 2 + s : 3 + s;
  SmallVector<AffineExpr> inExprs{d(0), d(1), d(channel)};
  for (int64_t i = 0; i < s; ++i)
    inExprs.push_back(d(2 + i) * conv.strides[i] + d(firstOffset + i) * conv.dilations[i]);
  Value patches = copyGeneric(b, loc, input, shape, AffineMap::get(loops, 0, inExprs, ctx), widen);
  patches = collapseRange(b, loc, patches, 2 + s, 1 + s); // [N, G, O..., K*C]
  return collapseRange(b, loc, patches, 2, s);            // [N, G, P, K*C]
}

/// acc [N, G, M / 32, P, 32] += patchesT [N, G, P, K] x weight [G, M / 32,
/// K, 32] (packedWeight): loops (n, g, m / 32, p, m % 32, k), 32 output
/// channels the register tile's (vector) columns and the positions its
/// rows. The body is the convolution's own (input, weight, accumulator);
/// k runs over (kernel..., c) row-major, so each output adds its products
/// in another order than the convolution's (c, kernel...) loops. Widened
/// (f32) patches replace the body's widening of the input.
Value buildTransposedMatmul(OpBuilder &b, Location loc, linalg::GenericOp conv, Value patches, Value weight,
                            Value acc) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineMap> maps{AffineMap::get(6, 0, {d(0), d(1), d(3), d(5)}, ctx),
                              AffineMap::get(6, 0, {d(1), d(2), d(5), d(4)}, ctx),
                              AffineMap::get(6, 0, {d(0), d(1), d(2), d(3), d(4)}, ctx)};
  SmallVector<utils::IteratorType> iterators(5, utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  auto matmul = linalg::GenericOp::create(b, loc, TypeRange{acc.getType()}, ValueRange{patches, weight},
                                          ValueRange{acc}, maps, iterators);
  IRMapping mapping;
  conv.getRegion().cloneInto(&matmul.getRegion(), mapping);
  BlockArgument input = matmul.getRegion().front().getArgument(0);
  Type patchElement = getElementTypeOrSelf(patches.getType());
  if (input.getType() != patchElement) {
    Operation *widening = *input.getUsers().begin();
    widening->getResult(0).replaceAllUsesWith(input);
    widening->erase();
    input.setType(patchElement);
  }
  return matmul.getResult(0);
}

/// Whether the convolution's body only widens its input (argument 0) from
/// bf16/f16 to f32: its patches can then be f32, widened once per patch
/// element by the im2col copy rather than once per register tile.
bool widensInput(linalg::GenericOp conv) {
  BlockArgument input = conv.getRegion().front().getArgument(0);
  if (!input.hasOneUse())
    return false;
  auto extend = dyn_cast<arith::ExtFOp>(*input.getUsers().begin());
  Type from = input.getType();
  return extend && (from.isBF16() || from.isF16()) && extend.getType().isF32();
}

/// Whether to compute the convolution transposed (positions x channels):
/// when a block's positions are no multiple of the 32-wide register tile
/// and the output channels are. ResNet-18's 7x7 maps (49 positions, 512
/// channels) otherwise ran as a 32-column contraction plus a 17-column one
/// padded to 32 (a third of the multiply-adds on zeros, and the 9 MiB of
/// weights streamed once per part); transposed, they are 7 rows x 32
/// channels tiles with no padding, and the weights are read once.
bool preferTransposed(int64_t channels, int64_t blockColumns) {
  return channels % kTileColumns == 0 && blockColumns % kTileColumns != 0;
}


/// `acc` ([N, G, ..., positions (dim 3), ...]) with `build` applied to it
/// whole (`n` and `row0` null) when there is one block, else to each batch
/// element's block of output rows in turn: an scf.for whose iteration
/// builds that block's patches (a whole batch's would not stay in cache
/// either) and updates its slice of the accumulator.
Value forEachBlock(RewriterBase &rewriter, Location loc, Value acc, int64_t batch, int64_t blocks, int64_t rows,
                   int64_t blockColumns,
                   function_ref<Value(OpBuilder &, Location, Value n, Value row0, Value accBlock)> build) {
  if (batch * blocks == 1)
    return build(rewriter, loc, /*n=*/{}, /*row0=*/{}, acc);
  auto accType = cast<RankedTensorType>(acc.getType());
  int64_t rank = accType.getRank();
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value count = arith::ConstantIndexOp::create(rewriter, loc, batch * blocks);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  auto loop = scf::ForOp::create(
      rewriter, loc, zero, count, one, ValueRange{acc},
      [&](OpBuilder &b, Location l, Value iteration, ValueRange iterArgs) {
        Value blockCount = arith::ConstantIndexOp::create(b, l, blocks);
        Value n = arith::DivUIOp::create(b, l, iteration, blockCount);
        Value block = arith::RemUIOp::create(b, l, iteration, blockCount);
        Value row0 = arith::MulIOp::create(b, l, block, arith::ConstantIndexOp::create(b, l, rows));
        Value position0 = arith::MulIOp::create(b, l, block, arith::ConstantIndexOp::create(b, l, blockColumns));
        SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes, strides(rank, b.getIndexAttr(1));
        for (int64_t size : accType.getShape())
          sizes.push_back(b.getIndexAttr(size));
        offsets[0] = n;
        sizes[0] = b.getIndexAttr(1);
        offsets[3] = position0;
        sizes[3] = b.getIndexAttr(blockColumns);
        Value accBlock = tensor::ExtractSliceOp::create(b, l, iterArgs[0], offsets, sizes, strides);
        Value updated = build(b, l, n, row0, accBlock);
        scf::YieldOp::create(
            b, l, tensor::InsertSliceOp::create(b, l, updated, iterArgs[0], offsets, sizes, strides).getResult());
      });
  // Each block writes its own accumulator slice: the threads may share them.
  loop->setAttr(kIndependentIterationsAttr, rewriter.getUnitAttr());
  return loop.getResult(0);
}

/// Rewrites a convolution generic as im2col + matmul, in blocks of output
/// rows (forEachBlock). The transposed form (preferTransposed) copies the
/// accumulator [N, G, M, P] to [N, G, M / 32, P, 32] first and back at the
/// end (M * P copies each, against C * prod(K) times as many multiply-adds;
/// a constant start is filled in that layout directly) and packs the weight
/// once (packedWeight).
void rewriteConv(RewriterBase &rewriter, linalg::GenericOp op, const ConvMatch &conv, bool keepNarrowPatches) {
  int64_t s = conv.spatial;
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value input = op.getDpsInputs()[0], init = op.getDpsInits()[0];
  auto weightShape = cast<RankedTensorType>(op.getDpsInputs()[1].getType()).getShape();
  auto accShape = cast<RankedTensorType>(init.getType()).getShape();
  ArrayRef<int64_t> kernel = weightShape.drop_front(3), out = accShape.drop_front(3);
  int64_t batch = accShape[0], rows = rowsPerBlock(out), blocks = out[0] / rows;
  int64_t positions = 1;
  for (int64_t size : out)
    positions *= size;
  int64_t blockColumns = positions / blocks;
  bool transposed = preferTransposed(accShape[2], blockColumns);
  Value result;
  if (transposed) {
    // Channels innermost where mpc-vectorize-generics can then move the
    // patches in register blocks: f32, unit stride and dilation along the
    // last spatial dim, and 8 or more output columns and input channels.
    // (Not for bf16/f16: that order would change the order of each
    // output's sum, and with it the bits, of the default numerics.)
    auto inputType = cast<RankedTensorType>(input.getType());
    bool channelsInner = inputType.getElementType().isF32() && conv.strides.back() == 1 &&
                         conv.dilations.back() == 1 && out.back() >= 8 && inputType.getDimSize(2) >= 8;
    // Native bf16 dot products read the patches as bf16.
    bool widen = widensInput(op) && !(keepNarrowPatches && inputType.getElementType().isBF16());
    Value weight = packedWeight(rewriter, loc, op.getDpsInputs()[1], s, channelsInner);
    Value acc;
    if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
      SmallVector<int64_t> shape{batch, accShape[1], accShape[2] / kTileColumns, positions, kTileColumns};
      Value empty = tensor::EmptyOp::create(rewriter, loc, shape, getElementTypeOrSelf(fill.getType(0)));
      acc = linalg::FillOp::create(rewriter, loc, fill.getDpsInputs()[0], empty).getResult(0);
    } else {
      acc = collapseRange(rewriter, loc, init, 3, s); // [N, G, M, P]
      acc = swapLastTwo(rewriter, loc, splitSecondLast(rewriter, loc, acc, kTileColumns));
    }
    result = forEachBlock(rewriter, loc, acc, batch, blocks, rows, blockColumns,
                          [&](OpBuilder &b, Location l, Value n, Value row0, Value accBlock) {
                            Value patches = buildTransposedPatches(b, l, input, n, row0, rows, kernel, out, conv, channelsInner, widen);
                            return buildTransposedMatmul(b, l, op, patches, weight, accBlock);
                          });
    result = collapseRange(rewriter, loc, swapLastTwo(rewriter, loc, result), 2, 2); // [N, G, M, P]
  } else {
    Value weight = collapseRange(rewriter, loc, op.getDpsInputs()[1], 2, 1 + s);
    Value acc = collapseRange(rewriter, loc, init, 3, s);
    // A constant start gets a fill of its own: CSE had merged the equal
    // starts of several convolutions (ResNet-18's zero-bias layer-1 convs)
    // into one fill, which bufferization then copied once per convolution
    // (a memcpy of the whole output, on one thread, each time).
    if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
      auto accType = cast<RankedTensorType>(acc.getType());
      Value empty = tensor::EmptyOp::create(rewriter, loc, accType.getShape(), accType.getElementType());
      acc = linalg::FillOp::create(rewriter, loc, fill.getDpsInputs()[0], empty).getResult(0);
    }
    result = forEachBlock(rewriter, loc, acc, batch, blocks, rows, blockColumns,
                          [&](OpBuilder &b, Location l, Value n, Value row0, Value accBlock) {
                            Value patches = buildPatches(b, l, input, n, row0, rows, kernel, out, conv);
                            return buildMatmul(b, l, op, weight, patches, accBlock);
                          });
  }
  auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
  SmallVector<ReassociationIndices> groups{{0}, {1}, {2}, {}};
  for (int64_t i = 0; i < s; ++i)
    groups.back().push_back(3 + i);
  rewriter.replaceOp(op, tensor::ExpandShapeOp::create(rewriter, loc, resultType, result, groups));
}

/// dW [G, M, C * prod(K)] = sum over n, p of dy [G, M, P] x patches [G, P,
/// C * prod(K)], one batch element per iteration of an scf.for (so the
/// inner generic has one reduction, the output positions, which
/// mpc-tile-and-vectorize tiles into one contraction). The patches are laid
/// out transposed, [P, C * prod(K)], so that the filter entries (the
/// accumulator's contiguous dimension) are the vector dimension. Sums run
/// over n, then the output positions row-major, as in the generic.
void rewriteConvGradFilter(RewriterBase &rewriter, linalg::GenericOp op, const ConvMatch &conv) {
  int64_t s = conv.spatial;
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  rewriter.setInsertionPoint(op);
  Value input = op.getDpsInputs()[0], dy = op.getDpsInputs()[1];
  auto inputType = cast<RankedTensorType>(input.getType());
  auto dyType = cast<RankedTensorType>(dy.getType());
  auto accType = cast<RankedTensorType>(op.getDpsInits()[0].getType());
  ArrayRef<int64_t> kernel = accType.getShape().drop_front(3), out = dyType.getShape().drop_front(3);
  int64_t batch = inputType.getDimSize(0);
  Value acc = collapseRange(rewriter, loc, op.getDpsInits()[0], 2, 1 + s);
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };

  auto batchSlice = [&](OpBuilder &b, Location l, Value value, Value n) {
    auto type = cast<RankedTensorType>(value.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)), sizes, strides(type.getRank(), b.getIndexAttr(1));
    offsets[0] = n;
    for (int64_t size : type.getShape().drop_front())
      sizes.push_back(b.getIndexAttr(size));
    sizes.insert(sizes.begin(), b.getIndexAttr(1));
    auto sliceType = RankedTensorType::get(type.getShape().drop_front(), type.getElementType());
    return tensor::ExtractSliceOp::create(b, l, sliceType, value, offsets, sizes, strides).getResult();
  };

  auto loop = scf::ForOp::create(
      rewriter, loc, arith::ConstantIndexOp::create(rewriter, loc, 0),
      arith::ConstantIndexOp::create(rewriter, loc, batch), arith::ConstantIndexOp::create(rewriter, loc, 1),
      ValueRange{acc}, [&](OpBuilder &b, Location l, Value n, ValueRange iterArgs) {
        // patches[g, o..., c, k...] = input[n, g, c, o * stride + k * dilation]
        Value image = batchSlice(b, l, input, n);
        SmallVector<int64_t> shape{inputType.getDimSize(1)};
        shape.append(out.begin(), out.end());
        shape.push_back(inputType.getDimSize(2));
        shape.append(kernel.begin(), kernel.end());
        int64_t loops = 2 + 2 * s;
        SmallVector<AffineExpr> inExprs{d(0), d(1 + s)};
        for (int64_t i = 0; i < s; ++i)
          inExprs.push_back(d(1 + i) * conv.strides[i] + d(2 + s + i) * conv.dilations[i]);
        Value patches = copyGeneric(b, l, image, shape, AffineMap::get(loops, 0, inExprs, ctx));
        patches = collapseRange(b, l, patches, 1 + s, 1 + s); // [G, O..., C*K]
        patches = collapseRange(b, l, patches, 1, s);         // [G, P, C*K]
        Value grad = collapseRange(b, l, batchSlice(b, l, dy, n), 2, s); // [G, M, P]
        // Loops (g, m, q, p) with q the filter entry (c, k...).
        SmallVector<AffineMap> maps{AffineMap::get(4, 0, {d(0), d(1), d(3)}, ctx),
                                    AffineMap::get(4, 0, {d(0), d(3), d(2)}, ctx),
                                    AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx)};
        SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
        iterators.push_back(utils::IteratorType::reduction);
        // The generic reads (input, dy); the contraction (dy, patches).
        Value updated = buildSwappedContraction(b, l, op, grad, patches, iterArgs[0], maps, iterators);
        scf::YieldOp::create(b, l, updated);
      });
  SmallVector<ReassociationIndices> groups{{0}, {1}, {}};
  for (int64_t i = 0; i <= s; ++i)
    groups.back().push_back(2 + i);
  rewriter.replaceOp(op, tensor::ExpandShapeOp::create(rewriter, loc, accType, loop.getResult(0), groups));
}

struct ConvToMatmulPass : impl::ConvToMatmulPassBase<ConvToMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, ConvMatch>> convs, filterGrads;
    getOperation().walk([&](linalg::GenericOp op) {
      if (!op.hasPureTensorSemantics())
        return;
      std::optional<ConvMatch> conv = matchConvolution(op);
      if (!conv || (keepLibraryConvs && matchLibraryConvolution(op)))
        return;
      int64_t macs = 1;
      for (int64_t range : op.getStaticLoopRanges())
        macs *= range;
      // An empty convolution (a zero-sized dimension) has no work to speed up.
      if (macs == 0 || macs < minMacs)
        return;
      (conv->kind == ConvKind::Forward ? convs : filterGrads).emplace_back(op, *conv);
    });
    IRRewriter rewriter(&getContext());
    for (auto &[op, conv] : convs)
      rewriteConv(rewriter, op, conv, nativeBf16Dot);
    for (auto &[op, conv] : filterGrads)
      rewriteConvGradFilter(rewriter, op, conv);
  }
};

} // namespace
} // namespace mpc
