//===- MergeLaunches.cpp - independent elementwise kernels as one launch --===//
//
// Multi-tensor apply, for any elementwise kernels: an optimizer updates each
// parameter with the same few small kernels, each a launch of its own, which
// on a GPU costs more than the work. Kernels with no buffer in common that
// one of them writes may run in any order, so they run as one launch: its
// blocks are the blocks of all of them, each block running the body of the
// kernel its index falls in.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CUDA/Passes.h"

#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace mpc {
#define GEN_PASS_DEF_MERGELAUNCHESPASS
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {

/// One kernel schedule the pass may merge: its loops, sizes, the buffers it
/// touches and writes (roots of views), and the values a launch of it
/// passes as kernel parameters.
struct Kernel {
  scf::ParallelOp blocks, threads;
  int64_t grid = 0, block = 0;
  DictionaryAttr record;
  llvm::SmallDenseSet<Value, 8> touched, written;
  llvm::SetVector<Value> params;
  /// One more than the level of the latest kernel before it that writes a
  /// buffer it touches or touches a buffer it writes (0: none).
  int64_t level = 0;
};

bool mappedTo(scf::ParallelOp loop, gpu::Processor processor) {
  auto mapping = loop->getAttrOfType<ArrayAttr>(gpu::getMappingAttrName());
  if (!mapping || mapping.size() != 1)
    return false;
  auto dim = dyn_cast<gpu::ParallelLoopDimMappingAttr>(mapping[0]);
  return dim && dim.getProcessor() == processor;
}

/// The size of a one-dimensional loop from 0 by 1 with no results.
std::optional<int64_t> simpleLoopSize(scf::ParallelOp loop) {
  if (loop.getNumLoops() != 1 || loop.getNumResults() != 0 ||
      getConstantIntValue(loop.getLowerBound()[0]) != 0 || getConstantIntValue(loop.getStep()[0]) != 1)
    return std::nullopt;
  return getConstantIntValue(loop.getUpperBound()[0]);
}

/// Buffers that are distinct from every other such buffer: allocations and
/// function arguments (a caller passes every argument and result its own
/// memory, docs/cuda-runtime.md).
bool isDistinctBuffer(Value root) {
  if (auto arg = dyn_cast<BlockArgument>(root))
    return isa<FunctionOpInterface>(arg.getOwner()->getParentOp());
  return isa_and_present<memref::AllocOp, memref::AllocaOp, gpu::AllocOp>(root.getDefiningOp());
}

/// Bytes a launch passes for `value`: gpu-kernel-outlining passes a memref
/// as its descriptor (two pointers, offset, sizes, strides), any other
/// value as one scalar (at most 8 bytes; counted as 8).
int64_t paramBytes(Value value) {
  if (auto type = dyn_cast<MemRefType>(value.getType()))
    return 8 * (3 + 2 * type.getRank());
  return 8;
}

/// Records the buffers `op` (inside `k.blocks`) reads and writes and the
/// values it takes from the host; fails on a buffer that may alias another.
LogicalResult noteAccesses(Operation *op, Kernel &k) {
  auto outside = [&](Value v) {
    Region *region = v.getParentRegion();
    return !k.blocks->isAncestor(region->getParentOp());
  };
  for (Value operand : op->getOperands()) {
    if (!outside(operand))
      continue;
    // Constants too: the launch passes those it captures (seen in the PTX).
    k.params.insert(operand);
    if (!isa<MemRefType>(operand.getType()))
      continue;
    Value root = mpc::cuda::rootBuffer(operand);
    if (!isDistinctBuffer(root))
      return failure();
    k.touched.insert(root);
  }
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects) {
    if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return success();
    // Unknown effects: every buffer it names may be written.
    for (Value operand : op->getOperands())
      if (isa<MemRefType>(operand.getType()))
        k.written.insert(mpc::cuda::rootBuffer(operand));
    return success();
  }
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  for (const MemoryEffects::EffectInstance &effect : instances) {
    if (!isa<MemoryEffects::Write, MemoryEffects::Free>(effect.getEffect()))
      continue;
    Value target = effect.getValue();
    if (!target)
      return failure();
    k.written.insert(mpc::cuda::rootBuffer(target));
  }
  return success();
}

/// Whether a kernel record has the fields a merged record sums and joins
/// (mpc-cuda-map-to-kernels writes them all).
bool hasMeasures(DictionaryAttr record) {
  return record.getAs<StringAttr>("strategy") &&
         llvm::all_of(ArrayRef<StringRef>{"bytes_read", "bytes_written", "flops"},
                      [&](StringRef f) { return bool(record.getAs<IntegerAttr>(f)); }) &&
         record.getAs<ArrayAttr>("ops") && record.getAs<ArrayAttr>("onnx_nodes");
}

/// `loop` as a kernel the pass may merge: a block loop around one thread
/// loop (mpc-cuda-map-to-kernels' shape) whose kernel record says it is
/// elementwise, every buffer it names distinct from the others.
std::optional<Kernel> asMergeable(scf::ParallelOp loop,
                                  const llvm::StringMap<DictionaryAttr> &records) {
  auto name = dyn_cast<NameLoc>(loop.getLoc());
  if (!name || !mappedTo(loop, gpu::Processor::BlockX))
    return std::nullopt;
  auto record = records.lookup(name.getName().getValue());
  if (!record || !hasMeasures(record))
    return std::nullopt;
  StringRef strategy = record.getAs<StringAttr>("strategy").getValue();
  if (strategy != "elementwise" && !strategy.starts_with("elementwise-vector"))
    return std::nullopt;
  Kernel k;
  k.blocks = loop;
  k.record = record;
  for (Operation &op : loop.getBody()->without_terminator()) {
    auto threads = dyn_cast<scf::ParallelOp>(op);
    if (!threads) {
      if (!isMemoryEffectFree(&op) || op.getNumRegions())
        return std::nullopt;
      continue;
    }
    if (k.threads || !mappedTo(threads, gpu::Processor::ThreadX))
      return std::nullopt;
    k.threads = threads;
  }
  std::optional<int64_t> grid = simpleLoopSize(loop);
  std::optional<int64_t> block = k.threads ? simpleLoopSize(k.threads) : std::nullopt;
  if (!grid || !block)
    return std::nullopt;
  k.grid = *grid;
  k.block = *block;
  WalkResult walk = loop->walk([&](Operation *op) {
    return failed(noteAccesses(op, k)) ? WalkResult::interrupt() : WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return std::nullopt;
  return k;
}

bool conflict(const Kernel &a, const Kernel &b) {
  auto writesInto = [](const Kernel &w, const Kernel &other) {
    return llvm::any_of(w.written, [&](Value root) { return other.touched.contains(root); });
  };
  return writesInto(a, b) || writesInto(b, a);
}

/// How an op between kernels lets them move past it: `Stays` (no memory
/// effect but allocating: kernels before it move past it to the stretch's
/// end), `Deferred` (a deallocation, moved after the stretch's launches),
/// `Barrier` (anything else: it ends the stretch).
enum class HostOpKind { Stays, Deferred, Barrier };

HostOpKind classify(Operation &op) {
  if (op.getNumRegions() || op.hasTrait<OpTrait::IsTerminator>())
    return HostOpKind::Barrier;
  if (isMemoryEffectFree(&op))
    return HostOpKind::Stays;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return HostOpKind::Barrier;
  if (effects.onlyHasEffect<MemoryEffects::Allocate>())
    return HostOpKind::Stays;
  // A free delayed past kernels that do not use its buffer (none after it
  // may) changes nothing but when the memory returns.
  if (isa<memref::DeallocOp>(op) ||
      (isa<gpu::DeallocOp>(op) && cast<gpu::DeallocOp>(op).getAsyncDependencies().empty()))
    return HostOpKind::Deferred;
  return HostOpKind::Barrier;
}

struct MergeLaunches : mpc::impl::MergeLaunchesPassBase<MergeLaunches> {
  using MergeLaunchesPassBase::MergeLaunchesPassBase;

  void runOnOperation() override;

private:
  void mergeSegment(MutableArrayRef<Kernel> kernels, ArrayRef<Operation *> deferred,
                    Operation *end);
  void emitLevel(MutableArrayRef<Kernel> kernels, int64_t level, int64_t block, Operation *end);
  void emitGroup(ArrayRef<Kernel *> group, Operation *end);
  void dispatch(OpBuilder &b, Location loc, ArrayRef<Kernel *> group, ArrayRef<int64_t> starts,
                Value bid, Value tid);

  /// Merged kernel name -> its record; records of kernels merged away.
  llvm::StringMap<DictionaryAttr> mergedRecords;
  llvm::StringSet<> mergedAway;
};

/// The body of the kernel among `group` that block `bid` falls in, chosen
/// by a binary search over the blocks each starts at.
void MergeLaunches::dispatch(OpBuilder &b, Location loc, ArrayRef<Kernel *> group,
                             ArrayRef<int64_t> starts, Value bid, Value tid) {
  if (group.size() == 1) {
    Kernel &k = *group.front();
    IRMapping map;
    Value local = starts.front() == 0
                      ? bid
                      : arith::SubIOp::create(b, loc, bid,
                                              mpc::cuda::indexConst(b, loc, starts.front()))
                            .getResult();
    map.map(k.blocks.getInductionVars()[0], local);
    map.map(k.threads.getInductionVars()[0], tid);
    for (Operation &op : k.blocks.getBody()->without_terminator()) {
      if (&op != k.threads.getOperation()) {
        b.clone(op, map);
        continue;
      }
      for (Operation &inner : k.threads.getBody()->without_terminator())
        b.clone(inner, map);
    }
    return;
  }
  size_t half = group.size() / 2;
  Value below = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, bid,
                                      mpc::cuda::indexConst(b, loc, starts[half]));
  scf::IfOp::create(
      b, loc, below,
      [&](OpBuilder &tb, Location tl) {
        dispatch(tb, tl, group.take_front(half), starts.take_front(half), bid, tid);
        scf::YieldOp::create(tb, tl);
      },
      [&](OpBuilder &eb, Location el) {
        dispatch(eb, el, group.drop_front(half), starts.drop_front(half), bid, tid);
        scf::YieldOp::create(eb, el);
      });
}

/// One launch for `group` before `end`, recorded under the first kernel's
/// name.
void MergeLaunches::emitGroup(ArrayRef<Kernel *> group, Operation *end) {
  if (group.size() == 1) {
    group.front()->blocks->moveBefore(end);
    return;
  }
  MLIRContext *ctx = &getContext();
  SmallVector<int64_t> starts;
  int64_t grid = 0;
  for (Kernel *k : group) {
    starts.push_back(grid);
    grid += k->grid;
  }
  StringRef name = group.front()->record.getAs<StringAttr>("name").getValue();
  Location loc = group.front()->blocks.getLoc();
  OpBuilder b(end);
  Value zero = mpc::cuda::indexConst(b, loc, 0), one = mpc::cuda::indexConst(b, loc, 1);
  auto blocks = scf::ParallelOp::create(
      b, loc, ValueRange{zero}, ValueRange{mpc::cuda::indexConst(b, loc, grid)}, ValueRange{one},
      [&](OpBuilder &ob, Location l, ValueRange bid) {
        auto threads = scf::ParallelOp::create(
            ob, l, ValueRange{zero}, ValueRange{mpc::cuda::indexConst(ob, l, group.front()->block)},
            ValueRange{one}, [&](OpBuilder &ib, Location il, ValueRange tid) {
              dispatch(ib, il, group, starts, bid[0], tid[0]);
            });
        mpc::cuda::mapToThreads(threads);
      });
  mpc::cuda::mapToBlocks(blocks);

  // The record: the members' measures summed, their ops and nodes joined.
  Builder attrs(ctx);
  int64_t read = 0, written = 0, flops = 0;
  llvm::SetVector<Attribute> ops, nodes;
  SmallVector<Attribute> members;
  for (Kernel *k : group) {
    read += k->record.getAs<IntegerAttr>("bytes_read").getInt();
    written += k->record.getAs<IntegerAttr>("bytes_written").getInt();
    flops += k->record.getAs<IntegerAttr>("flops").getInt();
    for (StringRef field : {"ops", "onnx_nodes"})
      for (Attribute a : k->record.getAs<ArrayAttr>(field))
        (field == "ops" ? ops : nodes).insert(a);
    members.push_back(k->record.get("name"));
    if (k != group.front())
      mergedAway.insert(cast<StringAttr>(k->record.get("name")).getValue());
    k->blocks->erase();
  }
  NamedAttrList fields(group.front()->record);
  fields.set("strategy", attrs.getStringAttr("multi-elementwise"));
  fields.set("grid", attrs.getI64IntegerAttr(grid));
  fields.set("bytes_read", attrs.getI64IntegerAttr(read));
  fields.set("bytes_written", attrs.getI64IntegerAttr(written));
  fields.set("flops", attrs.getI64IntegerAttr(flops));
  fields.set("ops", attrs.getArrayAttr(ops.getArrayRef()));
  fields.set("onnx_nodes", attrs.getArrayAttr(nodes.getArrayRef()));
  fields.set("merged", attrs.getArrayAttr(members));
  mergedRecords[name] = fields.getDictionary(ctx);
}

/// The kernels of `level` with `block` threads as launches within the
/// caps, in program order.
void MergeLaunches::emitLevel(MutableArrayRef<Kernel> kernels, int64_t level, int64_t block,
                              Operation *end) {
  SmallVector<Kernel *> group;
  llvm::SetVector<Value> params;
  int64_t bytes = 0;
  for (Kernel &k : kernels) {
    if (k.level != level || k.block != block)
      continue;
    auto extra = [&] {
      int64_t more = 0;
      for (Value v : k.params)
        if (!params.contains(v))
          more += paramBytes(v);
      return more;
    };
    if (!group.empty() && (int64_t(group.size()) >= maxKernels || bytes + extra() > maxParamBytes)) {
      emitGroup(group, end);
      group.clear();
      params.clear();
      bytes = 0;
    }
    bytes += extra();
    group.push_back(&k);
    params.insert(k.params.begin(), k.params.end());
  }
  if (!group.empty())
    emitGroup(group, end);
}

/// Kernels of one stretch of host code with nothing in it they may not
/// move past: each level (kernels whose dependencies all ran in earlier
/// levels) runs as launches of at most `max-kernels` kernels and
/// `max-param-bytes` of parameters, all before `end`, the deallocations
/// after them.
void MergeLaunches::mergeSegment(MutableArrayRef<Kernel> kernels, ArrayRef<Operation *> deferred,
                                 Operation *end) {
  int64_t levels = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (kernels[j].level >= kernels[i].level && conflict(kernels[j], kernels[i]))
        kernels[i].level = kernels[j].level + 1;
    levels = std::max(levels, kernels[i].level + 1);
  }
  if (levels == int64_t(kernels.size()))
    return; // a chain: nothing runs beside anything
  for (int64_t level = 0; level < levels; ++level) {
    llvm::SetVector<int64_t> blockSizes;
    for (Kernel &k : kernels)
      if (k.level == level)
        blockSizes.insert(k.block);
    for (int64_t block : blockSizes)
      emitLevel(kernels, level, block, end);
  }
  for (Operation *op : deferred)
    op->moveBefore(end);
}

/// Renumbers the kernel-table positions library calls announce themselves
/// with (mpc_cuda_library_call) after records were dropped.
void renumberLibraryCalls(ModuleOp module, ArrayRef<int64_t> newIndex) {
  module.walk([&](func::CallOp call) {
    if (call.getCallee() != "mpc_cuda_library_call" || call.getNumOperands() != 1)
      return;
    std::optional<int64_t> old = getConstantIntValue(call.getOperand(0));
    if (!old || *old < 0 || *old >= int64_t(newIndex.size()))
      return;
    OpBuilder b(call);
    Value position =
        arith::ConstantIntOp::create(b, call.getLoc(), b.getI64Type(), newIndex[*old]);
    Operation *previous = call.getOperand(0).getDefiningOp();
    call->setOperand(0, position);
    if (previous && previous->use_empty())
      previous->erase();
  });
}

void MergeLaunches::runOnOperation() {
  ModuleOp module = getOperation();
  if (maxKernels < 1 || maxParamBytes < 1) {
    module.emitError() << "mpc-cuda-merge-launches: max-kernels and max-param-bytes must be at "
                          "least 1, not "
                       << int64_t(maxKernels) << " and " << int64_t(maxParamBytes);
    return signalPassFailure();
  }
  auto table = module->getAttrOfType<ArrayAttr>(mpc::kCudaKernelsAttr);
  if (!table)
    return;
  llvm::StringMap<DictionaryAttr> records;
  for (Attribute a : table) {
    auto record = dyn_cast<DictionaryAttr>(a);
    if (auto name = record ? record.getAs<StringAttr>("name") : StringAttr())
      records[name.getValue()] = record;
  }
  for (auto func : module.getOps<func::FuncOp>()) {
    for (Block &block : func.getBody()) {
      SmallVector<Kernel> kernels;
      SmallVector<Operation *> deferred;
      for (Operation &op : llvm::make_early_inc_range(block)) {
        if (auto loop = dyn_cast<scf::ParallelOp>(op))
          if (std::optional<Kernel> k = asMergeable(loop, records)) {
            kernels.push_back(std::move(*k));
            continue;
          }
        HostOpKind kind = classify(op);
        if (kind == HostOpKind::Deferred && !kernels.empty())
          deferred.push_back(&op);
        if (kind != HostOpKind::Barrier)
          continue;
        if (kernels.size() > 1)
          mergeSegment(kernels, deferred, &op);
        kernels.clear();
        deferred.clear();
      }
    }
  }
  if (mergedRecords.empty())
    return;
  SmallVector<Attribute> kept;
  SmallVector<int64_t> newIndex;
  for (Attribute a : table) {
    auto record = dyn_cast<DictionaryAttr>(a);
    auto nameAttr = record ? record.getAs<StringAttr>("name") : StringAttr();
    StringRef name = nameAttr ? nameAttr.getValue() : StringRef();
    // A kernel merged away takes the position of the launch it runs in,
    // which is not a library call's: any index serves.
    newIndex.push_back(int64_t(kept.size()));
    if (mergedAway.contains(name))
      continue;
    DictionaryAttr merged = mergedRecords.lookup(name);
    kept.push_back(merged ? merged : a);
  }
  module->setAttr(mpc::kCudaKernelsAttr, ArrayAttr::get(&getContext(), kept));
  renumberLibraryCalls(module, newIndex);
}

} // namespace
