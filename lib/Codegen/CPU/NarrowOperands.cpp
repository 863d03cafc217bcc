//===- NarrowOperands.cpp - bf16/f16 operands of register tiles -----------===//
//
// A bf16 contraction's tile widened its column operand once per row tile and
// k step, and re-rounded operands whose f32 -> bf16 cast elementwise fusion
// had moved into the contraction (parameters stored in f32, activations of
// f32 ops) once per tile that read them: a 256^3 bf16 matmul ran 2-4x slower
// than the f32 one. Here each element is cast once, into an f32 buffer the
// tiles read like any f32 operand.
//
//===----------------------------------------------------------------------===//
#include "NarrowOperands.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace mpc {

SmallVector<Operation *> castChain(linalg::GenericOp op, unsigned index) {
  SmallVector<Operation *> chain;
  Value value = op.getRegion().front().getArgument(index);
  while (value.hasOneUse() && isa<arith::ExtFOp, arith::TruncFOp>(*value.getUsers().begin())) {
    chain.push_back(*value.getUsers().begin());
    value = chain.back()->getResult(0);
  }
  if (chain.empty() || !value.getType().isF32() || !value.hasOneUse() ||
      !isa<arith::MulFOp>(*value.getUsers().begin()))
    return {};
  return chain;
}

Value castCopy(RewriterBase &rewriter, Location loc, Value source, ArrayRef<Operation *> chain) {
  auto type = cast<MemRefType>(source.getType());
  auto bufferType = MemRefType::get(type.getShape(), chain.back()->getResult(0).getType());
  Value buffer = memref::AllocOp::create(rewriter, loc, bufferType, rewriter.getI64IntegerAttr(64));
  AffineMap identity = rewriter.getMultiDimIdentityMap(type.getRank());
  linalg::GenericOp::create(
      rewriter, loc, ValueRange{source}, ValueRange{buffer}, SmallVector<AffineMap>{identity, identity},
      SmallVector<utils::IteratorType>(type.getRank(), utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange args) {
        IRMapping mapping;
        mapping.map(chain.front()->getOperand(0), args[0]);
        for (Operation *cast : chain)
          b.clone(*cast, mapping);
        linalg::YieldOp::create(b, l, mapping.lookup(chain.back()->getResult(0)));
      });
  return buffer;
}

namespace {

/// `op` reads input `index` from the f32 `buffer` (castCopy's), the casts
/// of `chain` gone from its body.
void readCastBuffer(linalg::GenericOp op, unsigned index, ArrayRef<Operation *> chain, Value buffer) {
  op->setOperand(index, buffer);
  BlockArgument arg = op.getRegion().front().getArgument(index);
  chain.back()->getResult(0).replaceAllUsesWith(arg);
  for (Operation *cast : llvm::reverse(chain))
    cast->erase();
  arg.setType(Float32Type::get(op.getContext()));
}

/// Input `index` of `op` cast once into a buffer freed after `op`.
void castBefore(RewriterBase &rewriter, linalg::GenericOp op, unsigned index, ArrayRef<Operation *> chain) {
  rewriter.setInsertionPoint(op);
  Value buffer = castCopy(rewriter, op.getLoc(), op.getDpsInputs()[index], chain);
  readCastBuffer(op, index, chain, buffer);
  rewriter.setInsertionPointAfter(op);
  memref::DeallocOp::create(rewriter, op.getLoc(), buffer);
}

/// Times a register tile's row dim is walked per element of the column
/// operand: the op's parallel work beyond the column operand's own dims.
int64_t columnReuse(linalg::GenericOp op, AffineMap columnsMap) {
  int64_t reuse = 1;
  for (auto [d, range] : llvm::enumerate(op.getStaticLoopRanges()))
    if (op.getIteratorTypesArray()[d] == utils::IteratorType::parallel && !columnsMap.isFunctionOfDim(d))
      reuse *= range;
  return reuse;
}

/// The column operand (input `index`) cast per panel: loops over its
/// parallel dims (panels of `panelColumns` columns, single indices of the
/// others), in each a [reduction x panel] buffer for the op on that panel.
linalg::GenericOp castColumnPanels(RewriterBase &rewriter, linalg::GenericOp op, unsigned index, int64_t columns,
                                   int64_t panelColumns, bool &parallel) {
  AffineMap map = op.getIndexingMapsArray()[index];
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> panel(ranges.size(), 0);
  int64_t trips = 1;
  for (auto [d, range] : llvm::enumerate(ranges)) {
    if (iterators[d] != utils::IteratorType::parallel || !map.isFunctionOfDim(d))
      continue;
    panel[d] = static_cast<int64_t>(d) == columns ? panelColumns : 1;
    trips *= range / panel[d];
  }
  bool parallelPanels = parallel && trips > 1;
  linalg::LinalgTilingOptions tiling;
  tiling.setTileSizes(panel);
  tiling.setLoopType(parallelPanels ? linalg::LinalgTilingLoopType::ParallelLoops
                                    : linalg::LinalgTilingLoopType::Loops);
  rewriter.setInsertionPoint(op);
  FailureOr<linalg::TiledLinalgOp> tiled = linalg::tileLinalgOp(rewriter, op, tiling);
  if (failed(tiled))
    return op;
  rewriter.eraseOp(op);
  auto inner = cast<linalg::GenericOp>(tiled->op.getOperation());
  // Tiling clones the body: the chain is there again.
  SmallVector<Operation *> chain = castChain(inner, index);
  if (!chain.empty())
    castBefore(rewriter, inner, index, chain);
  parallel &= !parallelPanels;
  return inner;
}

/// Upstream's extract-from-elementwise sinking stops at an extf with several
/// users; a tile's widened row operand has one extract per element. bf16
/// only: an f16 element widened alone (a GPR -> vector move, vcvtph2ps, a
/// broadcast) made the torch_encoder's fp16 tiles ~10% slower than one
/// vcvtph2ps per 8 elements and lane broadcasts; the bf16 shift gained 1-7%.
struct ExtractBeforeExtend : OpRewritePattern<vector::ExtractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::ExtractOp extract, PatternRewriter &rewriter) const override {
    auto extend = extract.getSource().getDefiningOp<arith::ExtFOp>();
    if (!extend || !extend.getIn().getDefiningOp<vector::TransferReadOp>() ||
        !getElementTypeOrSelf(extend.getIn().getType()).isBF16())
      return failure();
    Value narrow = vector::ExtractOp::create(rewriter, extract.getLoc(), extend.getIn(), extract.getMixedPosition());
    rewriter.replaceOpWithNewOp<arith::ExtFOp>(extract, TypeRange{extract.getType()}, ValueRange{narrow},
                                               extend->getAttrs());
    return success();
  }
};

} // namespace

linalg::GenericOp widenNarrowOperands(RewriterBase &rewriter, linalg::GenericOp op, int64_t columns,
                                      int64_t panelColumns, int64_t tileRows, bool &parallel) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  bool firstIsColumns = maps[0].isFunctionOfDim(columns);
  if (firstIsColumns == maps[1].isFunctionOfDim(columns))
    return op;
  unsigned rowIndex = firstIsColumns ? 1 : 0, columnIndex = 1 - rowIndex;
  SmallVector<Operation *> rowChain = castChain(op, rowIndex);
  // A widening alone is a shift per element, as cheap as the copy would be
  // (ExtractBeforeExtend); a rounding is a dozen integer ops.
  if (llvm::any_of(rowChain, [](Operation *cast) { return isa<arith::TruncFOp>(cast); }))
    castBefore(rewriter, op, rowIndex, rowChain);
  if (castChain(op, columnIndex).empty() || columnReuse(op, maps[columnIndex]) <= tileRows)
    return op;
  return castColumnPanels(rewriter, op, columnIndex, columns, panelColumns, parallel);
}

void populateExtractBeforeExtendPatterns(RewritePatternSet &patterns) {
  patterns.add<ExtractBeforeExtend>(patterns.getContext());
}

} // namespace mpc
