//===- ColumnKernels.cpp - reductions over the outer dims -----------------===//
//
// A column reduction sums over leading dims and keeps the innermost one: a
// bias gradient (dY [rows, N] -> [N]), layer norm's scale and shift
// gradients. A row kernel (one block per output, threads striding over the
// reduced rows) reads such an input with a stride of N elements, one
// 32-byte sector per element; here the 32 lanes of a warp take 32 adjacent
// outputs, so each warp reads 32 adjacent elements of a row at once. The
// rows are split into S slices so that there are enough blocks to fill the
// GPU: block (slice s, columns c..c+31) sums its rows in order into
// partial[s, c..c+31]; a second kernel, one thread per output, combines the
// S partials in slice order with the output's initial value. Both orders are
// fixed: the result does not depend on timing. A reduction with few enough
// rows for one slice is one kernel that writes the output directly.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mpc::cuda {

namespace {
constexpr int64_t kLanes = 32;
/// Blocks worth launching at least (a few per SM of a large GPU), and rows
/// a slice sums at least (fewer would make the partials the main traffic).
constexpr int64_t kTargetBlocks = 2048, kMinRowsPerSlice = 32;

struct ColumnShape {
  SmallVector<int64_t> ranges, columns, rows;
  SmallVector<unsigned> parallelDims, reductionDims;
  int64_t numColumns = 1, numRows = 1;

  explicit ColumnShape(linalg::LinalgOp op) : ranges(op.getStaticLoopRanges()) {
    op.getParallelDims(parallelDims);
    op.getReductionDims(reductionDims);
    for (unsigned d : parallelDims)
      columns.push_back(ranges[d]);
    for (unsigned d : reductionDims)
      rows.push_back(ranges[d]);
    numColumns = product(columns);
    numRows = product(rows);
  }
  SmallVector<Value> point(OpBuilder &b, Location loc, Value column, Value row) const {
    SmallVector<Value> ivs(ranges.size());
    for (auto [d, v] : llvm::zip(parallelDims, delinearize(b, loc, column, columns)))
      ivs[d] = v;
    for (auto [d, v] : llvm::zip(reductionDims, delinearize(b, loc, row, rows)))
      ivs[d] = v;
    return ivs;
  }
};

/// `grid` blocks of `threads` threads, named `name` (the kernel's name).
void blocksOfThreads(OpBuilder &b, Location loc, int64_t grid, int64_t threads, StringRef name,
                     function_ref<void(OpBuilder &, Location, Value, Value)> body) {
  Location named = NameLoc::get(StringAttr::get(b.getContext(), name), loc);
  Value zero = indexConst(b, loc, 0), one = indexConst(b, loc, 1);
  auto blocks = scf::ParallelOp::create(
      b, named, ValueRange{zero}, ValueRange{indexConst(b, loc, grid)}, ValueRange{one},
      [&](OpBuilder &ob, Location l, ValueRange blockIds) {
        auto inner = scf::ParallelOp::create(
            ob, l, ValueRange{zero}, ValueRange{indexConst(ob, l, threads)}, ValueRange{one},
            [&](OpBuilder &ib, Location il, ValueRange threadIds) {
              body(ib, il, blockIds[0], threadIds[0]);
            });
        mapToThreads(inner);
      });
  mapToBlocks(blocks);
}

/// `then` inside `if (index < bound)`.
void ifBelow(OpBuilder &b, Location loc, Value index, int64_t bound,
             function_ref<void(OpBuilder &, Location)> then) {
  Value inBounds =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index, indexConst(b, loc, bound));
  scf::IfOp::create(b, loc, inBounds, [&](OpBuilder &tb, Location tl) {
    then(tb, tl);
    scf::YieldOp::create(tb, tl);
  });
}

/// The output element of `column` and where it is stored.
struct Output {
  Value buffer;
  SmallVector<Value> indices;
};

Output outputAt(OpBuilder &b, Location loc, linalg::LinalgOp op, const ColumnShape &shape,
                Value column, IRMapping &buffers) {
  OpOperand &init = op.getDpsInitsMutable()[0];
  SmallVector<Value> ivs = shape.point(b, loc, column, indexConst(b, loc, 0));
  return {inKernel(b, init.get(), buffers), applyMap(b, loc, op.getMatchingIndexingMap(&init), ivs)};
}
} // namespace

bool isColumnReduction(linalg::LinalgOp op, int64_t minRows) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0 || op.getNumParallelLoops() == 0 ||
      !op.hasPureBufferSemantics())
    return false;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (iterators.back() != utils::IteratorType::parallel)
    return false;
  ColumnShape shape(op);
  return llvm::none_of(shape.ranges, ShapedType::isDynamic) && shape.numRows >= minRows;
}

void mapColumnReduction(linalg::LinalgOp op, const Combiner &combiner, Value initialValue,
                        KernelInfo &info, SmallVectorImpl<KernelInfo> &kernels) {
  ColumnShape shape(op);
  int64_t columns = shape.numColumns, rows = shape.numRows;
  int64_t tiles = (columns + kLanes - 1) / kLanes;
  int64_t maxSlices = std::max<int64_t>(1, rows / kMinRowsPerSlice);
  int64_t slices = std::clamp<int64_t>((kTargetBlocks + tiles - 1) / tiles, 1, maxSlices);
  int64_t perSlice = (rows + slices - 1) / slices;
  slices = (rows + perSlice - 1) / perSlice; // no empty slice
  Type accType = combiner.identity.getType();
  OpBuilder b(op);
  Location loc = op.getLoc();

  // Kernel 1: block = (slice, tile of 32 columns), one lane per column.
  KernelInfo partialInfo;
  KernelInfo &first = slices > 1 ? partialInfo : info;
  first.name = slices > 1 ? info.name + "_partial" : info.name;
  first.nodes = info.nodes;
  first.strategy = "column-reduction";
  first.block = kLanes;
  first.grid = tiles * slices;
  measure(op, columns * rows, first);
  Value partial;
  if (slices > 1) {
    partial = memref::AllocOp::create(b, loc, MemRefType::get({slices, columns}, accType));
    int64_t partialBytes = slices * columns * accType.getIntOrFloatBitWidth() / 8;
    first.bytesWritten = partialBytes; // the output is the second kernel's
  }
  blocksOfThreads(b, loc, tiles * slices, kLanes, first.name,
                  [&](OpBuilder &kb, Location l, Value block, Value lane) {
    Value tile = arith::RemUIOp::create(kb, l, block, indexConst(kb, l, tiles));
    Value slice = arith::DivUIOp::create(kb, l, block, indexConst(kb, l, tiles));
    Value column = arith::AddIOp::create(
        kb, l, arith::MulIOp::create(kb, l, tile, indexConst(kb, l, kLanes)), lane);
    ifBelow(kb, l, column, columns, [&](OpBuilder &tb, Location tl) {
      IRMapping buffers;
      Value begin = arith::MulIOp::create(tb, tl, slice, indexConst(tb, tl, perSlice));
      Value end = arith::MinUIOp::create(
          tb, tl, arith::AddIOp::create(tb, tl, begin, indexConst(tb, tl, perSlice)),
          indexConst(tb, tl, rows));
      Value identity = arith::ConstantOp::create(tb, tl, combiner.identity);
      auto loop = scf::ForOp::create(
          tb, tl, begin, end, indexConst(tb, tl, 1), ValueRange{identity},
          [&](OpBuilder &fb, Location fl, Value row, ValueRange acc) {
            IRMapping inLoop = buffers;
            SmallVector<Value> ivs = shape.point(fb, fl, column, row);
            scf::YieldOp::create(fb, fl, emitPayload(fb, fl, op, ivs, {acc[0]}, inLoop));
          });
      if (slices > 1) {
        memref::StoreOp::create(tb, tl, loop.getResult(0), partial, ValueRange{slice, column});
        return;
      }
      Output out = outputAt(tb, tl, op, shape, column, buffers);
      Value initial = initialValue ? initialValue
                                   : memref::LoadOp::create(tb, tl, out.buffer, out.indices).getResult();
      memref::StoreOp::create(tb, tl, combine(tb, combiner, op, initial, loop.getResult(0)), out.buffer,
                              out.indices);
    });
  });
  if (slices == 1) {
    op->erase();
    return;
  }
  kernels.push_back(std::move(partialInfo));

  // Kernel 2: one thread per output, the slices' partials in slice order.
  constexpr int64_t kThreads = 256;
  info.strategy = "column-reduction";
  info.block = kThreads;
  info.grid = (columns + kThreads - 1) / kThreads;
  auto outType = cast<MemRefType>(op.getDpsInitsMutable()[0].get().getType());
  info.bytesRead = slices * columns * accType.getIntOrFloatBitWidth() / 8 +
                   (initialValue ? 0 : bufferBytes(outType));
  info.bytesWritten = bufferBytes(outType);
  info.flops = isa<FloatType>(accType) ? slices * columns : 0;
  info.ops.insert(combiner.op->getName().getStringRef());
  blocksOfThreads(b, loc, info.grid, kThreads, info.name,
                  [&](OpBuilder &kb, Location l, Value block, Value thread) {
    Value column = arith::AddIOp::create(
        kb, l, arith::MulIOp::create(kb, l, block, indexConst(kb, l, kThreads)), thread);
    ifBelow(kb, l, column, columns, [&](OpBuilder &tb, Location tl) {
      IRMapping buffers;
      Output out = outputAt(tb, tl, op, shape, column, buffers);
      Value initial = initialValue ? initialValue
                                   : memref::LoadOp::create(tb, tl, out.buffer, out.indices).getResult();
      auto loop = scf::ForOp::create(
          tb, tl, indexConst(tb, tl, 0), indexConst(tb, tl, slices), indexConst(tb, tl, 1),
          ValueRange{initial}, [&](OpBuilder &fb, Location fl, Value slice, ValueRange acc) {
            Value value = memref::LoadOp::create(fb, fl, partial, ValueRange{slice, column});
            scf::YieldOp::create(fb, fl, combine(fb, combiner, op, acc[0], value));
          });
      memref::StoreOp::create(tb, tl, loop.getResult(0), out.buffer, out.indices);
    });
  });
  memref::DeallocOp::create(b, loc, partial);
  op->erase();
}

} // namespace mpc::cuda
