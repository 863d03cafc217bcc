//===- RowKernels.cpp - reductions with their prologue and epilogue -------===//
//
// A row group is a run of linalg ops over the same rows: reductions over
// each row's R loops (after P parallel loops) and elementwise ops over the
// same P x R points, e.g. softmax (max, sum of exp, normalize) or layer norm
// (sum, sum of squares, normalize). The whole group is one kernel: one block
// per row, each thread striding over the row in every phase, so that a
// phase's reduction result is a value every thread holds (no buffer, no
// kernel boundary) and an element a phase writes is read back by the thread
// that wrote it.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mpc::cuda {

namespace {
/// P (outer, parallel) and R (inner) loop sizes of a group member: a
/// reduction has P parallel loops then R reduction loops; an elementwise op
/// P + R parallel loops (split as the group's reductions split them).
struct RowShape {
  SmallVector<int64_t> outer, inner;
  bool operator==(const RowShape &o) const { return outer == o.outer && inner == o.inner; }
};

std::optional<RowShape> reductionShape(linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned p = 0;
  while (p < iterators.size() && iterators[p] == utils::IteratorType::parallel)
    ++p;
  for (unsigned d = p; d < iterators.size(); ++d)
    if (iterators[d] != utils::IteratorType::reduction)
      return std::nullopt;
  if (p == iterators.size())
    return std::nullopt;
  return RowShape{SmallVector<int64_t>(ranges.begin(), ranges.begin() + p),
                  SmallVector<int64_t>(ranges.begin() + p, ranges.end())};
}

bool isElementwise(linalg::LinalgOp op) {
  return op.getNumReductionLoops() == 0 && op.getNumLoops() > 0;
}

/// Whether `map` reads the row value a reduction stored (its P loops, in
/// order) or the element an elementwise op stored (every loop, in order).
bool isIdentityPrefix(AffineMap map, unsigned count) {
  if (map.getNumResults() != count)
    return false;
  for (unsigned i = 0; i < count; ++i) {
    auto dim = dyn_cast<AffineDimExpr>(map.getResult(i));
    if (!dim || dim.getPosition() != i)
      return false;
  }
  return true;
}

/// Ops allowed between two members of a group: they touch no element.
bool isBookkeeping(Operation *op) {
  return isa<memref::AllocOp, memref::DeallocOp, arith::ConstantOp, ViewLikeOpInterface>(op);
}

/// Whether `group` + `next` still forms a valid row group: every buffer a
/// member writes is read by later members only as the row value (a
/// reduction's result) or the same element (an elementwise op's), and a
/// member writes what an earlier member read only where that member read
/// the same element (which the same thread did: softmax normalizing its
/// input in place).
bool canAppend(ArrayRef<linalg::LinalgOp> group, linalg::LinalgOp next, const RowShape &shape) {
  unsigned p = shape.outer.size(), all = p + shape.inner.size();
  // Buffers written so far, with how they may be read.
  llvm::DenseMap<Value, unsigned> written; // root -> identity-prefix length
  llvm::DenseMap<Value, bool> read;        // root -> read element by element only
  for (linalg::LinalgOp op : group) {
    for (OpOperand *in : op.getDpsInputOperands())
      if (isa<MemRefType>(in->get().getType())) {
        bool same = in->get() == rootBuffer(in->get()) &&
                    isIdentityPrefix(op.getMatchingIndexingMap(in), all);
        auto [entry, inserted] = read.try_emplace(rootBuffer(in->get()), same);
        entry->second &= same;
      }
    for (Value init : op.getDpsInits())
      written[rootBuffer(init)] = isElementwise(op) ? all : p;
  }
  for (OpOperand &operand : next->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    Value root = rootBuffer(operand.get());
    auto it = written.find(root);
    if (it != written.end() &&
        (operand.get() != root ||
         !isIdentityPrefix(next.getMatchingIndexingMap(&operand), it->second)))
      return false;
    if (next.isDpsInit(&operand)) {
      unsigned want = isElementwise(next) ? all : p;
      // Writing a buffer an earlier member read, other than element by
      // element where this member writes element by element.
      if (auto r = read.find(root);
          r != read.end() && it == written.end() && (!r->second || want != all))
        return false;
      if (operand.get() != root || !isIdentityPrefix(next.getMatchingIndexingMap(&operand), want))
        return false;
    }
  }
  return true;
}

/// Whether `op` reads a buffer one of `writers` writes: fusing ops that share
/// no data gains nothing and costs the elementwise ones their vectors.
bool readsFrom(linalg::LinalgOp op, ArrayRef<linalg::LinalgOp> writers) {
  llvm::DenseSet<Value> written;
  for (linalg::LinalgOp writer : writers)
    for (Value init : writer.getDpsInits())
      written.insert(rootBuffer(init));
  for (OpOperand &operand : op->getOpOperands())
    if (isa<MemRefType>(operand.get().getType()) && written.contains(rootBuffer(operand.get())) &&
        (!op.isDpsInit(&operand) || op.payloadUsesValueFromOperand(&operand)))
      return true;
  return false;
}

/// Whether `op` may be a member of a group of this shape.
bool fits(linalg::LinalgOp op, const RowShape &shape) {
  if (!op.hasPureBufferSemantics() || op.hasDynamicShape() || matchGemm(op))
    return false;
  if (isElementwise(op)) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> want(shape.outer);
    want.append(shape.inner);
    return ranges == want;
  }
  std::optional<RowShape> own = reductionShape(op);
  std::optional<Combiner> combiner = matchCombiner(op);
  return own && *own == shape && combiner && allReduceKind(combiner->op);
}
} // namespace

SmallVector<SmallVector<linalg::LinalgOp>> findRowGroups(ArrayRef<linalg::LinalgOp> ops,
                                                         int64_t minLength) {
  SmallVector<SmallVector<linalg::LinalgOp>> groups;
  for (size_t i = 0; i < ops.size(); ++i) {
    std::optional<RowShape> shape = reductionShape(ops[i]);
    if (!shape || !fits(ops[i], *shape))
      continue;
    // Elementwise ops right before the first reduction join as its prologue.
    size_t first = i;
    auto adjacent = [](linalg::LinalgOp a, linalg::LinalgOp b) {
      if (a->getBlock() != b->getBlock() || !a->isBeforeInBlock(b))
        return false;
      for (Operation *op = a->getNextNode(); op != b.getOperation(); op = op->getNextNode())
        if (!isBookkeeping(op))
          return false;
      return true;
    };
    while (first > 0 && isElementwise(ops[first - 1]) && fits(ops[first - 1], *shape) &&
           adjacent(ops[first - 1], ops[first]) &&
           (groups.empty() || !llvm::is_contained(groups.back(), ops[first - 1])))
      --first;
    SmallVector<linalg::LinalgOp> group;
    for (size_t j = first; j <= i; ++j) {
      // (With an empty group this checks the member's own writes: to the
      // buffer itself, element by element or row by row.)
      if (!canAppend(group, ops[j], *shape)) {
        group.clear();
        if (!canAppend(group, ops[j], *shape))
          continue;
      }
      group.push_back(ops[j]);
    }
    if (group.empty() || group.back() != ops[i])
      continue;
    // The prologue's ops must feed the group.
    while (group.size() > 1 && isElementwise(group.front()) &&
           llvm::none_of(ArrayRef(group).drop_front(),
                         [&](linalg::LinalgOp later) { return readsFrom(later, group.front()); }))
      group.erase(group.begin());
    size_t last = i;
    while (last + 1 < ops.size() && adjacent(ops[last], ops[last + 1]) &&
           fits(ops[last + 1], *shape) && canAppend(group, ops[last + 1], *shape) &&
           readsFrom(ops[last + 1], group))
      group.push_back(ops[++last]);
    // A lone reduction needs enough elements to keep a block's threads
    // busy; a group saves kernels and round trips through memory whatever
    // the row length.
    bool alone = group.size() == 1;
    if (llvm::any_of(group, [](linalg::LinalgOp op) { return !isElementwise(op); }) &&
        (!alone || product(shape->inner) >= minLength)) {
      groups.push_back(group);
      i = last;
    }
  }
  return groups;
}

void mapRowGroup(ArrayRef<linalg::LinalgOp> group, const RowKernelOptions &options,
                 KernelInfo &info) {
  linalg::LinalgOp anchor =
      *llvm::find_if(group, [](linalg::LinalgOp op) { return !isElementwise(op); });
  RowShape shape = *reductionShape(anchor);
  int64_t rows = product(shape.outer), length = product(shape.inner);
  int64_t threads =
      std::min<int64_t>(options.blockSize, std::max<int64_t>(32, (length + 31) / 32 * 32));
  info.strategy = group.size() == 1 ? "row-reduction" : "row-fused" + std::to_string(group.size());
  info.block = threads;
  info.grid = rows;

  // Which reduction results are used after the group (then stored).
  llvm::DenseSet<Operation *> members;
  for (linalg::LinalgOp op : group)
    members.insert(op);
  auto usedOutside = [&](Value buffer) {
    Value root = rootBuffer(buffer);
    for (Operation *user : root.getUsers())
      if (!members.contains(user) && !isa<memref::DeallocOp>(user))
        return true;
    return !root.getDefiningOp<memref::AllocOp>(); // an argument: the caller reads it
  };

  // The report: bytes of the buffers the kernel reads and writes (row
  // values kept in registers are neither), FLOPs of every phase.
  llvm::DenseSet<Value> reads, writes, rowValues;
  for (linalg::LinalgOp op : group) {
    KernelInfo phase;
    measure(op, rows * length, phase);
    info.flops += phase.flops;
    info.ops.insert(phase.ops.begin(), phase.ops.end());
    collectNodes(op, info.nodes);
    for (OpOperand &operand : op->getOpOperands()) {
      Value root = rootBuffer(operand.get());
      if (!isa<MemRefType>(root.getType()))
        continue;
      if (op.isDpsInit(&operand)) {
        if (isElementwise(op) || usedOutside(root))
          writes.insert(root);
        else
          rowValues.insert(root);
      } else if (!writes.contains(root) && !rowValues.contains(root)) {
        reads.insert(root);
      }
    }
  }
  auto bytes = [](Value v) { return bufferBytes(cast<MemRefType>(v.getType())); };
  for (Value v : reads)
    info.bytesRead += bytes(v);
  for (Value v : writes)
    info.bytesWritten += bytes(v);

  // At the last member: the buffers later members write may be allocated
  // after the first one.
  OpBuilder b(group.back()->getContext());
  b.setInsertionPointAfter(static_cast<Operation *>(group.back()));
  Location loc = group.front()->getLoc();
  MLIRContext *ctx = b.getContext();
  Value zero = indexConst(b, loc, 0), one = indexConst(b, loc, 1);
  Value threadCount = indexConst(b, loc, threads), lengthValue = indexConst(b, loc, length);

  auto blocks = scf::ParallelOp::create(
      b, NameLoc::get(StringAttr::get(ctx, info.name), loc), ValueRange{zero},
      ValueRange{indexConst(b, loc, rows)}, ValueRange{one},
      [&](OpBuilder &ob, Location l, ValueRange blockIds) {
        SmallVector<Value> rowIvs = delinearize(ob, l, blockIds[0], shape.outer);
        auto allIvs = [&](OpBuilder &ib, Location il, Value k) {
          SmallVector<Value> ivs(rowIvs);
          llvm::append_range(ivs, delinearize(ib, il, k, shape.inner));
          return ivs;
        };
        // Row values of the reductions done so far, by the buffer they
        // would have been stored in.
        llvm::DenseMap<Value, Value> uniforms;

        // One phase's work for thread `t`: an elementwise op's elements, or
        // a reduction's partial result.
        auto elementwisePhase = [&](OpBuilder &tb, Location tl, Value t, linalg::LinalgOp op) {
          scf::ForOp::create(tb, tl, t, lengthValue, threadCount, ValueRange{},
                             [&](OpBuilder &fb, Location fl, Value k, ValueRange) {
                               IRMapping buffers;
                               SmallVector<Value> ivs = allIvs(fb, fl, k);
                               SmallVector<Value> values =
                                   emitPayload(fb, fl, op, ivs, {}, buffers, &uniforms);
                               storeResults(fb, fl, op, ivs, values, buffers);
                               scf::YieldOp::create(fb, fl);
                             });
        };
        auto partial = [&](OpBuilder &tb, Location tl, Value t, linalg::LinalgOp op,
                           const Combiner &combiner) -> Value {
          Value identity = arith::ConstantOp::create(tb, tl, combiner.identity);
          auto loop = scf::ForOp::create(
              tb, tl, t, lengthValue, threadCount, ValueRange{identity},
              [&](OpBuilder &fb, Location fl, Value k, ValueRange acc) {
                IRMapping buffers;
                SmallVector<Value> ivs = allIvs(fb, fl, k);
                scf::YieldOp::create(fb, fl,
                                     emitPayload(fb, fl, op, ivs, {acc[0]}, buffers, &uniforms));
              });
          return loop.getResult(0);
        };
        // A reduction's initial value: a folded fill's constant, the row
        // value of an earlier member that wrote the same buffer, or the
        // buffer's element, loaded before the partials (so before the
        // all-reduce's barriers, and so before thread 0 stores the result).
        auto initialOf = [&](OpBuilder &tb, Location tl, linalg::LinalgOp op) -> Value {
          if (Value folded = options.initialValues ? options.initialValues->lookup(op) : Value())
            return folded;
          OpOperand &init = op.getDpsInitsMutable()[0];
          if (Value earlier = uniforms.lookup(init.get()))
            return earlier;
          IRMapping buffers;
          SmallVector<Value> ivs(rowIvs);
          ivs.append(shape.inner.size(), zero);
          SmallVector<Value> indices = applyMap(tb, tl, op.getMatchingIndexingMap(&init), ivs);
          return memref::LoadOp::create(tb, tl, inKernel(tb, init.get(), buffers), indices);
        };
        // A reduction's row value: the combined partials, combined once with
        // the initial value; stored (by thread 0) if read after the group.
        auto finish = [&](OpBuilder &tb, Location tl, Value t, linalg::LinalgOp op,
                          const Combiner &combiner, Value initial, Value total) {
          IRMapping buffers;
          OpOperand &init = op.getDpsInitsMutable()[0];
          Value value = combine(tb, combiner, op, initial, total);
          uniforms[init.get()] = value;
          if (!usedOutside(init.get()))
            return;
          SmallVector<Value> ivs(rowIvs);
          ivs.append(shape.inner.size(), zero);
          SmallVector<Value> indices = applyMap(tb, tl, op.getMatchingIndexingMap(&init), ivs);
          auto store = [&](OpBuilder &sb, Location sl) {
            memref::StoreOp::create(sb, sl, value, inKernel(sb, init.get(), buffers), indices);
          };
          if (!t) {
            store(tb, tl);
            return;
          }
          Value first = arith::CmpIOp::create(tb, tl, arith::CmpIPredicate::eq, t, zero);
          scf::IfOp::create(tb, tl, first, [&](OpBuilder &sb, Location sl) {
            store(sb, sl);
            scf::YieldOp::create(sb, sl);
          });
        };

        if (options.sequentialPhases) {
          // For the CPU: one thread loop per phase, partials combined by
          // scf.reduce, row values computed between the loops.
          for (linalg::LinalgOp op : group) {
            if (isElementwise(op)) {
              auto loop = scf::ParallelOp::create(ob, l, ValueRange{zero}, ValueRange{threadCount},
                                                  ValueRange{one},
                                                  [&](OpBuilder &tb, Location tl, ValueRange tids) {
                                                    elementwisePhase(tb, tl, tids[0], op);
                                                  });
              mapToThreads(loop);
              continue;
            }
            Combiner combiner = *matchCombiner(op);
            Value initial = initialOf(ob, l, op);
            Value identity = arith::ConstantOp::create(ob, l, combiner.identity);
            auto loop = scf::ParallelOp::create(
                ob, l, ValueRange{zero}, ValueRange{threadCount}, ValueRange{one},
                ValueRange{identity}, [&](OpBuilder &tb, Location tl, ValueRange tids, ValueRange) {
                  Value mine = partial(tb, tl, tids[0], op, combiner);
                  auto reduce = scf::ReduceOp::create(tb, tl, mine);
                  Block &body = reduce.getReductions()[0].front();
                  OpBuilder cb = OpBuilder::atBlockBegin(&body);
                  IRMapping m;
                  m.map(combiner.op->getOperand(0), body.getArgument(0));
                  m.map(combiner.op->getOperand(1), body.getArgument(1));
                  scf::ReduceReturnOp::create(cb, tl, cb.clone(*combiner.op, m)->getResult(0));
                });
            mapToThreads(loop);
            finish(ob, l, Value(), op, combiner, initial, loop.getResult(0));
          }
          return;
        }
        // For the GPU: one thread loop; each reduction's partials are
        // combined by gpu.all_reduce (shuffles, shared memory), which every
        // thread reaches and whose result every thread gets.
        auto threadsLoop = scf::ParallelOp::create(
            ob, l, ValueRange{zero}, ValueRange{threadCount}, ValueRange{one},
            [&](OpBuilder &tb, Location tl, ValueRange tids) {
              for (linalg::LinalgOp op : group) {
                if (isElementwise(op)) {
                  elementwisePhase(tb, tl, tids[0], op);
                  continue;
                }
                Combiner combiner = *matchCombiner(op);
                Value initial = initialOf(tb, tl, op);
                Value mine = partial(tb, tl, tids[0], op, combiner);
                auto reduce = gpu::AllReduceOp::create(
                    tb, tl, mine,
                    gpu::AllReduceOperationAttr::get(ctx, *allReduceKind(combiner.op)),
                    /*uniform=*/true);
                finish(tb, tl, tids[0], op, combiner, initial, reduce.getResult());
              }
            });
        mapToThreads(threadsLoop);
      });
  mapToBlocks(blocks);
  // Buffers freed between the members are freed after the kernel.
  for (Operation *op = static_cast<Operation *>(group.front())->getNextNode(); op != blocks;) {
    Operation *next = op->getNextNode();
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op))
      dealloc->moveAfter(blocks);
    op = next;
  }

  // Row values that lived only in registers leave their buffers unused.
  SmallVector<Value> inits;
  for (linalg::LinalgOp op : group)
    llvm::append_range(inits, op.getDpsInits());
  for (linalg::LinalgOp op : llvm::reverse(group))
    op->erase();
  for (Value init : inits) {
    auto alloc = init.getDefiningOp<memref::AllocOp>();
    if (alloc &&
        llvm::all_of(alloc->getUsers(), [](Operation *u) { return isa<memref::DeallocOp>(u); })) {
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        user->erase();
      alloc->erase();
    }
  }
}

} // namespace mpc::cuda
