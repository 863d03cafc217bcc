//===- TileAndVectorize.cpp - register-tiled, vectorized contractions -----===//
//
// Scalar loops over a matmul run at ~1.4 GFLOP/s on the CPU; a register tile
// of [8 x 32] outputs kept in registers over an scf.for along the reduction
// (8 steps per iteration), lowered to vector outer products (FMAs), runs an
// order of magnitude faster. This pass runs on buffers (after one-shot bufferization) so that
// tiling creates no tensor copies for bufferization to reason about.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CPU/CPUTarget.h"
#include "mpc/Codegen/CPU/Passes.h"
#include "NarrowOperands.h"
#include "NativeDot.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace mpc {
#define GEN_PASS_DEF_TILEANDVECTORIZEPASS
#include "mpc/Codegen/CPU/Passes.h.inc"

namespace {
// The tile of the two innermost parallel dimensions (rows x columns of the
// output) and of the reduction comes from the target (registerTileFor:
// 8 x 32 f32 accumulators on AVX-512, 16 of its 32 registers). The
// accumulators stay in registers across the scf.for over the reduction
// (hoistAccumulator), so the reduction tile only sets how much of that loop
// is unrolled: 8 steps (64 FMAs of 8 rows) ran as fast as the former fully
// unrolled 64 on 512^3 f32 and the BERT-style encoder, with an 8x smaller
// tile body, which is what lets small contractions (attention, projections
// of small models) be tiled too without the compile-time blow-up
// (docs/benchmarks.md).

/// The largest divisor of `size` that is at most `limit`: tiles then cover
/// the dimension exactly and every tile has a static shape, so the vectorizer
/// needs no masks.
int64_t divisorTile(int64_t size, int64_t limit) {
  if (size <= limit)
    return size;
  for (int64_t t = limit; t > 1; --t)
    if (size % t == 0)
      return t;
  return 1;
}

/// `v` is block argument `index` of `body`, possibly through float casts:
/// the bf16/f16 -> f32 promotion of mpc-lower-to-linalg, and the f32 -> bf16
/// rounding of a precision cast that elementwise fusion moved into the
/// contraction. The casts are collected in `casts`.
bool isInput(Value v, Block &body, unsigned index, unsigned &casts) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<arith::ExtFOp, arith::TruncFOp>(def))
      return false;
    v = def->getOperand(0);
    ++casts;
  }
  return v == body.getArgument(index);
}

/// Body is exactly `yield acc + cast(a) * cast(b)`: a matmul-like
/// contraction. Other reductions (softmax, layer norm, pooling) vectorize
/// into multi-reductions this pass does not lower.
bool isMulAddBody(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value acc = body.getArgument(2);
  Value product = add.getLhs() == acc ? add.getRhs() : add.getRhs() == acc ? add.getLhs() : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : arith::MulFOp();
  unsigned casts = 0;
  if (!mul || !isInput(mul.getLhs(), body, 0, casts) || !isInput(mul.getRhs(), body, 1, casts))
    return false;
  // Nothing else in the body: add, mul, the casts, yield.
  return body.getOperations().size() == 3 + casts;
}

/// Matmul-like generics over static buffers whose operands are read through
/// plain (projected permutation) maps, with one reduction dim. Convolutions
/// (d1 + d4 maps), other reductions and elementwise ops keep the scalar
/// loops. So do contractions over two dims (an attention output projection
/// reading [heads, head_dim] x [heads, head_dim, hidden]): the outer-product
/// lowering cannot take them and the fallback unrolls every tile into
/// element-wise extracts and inserts, ~70k ops per contraction, which made
/// LLVM's compile time of a 2-layer decoder ~40 s.
bool isCandidate(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumReductionLoops() != 1 || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !isMulAddBody(op))
    return false;
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation())
      return false;
  return llvm::all_of(op.getStaticLoopRanges(), [](int64_t s) { return !ShapedType::isDynamic(s); });
}

/// The op's work: the product of its static loop ranges.
int64_t multiplyAdds(linalg::GenericOp op) {
  int64_t total = 1;
  for (int64_t range : op.getStaticLoopRanges())
    total *= range;
  return total;
}

/// The dims a register tile spans: the reduction, the columns (the
/// innermost parallel dim, vector lanes) and the rows (one broadcast per
/// row and k step). The rows are the innermost other parallel dim that the
/// column operand (the input indexed by the columns) does not read: over
/// such a dim one column vector serves every row. A projection whose output
/// is split into heads ([tokens, heads, head_dim] = [tokens, k] x [k, heads,
/// head_dim]) has the heads as its second-innermost dim, which the weights
/// do read: with heads as rows each FMA needed a column vector of its own,
/// the tile loaded as many vectors as it did FMAs, and the BERT-style
/// encoder's projections ran 3x slower per multiply-add than its FFN. A
/// contraction whose column operand reads every parallel dim (a batched
/// matmul's batch dims are outer) falls back to the second-innermost.
struct TileDims {
  int64_t reduction = -1, columns = -1, rows = -1;
};

TileDims tileDimsOf(linalg::GenericOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  TileDims dims;
  SmallVector<int64_t> parallel;
  for (int64_t d = iterators.size() - 1; d >= 0; --d) {
    if (iterators[d] == utils::IteratorType::reduction)
      dims.reduction = d;
    else
      parallel.push_back(d);
  }
  if (parallel.empty())
    return dims;
  dims.columns = parallel.front();
  if (parallel.size() < 2)
    return dims;
  dims.rows = parallel[1];
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!map.isFunctionOfDim(dims.columns))
      continue;
    for (int64_t d : llvm::drop_begin(parallel))
      if (!map.isFunctionOfDim(d)) {
        dims.rows = d;
        break;
      }
    break;
  }
  return dims;
}

SmallVector<int64_t> tileSizesFor(linalg::GenericOp op, const RegisterTile &tile) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<int64_t> tiles(ranges.size(), 1);
  TileDims dims = tileDimsOf(op);
  if (dims.reduction >= 0) {
    // At most half of a reduction of 16 or more: with no loop over k
    // left inside an output tile, LLVM hoists the tile's whole [rows x k]
    // operand out of the loop over the other tiles (a 1x1 conv with 64
    // input channels: 512 broadcast vectors), spills them, and its
    // register allocator took 5-15 s on that one conv, which then ran 4x
    // slower. Same additions in the same order either way.
    int64_t k = ranges[dims.reduction];
    int64_t limit = k >= 16 ? std::min(tile.reduction, k / 2) : tile.reduction;
    tiles[dims.reduction] = divisorTile(k, limit);
  }
  // Outer parallel dims (batch, and the heads above): one at a time.
  if (dims.columns >= 0)
    tiles[dims.columns] = divisorTile(ranges[dims.columns], tile.columns);
  if (dims.rows >= 0)
    tiles[dims.rows] = divisorTile(ranges[dims.rows], tile.rows);
  return tiles;
}

/// Rows per panel (see tileForCache).
constexpr int64_t kPanelRows = 64;

/// What tileForCache made of a contraction.
struct CacheBlocks {
  /// The contraction left for the register tiles (one block of one panel).
  linalg::GenericOp op;
  /// The loop over the reduction's blocks (null when the reduction was not
  /// split), and what the prefetches of the next block need: the column
  /// operand as the panel sees it (indexed by panel-relative loop indices,
  /// through the original indexing map).
  scf::ForOp blockLoop;
  Value panelColumns;
  AffineMap columnsMap;
  int64_t reduction = -1, columns = -1, rows = -1;
  int64_t reductionSize = 0, block = 0, panelRows = 0;
};

/// Splits a contraction with a long reduction (more than `tile.block`
/// steps) into panels (the register tile's width, up to 64 rows) and,
/// inside each, blocks of the reduction, the panel's register tiles
/// innermost. A register tile reads a [k x 32] slice of the column operand
/// and a [8 x k] slice of the row operand; with the whole reduction inside
/// the tile, the column slice of a ResNet-18 layer-3 convolution (2304 x 32
/// f32, 288 KiB) came from L2 again for each group of 8 rows. A [256 x 32]
/// block (32 KiB) stays in L1 while the panel's 8 row tiles use it (a
/// 256x2304x192 matmul: 3.1 -> 2.7 ms; 64x576x224: 0.32 -> 0.19 ms). Rows
/// are split in panels too so that a contraction with few columns (512
/// channels of 7x7 positions) still has parallel iterations. Every output
/// still adds its products in the same order (k blocks in order, the
/// accumulators stored and reloaded between them). The loops over batch
/// dims and panels are parallel when `parallel`. Returns the contraction
/// left for the register tiles and what prefetchNextBlock needs.
FailureOr<CacheBlocks> tileForCache(RewriterBase &rewriter, linalg::GenericOp op, const RegisterTile &tile,
                                    bool parallel) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  auto [reduction, columns, rows] = tileDimsOf(op);
  if (reduction < 0 || columns < 0 || rows < 0 || ranges[reduction] <= tile.block)
    return failure();
  int64_t block = divisorTile(ranges[reduction], tile.block);
  // A block of a few steps (a prime reduction) would store and reload the
  // accumulators every few FMAs.
  if (block < tile.block / 4)
    return failure();
  SmallVector<int64_t> panel(ranges.size(), 1);
  panel[columns] = divisorTile(ranges[columns], tile.columns);
  panel[rows] = divisorTile(ranges[rows], kPanelRows);
  panel[reduction] = 0;
  linalg::LinalgTilingOptions panelTiling;
  panelTiling.setTileSizes(panel);
  panelTiling.setLoopType(parallel ? linalg::LinalgTilingLoopType::ParallelLoops
                                   : linalg::LinalgTilingLoopType::Loops);
  FailureOr<linalg::TiledLinalgOp> panels = linalg::tileLinalgOp(rewriter, op, panelTiling);
  if (failed(panels))
    return failure();
  rewriter.eraseOp(op);
  SmallVector<int64_t> blocks(ranges.size(), 0);
  blocks[reduction] = block;
  linalg::LinalgTilingOptions blockTiling;
  blockTiling.setTileSizes(blocks);
  rewriter.setInsertionPoint(panels->op);
  FailureOr<linalg::TiledLinalgOp> blocked = linalg::tileLinalgOp(rewriter, panels->op, blockTiling);
  if (failed(blocked)) {
    CacheBlocks unblocked;
    unblocked.op = cast<linalg::GenericOp>(panels->op.getOperation());
    return unblocked;
  }
  CacheBlocks result;
  result.op = cast<linalg::GenericOp>(blocked->op.getOperation());
  result.blockLoop = blocked->loops.size() == 1 ? dyn_cast<scf::ForOp>(blocked->loops.front()) : scf::ForOp();
  // The column operand: the input indexed by the columns but not the rows.
  // Read off the panel op before it is erased (its operands, the panel's
  // subviews, stay: the blocked op reads them).
  auto panelOp = cast<linalg::GenericOp>(panels->op.getOperation());
  for (OpOperand *input : panelOp.getDpsInputOperands()) {
    AffineMap map = panelOp.getMatchingIndexingMap(input);
    if (map.isFunctionOfDim(columns) && !map.isFunctionOfDim(rows) && map.isFunctionOfDim(reduction)) {
      result.panelColumns = input->get();
      result.columnsMap = map;
    }
  }
  rewriter.eraseOp(panelOp);
  result.reduction = reduction;
  result.columns = columns;
  result.rows = rows;
  result.reductionSize = ranges[reduction];
  result.block = block;
  result.panelRows = panel[rows];
  return result;
}

/// Software prefetch of the column operand's next reduction block. The
/// first row tile of a panel reads each block of the column operand from
/// L2/L3 (a 3x3 convolution's packed weights, up to 9 MiB, are read once
/// per run), the others from L1: the first tile's loads came at the pace of
/// its FMAs (128 bytes per 16 FMAs), faster than the hardware prefetcher
/// streams from L3. Here every row tile of the panel prefetches its share
/// of the next block while it works on the current one, so the next block
/// is in L1 when the first tile reaches it. Each iteration of a tile's loop
/// over the reduction (the register tile's reduction steps) prefetches a few rows of the
/// next block (every 64-byte line of the tile's columns); the row index is
/// clamped to the next block's last row and to the reduction's last row,
/// so the last block prefetches lines it already has. Only where the
/// columns are the column operand's innermost, unit-stride dim (a row of
/// the tile is then a few consecutive cache lines).
void prefetchNextBlock(RewriterBase &rewriter, CacheBlocks blocks, ArrayRef<Operation *> tileLoops,
                       ArrayRef<int64_t> tiles) {
  if (!blocks.blockLoop || !blocks.panelColumns)
    return;
  auto type = dyn_cast<MemRefType>(blocks.panelColumns.getType());
  AffineMap map = blocks.columnsMap;
  if (!type || map.getNumResults() == 0 ||
      map.getResults().back() != getAffineDimExpr(blocks.columns, map.getContext()))
    return;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) || strides.back() != 1)
    return;
  // The loop of each tiled dim (every dim has a tile size, at least 1).
  SmallVector<scf::ForOp> loops(tiles.size());
  unsigned next = 0;
  for (auto [d, tile] : llvm::enumerate(tiles))
    if (tile != 0) {
      if (next >= tileLoops.size())
        return;
      loops[d] = dyn_cast<scf::ForOp>(tileLoops[next++]);
      if (!loops[d])
        return;
    }
  scf::ForOp kLoop = loops[blocks.reduction];
  int64_t kTile = tiles[blocks.reduction], rowTile = tiles[blocks.rows], columnTile = tiles[blocks.columns];
  if (!kLoop || kTile <= 0 || rowTile <= 0 || columnTile <= 0)
    return;
  int64_t rowTiles = std::max<int64_t>(1, blocks.panelRows / rowTile);
  int64_t iterations = std::max<int64_t>(1, blocks.block / kTile);
  int64_t rowsPerIteration = llvm::divideCeil(blocks.block, rowTiles * iterations);
  int64_t elementBytes = llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  int64_t lineElements = std::max<int64_t>(1, 64 / elementBytes);
  int64_t lines = llvm::divideCeil(columnTile * elementBytes, 64);

  Location loc = kLoop.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  rewriter.setInsertionPointToStart(kLoop.getBody());
  Value rowIv = loops[blocks.rows].getInductionVar();
  Value kIv = kLoop.getInductionVar();
  Value kBlock = blocks.blockLoop.getInductionVar();
  AffineExpr r = getAffineDimExpr(0, ctx), k = getAffineDimExpr(1, ctx), kb = getAffineSymbolExpr(0, ctx);
  for (int64_t j = 0; j < rowsPerIteration; ++j) {
    // Row q of the next block: (tile * iterations + iteration) * rowsPerIteration + j.
    AffineExpr q = (r.floorDiv(rowTile) * iterations + k.floorDiv(kTile)) * rowsPerIteration + j;
    // Rows past the next block (a ceiling's worth of extra tiles) and past
    // the reduction (the last block) take its last row instead.
    AffineMap rowMap = AffineMap::get(2, 1,
                                      {kb + blocks.block + q, kb + 2 * blocks.block - 1,
                                       getAffineConstantExpr(blocks.reductionSize - 1, ctx)},
                                      ctx);
    Value row = affine::AffineMinOp::create(rewriter, loc, rowMap, ValueRange{rowIv, kIv, kBlock});
    for (int64_t l = 0; l < lines; ++l) {
      SmallVector<Value> indices;
      for (AffineExpr result : map.getResults()) {
        unsigned d = cast<AffineDimExpr>(result).getPosition();
        if (d == blocks.reduction) {
          indices.push_back(row);
        } else if (d == blocks.columns && l > 0) {
          AffineMap column = AffineMap::get(1, 0, getAffineDimExpr(0, ctx) + l * lineElements);
          indices.push_back(affine::AffineApplyOp::create(rewriter, loc, column, loops[d].getInductionVar()));
        } else {
          indices.push_back(loops[d].getInductionVar());
        }
      }
      memref::PrefetchOp::create(rewriter, loc, blocks.panelColumns, indices, /*isWrite=*/false,
                                 /*localityHint=*/3, /*isDataCache=*/true);
    }
  }
}

/// Keeps a tile's accumulators in registers across its loop over the
/// reduction. Tiling leaves, per k step, `read C tile; contract; write C
/// tile` on the output tile's subview (defined outside the loop): the read
/// moves before the loop, the value is carried as an iter_arg, and the write
/// moves after it (with the tile's subview, whose offsets do not depend on
/// k). Upstream's hoistRedundantVectorTransfers refuses subview sources, and
/// folding the subviews first (memref fold-alias patterns) did not converge
/// on the flattened weight globals' views. Safe because the
/// loop touches the tile only through this read and write (checked), and
/// the inputs are other buffers (a linalg op's inputs do not alias its
/// output).
void hoistAccumulator(RewriterBase &rewriter, scf::ForOp loop) {
  vector::TransferReadOp read;
  vector::TransferWriteOp write;
  for (Operation &op : loop.getBody()->without_terminator()) {
    auto w = dyn_cast<vector::TransferWriteOp>(op);
    if (!w)
      continue;
    if (write)
      return;
    write = w;
  }
  if (!write)
    return;
  // Tiling puts the output tile's subview inside the loop; its offsets are
  // the parallel loops' indices, so it can move out.
  if (!loop.isDefinedOutsideOfLoop(write.getBase())) {
    auto subview = write.getBase().getDefiningOp<memref::SubViewOp>();
    if (!subview || subview->getBlock() != loop.getBody() ||
        !llvm::all_of(subview->getOperands(), [&](Value v) { return loop.isDefinedOutsideOfLoop(v); }))
      return;
    rewriter.moveOpBefore(subview, loop);
  }
  for (Operation *user : write.getBase().getUsers()) {
    if (user == write || !loop->isAncestor(user))
      continue;
    auto r = dyn_cast<vector::TransferReadOp>(user);
    if (!r || read || r->getBlock() != loop.getBody() || !r->isBeforeInBlock(write))
      return; // another access to the tile inside the loop
    read = r;
  }
  if (!read || read.getIndices() != write.getIndices() || read.getVectorType() != write.getVectorType() ||
      read.getPermutationMap() != write.getPermutationMap() || read.getMask() || write.getMask() ||
      !llvm::all_of(read->getOperands(), [&](Value v) { return loop.isDefinedOutsideOfLoop(v); }))
    return;
  rewriter.moveOpBefore(read, loop);
  FailureOr<LoopLikeOpInterface> hoisted = loop.replaceWithAdditionalYields(
      rewriter, read.getResult(), /*replaceInitOperandUsesInLoop=*/true,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument>) { return SmallVector<Value>{write.getVector()}; });
  if (failed(hoisted))
    return;
  rewriter.moveOpAfter(write, *hoisted);
  rewriter.modifyOpInPlace(write, [&] { write.getValueToStoreMutable().assign(hoisted->getLoopResults()->back()); });
}

struct TileAndVectorizePass : impl::TileAndVectorizePassBase<TileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<linalg::GenericOp> candidates;
    func.walk([&](linalg::GenericOp op) {
      if (isCandidate(op) && multiplyAdds(op) >= minMacs)
        candidates.push_back(op);
    });

    IRRewriter rewriter(ctx);
    RegisterTile registerTile = registerTileFor(vectorBits, vectorRegisters);
    for (linalg::GenericOp op : candidates) {
      rewriter.setInsertionPoint(op);
      bool parallel = multiplyAdds(op) >= minParallelMacs;
      if (nativeBf16Dot) {
        TileDims dims = tileDimsOf(op);
        if (succeeded(lowerToNativeBf16Dot(rewriter, op, dims.reduction, dims.columns, dims.rows, registerTile,
                                           parallel, minParallelMacs)))
          continue;
      }
      if (int64_t columns = tileDimsOf(op).columns; columns >= 0) {
        int64_t panelColumns = divisorTile(op.getStaticLoopRanges()[columns], registerTile.columns);
        op = widenNarrowOperands(rewriter, op, columns, panelColumns, registerTile.rows, parallel);
      }
      rewriter.setInsertionPoint(op);
      // Cache blocks first (long reductions only); their parallel loops
      // are the ones threads take, the register tiles inside stay serial.
      FailureOr<CacheBlocks> blocks = tileForCache(rewriter, op, registerTile, parallel);
      if (succeeded(blocks)) {
        op = blocks->op;
        parallel = false;
        rewriter.setInsertionPoint(op);
      }
      SmallVector<int64_t> tiles = tileSizesFor(op, registerTile);
      linalg::LinalgTilingOptions tiling;
      tiling.setTileSizes(tiles);
      // Tiles are independent over the parallel dimensions: scf.parallel
      // lets the async lowering spread them over threads (scf-to-cf runs it
      // sequentially otherwise). Not for small contractions: dispatching
      // tasks costs more than their few microseconds of work (the test MLP
      // on 2 threads went from 0.02 to 0.4 ms when its matmuls were tiled
      // in parallel loops).
      tiling.setLoopType(parallel ? linalg::LinalgTilingLoopType::ParallelLoops : linalg::LinalgTilingLoopType::Loops);
      FailureOr<linalg::TiledLinalgOp> tiled = linalg::tileLinalgOp(rewriter, op, tiling);
      if (failed(tiled))
        continue; // the scalar loops of convert-linalg-to-loops still work
      rewriter.eraseOp(op);
      if (succeeded(blocks) && prefetch)
        prefetchNextBlock(rewriter, *blocks, tiled->loops, tiles);
      Operation *tile = tiled->op.getOperation();
      if (failed(linalg::vectorizeOpPrecondition(tile)))
        continue;
      rewriter.setInsertionPoint(tile);
      FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(
          rewriter, tile, /*inputVectorSizes=*/{}, /*inputScalableVecDims=*/{}, /*vectorizeNDExtract=*/false,
          /*flatten1DDepthwiseConv=*/false, /*assumeDynamicDimsMatchVecSizes=*/false,
          /*createNamedContraction=*/true);
      if (failed(vectorized))
        continue;
      rewriter.eraseOp(tile);
    }

    if (nativeBf16Dot && emulateBf16Dot)
      emulateBf16DotProducts(func);

    // The vectorized body is transfer_read + extf + mulf + multi_reduction:
    // fold it into vector.contract and lower that to outer products, i.e.
    // one FMA per (row, k) into a row of accumulators. The extf of bf16/f16
    // operands stays a separate op: products and sums stay in f32 (a bf16 or
    // f16 product is exact in f32, so the FMA changes only the order of the
    // additions; an f32 product is no longer rounded before the add).
    // Phases, because the later lowerings (broadcast, transpose) would
    // otherwise expand the broadcasts before they fold into the contraction.
    auto apply = [&](auto populate) {
      RewritePatternSet patterns(ctx);
      populate(patterns);
      return applyPatternsGreedily(func, std::move(patterns));
    };
    if (failed(apply([&](RewritePatternSet &patterns) {
          vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
          vector::populateVectorReductionToContractPatterns(patterns);
          // Moves the broadcasts and transposes of the operands past their
          // extf so that they fold into the contraction maps.
          vector::populateSinkVectorOpsPatterns(patterns);
          vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
          vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
        })))
      return signalPassFailure();
    SmallVector<scf::ForOp> loops;
    func.walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      hoistAccumulator(rewriter, loop);
    if (!lowerVectorOps)
      return;
    if (failed(apply([&](RewritePatternSet &patterns) {
          vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
          vector::populateVectorContractLoweringPatterns(patterns, vector::VectorContractLowering::OuterProduct);
          vector::populateVectorMultiReductionLoweringPatterns(
              patterns, vector::VectorMultiReductionLowering::InnerParallel);
        })) ||
        failed(apply([&](RewritePatternSet &patterns) {
          vector::populateVectorOuterProductLoweringPatterns(patterns);
          vector::populateVectorBroadcastLoweringPatterns(patterns);
          vector::populateVectorTransposeLoweringPatterns(patterns, vector::VectorTransposeLowering::EltWise);
          vector::populateVectorShapeCastLoweringPatterns(patterns);
          vector::populateVectorMaskOpLoweringPatterns(patterns);
          vector::populateVectorTransferLoweringPatterns(patterns, /*maxTransferRank=*/1);
        })) ||
        failed(apply([&](RewritePatternSet &patterns) {
          // The row operand's elements each feed one broadcast: read them as
          // scalars (a broadcast load each) rather than as a vector whose
          // lanes LLVM then broadcast with shuffles (vpermps), which took
          // the port of the second FMA unit. bf16 rows too: their
          // elements are extracted before they are widened.
          populateExtractBeforeExtendPatterns(patterns);
          vector::populateScalarVectorTransferLoweringPatterns(patterns, /*benefit=*/1,
                                                               /*allowMultipleUses=*/true);
          vector::ExtractOp::getCanonicalizationPatterns(patterns, ctx);
        })))
      signalPassFailure();
  }
};
} // namespace
} // namespace mpc
