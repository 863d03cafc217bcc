//===- HostLoops.cpp - loops that lowering left on the host, as kernels ---===//
//
// Some mpc ops lower to loops rather than linalg ops (scatter-adds such as
// Gather's gradient). After bufferization those loops read and write device
// buffers from host code. A loop nest whose only writes are read-add-write
// updates of one element becomes a kernel with one thread per iteration and
// atomic adds; any other becomes a one-thread kernel (correct, slow).
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mpc::cuda {

namespace {
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

/// `load m[i]; v = addf/addi(load, x); store v, m[i]` (same buffer and
/// indices, the load used only there) -> `atomic_rmw addf/addi x, m[i]`.
/// Returns false (changing nothing) unless every store of `nest` is such an
/// update and no other load reads a buffer it updates.
bool updatesToAtomics(Operation *nest) {
  SmallVector<std::tuple<memref::StoreOp, memref::LoadOp, Operation *>> updates;
  llvm::DenseSet<Value> updated;
  bool ok = true;
  nest->walk([&](memref::StoreOp store) {
    Operation *add = store.getValueToStore().getDefiningOp();
    memref::LoadOp load;
    Value other;
    if (add && isa<arith::AddFOp, arith::AddIOp>(add))
      for (int i = 0; i < 2 && !load; ++i)
        if (auto l = add->getOperand(i).getDefiningOp<memref::LoadOp>();
            l && l.getMemRef() == store.getMemRef() && l.getIndices() == store.getIndices() &&
            l->hasOneUse() && add->hasOneUse() && l->getBlock() == store->getBlock()) {
          load = l;
          other = add->getOperand(1 - i);
        }
    if (!load) {
      ok = false;
      return;
    }
    updates.emplace_back(store, load, add);
    updated.insert(rootBuffer(store.getMemRef()));
  });
  // Any other access to an updated buffer (through any view) would race.
  nest->walk([&](Operation *op) {
    bool isUpdate = llvm::any_of(
        updates, [&](auto &u) { return std::get<0>(u) == op || std::get<1>(u) == op; });
    if (isUpdate)
      return;
    for (Value operand : op->getOperands())
      if (isa<MemRefType>(operand.getType()) && updated.contains(rootBuffer(operand)) &&
          !isa<ViewLikeOpInterface>(op))
        ok = false;
  });
  if (!ok || updates.empty())
    return false;
  for (auto [store, load, add] : updates) {
    OpBuilder b(store);
    Value value = add->getOperand(0) == load.getResult() ? add->getOperand(1) : add->getOperand(0);
    auto kind = isa<arith::AddFOp>(add) ? arith::AtomicRMWKind::addf : arith::AtomicRMWKind::addi;
    memref::AtomicRMWOp::create(b, store.getLoc(), kind, value, store.getMemRef(),
                                store.getIndices());
    store->erase();
    add->erase();
    load->erase();
  }
  return true;
}

/// A loop's constant lower bound, upper bound and step.
struct Bounds {
  int64_t lower, upper, step;
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
} // namespace

void mapHostLoops(func::FuncOp func, int64_t blockSize, SmallVectorImpl<KernelInfo> &kernels) {
  for (Operation &op : llvm::make_early_inc_range(func.getBody().front())) {
    if (op.getNumRegions() == 0 || isa<scf::ParallelOp>(op) || !op.use_empty() ||
        !touchesDevice(&op))
      continue;
    KernelInfo info;
    info.name = (func.getSymName() + "_k" + Twine(kernels.size())).str();
    collectNodes(&op, info.nodes);
    for (Operation &inner : op.getRegion(0).getOps())
      info.ops.insert(inner.getName().getStringRef());
    OpBuilder b(&op);
    Location loc = op.getLoc();
    MLIRContext *ctx = b.getContext();
    Value zero = indexConst(b, loc, 0), one = indexConst(b, loc, 1);
    SmallVector<scf::ForOp> loops = perfectNest(&op);
    bool parallel = !loops.empty() && updatesToAtomics(&op);
    int64_t points = 1;
    SmallVector<int64_t> trips;
    for (scf::ForOp loop : loops) {
      auto [lb, ub, step] = *constantBounds(loop);
      trips.push_back(ub > lb ? (ub - lb + step - 1) / step : 0);
      points *= trips.back();
    }
    int64_t threads = parallel ? blockSize : 1;
    int64_t grid = parallel ? std::max<int64_t>(1, (points + blockSize - 1) / blockSize) : 1;
    info.strategy = parallel ? "scatter-atomic" : "serial";
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
                  SmallVector<Value> idx = delinearize(ib, il, linear, trips);
                  for (auto [loop, i] : llvm::zip(loops, idx)) {
                    Bounds bounds = *constantBounds(loop);
                    Value scaled =
                        arith::MulIOp::create(ib, il, i, indexConst(ib, il, bounds.step));
                    map.map(
                        loop.getInductionVar(),
                        arith::AddIOp::create(ib, il, scaled, indexConst(ib, il, bounds.lower)));
                  }
                  for (Operation &bodyOp : loops.back().getBody()->without_terminator())
                    ib.clone(bodyOp, map);
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
