//===- MapToKernels.cpp - linalg on buffers -> GPU kernel schedules -------===//
//
// Each linalg op of a host function becomes one kernel, written as the loops
// a GPU runs (an scf.parallel over blocks around one over threads, mapped to
// block_x / thread_x) so that the same IR can also be lowered for the CPU and
// compared with the CPU target (mpc-opt --mpc-cuda-schedule-on-cpu), or a
// library GEMM call.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CUDA/Passes.h"

#include "GemmEpilogues.h"
#include "KernelBuilder.h"
#include "PackedCall.h"
#include "mpc/Runtime/CUDA/Abi.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mpc {
#define GEN_PASS_DEF_MAPTOKERNELSPASS
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc::cuda;

namespace {

/// A linalg op's loops split into its parallel (outer) and reduction
/// (inner) ones, whatever their order.
struct LoopSplit {
  explicit LoopSplit(linalg::LinalgOp op) : ranges(op.getStaticLoopRanges()) {
    op.getParallelDims(parallelDims);
    op.getReductionDims(reductionDims);
    for (unsigned d : parallelDims)
      outer.push_back(ranges[d]);
    for (unsigned d : reductionDims)
      inner.push_back(ranges[d]);
  }
  /// The loop point with parallel indices `outerIvs`, reduction `innerIvs`.
  SmallVector<Value> point(ValueRange outerIvs, ValueRange innerIvs) const {
    SmallVector<Value> ivs(ranges.size());
    for (auto [d, v] : llvm::zip(parallelDims, outerIvs))
      ivs[d] = v;
    for (auto [d, v] : llvm::zip(reductionDims, innerIvs))
      ivs[d] = v;
    return ivs;
  }
  SmallVector<int64_t> ranges, outer, inner;
  SmallVector<unsigned> parallelDims, reductionDims;
};

class KernelMapper {
public:
  KernelMapper(int64_t blockSize, bool libraryGemm, bool allowTf32, bool libraryConv,
               int64_t vectorBits, bool vectorNarrowFloats, bool sequentialPhases,
               int64_t minRowReduction, bool atomicScatter)
      : blockSize(blockSize), libraryGemm(libraryGemm), allowTf32(allowTf32),
        libraryConv(libraryConv), vectorBits(vectorBits), vectorNarrowFloats(vectorNarrowFloats),
        sequentialPhases(sequentialPhases), minRowReduction(minRowReduction),
        atomicScatter(atomicScatter) {}

  LogicalResult run(func::FuncOp func, SmallVectorImpl<KernelInfo> &kernels);

private:
  scf::ParallelOp blocksAndThreads(OpBuilder &b, Location loc, int64_t grid, StringRef name,
                                   function_ref<void(OpBuilder &, Location, Value, Value)> body);
  /// One thread per point of `points` (linearized), in blocks of
  /// blockSize; `body` runs for the threads inside the range.
  void forEachPoint(OpBuilder &b, Location loc, const KernelInfo &info, int64_t points,
                    function_ref<void(OpBuilder &, Location, Value)> body);
  LogicalResult mapElementwise(linalg::LinalgOp op, KernelInfo &info);
  LogicalResult mapRowReduction(linalg::LinalgOp op, const Combiner &combiner, KernelInfo &info);
  LogicalResult mapSequential(linalg::LinalgOp op, KernelInfo &info);
  bool mapVectorized(linalg::LinalgOp op, KernelInfo &info);
  bool mapLibraryGemm(linalg::LinalgOp op, bool beta0, KernelInfo &info,
                      SmallVectorImpl<KernelInfo> &kernels);
  /// A copy of `source` converted to element type `to` by a kernel of its
  /// own (`info` names it).
  Value convertedCopy(OpBuilder &b, Location loc, Value source, Type to, KernelInfo info,
                      SmallVectorImpl<KernelInfo> &kernels);
  /// Erases the elementwise op a GEMM call took as its epilogue, adding what
  /// it did to the call's report (`c` the GEMM's own output, `bias` the
  /// buffer cuBLASLt reads).
  void absorbEpilogue(const GemmEpilogue &epilogue, Value c, Value bias, KernelInfo &info);
  /// Whether mapLibraryGemm takes `op` (decided before the folds that count
  /// on it drop anything).
  bool goesToLibrary(linalg::LinalgOp op);
  void foldIntoGemms(func::FuncOp func);
  void foldFillsIntoReductions(func::FuncOp func);

  /// Reductions whose accumulator's fill was dropped: the constant it
  /// starts from.
  llvm::DenseMap<Operation *, Value> initialValues;

  /// GEMMs whose output's zero fill was dropped (cuBLASLt's beta = 0): the
  /// zero, should the GEMM become a kernel after all.
  llvm::DenseMap<Operation *, Value> beta0;

  /// Convolutions for cuDNN, and the padded buffers their calls made unused.
  llvm::DenseMap<Operation *, LibraryConv> libraryConvs;
  SmallVector<Value> unusedPadBuffers;
  /// Library GEMMs and the elementwise op after each that cuBLASLt applies
  /// as its epilogue; the ops the calls took (erased).
  llvm::DenseMap<Operation *, GemmEpilogue> epilogues;
  llvm::DenseSet<Operation *> absorbed;

  int64_t blockSize;
  bool libraryGemm, allowTf32, libraryConv;
  int64_t vectorBits;
  bool vectorNarrowFloats, sequentialPhases;
  int64_t minRowReduction;
  bool atomicScatter;
};

scf::ParallelOp
KernelMapper::blocksAndThreads(OpBuilder &b, Location loc, int64_t grid, StringRef name,
                               function_ref<void(OpBuilder &, Location, Value, Value)> body) {
  MLIRContext *ctx = b.getContext();
  Location named = NameLoc::get(StringAttr::get(ctx, name), loc);
  Value zero = indexConst(b, loc, 0), one = indexConst(b, loc, 1);
  auto outer = scf::ParallelOp::create(
      b, named, ValueRange{zero}, ValueRange{indexConst(b, loc, grid)}, ValueRange{one},
      [&](OpBuilder &ob, Location l, ValueRange blockIds) {
        auto inner = scf::ParallelOp::create(
            ob, l, ValueRange{zero}, ValueRange{indexConst(ob, l, blockSize)}, ValueRange{one},
            [&](OpBuilder &ib, Location il, ValueRange threadIds) {
              body(ib, il, blockIds[0], threadIds[0]);
            });
        mapToThreads(inner);
      });
  mapToBlocks(outer);
  return outer;
}

void KernelMapper::forEachPoint(OpBuilder &b, Location loc, const KernelInfo &info, int64_t points,
                                function_ref<void(OpBuilder &, Location, Value)> body) {
  blocksAndThreads(
      b, loc, info.grid, info.name, [&](OpBuilder &kb, Location l, Value bid, Value tid) {
        Value linear = arith::AddIOp::create(
            kb, l, arith::MulIOp::create(kb, l, bid, indexConst(kb, l, blockSize)), tid);
        Value inBounds = arith::CmpIOp::create(kb, l, arith::CmpIPredicate::ult, linear,
                                               indexConst(kb, l, points));
        scf::IfOp::create(kb, l, inBounds, [&](OpBuilder &tb, Location tl) {
          body(tb, tl, linear);
          scf::YieldOp::create(tb, tl);
        });
      });
}

LogicalResult KernelMapper::mapElementwise(linalg::LinalgOp op, KernelInfo &info) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t points = product(ranges);
  info.strategy = "elementwise";
  info.block = blockSize;
  info.grid = std::max<int64_t>(1, (points + blockSize - 1) / blockSize);
  measure(op, points, info);
  OpBuilder b(op);
  Location loc = op.getLoc();
  forEachPoint(b, loc, info, points, [&](OpBuilder &tb, Location tl, Value linear) {
    IRMapping buffers;
    SmallVector<Value> ivs = delinearize(tb, tl, linear, ranges);
    SmallVector<Value> values = emitPayload(tb, tl, op, ivs, {}, buffers);
    storeResults(tb, tl, op, ivs, values, buffers);
  });
  op->erase();
  return success();
}

/// Elementwise ops whose operands are contiguous along the innermost loop:
/// each thread handles `vectorBits` worth of it with vector loads and stores
/// (ld.global.v4.f32 and friends), the body applied to vectors.
bool KernelMapper::mapVectorized(linalg::LinalgOp op, KernelInfo &info) {
  if (vectorBits <= 0 || op.getNumLoops() == 0)
    return false;
  unsigned last = op.getNumLoops() - 1;
  unsigned widest = 0;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type)
      return false;
    // fp8 conversions lower per element (mpc-cuda-lower-fp8-casts); i1
    // (and other sub-byte) buffers have no byte-aligned vector loads.
    if (!type.getElementType().isIntOrFloat() ||
        isa<Float8E4M3FNType, Float8E5M2Type>(type.getElementType()) ||
        type.getElementTypeBitWidth() % 8 != 0)
      return false;
    widest = std::max(widest, type.getElementTypeBitWidth());
  }
  if (widest == 0 || vectorBits % widest)
    return false;
  int64_t width = vectorBits / widest;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (width < 2 || ranges[last] % width)
    return false;
  for (Operation &inner : op.getBlock()->without_terminator()) {
    if (!OpTrait::hasElementwiseMappableTraits(&inner) && !isa<arith::ConstantOp>(inner))
      return false;
    // fp8 conversions lower per element (mpc-cuda-lower-fp8-casts).
    for (Type t : llvm::concat<const Type>(inner.getOperandTypes(), inner.getResultTypes()))
      if (isa<Float8E4M3FNType, Float8E5M2Type>(t))
        return false;
    if (!vectorNarrowFloats && !isa<arith::ExtFOp, arith::TruncFOp>(inner))
      for (Type t : inner.getOperandTypes())
        if (t.isF16() || t.isBF16())
          return false;
  }
  // Every operand either runs along the innermost loop contiguously (its
  // last index is that loop, its innermost stride 1, everything else a
  // multiple of the vector) or does not depend on it (broadcast).
  SmallVector<bool> alongLast;
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    auto type = cast<MemRefType>(operand.get().getType());
    bool uses = map.isFunctionOfDim(last);
    if (op.isDpsInit(&operand) && !uses)
      return false;
    if (uses) {
      auto dim = dyn_cast<AffineDimExpr>(map.getResults().back());
      if (!dim || dim.getPosition() != last)
        return false;
      for (AffineExpr e : map.getResults().drop_back())
        if (e.isFunctionOfDim(last))
          return false;
      int64_t offset;
      SmallVector<int64_t> strides;
      if (failed(type.getStridesAndOffset(strides, offset)) || strides.back() != 1 ||
          ShapedType::isDynamic(offset) || offset % width)
        return false;
      for (int64_t s : ArrayRef(strides).drop_back())
        if (ShapedType::isDynamic(s) || s % width)
          return false;
    }
    alongLast.push_back(uses);
  }

  SmallVector<int64_t> items(ranges);
  items[last] /= width;
  int64_t points = product(items);
  info.strategy = "elementwise-vector" + std::to_string(width);
  info.block = blockSize;
  info.grid = std::max<int64_t>(1, (points + blockSize - 1) / blockSize);
  measure(op, product(ranges), info);
  OpBuilder b(op);
  Location loc = op.getLoc();
  forEachPoint(b, loc, info, points, [&](OpBuilder &tb, Location tl, Value linear) {
    IRMapping buffers, map;
    SmallVector<Value> ivs = delinearize(tb, tl, linear, items);
    ivs[last] = arith::MulIOp::create(tb, tl, ivs[last], indexConst(tb, tl, width));
    auto vectorOf = [&](Type t) -> Type { return VectorType::get({width}, t); };
    auto splat = [&](Value v) -> Value {
      return vector::BroadcastOp::create(tb, tl, vectorOf(v.getType()), v);
    };
    Block *body = op.getBlock();
    for (auto [i, operand] : llvm::enumerate(op->getOpOperands())) {
      BlockArgument arg = op.getMatchingBlockArgument(&operand);
      if (arg.use_empty())
        continue;
      Value buffer = inKernel(tb, operand.get(), buffers);
      SmallVector<Value> indices = applyMap(tb, tl, op.getMatchingIndexingMap(&operand), ivs);
      Type elem = arg.getType();
      if (alongLast[i]) {
        auto load = vector::LoadOp::create(tb, tl, vectorOf(elem), buffer, indices);
        load.setAlignment(uint64_t(width * elem.getIntOrFloatBitWidth() / 8));
        map.map(arg, load);
      } else {
        map.map(arg, splat(memref::LoadOp::create(tb, tl, buffer, indices)));
      }
    }
    auto lookup = [&](Value v) -> Value {
      if (Value m = map.lookupOrNull(v))
        return m;
      return splat(v); // a scalar defined outside the body
    };
    for (Operation &inner : body->without_terminator()) {
      if (auto cst = dyn_cast<arith::ConstantOp>(inner)) {
        map.map(cst.getResult(), splat(tb.clone(inner)->getResult(0)));
        continue;
      }
      SmallVector<Value> operands = llvm::map_to_vector(inner.getOperands(), lookup);
      SmallVector<Type> types = llvm::map_to_vector(inner.getResultTypes(), vectorOf);
      OperationState state(tl, inner.getName(), operands, types, inner.getAttrs());
      Operation *vectorOp = tb.create(state);
      map.map(inner.getResults(), vectorOp->getResults());
    }
    for (auto [init, v] :
         llvm::zip(op.getDpsInitsMutable(), body->getTerminator()->getOperands())) {
      Value value = lookup(v);
      SmallVector<Value> indices = applyMap(tb, tl, op.getMatchingIndexingMap(&init), ivs);
      auto store =
          vector::StoreOp::create(tb, tl, value, inKernel(tb, init.get(), buffers), indices);
      store.setAlignment(
          uint64_t(width * getElementTypeOrSelf(value.getType()).getIntOrFloatBitWidth() / 8));
    }
  });
  op->erase();
  return true;
}

LogicalResult KernelMapper::mapRowReduction(linalg::LinalgOp op, const Combiner &combiner,
                                            KernelInfo &info) {
  LoopSplit loops(op);
  ArrayRef<int64_t> outer = loops.outer, inner = loops.inner;
  int64_t rows = product(outer), length = product(inner);
  // A block of threads per row, no wider than the row (rounded to a warp).
  int64_t threads = std::min<int64_t>(blockSize, std::max<int64_t>(32, (length + 31) / 32 * 32));
  info.strategy = "row-reduction";
  info.block = threads;
  info.grid = rows;
  measure(op, rows * length, info);
  OpBuilder b(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  Location named = NameLoc::get(StringAttr::get(ctx, info.name), loc);
  Value zero = indexConst(b, loc, 0), one = indexConst(b, loc, 1);
  auto blocks = scf::ParallelOp::create(
      b, named, ValueRange{zero}, ValueRange{indexConst(b, loc, rows)}, ValueRange{one},
      [&](OpBuilder &ob, Location l, ValueRange blockIds) {
        SmallVector<Value> rowIvs = delinearize(ob, l, blockIds[0], outer);
        Value identity = arith::ConstantOp::create(ob, l, combiner.identity);
        auto allIvs = [&](ValueRange red) { return loops.point(rowIvs, red); };
        // The initial value is read before the threads' loop: after it, every
        // thread stores the (same) total, and a load after the all-reduce
        // could see another thread's store.
        IRMapping buffers;
        SmallVector<Value> zeros(loops.reductionDims.size(), zero);
        SmallVector<Value> ivs = allIvs(zeros);
        OpOperand &init = op.getDpsInitsMutable()[0];
        SmallVector<Value> indices = applyMap(ob, l, op.getMatchingIndexingMap(&init), ivs);
        Value buffer = inKernel(ob, init.get(), buffers);
        Value initial = initialValues.lookup(op);
        if (!initial)
          initial = memref::LoadOp::create(ob, l, buffer, indices);
        auto threadsLoop = scf::ParallelOp::create(
            ob, l, ValueRange{zero}, ValueRange{indexConst(ob, l, threads)}, ValueRange{one},
            ValueRange{identity},
            [&](OpBuilder &tb, Location tl, ValueRange threadIds, ValueRange) {
              auto strided = scf::ForOp::create(
                  tb, tl, threadIds[0], indexConst(tb, tl, length), indexConst(tb, tl, threads),
                  ValueRange{identity}, [&](OpBuilder &fb, Location fl, Value k, ValueRange acc) {
                    IRMapping buffers;
                    SmallVector<Value> ivs = allIvs(delinearize(fb, fl, k, inner));
                    SmallVector<Value> next = emitPayload(fb, fl, op, ivs, {acc[0]}, buffers);
                    scf::YieldOp::create(fb, fl, next);
                  });
              auto reduce = scf::ReduceOp::create(tb, tl, strided.getResult(0));
              Block &combine = reduce.getReductions()[0].front();
              OpBuilder cb = OpBuilder::atBlockBegin(&combine);
              IRMapping m;
              m.map(combiner.op->getOperand(0), combine.getArgument(0));
              m.map(combiner.op->getOperand(1), combine.getArgument(1));
              Operation *c = cb.clone(*combiner.op, m);
              scf::ReduceReturnOp::create(cb, tl, c->getResult(0));
            });
        // The reduction's epilogue: combined once with the initial value.
        IRMapping m;
        Value accArg = op.getBlock()->getArguments().back();
        bool accFirst = combiner.op->getOperand(0) == accArg;
        m.map(combiner.op->getOperand(accFirst ? 0 : 1), initial);
        m.map(combiner.op->getOperand(accFirst ? 1 : 0), threadsLoop.getResult(0));
        Value total = ob.clone(*combiner.op, m)->getResult(0);
        memref::StoreOp::create(ob, l, total, buffer, indices);
        mapToThreads(threadsLoop);
      });
  mapToBlocks(blocks);
  op->erase();
  return success();
}

LogicalResult KernelMapper::mapSequential(linalg::LinalgOp op, KernelInfo &info) {
  LoopSplit loops(op);
  ArrayRef<int64_t> outer = loops.outer, inner = loops.inner;
  int64_t points = product(outer), length = product(inner);
  info.strategy = "sequential";
  info.block = blockSize;
  info.grid = std::max<int64_t>(1, (points + blockSize - 1) / blockSize);
  measure(op, points * length, info);
  OpBuilder b(op);
  Location loc = op.getLoc();
  forEachPoint(b, loc, info, points, [&](OpBuilder &tb, Location tl, Value linear) {
    IRMapping buffers;
    SmallVector<Value> pointIvs = delinearize(tb, tl, linear, outer);
    auto allIvs = [&](ValueRange red) { return loops.point(pointIvs, red); };
    Value zero = indexConst(tb, tl, 0);
    SmallVector<Value> zeros(loops.reductionDims.size(), zero);
    SmallVector<Value> firstIvs = allIvs(zeros);
    // The accumulators start as the inits' current values.
    SmallVector<Value> initial;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      if (Value filled = initialValues.lookup(op)) {
        initial.push_back(filled);
        continue;
      }
      SmallVector<Value> indices = applyMap(tb, tl, op.getMatchingIndexingMap(&init), firstIvs);
      initial.push_back(memref::LoadOp::create(tb, tl, inKernel(tb, init.get(), buffers), indices));
    }
    auto loop = scf::ForOp::create(
        tb, tl, zero, indexConst(tb, tl, length), indexConst(tb, tl, 1), initial,
        [&](OpBuilder &fb, Location fl, Value k, ValueRange acc) {
          IRMapping inLoop = buffers;
          SmallVector<Value> ivs = allIvs(delinearize(fb, fl, k, inner));
          SmallVector<Value> accs(acc.begin(), acc.end());
          scf::YieldOp::create(fb, fl, emitPayload(fb, fl, op, ivs, accs, inLoop));
        });
    storeResults(tb, tl, op, firstIvs, loop.getResults(), buffers);
  });
  op->erase();
  return success();
}

/// The dense buffer type an operand the body rounds to a narrower type is
/// rounded into first (by a kernel of its own).
static MemRefType roundedType(const GemmMatch &match, int i) {
  OpOperand *operand = i == 0 ? match.a : match.b;
  auto type = cast<MemRefType>(operand->get().getType());
  return MemRefType::get(type.getShape(), match.casts[i]);
}

Value KernelMapper::convertedCopy(OpBuilder &b, Location loc, Value source, Type to,
                                  KernelInfo info, SmallVectorImpl<KernelInfo> &kernels) {
  auto type = cast<MemRefType>(source.getType());
  Value copy = memref::AllocOp::create(b, loc, MemRefType::get(type.getShape(), to));
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> parallel(type.getRank(), utils::IteratorType::parallel);
  auto convert = linalg::GenericOp::create(
      b, loc, ValueRange{source}, ValueRange{copy}, ArrayRef<AffineMap>{id, id}, parallel,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value v = to.getIntOrFloatBitWidth() > args[0].getType().getIntOrFloatBitWidth()
                      ? Value(arith::ExtFOp::create(nb, nl, to, args[0]))
                      : Value(arith::TruncFOp::create(nb, nl, to, args[0]));
        linalg::YieldOp::create(nb, nl, v);
      });
  if (!mapVectorized(convert, info))
    (void)mapElementwise(convert, info);
  kernels.push_back(std::move(info));
  return copy;
}

bool KernelMapper::goesToLibrary(linalg::LinalgOp op) {
  if (!libraryGemm)
    return false;
  std::optional<GemmMatch> match = matchGemm(op);
  if (!match || llvm::any_of(op->getOperands(), isHostGlobal))
    return false;
  for (int i = 0; i < 2; ++i)
    if (match->casts[i] && !collapsible(roundedType(*match, i), match->perms[i], match->groups[i]))
      return false;
  return true;
}

bool KernelMapper::mapLibraryGemm(linalg::LinalgOp op, bool beta0, KernelInfo &info,
                                  SmallVectorImpl<KernelInfo> &kernels) {
  if (!goesToLibrary(op))
    return false;
  std::optional<GemmMatch> match = matchGemm(op);
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto found = epilogues.find(op);
  const GemmEpilogue *epilogue = found == epilogues.end() ? nullptr : &found->second;
  // With an epilogue, cuBLASLt writes the elementwise op's output (D), and C
  // is never materialized.
  Value sources[3] = {match->a->get(), match->b->get(), epilogue ? epilogue->out : match->c->get()};
  SmallVector<Value> temporaries;
  for (int i = 0; i < 2; ++i) {
    if (!match->casts[i])
      continue;
    KernelInfo roundInfo;
    roundInfo.name = info.name + "_round" + std::to_string(i);
    roundInfo.nodes = info.nodes;
    sources[i] = convertedCopy(b, loc, sources[i], match->casts[i], roundInfo, kernels);
    temporaries.push_back(sources[i]);
  }
  // cuBLASLt reads the bias in D's type: converted first where the op's own
  // differs (exactly, or rounded as the op rounds it).
  Value bias = epilogue ? epilogue->bias : Value();
  if (bias && epilogue->biasCast) {
    KernelInfo biasInfo;
    biasInfo.name = info.name + "_bias";
    collectNodes(epilogue->op, biasInfo.nodes);
    bias = convertedCopy(b, loc, bias, epilogue->biasCast, biasInfo, kernels);
    temporaries.push_back(bias);
  }
  SmallVector<Value> views;
  for (int i = 0; i < 3; ++i) {
    views.push_back(sources[i]);
    ArrayRef<int64_t> perm = match->perms[i];
    if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size()))) {
      SmallVector<unsigned> positions(perm.begin(), perm.end());
      AffineMap permutation = AffineMap::getPermutationMap(positions, op.getContext());
      views.back() =
          memref::TransposeOp::create(b, loc, views.back(), AffineMapAttr::get(permutation));
    }
    if (match->groups[i].size() != perm.size())
      views.back() = memref::CollapseShapeOp::create(b, loc, views.back(), match->groups[i]);
  }

  // The packed argument block of mpc_cuda_matmul (Abi.h).
  PackedCall call(b, loc, MPC_MM_PARAMS);
  int32_t flags = (allowTf32 ? MPC_MM_ALLOW_TF32 : 0) | (beta0 ? MPC_MM_BETA0 : 0);
  call.put(MPC_MM_SLOT_ABI, MPC_MM_ABI_VERSION);
  call.put(MPC_MM_SLOT_DTYPE_A, match->dtypes[0]);
  call.put(MPC_MM_SLOT_DTYPE_B, match->dtypes[1]);
  call.put(MPC_MM_SLOT_DTYPE_C, epilogue ? epilogue->outDtype : match->dtypes[2]);
  call.put(MPC_MM_SLOT_FLAGS, flags);
  call.put(MPC_MM_SLOT_EPILOGUE, epilogue ? epilogue->kind : MPC_MM_EPILOGUE_NONE);
  call.put(MPC_MM_SLOT_DTYPE_BIAS, bias ? epilogue->outDtype : -1);
  if (bias) {
    auto meta = memref::ExtractStridedMetadataOp::create(b, loc, bias);
    call.put(MPC_MM_SLOT_BIAS + 0, memref::ExtractAlignedPointerAsIndexOp::create(b, loc, bias));
    call.put(MPC_MM_SLOT_BIAS + 1, meta.getOffset());
    call.put(MPC_MM_SLOT_BIAS + 2, epilogue->biasLength);
    call.put(MPC_MM_SLOT_BIAS + 3, 1);
  } else {
    call.putZeros(MPC_MM_SLOT_BIAS, MPC_MM_BIAS_SLOTS);
  }
  OperandSlots layout{/*axes=*/3, /*rank=*/true};
  for (auto [j, view] : llvm::enumerate(views))
    call.putOperand(MPC_MM_SLOT_OPERANDS + j * MPC_MM_OPERAND_SLOTS, view, layout);
  info.libraryCall = call.call(op->getParentOfType<ModuleOp>(), "mpc_cuda_matmul");
  for (Value temporary : temporaries)
    memref::DeallocOp::create(b, loc, temporary);

  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  info.strategy = "cublaslt-gemm";
  measure(op, 0, info);
  info.flops = 2 * ::product(ranges);
  Value c = match->c->get();
  if (epilogue)
    absorbEpilogue(*epilogue, c, bias, info);
  op->erase();
  if (!epilogue)
    return true;
  // C, never written, goes unless the epilogue wrote it in place.
  auto alloc = c.getDefiningOp<memref::AllocOp>();
  if (alloc &&
      llvm::all_of(alloc->getUsers(), [](Operation *u) { return isa<memref::DeallocOp>(u); })) {
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      user->erase();
    alloc->erase();
  }
  return true;
}

void KernelMapper::absorbEpilogue(const GemmEpilogue &epilogue, Value c, Value bias,
                                  KernelInfo &info) {
  linalg::GenericOp op = epilogue.op;
  KernelInfo ew;
  measure(op, ::product(op.getStaticLoopRanges()), ew);
  info.ops.insert(ew.ops.begin(), ew.ops.end());
  info.flops += ew.flops;
  collectNodes(op, info.nodes);
  info.epilogue = epilogueName(epilogue.kind).str();
  // Moved: the bias (as cuBLASLt reads it) in, D out instead of C.
  int64_t cBytes = bufferBytes(cast<MemRefType>(c.getType()));
  info.bytesRead += (bias ? bufferBytes(cast<MemRefType>(bias.getType())) : 0) - cBytes;
  info.bytesWritten += bufferBytes(cast<MemRefType>(epilogue.out.getType())) - cBytes;
  absorbed.insert(op);
  op->erase();
}

} // namespace

namespace mpc::cuda {

bool isZeroConstant(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  auto value = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
  return value && value.getValue().isZero();
}

/// Whether any op strictly between `from` and `to` (one block) may write
/// `buffer`: it names it as a linalg init, a copy target or a store.
bool writtenBetween(Operation *from, Operation *to, Value buffer) {
  Value root = rootBuffer(buffer);
  auto aliases = [&](Value v) { return rootBuffer(v) == root; };
  for (Operation *op = from->getNextNode(); op && op != to; op = op->getNextNode()) {
    bool writes = false;
    op->walk([&](Operation *inner) {
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(inner))
        writes |= llvm::any_of(linalgOp.getDpsInits(), aliases);
      else if (auto copy = dyn_cast<memref::CopyOp>(inner))
        writes |= aliases(copy.getTarget());
      else if (auto store = dyn_cast<memref::StoreOp>(inner))
        writes |= aliases(store.getMemRef());
      else if (auto atomic = dyn_cast<memref::AtomicRMWOp>(inner))
        writes |= aliases(atomic.getMemref());
      else if (auto call = dyn_cast<func::CallOp>(inner)) // a library call may write its operands
        writes |= llvm::any_of(call.getOperands(),
                               [&](Value v) { return isa<MemRefType>(v.getType()) && aliases(v); }) ||
                  llvm::any_of(packedBuffers(call), aliases);
    });
    if (writes)
      return true;
  }
  return false;
}

/// The zero-or-other constant fill of `init` right before `op` (nothing in
/// between touching `init`), if there is one.
linalg::FillOp fillRightBefore(Operation *op, Value init) {
  Value root = rootBuffer(init);
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (!usesBuffer(prev, root))
      continue;
    auto fill = dyn_cast<linalg::FillOp>(prev);
    if (fill && fill.getOutputs()[0] == init &&
        fill.getInputs()[0].getDefiningOp<arith::ConstantOp>())
      return fill;
    return {};
  }
  return {};
}

} // namespace mpc::cuda

namespace {

/// A reduction whose accumulator was just filled with a constant starts
/// from that constant in the kernel instead of a fill kernel and a load.
void KernelMapper::foldFillsIntoReductions(func::FuncOp func) {
  func.walk([&](linalg::LinalgOp op) {
    // (GEMMs for cuBLASLt keep their fills: only a zero one folds, as beta.)
    if (op.getNumReductionLoops() == 0 || op.getNumDpsInits() != 1 || initialValues.count(op) ||
        goesToLibrary(op) || libraryConvs.count(op))
      return;
    if (linalg::FillOp fill = fillRightBefore(op, op.getDpsInits()[0])) {
      initialValues[op] = fill.getInputs()[0];
      fill->erase();
    }
  });
}

/// Work cuBLASLt can do inside a GEMM instead of a kernel of its own:
/// - the zero fill of C right before it becomes beta = 0;
/// - a transposed copy of a function argument (a weight) read only by the
///   GEMM becomes a transposed view of the argument (cuBLASLt's transpose);
/// - then a bias add and/or activation right after it becomes its epilogue
///   (GemmEpilogues.h).
void KernelMapper::foldIntoGemms(func::FuncOp func) {
  if (!libraryGemm)
    return;
  SmallVector<linalg::LinalgOp> gemms;
  func.walk([&](linalg::LinalgOp op) {
    if (goesToLibrary(op))
      gemms.push_back(op);
  });
  for (linalg::LinalgOp gemm : gemms) {
    std::optional<GemmMatch> match = matchGemm(gemm);
    linalg::FillOp fill = fillRightBefore(gemm, match->c->get());
    if (fill && isZeroConstant(fill.getInputs()[0])) {
      beta0[gemm] = fill.getInputs()[0];
      fill->erase();
    }
    for (OpOperand *operand : {match->a, match->b}) {
      Value buffer = operand->get();
      auto alloc = buffer.getDefiningOp<memref::AllocOp>();
      if (!alloc)
        continue;
      // The value the GEMM reads: written by a transpose of an argument right
      // before (the buffer's previous use), and read by nothing else (its
      // next use, if any, frees or overwrites it).
      auto uses = [&](Operation *op) { return usesBuffer(op, buffer); };
      Operation *previous = gemm->getPrevNode();
      while (previous && !uses(previous))
        previous = previous->getPrevNode();
      Operation *next = gemm->getNextNode();
      while (next && !uses(next))
        next = next->getNextNode();
      auto transpose = dyn_cast_or_null<linalg::TransposeOp>(previous);
      auto overwrites = [&](Operation *op) {
        auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
        if (!linalgOp)
          return false;
        for (OpOperand &init : linalgOp.getDpsInitsMutable())
          if (init.get() == buffer)
            return !linalgOp.payloadUsesValueFromOperand(&init) &&
                   llvm::none_of(linalgOp.getDpsInputs(), [&](Value v) { return v == buffer; });
        return false;
      };
      if (!transpose || transpose.getInit() != buffer ||
          !isa<BlockArgument>(transpose.getInput()) ||
          writtenBetween(transpose, gemm, transpose.getInput()) ||
          (next && !isa<memref::DeallocOp>(next) && !overwrites(next)))
        continue;
      OpBuilder b(gemm);
      AffineMap permutation =
          AffineMap::getPermutationMap(SmallVector<unsigned>(transpose.getPermutation().begin(),
                                                             transpose.getPermutation().end()),
                                       b.getContext());
      auto view = memref::TransposeOp::create(b, transpose.getLoc(), transpose.getInput(),
                                              AffineMapAttr::get(permutation));
      operand->set(view);
      // A view cuBLASLt cannot read (dims that no longer collapse): keep the copy.
      if (!goesToLibrary(gemm)) {
        operand->set(buffer);
        view->erase();
        continue;
      }
      transpose->erase();
      if (llvm::all_of(buffer.getUsers(), [](Operation *u) { return isa<memref::DeallocOp>(u); })) {
        for (Operation *user : llvm::make_early_inc_range(buffer.getUsers()))
          user->erase();
        alloc->erase();
      }
    }
    // The elementwise op after a GEMM whose C starts at zero: its epilogue.
    if (beta0.contains(gemm))
      if (std::optional<GemmEpilogue> epilogue = matchGemmEpilogue(gemm, *matchGemm(gemm))) {
        for (Operation *hoist : epilogue->hoists)
          hoist->moveBefore(gemm);
        epilogues[gemm] = *epilogue;
      }
  }
}

/// Bufferization copies a constant-filled buffer (one fill CSE'd from many
/// uses) into each buffer that starts from it; such a copy is a fill of its
/// own, which the GEMM and reduction folds below then see. The filled buffer
/// goes when nothing reads it any more.
static void forwardFillsThroughCopies(func::FuncOp func) {
  SmallVector<memref::CopyOp> copies;
  func.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
  SmallVector<Value> sources;
  for (memref::CopyOp copy : copies) {
    Value source = copy.getSource();
    if (!source.getDefiningOp<memref::AllocOp>() || source.getType() != copy.getTarget().getType())
      continue;
    // The fill of `source` before the copy, with no write in between.
    linalg::FillOp fill;
    for (Operation *user : source.getUsers())
      if (auto f = dyn_cast<linalg::FillOp>(user);
          f && f.getOutputs()[0] == source && f->getBlock() == copy->getBlock() &&
          f->isBeforeInBlock(copy) && (!fill || fill->isBeforeInBlock(f)))
        fill = f;
    if (!fill || !fill.getInputs()[0].getDefiningOp<arith::ConstantOp>() ||
        writtenBetween(fill, copy, source))
      continue;
    OpBuilder b(copy);
    linalg::FillOp::create(b, copy.getLoc(), fill.getInputs()[0], copy.getTarget());
    copy->erase();
    sources.push_back(source);
  }
  for (Value source : sources) {
    if (!source.getDefiningOp() || !llvm::all_of(source.getUsers(), [](Operation *u) {
          return isa<linalg::FillOp, memref::DeallocOp>(u);
        }))
      continue;
    for (Operation *user : llvm::make_early_inc_range(source.getUsers()))
      user->erase();
    source.getDefiningOp()->erase();
  }
}

LogicalResult KernelMapper::run(func::FuncOp func, SmallVectorImpl<KernelInfo> &kernels) {
  // (Keyed by ops of this function: another's may have been freed.)
  initialValues.clear();
  beta0.clear();
  epilogues.clear();
  absorbed.clear();
  forwardFillsThroughCopies(func);
  // Copies then become linalg.copy, handled like every other op.
  func.walk([&](memref::CopyOp copy) {
    OpBuilder b(copy);
    linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(), copy.getTarget());
    copy->erase();
  });
  // Attention calls first (their operands in host memory get copies, which
  // become kernels like every other linalg op).
  llvm::DenseMap<Operation *, KernelInfo> libraryCalls;
  SmallVector<func::CallOp> attentionCalls;
  func.walk([&](func::CallOp call) {
    if (isAttentionCall(call))
      attentionCalls.push_back(call);
  });
  for (func::CallOp call : attentionCalls) {
    KernelInfo info;
    FailureOr<func::CallOp> runtimeCall = lowerAttentionCall(call, info);
    if (failed(runtimeCall))
      return failure();
    libraryCalls[*runtimeCall] = std::move(info);
  }
  foldIntoGemms(func);
  if (libraryConv)
    prepareLibraryConvs(func, libraryConvs, unusedPadBuffers);
  foldFillsIntoReductions(func);
  SmallVector<linalg::LinalgOp> ops;
  // Kernels and library calls in program order, for their names.
  SmallVector<Operation *> order;
  func.walk([&](Operation *op) {
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
      ops.push_back(linalgOp);
      order.push_back(op);
    } else if (libraryCalls.contains(op)) {
      order.push_back(op);
    }
  });
  for (linalg::LinalgOp op : ops) {
    if (!op.hasPureBufferSemantics())
      return op->emitOpError("is not on buffers: bufferize before mpc-cuda-map-to-kernels");
    if (op.hasDynamicShape())
      return op->emitOpError("has dynamic sizes; the CUDA target needs static shapes "
                             "(mpc-compile --batch N)");
  }
  // Row groups (softmax, layer norm, ...) become one kernel each.
  // (Epilogues the GEMM calls take are in no row group.)
  SmallVector<linalg::LinalgOp> groupable;
  llvm::DenseSet<Operation *> epilogueOps;
  for (auto &[gemm, epilogue] : epilogues)
    epilogueOps.insert(epilogue.op);
  for (linalg::LinalgOp op : ops)
    if (!epilogueOps.contains(op))
      groupable.push_back(op);
  llvm::DenseMap<Operation *, unsigned> groupOf;
  SmallVector<linalg::LinalgOp> kernelOps(llvm::make_filter_range(
      groupable, [&](linalg::LinalgOp op) { return !libraryConvs.count(op); }));
  SmallVector<SmallVector<linalg::LinalgOp>> groups = findRowGroups(kernelOps, minRowReduction);
  for (auto [i, group] : llvm::enumerate(groups))
    for (linalg::LinalgOp op : group)
      groupOf[op] = i;
  RowKernelOptions rowOptions;
  rowOptions.blockSize = blockSize;
  rowOptions.sequentialPhases = sequentialPhases;
  rowOptions.initialValues = &initialValues;
  for (Operation *item : order) {
    if (absorbed.contains(item))
      continue; // a GEMM call's epilogue, erased
    KernelInfo info;
    info.name = (func.getSymName() + "_k" + Twine(kernels.size())).str();
    if (auto it = libraryCalls.find(item); it != libraryCalls.end()) {
      std::swap(info.name, it->second.name);
      kernels.push_back(std::move(it->second));
      continue;
    }
    // (By pointer only until here: the members of a row group after its
    // first were erased when the first was mapped.)
    if (auto it = groupOf.find(item); it != groupOf.end()) {
      if (groups[it->second].front().getOperation() != item)
        continue; // erased with its group
      mapRowGroup(groups[it->second], rowOptions, info);
      kernels.push_back(std::move(info));
      continue;
    }
    auto op = cast<linalg::LinalgOp>(item);
    collectNodes(op, info.nodes);
    if (auto it = libraryConvs.find(op); it != libraryConvs.end()) {
      mapLibraryConv(op, it->second, allowTf32, info);
      kernels.push_back(std::move(info));
      continue;
    }
    if (mapLibraryGemm(op, beta0.contains(op), info, kernels)) {
      kernels.push_back(std::move(info));
      continue;
    }
    // A GEMM whose zero fill was folded as cuBLASLt's beta yet became a
    // kernel starts from that zero.
    if (Value zero = beta0.lookup(op))
      initialValues[op] = zero;
    if (op.getNumReductionLoops() == 0) {
      if (!mapVectorized(op, info) && failed(mapElementwise(op, info)))
        return failure();
    } else {
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      SmallVector<unsigned> reductionDims;
      op.getReductionDims(reductionDims);
      int64_t length = 1;
      for (unsigned d : reductionDims)
        length *= ranges[d];
      std::optional<Combiner> combiner = matchCombiner(op);
      if (combiner && isColumnReduction(op, minRowReduction)) {
        mapColumnReduction(op, *combiner, initialValues.lookup(op), info, kernels);
      } else if (combiner && length >= minRowReduction) {
        if (failed(mapRowReduction(op, *combiner, info)))
          return failure();
      } else if (failed(mapSequential(op, info))) {
        return failure();
      }
    }
    kernels.push_back(std::move(info));
  }
  for (Value buffer : unusedPadBuffers) {
    if (!llvm::all_of(buffer.getUsers(), [](Operation *u) { return isa<memref::DeallocOp>(u); }))
      continue;
    for (Operation *user : llvm::make_early_inc_range(buffer.getUsers()))
      user->erase();
    buffer.getDefiningOp()->erase();
  }
  unusedPadBuffers.clear();
  libraryConvs.clear();
  mapHostLoops(func, blockSize, atomicScatter, kernels);
  return success();
}

void announceLibraryCall(Operation *call, int64_t index) {
  OpBuilder b(call);
  auto module = call->getParentOfType<ModuleOp>();
  auto callee = module.lookupSymbol<func::FuncOp>("mpc_cuda_library_call");
  if (!callee) {
    OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
    callee = func::FuncOp::create(mb, call->getLoc(), "mpc_cuda_library_call",
                                  mb.getFunctionType({mb.getI64Type()}, {}));
    callee.setPrivate();
  }
  Value position = arith::ConstantIntOp::create(b, call->getLoc(), b.getI64Type(), index);
  func::CallOp::create(b, call->getLoc(), callee, ValueRange{position});
}

DictionaryAttr toAttr(MLIRContext *ctx, const KernelInfo &k) {
  Builder b(ctx);
  auto strings = [&](const llvm::SetVector<StringRef> &set) {
    return b.getStrArrayAttr(SmallVector<StringRef>(set.begin(), set.end()));
  };
  SmallVector<NamedAttribute> fields = {
      b.getNamedAttr("name", b.getStringAttr(k.name)),
      b.getNamedAttr("strategy", b.getStringAttr(k.strategy)),
      b.getNamedAttr("ops", strings(k.ops)),
      b.getNamedAttr("onnx_nodes", strings(k.nodes)),
      b.getNamedAttr("grid", b.getI64IntegerAttr(k.grid)),
      b.getNamedAttr("block", b.getI64IntegerAttr(k.block)),
      b.getNamedAttr("bytes_read", b.getI64IntegerAttr(k.bytesRead)),
      b.getNamedAttr("bytes_written", b.getI64IntegerAttr(k.bytesWritten)),
      b.getNamedAttr("flops", b.getI64IntegerAttr(k.flops)),
  };
  if (!k.epilogue.empty())
    fields.push_back(b.getNamedAttr("epilogue", b.getStringAttr(k.epilogue)));
  return b.getDictionaryAttr(fields);
}

struct MapToKernels : mpc::impl::MapToKernelsPassBase<MapToKernels> {
  using MapToKernelsPassBase::MapToKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    KernelMapper mapper(blockSize, libraryGemm, allowTf32, libraryConv, vectorBits,
                        vectorNarrowFloats, sequentialPhases, minRowReduction, atomicScatter);
    SmallVector<KernelInfo> kernels;
    // Functions mpc-cuda-match-attention outlined are replaced by the
    // runtime call (their bodies would be the generated-kernel fallback).
    SmallVector<func::FuncOp> outlined;
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (func->hasAttr(mpc::cuda::kCudaLibraryAttr)) {
        outlined.push_back(func);
        continue;
      }
      if (func.isExternal())
        continue;
      if (failed(mapper.run(func, kernels)))
        return signalPassFailure();
    }
    for (func::FuncOp func : outlined) {
      if (!SymbolTable::symbolKnownUseEmpty(func, module)) {
        func.emitError("is still called after mpc-cuda-map-to-kernels replaced the calls of "
                       "outlined attention functions");
        return signalPassFailure();
      }
      func.erase();
    }
    SmallVector<Attribute> records;
    if (auto existing = module->getAttrOfType<ArrayAttr>(mpc::kCudaKernelsAttr))
      records.append(existing.begin(), existing.end());
    for (const KernelInfo &k : kernels) {
      // Each library call first names itself by its record's position (the
      // order the executable registers the table in; Abi.h).
      if (k.libraryCall)
        announceLibraryCall(k.libraryCall, int64_t(records.size()));
      records.push_back(toAttr(&getContext(), k));
    }
    module->setAttr(mpc::kCudaKernelsAttr, ArrayAttr::get(&getContext(), records));
  }
};

} // namespace
