//===- HostLoops.cpp - loops that lowering left on the host, as kernels ---===//
//
// Some mpc ops lower to loops rather than linalg ops (scatter-adds such as
// Gather's gradient). After bufferization those loops read and write device
// buffers from host code. A perfect loop nest whose only write is a
// read-add-write update of one element becomes a `scatter-ordered` kernel:
// every element is owned by one thread, which applies the updates aimed at
// it in the loops' order, so the sums are the CPU target's bit for bit and
// the same on every run (no float atomics). With `atomic-scatter`, a nest
// whose writes are all such updates becomes `scatter-atomic` instead: one
// thread per iteration, atomic adds (faster, the sum order left to the
// hardware). Any other nest becomes a one-thread kernel (correct, slow).
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/MathExtras.h"

namespace mpc::cuda {

namespace {
/// Threads a `scatter-ordered` kernel aims at when it deals the rows of a
/// computed index over threads: each thread computes the index at every
/// iteration, so more threads mean more redundant index work but shorter
/// chains of dependent updates per thread. 2^15 threads keep an H100's
/// SMs busy with a few warps each.
constexpr int64_t kOrderedScatterThreads = int64_t(1) << 15;

bool isHostBuffer(Value buffer) {
  Operation *def = buffer.getDefiningOp();
  return def && def->hasAttr("mpc.host_buffer");
}

/// Whether `op` (with what it holds) reads or writes device memory itself,
/// from host code. An op that holds kernels, library calls or allocations
/// is host code issuing them (e.g. a loop over convolution groups), left as
/// it is.
bool touchesDevice(Operation *op) {
  bool touches = false, issues = false;
  op->walk([&](Operation *inner) {
    if (isa<scf::ParallelOp, func::CallOp, memref::AllocOp, memref::AllocaOp>(inner))
      issues = true;
    if (auto load = dyn_cast<memref::LoadOp>(inner))
      touches |= !isHostBuffer(load.getMemRef());
    else if (auto store = dyn_cast<memref::StoreOp>(inner))
      touches |= !isHostBuffer(store.getMemRef());
    else if (isa<memref::AtomicRMWOp>(inner))
      touches = true;
  });
  return touches && !issues;
}

/// `load m[i]; v = addf/addi(load, x); store v, m[i]`: a read-add-write
/// update of one element.
struct Update {
  memref::StoreOp store;
  memref::LoadOp load;
  Operation *add;

  Value addend() {
    return add->getOperand(0) == load.getResult() ? add->getOperand(1) : add->getOperand(0);
  }
};

std::optional<Update> matchUpdate(memref::StoreOp store) {
  Operation *add = store.getValueToStore().getDefiningOp();
  if (!add || !isa<arith::AddFOp, arith::AddIOp>(add) || !add->hasOneUse())
    return std::nullopt;
  for (Value operand : add->getOperands())
    if (auto l = operand.getDefiningOp<memref::LoadOp>();
        l && l.getMemRef() == store.getMemRef() && l.getIndices() == store.getIndices() &&
        l->hasOneUse() && l->getBlock() == store->getBlock())
      return Update{store, l, add};
  return std::nullopt;
}

/// The updates of `nest` when every store in it is one and nothing else
/// accesses a buffer they update (through any view: it would race);
/// nullopt otherwise.
std::optional<SmallVector<Update>> findUpdates(Operation *nest) {
  SmallVector<Update> updates;
  llvm::DenseSet<Value> updated;
  llvm::DenseSet<Operation *> parts;
  WalkResult walk = nest->walk([&](memref::StoreOp store) {
    std::optional<Update> update = matchUpdate(store);
    if (!update)
      return WalkResult::interrupt();
    updates.push_back(*update);
    updated.insert(rootBuffer(store.getMemRef()));
    parts.insert(store);
    parts.insert(update->load);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted() || updates.empty())
    return std::nullopt;
  walk = nest->walk([&](Operation *op) {
    if (parts.contains(op) || isa<ViewLikeOpInterface>(op))
      return WalkResult::advance();
    for (Value operand : op->getOperands())
      if (isa<MemRefType>(operand.getType()) && updated.contains(rootBuffer(operand)))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return std::nullopt;
  return updates;
}

void updatesToAtomics(ArrayRef<Update> updates) {
  for (Update u : updates) {
    OpBuilder b(u.store);
    auto kind = isa<arith::AddFOp>(u.add) ? arith::AtomicRMWKind::addf : arith::AtomicRMWKind::addi;
    memref::AtomicRMWOp::create(b, u.store.getLoc(), kind, u.addend(), u.store.getMemRef(),
                                u.store.getIndices());
    u.store->erase();
    u.add->erase();
    u.load->erase();
  }
}

/// The body of the innermost of a perfect nest's `loops`.
Block *innermostBody(ArrayRef<scf::ForOp> loops) {
  scf::ForOp innermost = loops.back();
  return innermost.getBody();
}

/// A loop's constant lower bound, upper bound and step.
struct Bounds {
  int64_t lower, upper, step;
  int64_t trips() const { return upper > lower ? (upper - lower + step - 1) / step : 0; }
};
std::optional<Bounds> constantBounds(scf::ForOp loop) {
  std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound()),
                         ub = getConstantIntValue(loop.getUpperBound()),
                         step = getConstantIntValue(loop.getStep());
  if (!lb || !ub || !step || *step <= 0)
    return std::nullopt;
  return Bounds{*lb, *ub, *step};
}

/// The loops of a perfect nest with constant bounds, outermost first.
SmallVector<scf::ForOp> perfectNest(Operation *op) {
  SmallVector<scf::ForOp> loops;
  auto loop = dyn_cast<scf::ForOp>(op);
  while (loop && loop.getNumResults() == 0 && constantBounds(loop)) {
    loops.push_back(loop);
    Block *body = loop.getBody();
    auto inner = dyn_cast<scf::ForOp>(&body->front());
    if (!inner || std::next(body->begin()) != std::prev(body->end(), 1))
      break;
    loop = inner;
  }
  return loops;
}

/// How a nest with one update runs as `scatter-ordered`: the loops whose
/// induction variable indexes the updated buffer directly run in parallel
/// (threads that differ in one own different elements); the others run in
/// their order inside each thread. The rows of one computed index (the
/// embedding row of Gather's gradient) are dealt round-robin over `groups`
/// threads more: each computes the index (`key`, from the body ops in
/// `keySlice`) at every iteration and applies the updates of its rows only.
struct OrderedPlan {
  SmallVector<bool> parallel;
  int64_t groups = 1;
  Value key;
  llvm::SetVector<Operation *> keySlice;
};

/// Whether distinct indices always name distinct elements of `type`.
bool injective(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) &&
         llvm::none_of(strides, [](int64_t s) { return s == 0 || ShapedType::isDynamic(s); });
}

/// The body ops `key` is computed from, in body order, when they are all
/// loads and side-effect-free ops without regions in `body` itself.
std::optional<llvm::SetVector<Operation *>> keySlice(Value key, Block *body) {
  llvm::DenseSet<Operation *> needed;
  SmallVector<Value> work{key};
  while (!work.empty()) {
    Operation *def = work.pop_back_val().getDefiningOp();
    if (!def || def->getBlock() != body || !needed.insert(def).second)
      continue;
    if (def->getNumRegions() || (!isa<memref::LoadOp>(def) && !isMemoryEffectFree(def)))
      return std::nullopt;
    llvm::append_range(work, def->getOperands());
  }
  llvm::SetVector<Operation *> slice;
  for (Operation &op : *body)
    if (needed.contains(&op))
      slice.insert(&op);
  return slice;
}

std::optional<OrderedPlan> planOrdered(ArrayRef<scf::ForOp> loops, Update update) {
  Value target = update.store.getMemRef();
  Operation *nest = loops.front();
  if (Operation *def = target.getDefiningOp(); def && nest->isAncestor(def))
    return std::nullopt;
  auto type = cast<MemRefType>(target.getType());
  if (!injective(type))
    return std::nullopt;
  OrderedPlan plan;
  plan.parallel.assign(loops.size(), false);
  std::optional<unsigned> keyDim;
  Block *body = innermostBody(loops);
  for (auto [dim, index] : llvm::enumerate(update.store.getIndices())) {
    Value value = index;
    auto *loop = llvm::find_if(loops, [&](scf::ForOp l) { return l.getInductionVar() == value; });
    if (loop != loops.end())
      plan.parallel[loop - loops.begin()] = true;
    else if (!keyDim && value.getParentBlock() == body)
      keyDim = dim;
  }
  if (!keyDim || type.isDynamicDim(*keyDim))
    return plan;
  Value key = update.store.getIndices()[*keyDim];
  std::optional<llvm::SetVector<Operation *>> slice = keySlice(key, body);
  if (!slice)
    return plan;
  plan.key = key;
  plan.keySlice = std::move(*slice);
  int64_t points = 1;
  for (auto [loop, parallel] : llvm::zip(loops, plan.parallel))
    points *= parallel ? constantBounds(loop)->trips() : 1;
  int64_t wanted = llvm::divideCeil(kOrderedScatterThreads, std::max<int64_t>(points, 1));
  // A power of two: the row's group is then a mask, not a division.
  int64_t rows = std::max<int64_t>(1, type.getDimSize(*keyDim));
  plan.groups = int64_t(llvm::bit_floor(uint64_t(std::min(wanted, rows))));
  return plan;
}

/// Memrefs `op` uses that are defined above it: constant globals (and views
/// of them) are re-created inside the kernel.
void cloneGlobalsInto(Operation *op, OpBuilder &b, IRMapping &map) {
  IRMapping buffers;
  op->walk([&](Operation *inner) {
    for (Value operand : inner->getOperands())
      if (isa<MemRefType>(operand.getType()) &&
          !op->isAncestor(operand.getParentBlock()->getParentOp()) && !map.contains(operand)) {
        Value inside = inKernel(b, operand, buffers);
        if (inside != operand)
          map.map(operand, inside);
      }
  });
}

/// Maps each of `loops`' induction variables to its value at trip `i`.
void mapInductionVars(OpBuilder &b, Location loc, ArrayRef<scf::ForOp> loops, ValueRange trips,
                      IRMapping &map) {
  for (auto [l, i] : llvm::zip(loops, trips)) {
    scf::ForOp loop = l;
    Bounds bounds = *constantBounds(loop);
    Value scaled = arith::MulIOp::create(b, loc, i, indexConst(b, loc, bounds.step));
    map.map(loop.getInductionVar(),
            arith::AddIOp::create(b, loc, scaled, indexConst(b, loc, bounds.lower)));
  }
}

/// The body of one thread of `scatter-atomic`: iteration `linear` of the
/// nest (atomics already in it).
void emitAtomicThread(OpBuilder &b, Location loc, ArrayRef<scf::ForOp> loops, Value linear,
                      IRMapping &map) {
  SmallVector<int64_t> trips;
  for (scf::ForOp loop : loops)
    trips.push_back(constantBounds(loop)->trips());
  mapInductionVars(b, loc, loops, delinearize(b, loc, linear, trips), map);
  for (Operation &bodyOp : innermostBody(loops)->without_terminator())
    b.clone(bodyOp, map);
}

/// The body of one thread of `scatter-ordered`: its parallel point and row
/// group from `linear`, the other loops in order around the body, whose
/// update (and everything but the key) runs only for the group's rows.
void emitOrderedThread(OpBuilder &b, Location loc, ArrayRef<scf::ForOp> loops,
                       const OrderedPlan &plan, Value linear, IRMapping &map) {
  SmallVector<scf::ForOp> parallelLoops, serialLoops;
  SmallVector<int64_t> trips;
  SmallVector<Value> lbs, ubs, steps;
  for (auto [loop, parallel] : llvm::zip(loops, plan.parallel)) {
    Bounds bounds = *constantBounds(loop);
    if (parallel) {
      parallelLoops.push_back(loop);
      trips.push_back(bounds.trips());
      continue;
    }
    serialLoops.push_back(loop);
    lbs.push_back(indexConst(b, loc, bounds.lower));
    ubs.push_back(indexConst(b, loc, bounds.upper));
    steps.push_back(indexConst(b, loc, bounds.step));
  }
  // The group outermost: neighbouring threads take neighbouring elements
  // of the innermost parallel loop (coalesced accesses).
  trips.insert(trips.begin(), plan.groups);
  SmallVector<Value> coords = delinearize(b, loc, linear, trips);
  Value group = coords.front();
  mapInductionVars(b, loc, parallelLoops, ArrayRef(coords).drop_front(), map);
  Block *body = innermostBody(loops);
  scf::buildLoopNest(b, loc, lbs, ubs, steps, [&](OpBuilder &lb, Location l, ValueRange ivs) {
    for (auto [loop, iv] : llvm::zip(serialLoops, ivs))
      map.map(loop.getInductionVar(), iv);
    for (Operation *op : plan.keySlice)
      lb.clone(*op, map);
    auto emitRest = [&](OpBuilder &rb) {
      for (Operation &op : body->without_terminator())
        if (!plan.keySlice.contains(&op))
          rb.clone(op, map);
    };
    if (plan.groups == 1)
      return emitRest(lb);
    Value mine = arith::CmpIOp::create(
        lb, l, arith::CmpIPredicate::eq,
        arith::AndIOp::create(lb, l, map.lookup(plan.key), indexConst(lb, l, plan.groups - 1)),
        group);
    scf::IfOp::create(lb, l, mine, [&](OpBuilder &ib, Location il) {
      emitRest(ib);
      scf::YieldOp::create(ib, il);
    });
  });
}

/// Bytes the nest's buffers hold (read: those it loads or updates;
/// written: those it stores into) and its floating-point ops.
void measureNest(ArrayRef<scf::ForOp> loops, int64_t points, KernelInfo &info) {
  llvm::DenseSet<Value> read, written;
  int64_t perPoint = 0;
  loops.front()->walk([&](Operation *op) {
    if (auto load = dyn_cast<memref::LoadOp>(op))
      read.insert(rootBuffer(load.getMemRef()));
    else if (auto store = dyn_cast<memref::StoreOp>(op))
      written.insert(rootBuffer(store.getMemRef()));
    else if (op->getDialect() && isa<arith::ArithDialect>(op->getDialect()) &&
             op->getNumResults() == 1 && isa<FloatType>(op->getResult(0).getType()) &&
             !isa<arith::ConstantOp, arith::ExtFOp, arith::TruncFOp>(op))
      ++perPoint;
  });
  for (Value buffer : read)
    info.bytesRead += bufferBytes(cast<MemRefType>(buffer.getType()));
  for (Value buffer : written)
    info.bytesWritten += bufferBytes(cast<MemRefType>(buffer.getType()));
  info.flops = perPoint * points;
  for (Operation &op : innermostBody(loops)->without_terminator())
    info.ops.insert(op.getName().getStringRef());
}
} // namespace

void mapHostLoops(func::FuncOp func, int64_t blockSize, bool atomicScatter,
                  SmallVectorImpl<KernelInfo> &kernels) {
  for (Operation &op : llvm::make_early_inc_range(func.getBody().front())) {
    if (op.getNumRegions() == 0 || isa<scf::ParallelOp>(op) || !op.use_empty() ||
        !touchesDevice(&op))
      continue;
    KernelInfo info;
    info.name = (func.getSymName() + "_k" + Twine(kernels.size())).str();
    collectNodes(&op, info.nodes);
    OpBuilder b(&op);
    Location loc = op.getLoc();
    MLIRContext *ctx = b.getContext();
    Value zero = indexConst(b, loc, 0), one = indexConst(b, loc, 1);
    SmallVector<scf::ForOp> loops = perfectNest(&op);
    std::optional<SmallVector<Update>> updates;
    if (!loops.empty())
      updates = findUpdates(&op);
    std::optional<OrderedPlan> ordered;
    if (updates && !atomicScatter && updates->size() == 1)
      ordered = planOrdered(loops, updates->front());
    bool atomic = updates && atomicScatter;
    int64_t iterations = 1, points = 1;
    for (auto [i, loop] : llvm::enumerate(loops)) {
      int64_t trips = constantBounds(loop)->trips();
      iterations *= trips;
      points *= !ordered || ordered->parallel[i] ? trips : 1;
    }
    if (ordered)
      points *= ordered->groups;
    if (!loops.empty())
      measureNest(loops, iterations, info);
    else
      for (Operation &inner : op.getRegion(0).getOps())
        info.ops.insert(inner.getName().getStringRef());
    if (atomic)
      updatesToAtomics(*updates);
    bool parallel = atomic || ordered;
    int64_t threads = parallel ? blockSize : 1;
    int64_t grid = parallel ? std::max<int64_t>(1, llvm::divideCeil(points, blockSize)) : 1;
    info.strategy = atomic ? "scatter-atomic" : ordered ? "scatter-ordered" : "serial";
    info.grid = grid;
    info.block = threads;
    auto blocks = scf::ParallelOp::create(
        b, NameLoc::get(StringAttr::get(ctx, info.name), loc), ValueRange{zero},
        ValueRange{indexConst(b, loc, grid)}, ValueRange{one},
        [&](OpBuilder &ob, Location l, ValueRange bids) {
          auto inner = scf::ParallelOp::create(
              ob, l, ValueRange{zero}, ValueRange{indexConst(ob, l, threads)}, ValueRange{one},
              [&](OpBuilder &tb, Location tl, ValueRange tids) {
                IRMapping map;
                cloneGlobalsInto(&op, tb, map);
                if (!parallel) {
                  tb.clone(op, map);
                  return;
                }
                Value linear = arith::AddIOp::create(
                    tb, tl, arith::MulIOp::create(tb, tl, bids[0], indexConst(tb, tl, threads)),
                    tids[0]);
                Value inBounds = arith::CmpIOp::create(tb, tl, arith::CmpIPredicate::ult, linear,
                                                       indexConst(tb, tl, points));
                scf::IfOp::create(tb, tl, inBounds, [&](OpBuilder &ib, Location il) {
                  if (ordered)
                    emitOrderedThread(ib, il, loops, *ordered, linear, map);
                  else
                    emitAtomicThread(ib, il, loops, linear, map);
                  scf::YieldOp::create(ib, il);
                });
              });
          mapToThreads(inner);
        });
    mapToBlocks(blocks);
    op.erase();
    kernels.push_back(std::move(info));
  }
}

} // namespace mpc::cuda
