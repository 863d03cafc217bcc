//===- NativeDot.cpp - bf16 contractions on vdpbf16ps ---------------------===//
//
// The exact bf16 path widens each operand element to f32 and adds one
// product per FMA, in the order of the scalar loops: 16 multiply-adds per
// instruction on AVX-512. AVX512-BF16's vdpbf16ps takes 32 bf16 pairs and
// adds two products per f32 lane, 32 multiply-adds per instruction, reading
// bf16 operands directly (half the bytes of the widened f32 ones). It sums
// in another order (the pair's two products, then into the accumulator)
// and flushes denormal inputs and outputs to zero, so it is used only when
// asked (mpc-tile-and-vectorize{native-bf16-dot}, the tools'
// --native-dot-products), with the error bound of docs/numerics.md.
//
// Layout: vdpbf16ps multiplies lane pairs (2i, 2i+1) of its operands. The
// column operand ([k x n], n the register tile's columns) is packed, per
// panel of columns, as [k/2][panel][2]: one 64-byte load gives 16 columns'
// pairs (k, k+1). The row operand's pair (k, k+1) of one row is one 32-bit
// value broadcast to every lane. An odd reduction's last step pairs its
// element with a zero.
//
//===----------------------------------------------------------------------===//
#include "NativeDot.h"

#include "NarrowOperands.h"
#include "mpc/Codegen/CPU/CPUTarget.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"

using namespace mlir;

namespace mpc {
namespace {

/// Rows of the row operand per parallel iteration (8 register tiles of 8):
/// a block of the packed panel stays in L1 while they use it.
constexpr int64_t kPanelRows = 64;
/// Reduction pairs per cache block: a [128][32][2] bf16 block of a panel is
/// 16 KiB.
constexpr int64_t kBlockPairs = 128;

/// The casts of input `index` before its final bf16 -> f32 widening (the
/// fused roundings), in `prefix`; false when the body does not read the
/// input as a widened bf16 value.
bool bf16Prefix(linalg::GenericOp op, unsigned index, SmallVector<Operation *> &prefix) {
  SmallVector<Operation *> chain = castChain(op, index);
  if (chain.empty())
    return false;
  auto extend = dyn_cast<arith::ExtFOp>(chain.back());
  if (!extend || !extend.getIn().getType().isBF16() || !extend.getType().isF32())
    return false;
  prefix.assign(chain.begin(), chain.end() - 1);
  return true;
}

/// An operand's memref indices at loop values `ivs` (a projected
/// permutation map: each result is one loop dim).
SmallVector<Value> indicesAt(AffineMap map, ArrayRef<Value> ivs) {
  SmallVector<Value> indices;
  for (AffineExpr result : map.getResults())
    indices.push_back(ivs[cast<AffineDimExpr>(result).getPosition()]);
  return indices;
}

/// The 1-d transfer map of an operand read along loop dim `d`.
AffineMap along(AffineMap map, int64_t d) {
  MLIRContext *ctx = map.getContext();
  unsigned position = *map.getResultPosition(getAffineDimExpr(d, ctx));
  return AffineMap::get(map.getNumResults(), 0, getAffineDimExpr(position, ctx), ctx);
}

/// An scf.for over [lb, ub) with no results; `b` is left inside its body.
void openFor(OpBuilder &b, Location loc, Value lb, Value ub, Value step) {
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  b.setInsertionPoint(loop.getBody()->getTerminator());
}

struct Emitter {
  OpBuilder &b;
  Location loc;
  Value rowsMem, columnsMem, acc;
  AffineMap rowsMap, columnsMap, accMap;
  int64_t reduction, columns, rows;
  int64_t k, lanes, panel, tileRows;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value mul(Value v, int64_t c) { return arith::MulIOp::create(b, loc, v, index(c)); }
  Value add(Value v, int64_t c) { return c == 0 ? v : arith::AddIOp::create(b, loc, v, index(c)).getResult(); }
  VectorType accType() { return VectorType::get({lanes}, b.getF32Type()); }
  VectorType pairsType() { return VectorType::get({2 * lanes}, b.getBF16Type()); }

  /// `lanes` columns of the column operand at reduction step `step`.
  Value readColumns(SmallVector<Value> ivs, Value step, Value column0) {
    ivs[reduction] = step;
    ivs[columns] = column0;
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(b.getBF16Type()));
    return vector::TransferReadOp::create(b, loc, VectorType::get({lanes}, b.getBF16Type()), columnsMem,
                                          indicesAt(columnsMap, ivs), zero, along(columnsMap, columns),
                                          ArrayRef<bool>{true});
  }

  /// Packs panel `p` of the column operand into `packed[p]`
  /// ([pairs][2 * panel] bf16).
  void packPanel(SmallVector<Value> ivs, Value packed, Value p) {
    int64_t pairs = k / 2;
    auto pack = [&](Value pair, bool odd) {
      for (int64_t v = 0; v < panel / lanes; ++v) {
        Value column0 = add(mul(p, panel), v * lanes);
        Value step = mul(pair, 2);
        Value even = readColumns(ivs, step, column0);
        Value next = odd ? arith::ConstantOp::create(b, loc, b.getZeroAttr(VectorType::get({lanes}, b.getBF16Type())))
                               .getResult()
                         : readColumns(ivs, add(step, 1), column0);
        Value pairs = vector::InterleaveOp::create(b, loc, even, next);
        vector::StoreOp::create(b, loc, pairs, packed, ValueRange{p, pair, index(v * 2 * lanes)});
      }
    };
    if (pairs > 0) {
      OpBuilder::InsertionGuard guard(b);
      auto loop = scf::ForOp::create(b, loc, index(0), index(pairs), index(1));
      b.setInsertionPoint(loop.getBody()->getTerminator());
      pack(loop.getInductionVar(), /*odd=*/false);
    }
    if (k % 2)
      pack(index(pairs), /*odd=*/true);
  }

  /// The row operand's pair (step, step + 1) of one row broadcast to every
  /// lane pair; with `odd`, (step, 0) (the last step of an odd reduction).
  Value rowPair(SmallVector<Value> ivs, Value step, bool odd) {
    ivs[reduction] = step;
    Value pair;
    if (odd) {
      Value element = memref::LoadOp::create(b, loc, rowsMem, indicesAt(rowsMap, ivs));
      Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(b.getBF16Type()));
      pair = vector::FromElementsOp::create(b, loc, VectorType::get({2}, b.getBF16Type()), ValueRange{element, zero});
    } else {
      Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(b.getBF16Type()));
      pair = vector::TransferReadOp::create(b, loc, VectorType::get({2}, b.getBF16Type()), rowsMem,
                                            indicesAt(rowsMap, ivs), zero, along(rowsMap, reduction),
                                            ArrayRef<bool>{true});
    }
    Value word = vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI32Type()), pair);
    Value scalar = vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0});
    Value splat = vector::BroadcastOp::create(b, loc, VectorType::get({lanes}, b.getI32Type()), scalar);
    return vector::BitCastOp::create(b, loc, pairsType(), splat);
  }

  /// One register tile: `count` rows from `row0` x panel `p`, over the
  /// reduction pairs [pairLo, pairHi), or the odd reduction's last step
  /// (`odd`). The accumulators are read before and written after.
  void tile(SmallVector<Value> ivs, Value packed, Value p, Value row0, int64_t count, Value pairLo, Value pairHi,
            bool odd) {
    int64_t vectors = panel / lanes;
    SmallVector<SmallVector<Value>> at;
    SmallVector<Value> accs;
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(b.getF32Type()));
    for (int64_t i = 0; i < count; ++i)
      for (int64_t v = 0; v < vectors; ++v) {
        ivs[rows] = add(row0, i);
        ivs[columns] = add(mul(p, panel), v * lanes);
        at.push_back(indicesAt(accMap, ivs));
        accs.push_back(vector::TransferReadOp::create(b, loc, accType(), acc, at.back(), zero,
                                                      along(accMap, columns), ArrayRef<bool>{true}));
      }
    auto step = [&](OpBuilder &, Value pair, ValueRange in) {
      SmallVector<Value> columnPairs, out;
      for (int64_t v = 0; v < vectors; ++v)
        columnPairs.push_back(
            vector::LoadOp::create(b, loc, pairsType(), packed, ValueRange{p, pair, index(v * 2 * lanes)}));
      for (int64_t i = 0; i < count; ++i) {
        ivs[rows] = add(row0, i);
        Value rowValues = rowPair(ivs, mul(pair, 2), odd);
        for (int64_t v = 0; v < vectors; ++v)
          out.push_back(x86vector::DotBF16Op::create(b, loc, in[i * vectors + v], rowValues, columnPairs[v]));
      }
      return out;
    };
    SmallVector<Value> results;
    if (odd) {
      results = step(b, index(k / 2), accs);
    } else {
      auto loop = scf::ForOp::create(b, loc, pairLo, pairHi, index(1), accs,
                                     [&](OpBuilder &nested, Location, Value pair, ValueRange in) {
                                       OpBuilder::InsertionGuard guard(b);
                                       b.setInsertionPointToEnd(nested.getInsertionBlock());
                                       scf::YieldOp::create(b, loc, step(b, pair, in));
                                     });
      results = loop.getResults();
    }
    for (auto [value, indices] : llvm::zip(results, at))
      vector::TransferWriteOp::create(b, loc, value, acc, indices, along(accMap, columns), ArrayRef<bool>{true});
  }

  /// The register tiles of `count`-row tiles t in [tileLo, tileHi) (row
  /// tileBase + t * count) of panel `p`, block by block of the reduction.
  void tiles(SmallVector<Value> ivs, Value packed, Value p, Value tileLo, Value tileHi, int64_t count) {
    int64_t pairs = k / 2;
    auto each = [&](Value pairLo, Value pairHi, bool odd) {
      OpBuilder::InsertionGuard guard(b);
      openFor(b, loc, tileLo, tileHi, index(1));
      Value t = b.getInsertionBlock()->getParent()->getArgument(0);
      tile(ivs, packed, p, mul(t, count), count, pairLo, pairHi, odd);
    };
    if (pairs > kBlockPairs) {
      OpBuilder::InsertionGuard guard(b);
      openFor(b, loc, index(0), index(pairs), index(kBlockPairs));
      Value block = b.getInsertionBlock()->getParent()->getArgument(0);
      Value end = arith::MinSIOp::create(b, loc, add(block, kBlockPairs), index(pairs));
      each(block, end, false);
    } else if (pairs > 0) {
      each(index(0), index(pairs), false);
    }
    if (k % 2)
      each(Value(), Value(), true);
  }
};

/// Loops over [0, trips[i]) for each i: one scf.parallel when `parallel`,
/// nested scf.for otherwise; `b` is left in the innermost body. Returns
/// the induction variables.
SmallVector<Value> openLoops(OpBuilder &b, Location loc, ArrayRef<int64_t> trips, bool parallel) {
  SmallVector<Value> zeros, ubs, ones, ivs;
  for (int64_t trip : trips) {
    zeros.push_back(arith::ConstantIndexOp::create(b, loc, 0));
    ubs.push_back(arith::ConstantIndexOp::create(b, loc, trip));
    ones.push_back(arith::ConstantIndexOp::create(b, loc, 1));
  }
  if (trips.empty())
    return ivs;
  if (parallel) {
    auto loop = scf::ParallelOp::create(b, loc, zeros, ubs, ones);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    return SmallVector<Value>(loop.getInductionVars());
  }
  for (auto [lb, ub, step] : llvm::zip(zeros, ubs, ones)) {
    auto loop = scf::ForOp::create(b, loc, lb, ub, step);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    ivs.push_back(loop.getInductionVar());
  }
  return ivs;
}

} // namespace

LogicalResult lowerToNativeBf16Dot(RewriterBase &rewriter, linalg::GenericOp op, int64_t reduction, int64_t columns,
                                   int64_t rows, const RegisterTile &tile, bool parallel, int64_t minParallelMacs) {
  if (reduction < 0 || columns < 0 || rows < 0)
    return failure();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  bool firstIsColumns = maps[0].isFunctionOfDim(columns);
  unsigned rowIndex = firstIsColumns ? 1 : 0, columnIndex = 1 - rowIndex;
  // The row operand reads rows, not columns; the column operand columns,
  // not rows; both the reduction; the accumulator rows and columns.
  if (maps[rowIndex].isFunctionOfDim(columns) || !maps[rowIndex].isFunctionOfDim(rows) ||
      maps[columnIndex].isFunctionOfDim(rows) || !maps[columnIndex].isFunctionOfDim(columns) ||
      !maps[rowIndex].isFunctionOfDim(reduction) || !maps[columnIndex].isFunctionOfDim(reduction) ||
      !maps[2].isFunctionOfDim(rows) || !maps[2].isFunctionOfDim(columns))
    return failure();
  if (!getElementTypeOrSelf(op.getDpsInits()[0].getType()).isF32())
    return failure();
  SmallVector<Operation *> rowPrefix, columnPrefix;
  if (!bf16Prefix(op, rowIndex, rowPrefix) || !bf16Prefix(op, columnIndex, columnPrefix))
    return failure();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t k = ranges[reduction], n = ranges[columns], m = ranges[rows];
  // 512-, 256- or 128-bit dot products (16, 8 or 4 f32 lanes).
  int64_t lanes = n % 16 == 0 ? 16 : n % 8 == 0 ? 8 : n % 4 == 0 ? 4 : 0;
  if (!lanes)
    return failure();
  int64_t panel = n % (2 * lanes) == 0 ? 2 * lanes : lanes;
  int64_t tileRows = std::max<int64_t>(1, std::min(tile.rows, m));

  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  // Fused roundings (f32 -> bf16) once per element, into bf16 buffers.
  SmallVector<Value> narrow(2);
  SmallVector<Value> freed;
  for (auto [index, prefix] : {std::pair{rowIndex, &rowPrefix}, std::pair{columnIndex, &columnPrefix}}) {
    narrow[index] = op.getDpsInputs()[index];
    if (prefix->empty())
      continue;
    narrow[index] = castCopy(rewriter, loc, narrow[index], *prefix);
    freed.push_back(narrow[index]);
  }

  // The outer parallel dims (batch, heads): one packed operand each.
  SmallVector<int64_t> batchDims, batchTrips;
  int64_t batchCount = 1;
  for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
    if (iterator == utils::IteratorType::parallel && static_cast<int64_t>(d) != rows &&
        static_cast<int64_t>(d) != columns) {
      batchDims.push_back(d);
      batchTrips.push_back(ranges[d]);
      batchCount *= ranges[d];
    }
  bool innerParallel = parallel && m * n * k >= minParallelMacs;
  bool batchParallel = parallel && !innerParallel && batchCount > 1;

  OpBuilder::InsertionGuard guard(rewriter);
  OpBuilder &b = rewriter;
  SmallVector<Value> ivs(ranges.size());
  {
    OpBuilder::InsertionGuard batchGuard(b);
    SmallVector<Value> batchIvs = openLoops(b, loc, batchTrips, batchParallel);
    for (auto [d, iv] : llvm::zip(batchDims, batchIvs))
      ivs[d] = iv;
    Emitter emit{b,           loc,     narrow[rowIndex], narrow[columnIndex], op.getDpsInits()[0],
                 maps[rowIndex], maps[columnIndex], maps[2], reduction, columns, rows, k, lanes, panel, tileRows};
    int64_t panels = n / panel, pairs = (k + 1) / 2;
    auto packedType = MemRefType::get({panels, pairs, 2 * panel}, b.getBF16Type());
    Value packed = memref::AllocOp::create(b, loc, packedType, b.getI64IntegerAttr(64));
    {
      OpBuilder::InsertionGuard packGuard(b);
      SmallVector<Value> p = openLoops(b, loc, {panels}, innerParallel && panels > 1);
      emit.packPanel(ivs, packed, p[0]);
    }
    int64_t fullTiles = m / tileRows, rest = m % tileRows;
    if (fullTiles > 0) {
      OpBuilder::InsertionGuard computeGuard(b);
      int64_t perGroup = std::max<int64_t>(1, kPanelRows / tileRows);
      int64_t groups = llvm::divideCeil(fullTiles, perGroup);
      SmallVector<Value> pg = openLoops(b, loc, {panels, groups}, innerParallel && panels * groups > 1);
      Value tileLo = emit.mul(pg[1], perGroup);
      Value tileHi = arith::MinSIOp::create(b, loc, emit.add(tileLo, perGroup), emit.index(fullTiles));
      emit.tiles(ivs, packed, pg[0], tileLo, tileHi, tileRows);
    }
    if (rest > 0) {
      OpBuilder::InsertionGuard restGuard(b);
      SmallVector<Value> p = openLoops(b, loc, {panels}, innerParallel && panels > 1);
      // One tile of the last `rest` rows per panel.
      int64_t pairsK = k / 2;
      Value row0 = emit.index(fullTiles * tileRows);
      if (pairsK > kBlockPairs) {
        OpBuilder::InsertionGuard blockGuard(b);
        openFor(b, loc, emit.index(0), emit.index(pairsK), emit.index(kBlockPairs));
        Value block = b.getInsertionBlock()->getParent()->getArgument(0);
        Value end = arith::MinSIOp::create(b, loc, emit.add(block, kBlockPairs), emit.index(pairsK));
        emit.tile(ivs, packed, p[0], row0, rest, block, end, false);
      } else if (pairsK > 0) {
        emit.tile(ivs, packed, p[0], row0, rest, emit.index(0), emit.index(pairsK), false);
      }
      if (k % 2)
        emit.tile(ivs, packed, p[0], row0, rest, Value(), Value(), true);
    }
    memref::DeallocOp::create(b, loc, packed);
  }
  for (Value buffer : freed)
    memref::DeallocOp::create(b, loc, buffer);
  rewriter.eraseOp(op);
  return success();
}

void emulateBf16DotProducts(Operation *root) {
  SmallVector<x86vector::DotBF16Op> dots;
  root->walk([&](x86vector::DotBF16Op dot) { dots.push_back(dot); });
  for (x86vector::DotBF16Op dot : dots) {
    OpBuilder b(dot);
    Location loc = dot.getLoc();
    auto accType = cast<VectorType>(dot.getSrc().getType());
    auto wordType = VectorType::get(accType.getShape(), b.getI32Type());
    auto splat = [&](int64_t value) {
      return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(wordType, b.getI32IntegerAttr(value)))
          .getResult();
    };
    // Lane pair (2i, 2i+1) is one 32-bit word: element 2i in its low half.
    auto halves = [&](Value pairs) {
      Value words = vector::BitCastOp::create(b, loc, wordType, pairs);
      Value even = arith::ShLIOp::create(b, loc, words, splat(16));
      Value odd = arith::AndIOp::create(b, loc, words, splat(static_cast<int32_t>(0xffff0000u)));
      return std::pair{vector::BitCastOp::create(b, loc, accType, even).getResult(),
                       vector::BitCastOp::create(b, loc, accType, odd).getResult()};
    };
    auto [aEven, aOdd] = halves(dot.getA());
    auto [bEven, bOdd] = halves(dot.getB());
    Value acc = vector::FMAOp::create(b, loc, aOdd, bOdd, dot.getSrc());
    acc = vector::FMAOp::create(b, loc, aEven, bEven, acc);
    dot.replaceAllUsesWith(acc);
    dot.erase();
  }
}

} // namespace mpc
