//===- KernelBuilder.cpp - building blocks of CUDA kernel schedules -------===//
#include "KernelBuilder.h"

#include "mpc/Runtime/CUDA/Abi.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/TypeSwitch.h"

namespace mpc::cuda {

int64_t product(ArrayRef<int64_t> values) {
  int64_t p = 1;
  for (int64_t v : values)
    p *= v;
  return p;
}

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Splits a linear index into one index per size (row-major).
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear, ArrayRef<int64_t> sizes) {
  SmallVector<Value> ivs(sizes.size());
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    if (d == 0) {
      ivs[d] = linear;
      break;
    }
    Value size = indexConst(b, loc, sizes[d]);
    ivs[d] = arith::RemUIOp::create(b, loc, linear, size);
    linear = arith::DivUIOp::create(b, loc, linear, size);
  }
  return ivs;
}

/// The indices an indexing map gives at loop point `ivs`.
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map, ValueRange ivs) {
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      indices.push_back(ivs[dim.getPosition()]);
    } else if (auto cst = dyn_cast<AffineConstantExpr>(expr)) {
      indices.push_back(indexConst(b, loc, cst.getValue()));
    } else {
      AffineMap one = AffineMap::get(map.getNumDims(), map.getNumSymbols(), expr);
      indices.push_back(affine::AffineApplyOp::create(b, loc, one, ivs));
    }
  }
  return indices;
}

/// A buffer as the kernel must see it. Constant globals (folded tensors) live
/// on the host; the view chain down to memref.get_global is re-created inside
/// the kernel so that outlining copies the global into the GPU module.
Value inKernel(OpBuilder &b, Value buffer, IRMapping &cloned) {
  if (Value done = cloned.lookupOrNull(buffer))
    return done;
  Operation *def = buffer.getDefiningOp();
  if (!def)
    return buffer;
  if (isa<memref::GetGlobalOp>(def) ||
      (isa<ViewLikeOpInterface>(def) && def->getNumOperands() >= 1 &&
       inKernel(b, def->getOperand(0), cloned) != def->getOperand(0))) {
    for (Value operand : def->getOperands())
      if (isa<MemRefType>(operand.getType()))
        inKernel(b, operand, cloned);
    Operation *copy = b.clone(*def, cloned);
    return copy->getResult(cast<OpResult>(buffer).getResultNumber());
  }
  return buffer;
}

/// The payload of `op` at loop point `ivs`: operands loaded (inits replaced
/// by `accs` where given), body cloned. Returns the yielded values.
SmallVector<Value> emitPayload(OpBuilder &b, Location loc, linalg::LinalgOp op, ValueRange ivs,
                               ArrayRef<Value> accs, IRMapping &buffers,
                               const llvm::DenseMap<Value, Value> *uniforms) {
  IRMapping map;
  Block *body = op.getBlock();
  for (OpOperand &operand : op->getOpOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(&operand);
    if (arg.use_empty())
      continue;
    Value value = operand.get();
    if (op.isDpsInit(&operand)) {
      unsigned i = operand.getOperandNumber() - op.getNumDpsInputs();
      if (i < accs.size() && accs[i]) {
        map.map(arg, accs[i]);
        continue;
      }
    }
    if (!isa<MemRefType>(value.getType())) {
      map.map(arg, value);
      continue;
    }
    if (Value uniform = uniforms ? uniforms->lookup(value) : Value()) {
      map.map(arg, uniform);
      continue;
    }
    SmallVector<Value> indices = applyMap(b, loc, op.getMatchingIndexingMap(&operand), ivs);
    map.map(arg, memref::LoadOp::create(b, loc, inKernel(b, value, buffers), indices));
  }
  for (Operation &inner : body->without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      map.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(inner, map);
  }
  SmallVector<Value> yielded;
  for (Value v : body->getTerminator()->getOperands())
    yielded.push_back(map.lookupOrDefault(v));
  return yielded;
}

void storeResults(OpBuilder &b, Location loc, linalg::LinalgOp op, ValueRange ivs,
                  ValueRange values, IRMapping &buffers) {
  for (auto [init, value] : llvm::zip(op.getDpsInitsMutable(), values)) {
    SmallVector<Value> indices = applyMap(b, loc, op.getMatchingIndexingMap(&init), ivs);
    memref::StoreOp::create(b, loc, value, inKernel(b, init.get(), buffers), indices);
  }
}

std::optional<Combiner> matchCombiner(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1)
    return std::nullopt;
  Block *body = op.getBlock();
  BlockArgument acc = body->getArguments().back();
  Value yielded = body->getTerminator()->getOperand(0);
  Operation *combine = yielded.getDefiningOp();
  if (!combine || combine->getBlock() != body || combine->getNumOperands() != 2 ||
      !acc.hasOneUse() || acc.getUses().begin()->getOwner() != combine)
    return std::nullopt;
  Type type = acc.getType();
  if (!type.isF32() && !type.isInteger(32) && !type.isInteger(64))
    return std::nullopt; // the shuffle lowering handles 32/64-bit values
  Builder b(op.getContext());
  auto floatId = [&](double v) -> TypedAttr { return b.getFloatAttr(type, v); };
  auto intId = [&](APInt v) -> TypedAttr { return b.getIntegerAttr(type, v); };
  unsigned bits = type.getIntOrFloatBitWidth();
  double inf = std::numeric_limits<double>::infinity();
  TypedAttr identity =
      llvm::TypeSwitch<Operation *, TypedAttr>(combine)
          // -0.0: the only float x with x + y == y for every y, -0.0 included.
          .Case<arith::AddFOp>([&](auto) { return floatId(-0.0); })
          .Case<arith::MulFOp>([&](auto) { return floatId(1.0); })
          .Case<arith::MaximumFOp, arith::MaxNumFOp>([&](auto) { return floatId(-inf); })
          .Case<arith::MinimumFOp, arith::MinNumFOp>([&](auto) { return floatId(inf); })
          .Case<arith::AddIOp, arith::OrIOp, arith::XOrIOp, arith::MaxUIOp>(
              [&](auto) { return intId(APInt::getZero(bits)); })
          .Case<arith::MulIOp>([&](auto) { return intId(APInt(bits, 1)); })
          .Case<arith::AndIOp, arith::MinUIOp>([&](auto) { return intId(APInt::getAllOnes(bits)); })
          .Case<arith::MaxSIOp>([&](auto) { return intId(APInt::getSignedMinValue(bits)); })
          .Case<arith::MinSIOp>([&](auto) { return intId(APInt::getSignedMaxValue(bits)); })
          .Default([](Operation *) { return TypedAttr(); });
  if (!identity)
    return std::nullopt;
  return Combiner{combine, identity};
}

/// Operand and result bytes and floating-point ops of one kernel.
Value rootBuffer(Value buffer) {
  while (Operation *def = buffer.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    buffer = view.getViewSource();
  }
  return buffer;
}

bool usesBuffer(Operation *op, Value root) {
  bool uses = false;
  op->walk([&](Operation *inner) {
    for (Value operand : inner->getOperands())
      uses |= isa<MemRefType>(operand.getType()) && rootBuffer(operand) == root;
  });
  return uses;
}

int64_t bufferBytes(MemRefType type) {
  Type element = type.getElementType();
  int64_t bits = element.isIndex()        ? 64
                 : element.isIntOrFloat() ? element.getIntOrFloatBitWidth()
                                          : 0;
  return type.getNumElements() * ((bits + 7) / 8);
}

void measure(linalg::LinalgOp op, int64_t points, KernelInfo &info) {
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type)
      continue;
    int64_t bytes = bufferBytes(type);
    if (op.isDpsInit(&operand)) {
      info.bytesWritten += bytes;
      if (op.payloadUsesValueFromOperand(&operand))
        info.bytesRead += bytes;
    } else {
      info.bytesRead += bytes;
    }
  }
  int64_t perPoint = 0;
  op.getBlock()->walk([&](Operation *inner) {
    if (inner->getDialect() && isa<arith::ArithDialect, math::MathDialect>(inner->getDialect()) &&
        inner->getNumResults() == 1 && isa<FloatType>(inner->getResult(0).getType()) &&
        !isa<arith::ConstantOp, arith::ExtFOp, arith::TruncFOp>(inner))
      ++perPoint;
  });
  info.flops = perPoint * points;
  for (Operation &inner : op.getBlock()->without_terminator())
    info.ops.insert(inner.getName().getStringRef());
}

/// Names of the ONNX nodes an op came from (the importer's NameLocs, kept on
/// the ops fusion merged into its body).
void collectNodes(Operation *op, llvm::SetVector<StringRef> &nodes) {
  op->walk([&](Operation *inner) {
    inner->getLoc()->walk([&](Location loc) {
      if (auto name = dyn_cast<NameLoc>(loc))
        nodes.insert(name.getName().getValue());
      return WalkResult::advance();
    });
  });
}

Value combine(OpBuilder &b, const Combiner &combiner, linalg::LinalgOp op, Value acc, Value value) {
  IRMapping m;
  Value accArg = op.getBlock()->getArguments().back();
  bool accFirst = combiner.op->getOperand(0) == accArg;
  m.map(combiner.op->getOperand(accFirst ? 0 : 1), acc);
  m.map(combiner.op->getOperand(accFirst ? 1 : 0), value);
  return b.clone(*combiner.op, m)->getResult(0);
}

std::optional<gpu::AllReduceOperation> allReduceKind(Operation *combine) {
  using K = gpu::AllReduceOperation;
  return llvm::TypeSwitch<Operation *, std::optional<K>>(combine)
      .Case<arith::AddFOp, arith::AddIOp>([](auto) { return K::ADD; })
      .Case<arith::MulFOp, arith::MulIOp>([](auto) { return K::MUL; })
      .Case<arith::MaximumFOp>([](auto) { return K::MAXIMUMF; })
      .Case<arith::MinimumFOp>([](auto) { return K::MINIMUMF; })
      .Case<arith::MaxNumFOp>([](auto) { return K::MAXNUMF; })
      .Case<arith::MinNumFOp>([](auto) { return K::MINNUMF; })
      .Case<arith::MaxSIOp>([](auto) { return K::MAXSI; })
      .Case<arith::MinSIOp>([](auto) { return K::MINSI; })
      .Case<arith::MaxUIOp>([](auto) { return K::MAXUI; })
      .Case<arith::MinUIOp>([](auto) { return K::MINUI; })
      .Case<arith::AndIOp>([](auto) { return K::AND; })
      .Case<arith::OrIOp>([](auto) { return K::OR; })
      .Case<arith::XOrIOp>([](auto) { return K::XOR; })
      .Default([](Operation *) { return std::nullopt; });
}

void mapToBlocks(scf::ParallelOp loop) {
  Builder b(loop.getContext());
  (void)gpu::setMappingAttr(
      loop, {gpu::ParallelLoopDimMappingAttr::get(b.getContext(), gpu::Processor::BlockX,
                                                  b.getDimIdentityMap(), b.getDimIdentityMap())});
}

void mapToThreads(scf::ParallelOp loop) {
  Builder b(loop.getContext());
  (void)gpu::setMappingAttr(
      loop, {gpu::ParallelLoopDimMappingAttr::get(b.getContext(), gpu::Processor::ThreadX,
                                                  b.getDimIdentityMap(), b.getDimIdentityMap())});
}

std::optional<int32_t> gemmDtype(Type t) {
  if (t.isF32())
    return MPC_DT_F32;
  if (t.isF16())
    return MPC_DT_F16;
  if (t.isBF16())
    return MPC_DT_BF16;
  return std::nullopt;
}

bool collapsible(MemRefType type, ArrayRef<int64_t> perm, ArrayRef<ReassociationIndices> groups) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  for (const ReassociationIndices &group : groups)
    for (size_t j = 0; j + 1 < group.size(); ++j) {
      int64_t outer = perm[group[j]], inner = perm[group[j + 1]];
      if (type.getDimSize(inner) == 1 || type.getDimSize(outer) == 1)
        continue;
      if (ShapedType::isDynamic(strides[outer]) || ShapedType::isDynamic(strides[inner]) ||
          strides[outer] != strides[inner] * type.getDimSize(inner))
        return false;
    }
  return true;
}

/// `v` as a block argument of `body`, looking through an arith.extf and an
/// arith.truncf before it (a cast fused into the contraction); `narrow` is
/// set to the truncf's type.
static BlockArgument throughCasts(Value v, Type &narrow) {
  if (auto ext = v.getDefiningOp<arith::ExtFOp>())
    v = ext.getIn();
  if (auto trunc = v.getDefiningOp<arith::TruncFOp>()) {
    narrow = trunc.getType();
    v = trunc.getIn();
  }
  return dyn_cast<BlockArgument>(v);
}

/// Contractions cuBLASLt runs. The body is acc + a * b (operands possibly
/// widened, or rounded to a narrower type first: then the operand is rounded
/// by a kernel of its own). Loops of size 1 go anywhere; the others are
/// batch (in A, B and C), M (A and C), N (B and C) or K (A and B) loops, any
/// number of each, collapsed into one GEMM dim each. N loops outside every M
/// loop in C may become batch loops instead, B and C batched and A shared
/// (a convolution's image loops after im2col).
std::optional<GemmMatch> matchGemm(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 || op.hasDynamicShape() ||
      op.getNumReductionLoops() == 0)
    return std::nullopt;
  Block *body = op.getBlock();
  auto add = body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || (add.getLhs() != body->getArgument(2) && add.getRhs() != body->getArgument(2)) ||
      !body->getArgument(2).hasOneUse())
    return std::nullopt;
  Value product = add.getLhs() == body->getArgument(2) ? add.getRhs() : add.getLhs();
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return std::nullopt;
  Type narrow[2];
  BlockArgument x = throughCasts(mul.getLhs(), narrow[0]),
                y = throughCasts(mul.getRhs(), narrow[1]);
  if (!x || !y || x.getOwner() != body || y.getOwner() != body || x == y || x.getArgNumber() > 1 ||
      y.getArgNumber() > 1 || llvm::range_size(body->without_terminator()) > 6)
    return std::nullopt;

  GemmMatch match;
  match.a = op.getDpsInputOperand(0);
  match.b = op.getDpsInputOperand(1);
  match.c = &op.getDpsInitsMutable()[0];
  Type castA = narrow[x.getArgNumber()], castB = narrow[y.getArgNumber()];
  AffineMap maps[3] = {op.getMatchingIndexingMap(match.a), op.getMatchingIndexingMap(match.b),
                       op.getMatchingIndexingMap(match.c)};
  for (AffineMap map : maps)
    if (!map.isProjectedPermutation())
      return std::nullopt;
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  SmallVector<unsigned> units, batch, m, n, k;
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    bool inA = maps[0].isFunctionOfDim(d), inB = maps[1].isFunctionOfDim(d),
         inC = maps[2].isFunctionOfDim(d);
    if (sizes[d] == 1)
      units.push_back(d);
    else if (inA && inB && inC)
      batch.push_back(d);
    else if (inA && inC && !inB)
      m.push_back(d);
    else if (inB && inC && !inA)
      n.push_back(d);
    else if (inA && inB && !inC)
      k.push_back(d);
    else
      return std::nullopt;
  }
  // (Matrix-vector products, without an M or N loop, stay kernels.)
  if (m.empty() || n.empty() || k.empty())
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned d = 0; d < op.getNumLoops(); ++d)
    if ((iterators[d] == utils::IteratorType::reduction) != llvm::is_contained(k, d) &&
        sizes[d] != 1)
      return std::nullopt;
  if (!maps[0].isFunctionOfDim(m.front()))
    return std::nullopt;

  // Each operand's dims in GEMM order, groups collapsed; unit dims join the
  // first group.
  auto build = [&](ArrayRef<unsigned> batchLoops, ArrayRef<unsigned> nLoops, bool aBatched,
                   GemmMatch &out) {
    SmallVector<unsigned> orders[3][3] = {
        {aBatched ? SmallVector<unsigned>(batchLoops) : SmallVector<unsigned>(), m, k},
        {SmallVector<unsigned>(batchLoops), k, SmallVector<unsigned>(nLoops)},
        {SmallVector<unsigned>(batchLoops), m, SmallVector<unsigned>(nLoops)}};
    OpOperand *operands[3] = {out.a, out.b, out.c};
    for (int i = 0; i < 3; ++i) {
      out.perms[i].clear();
      out.groups[i].clear();
      SmallVector<unsigned> held;
      for (unsigned d : units)
        if (maps[i].isFunctionOfDim(d))
          held.push_back(d);
      int64_t next = 0;
      for (ArrayRef<unsigned> group : orders[i]) {
        if (group.empty())
          continue;
        ReassociationIndices collapsed;
        SmallVector<unsigned> loops(held);
        held.clear();
        loops.append(group.begin(), group.end());
        for (unsigned loop : loops) {
          std::optional<unsigned> pos =
              maps[i].getResultPosition(getAffineDimExpr(loop, op.getContext()));
          if (!pos)
            return false;
          out.perms[i].push_back(*pos);
          collapsed.push_back(next++);
        }
        out.groups[i].push_back(collapsed);
      }
      if (static_cast<int64_t>(maps[i].getNumResults()) != next ||
          !collapsible(cast<MemRefType>(operands[i]->get().getType()), out.perms[i], out.groups[i]))
        return false;
    }
    return true;
  };
  auto sorted = [](SmallVector<unsigned> loops) {
    llvm::sort(loops);
    return loops;
  };
  batch = sorted(batch), m = sorted(m), n = sorted(n), k = sorted(k);
  bool found = build(batch, n, /*aBatched=*/true, match);
  if (!found && batch.empty()) {
    // N loops outside every M loop of C: batch loops of B and C, A shared.
    unsigned firstM = *maps[2].getResultPosition(getAffineDimExpr(m.front(), op.getContext()));
    SmallVector<unsigned> outer, inner;
    for (unsigned d : n)
      (*maps[2].getResultPosition(getAffineDimExpr(d, op.getContext())) < firstM ? outer : inner)
          .push_back(d);
    if (!outer.empty() && !inner.empty())
      found = build(outer, inner, /*aBatched=*/false, match);
  }
  if (!found)
    return std::nullopt;

  Type elements[3] = {castA ? castA : getElementTypeOrSelf(match.a->get().getType()),
                      castB ? castB : getElementTypeOrSelf(match.b->get().getType()),
                      getElementTypeOrSelf(match.c->get().getType())};
  for (int i = 0; i < 3; ++i) {
    std::optional<int32_t> dtype = gemmDtype(elements[i]);
    if (!dtype)
      return std::nullopt;
    match.dtypes[i] = *dtype;
  }
  if (match.dtypes[0] != match.dtypes[1])
    return std::nullopt;
  match.casts[0] = castA;
  match.casts[1] = castB;
  return match;
}

bool isHostGlobal(Value buffer) {
  while (Operation *def = buffer.getDefiningOp()) {
    if (isa<memref::GetGlobalOp>(def))
      return true;
    if (!isa<ViewLikeOpInterface>(def) || def->getNumOperands() == 0)
      return false;
    buffer = def->getOperand(0);
  }
  return false;
}

} // namespace mpc::cuda
