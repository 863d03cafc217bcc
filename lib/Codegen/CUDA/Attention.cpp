//===- Attention.cpp - attention chains for cuDNN's fused attention -------===//
//
// Two halves around the tensor pipeline and bufferization: on the mpc
// dialect, mpc-cuda-match-attention outlines each attention chain into a
// private function and calls it; on buffers, mpc-cuda-map-to-kernels turns
// each such call into one to the runtime's mpc_cuda_attention.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/CUDA/Passes.h"

#include "KernelBuilder.h"
#include "PackedCall.h"
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Runtime/CUDA/Abi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/bit.h"

#include <cmath>

namespace mpc {
#define GEN_PASS_DEF_MATCHATTENTIONPASS
#include "mpc/Codegen/CUDA/Passes.h.inc"
} // namespace mpc

using namespace mlir;
using namespace mpc::cuda;

namespace {

/// cuDNN's fused attention takes head sizes that are multiples of 8 up to this.
constexpr int64_t kMaxHeadSize = 128;

SmallVector<int64_t> identity(int64_t rank) { return llvm::to_vector(llvm::seq<int64_t>(0, rank)); }

SmallVector<int64_t> swapLastTwo(ArrayRef<int64_t> perm) {
  SmallVector<int64_t> swapped(perm);
  std::swap(swapped[swapped.size() - 2], swapped.back());
  return swapped;
}

SmallVector<int64_t> inverse(ArrayRef<int64_t> perm) {
  SmallVector<int64_t> inv(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inv[p] = i;
  return inv;
}

bool isIdentity(ArrayRef<int64_t> perm) { return llvm::equal(perm, identity(perm.size())); }

/// One of Q, K, V as the chain reads it: `value` permuted by `perm`.
struct Source {
  Value value;
  SmallVector<int64_t> perm;
  mpc::TransposeOp absorbed; // the transpose `perm` came from, erased with the chain
};

/// What an attention chain matched: its ops in program order (from the
/// first matmul to the second), the sources of Q, K and V, the mask, the
/// scale, and the transpose of the output it may end with.
struct Chain {
  SmallVector<Operation *> ops;
  Source q, k, v;
  Value mask;
  double scale = 1.0;
  mpc::MatmulOp scores, output;
  mpc::TransposeOp outputTranspose;
  SmallVector<int64_t> outputPerm;
};

/// The value of a constant float scalar (a splat of any shape with one
/// element, e.g. tensor<bf16> or tensor<1xf32>).
std::optional<double> scalarConstant(Value v) {
  DenseElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.isSplat() || attr.getNumElements() != 1 ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

bool isFloatTensorOf(Value v, Type element) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getElementType() == element;
}

/// Walks back from the softmax input `v` to the first matmul: casts, then
/// optionally the mask's Add, then optionally the scale's Div or Mul, with
/// casts between them. `ops` collects them (last first).
FailureOr<mpc::MatmulOp> matchScores(Value v, Chain &chain, bool seenAdd, bool seenScale) {
  Operation *def = v.getDefiningOp();
  if (!def || !v.hasOneUse())
    return failure();
  // Recurses on `next`, undoing what this step set when that fails.
  auto record = [&](Value next, bool add, bool scale) {
    Value mask = chain.mask;
    double factor = chain.scale;
    chain.ops.push_back(def);
    FailureOr<mpc::MatmulOp> found = matchScores(next, chain, add, scale);
    if (failed(found)) {
      chain.ops.pop_back();
      chain.mask = mask;
      chain.scale = factor;
    }
    return found;
  };
  if (auto cast = dyn_cast<mpc::CastOp>(def))
    return record(cast.getInput(), seenAdd, seenScale);
  if (auto matmul = dyn_cast<mpc::MatmulOp>(def)) {
    chain.ops.push_back(def);
    return matmul;
  }
  // A mask added before the scaling would be scaled too: not this chain.
  if (auto add = dyn_cast<mpc::AddOp>(def); add && !seenAdd && !seenScale) {
    for (auto [scores, mask] :
         {std::pair(add.getLhs(), add.getRhs()), std::pair(add.getRhs(), add.getLhs())}) {
      if (scores.getType() != add.getType() || scores == mask ||
          !isFloatTensorOf(mask, add.getType().getElementType()))
        continue;
      chain.mask = mask;
      if (FailureOr<mpc::MatmulOp> found = record(scores, true, seenScale); succeeded(found))
        return found;
      chain.mask = Value();
    }
    return failure();
  }
  if (seenScale)
    return failure();
  if (auto div = dyn_cast<mpc::DivOp>(def)) {
    std::optional<double> c = scalarConstant(div.getRhs());
    if (!c || div.getLhs().getType() != div.getType())
      return failure();
    chain.scale = 1.0 / *c;
    return record(div.getLhs(), seenAdd, true);
  }
  if (auto mul = dyn_cast<mpc::MulOp>(def)) {
    for (auto [scores, factor] :
         {std::pair(mul.getLhs(), mul.getRhs()), std::pair(mul.getRhs(), mul.getLhs())}) {
      std::optional<double> c = scalarConstant(factor);
      if (!c || scores.getType() != mul.getType())
        continue;
      chain.scale = *c;
      return record(scores, seenAdd, true);
    }
  }
  return failure();
}

/// `operand` as a source: through a transpose used only here that keeps
/// the head axis innermost (`toLogical` maps the transpose's permutation to
/// the one giving the [.., S, D] operand), else the value itself.
Source sourceOf(Value operand, bool transposed) {
  int64_t rank = cast<RankedTensorType>(operand.getType()).getRank();
  auto logical = [&](ArrayRef<int64_t> perm) {
    return transposed ? swapLastTwo(perm) : SmallVector<int64_t>(perm);
  };
  if (auto t = operand.getDefiningOp<mpc::TransposeOp>(); t && operand.hasOneUse()) {
    SmallVector<int64_t> perm = logical(t.getPerm());
    if (perm.back() == rank - 1)
      return {t.getInput(), perm, t};
  }
  return {operand, logical(identity(rank)), {}};
}

/// The chain whose softmax is `softmax`, if it qualifies.
std::optional<Chain> matchChain(mpc::SoftmaxOp softmax) {
  auto scoresType = cast<RankedTensorType>(softmax.getType());
  int64_t rank = scoresType.getRank();
  if ((rank != 3 && rank != 4) || int64_t(softmax.getAxis()) != rank - 1 || !softmax->hasOneUse())
    return std::nullopt;
  Chain chain;
  FailureOr<mpc::MatmulOp> scores = matchScores(softmax.getInput(), chain, false, false);
  if (failed(scores))
    return std::nullopt;
  std::reverse(chain.ops.begin(), chain.ops.end());
  chain.ops.push_back(softmax);
  chain.scores = *scores;
  // Forward: casts, then the matmul with V that reads the probabilities.
  Value probs = softmax.getResult();
  while (true) {
    if (!probs.hasOneUse())
      return std::nullopt;
    Operation *user = *probs.getUsers().begin();
    if (auto cast = dyn_cast<mpc::CastOp>(user)) {
      chain.ops.push_back(cast);
      probs = cast.getResult();
      continue;
    }
    auto matmul = dyn_cast<mpc::MatmulOp>(user);
    if (!matmul || matmul.getLhs() != probs)
      return std::nullopt;
    chain.ops.push_back(matmul);
    chain.output = matmul;
    break;
  }

  // Types: Q, K, V, P and O one f16/bf16 type, the scores that or f32.
  Value q = chain.scores.getLhs(), kt = chain.scores.getRhs(), v = chain.output.getRhs();
  Type low = cast<RankedTensorType>(q.getType()).getElementType();
  if (!low.isF16() && !low.isBF16())
    return std::nullopt;
  for (Value x : {kt, v, probs, Value(chain.output.getResult())})
    if (!isFloatTensorOf(x, low))
      return std::nullopt;
  for (Operation *op : ArrayRef(chain.ops).drop_back())
    for (Value result : op->getResults()) {
      Type element = cast<RankedTensorType>(result.getType()).getElementType();
      if (element != low && !element.isF32())
        return std::nullopt;
    }
  // The mask broadcasts over anything but the key axis.
  if (chain.mask) {
    auto maskType = cast<RankedTensorType>(chain.mask.getType());
    if (maskType.getRank() == 0 || maskType.getShape().back() != scoresType.getShape().back() ||
        !libraryDtype(maskType.getElementType()))
      return std::nullopt;
  }
  float scale = float(chain.scale);
  if (!std::isfinite(scale))
    return std::nullopt;

  // Shapes: [.., Sq, D] x [.., D, Skv] and [.., Sq, Skv] x [.., Skv, Dv],
  // one rank, the same leading dims (no broadcasting).
  ArrayRef<int64_t> qs = cast<RankedTensorType>(q.getType()).getShape();
  ArrayRef<int64_t> ks = cast<RankedTensorType>(kt.getType()).getShape();
  ArrayRef<int64_t> vs = cast<RankedTensorType>(v.getType()).getShape();
  if (qs.size() != size_t(rank) || ks.size() != size_t(rank) || vs.size() != size_t(rank))
    return std::nullopt;
  ArrayRef<int64_t> lead = scoresType.getShape().drop_back(2);
  if (qs.drop_back(2) != lead || ks.drop_back(2) != lead || vs.drop_back(2) != lead)
    return std::nullopt;
  int64_t d = qs[rank - 1], dv = vs[rank - 1];
  for (int64_t size : {d, dv})
    if (size % 8 != 0 || size <= 0 || size > kMaxHeadSize)
      return std::nullopt;
  if (qs[rank - 2] < 1 || ks[rank - 1] < 1)
    return std::nullopt;

  // One value in two roles would be two arguments of one value (rare).
  if (q == kt || q == v || kt == v || llvm::is_contained({q, kt, v}, chain.mask))
    return std::nullopt;

  chain.q = sourceOf(q, false);
  chain.k = sourceOf(kt, true);
  chain.v = sourceOf(v, false);
  chain.outputPerm = identity(rank);
  Value out = chain.output.getResult();
  if (auto t = out.hasOneUse() ? dyn_cast<mpc::TransposeOp>(*out.getUsers().begin())
                               : mpc::TransposeOp();
      t && t.getPerm().back() == rank - 1) {
    chain.outputTranspose = t;
    chain.outputPerm = inverse(t.getPerm());
  }
  return chain;
}

/// A transpose of `value` by `perm` (none for the identity).
Value transposed(OpBuilder &b, Location loc, Value value, ArrayRef<int64_t> perm) {
  if (isIdentity(perm))
    return value;
  return mpc::TransposeOp::create(b, loc, value, b.getDenseI64ArrayAttr(perm));
}

/// Outlines `chain` from `parent` into a new function and calls it.
void outline(Chain &chain, func::FuncOp parent, SymbolTable &symbols) {
  MLIRContext *ctx = parent.getContext();
  Operation *last =
      chain.outputTranspose ? chain.outputTranspose.getOperation() : chain.output.getOperation();
  OpBuilder b(last);
  Location loc = chain.output.getLoc();
  // A source whose head axis is not innermost in memory is copied so that it
  // is (cuDNN reads the head axis contiguously).
  for (Source *s : {&chain.q, &chain.k, &chain.v}) {
    if (s->perm.back() == int64_t(s->perm.size()) - 1)
      continue;
    s->value = transposed(b, loc, s->value, s->perm);
    s->perm = identity(s->perm.size());
  }

  SmallVector<Value> args = {chain.q.value, chain.k.value, chain.v.value};
  if (chain.mask)
    args.push_back(chain.mask);
  Value result = last->getResult(0);
  auto type = FunctionType::get(ctx, ValueRange(args).getTypes(), {result.getType()});
  OpBuilder mb(parent);
  auto func = func::FuncOp::create(mb, loc, (parent.getSymName() + "_attention").str(), type);
  func.setPrivate();
  symbols.insert(func, parent->getIterator());

  // The ONNX nodes replaced: the importer's NameLocs and `mpc.node`s.
  llvm::SetVector<StringRef> nodes;
  SmallVector<Operation *> replaced(chain.ops);
  for (Operation *op : {chain.q.absorbed.getOperation(), chain.k.absorbed.getOperation(),
                        chain.v.absorbed.getOperation(), chain.outputTranspose.getOperation()})
    if (op)
      replaced.push_back(op);
  for (Operation *op : replaced) {
    collectNodes(op, nodes);
    if (auto node = op->getAttrOfType<StringAttr>(mpc::kNodeNameAttr))
      nodes.insert(node.getValue());
  }

  // The body: the chain's ops cloned, reading the arguments through the
  // transposes the sources stand for.
  Block *body = func.addEntryBlock();
  OpBuilder fb = OpBuilder::atBlockBegin(body);
  IRMapping map;
  map.map(chain.scores.getLhs(), transposed(fb, loc, body->getArgument(0), chain.q.perm));
  map.map(chain.scores.getRhs(),
          transposed(fb, loc, body->getArgument(1), swapLastTwo(chain.k.perm)));
  map.map(chain.output.getRhs(), transposed(fb, loc, body->getArgument(2), chain.v.perm));
  if (chain.mask)
    map.map(chain.mask, body->getArgument(3));
  for (Operation *op : chain.ops) {
    for (Value operand : op->getOperands())
      if (!map.contains(operand))
        map.map(operand, fb.clone(*operand.getDefiningOp())->getResult(0)); // a constant
    fb.clone(*op, map);
  }
  Value out = map.lookup(chain.output.getResult());
  if (chain.outputTranspose)
    out = fb.clone(*chain.outputTranspose, map)->getResult(0);
  func::ReturnOp::create(fb, loc, out);

  SmallVector<Attribute> perms;
  for (ArrayRef<int64_t> perm : {ArrayRef(chain.q.perm), ArrayRef(chain.k.perm),
                                 ArrayRef(chain.v.perm), ArrayRef(chain.outputPerm)})
    perms.push_back(b.getDenseI64ArrayAttr(perm));
  func->setAttr(kCudaLibraryAttr, b.getStringAttr("attention"));
  func->setAttr(kAttentionAttr,
                b.getDictionaryAttr({
                    b.getNamedAttr("scale", b.getF32FloatAttr(float(chain.scale))),
                    b.getNamedAttr("perms", b.getArrayAttr(perms)),
                    b.getNamedAttr("onnx_nodes", b.getStrArrayAttr(SmallVector<StringRef>(
                                                     nodes.begin(), nodes.end()))),
                }));

  auto call = func::CallOp::create(b, loc, func, args);
  result.replaceAllUsesWith(call.getResult(0));
  last->erase();
  if (chain.outputTranspose)
    chain.output->erase();
  for (Operation *op : llvm::reverse(ArrayRef(chain.ops).drop_back()))
    op->erase();
  for (Source *s : {&chain.q, &chain.k, &chain.v})
    if (s->absorbed && s->absorbed->use_empty())
      s->absorbed->erase();
}

struct MatchAttention : mpc::impl::MatchAttentionPassBase<MatchAttention> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      SmallVector<mpc::SoftmaxOp> softmaxes;
      func.walk([&](mpc::SoftmaxOp op) { softmaxes.push_back(op); });
      for (mpc::SoftmaxOp softmax : softmaxes)
        if (std::optional<Chain> chain = matchChain(softmax))
          outline(*chain, func, symbols);
    }
  }
};

} // namespace

namespace mpc::cuda {

bool isAttentionCall(Operation *op) {
  auto call = dyn_cast<func::CallOp>(op);
  if (!call)
    return false;
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(op, call.getCalleeAttr());
  auto library = callee ? callee->getAttrOfType<StringAttr>(kCudaLibraryAttr) : StringAttr();
  return library && library.getValue() == "attention";
}

FailureOr<func::CallOp> lowerAttentionCall(func::CallOp op, KernelInfo &info) {
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(op, op.getCalleeAttr());
  auto attrs = callee->getAttrOfType<DictionaryAttr>(kAttentionAttr);
  auto scale = attrs ? attrs.getAs<FloatAttr>("scale") : FloatAttr();
  auto perms = attrs ? attrs.getAs<ArrayAttr>("perms") : ArrayAttr();
  // Q, K, V, the mask if any, then the output (bufferization's out-parameter).
  unsigned operands = op.getNumOperands();
  if (!scale || !perms || perms.size() != 4 || op.getNumResults() != 0 ||
      (operands != 4 && operands != 5) ||
      llvm::any_of(op.getOperandTypes(), [](Type t) { return !isa<MemRefType>(t); }))
    return op.emitOpError("is not an attention call as mpc-cuda-match-attention outlines and "
                          "bufferization leaves it (Q, K, V, an optional mask and the output "
                          "as buffers, `mpc.attention` on the callee)");
  bool hasMask = operands == 5;
  OpBuilder b(op);
  Location loc = op.getLoc();
  // Constant globals live in host memory: copied to the device first.
  SmallVector<Value> buffers(op.getOperands());
  SmallVector<Value> temporaries;
  for (Value &buffer : buffers) {
    if (!isHostGlobal(buffer))
      continue;
    auto type = cast<MemRefType>(buffer.getType());
    Value copy =
        memref::AllocOp::create(b, loc, MemRefType::get(type.getShape(), type.getElementType()));
    linalg::CopyOp::create(b, loc, buffer, copy);
    temporaries.push_back(copy);
    buffer = copy;
  }
  Value q = buffers[0], k = buffers[1], v = buffers[2], o = buffers.back();
  Value mask = hasMask ? buffers[3] : Value();
  auto view = [&](Value buffer, Attribute perm) -> Value {
    ArrayRef<int64_t> p = cast<DenseI64ArrayAttr>(perm).asArrayRef();
    if (isIdentity(p))
      return buffer;
    SmallVector<unsigned> positions(p.begin(), p.end());
    AffineMap map = AffineMap::getPermutationMap(positions, b.getContext());
    return memref::TransposeOp::create(b, loc, buffer, AffineMapAttr::get(map));
  };
  Value views[4] = {view(q, perms[0]), view(k, perms[1]), view(v, perms[2]), view(o, perms[3])};

  Type element = cast<MemRefType>(q.getType()).getElementType();
  std::optional<int32_t> dtype = libraryDtype(element);
  std::optional<int32_t> maskDtype =
      mask ? libraryDtype(cast<MemRefType>(mask.getType()).getElementType()) : -1;
  if (!dtype || !maskDtype)
    return op.emitOpError("has element types mpc_cuda_attention does not take");

  PackedCall call(b, loc, MPC_ATTN_PARAMS);
  call.put(MPC_ATTN_SLOT_ABI, MPC_ATTN_ABI_VERSION);
  call.put(MPC_ATTN_SLOT_DTYPE, *dtype);
  call.put(MPC_ATTN_SLOT_MASK_DTYPE, *maskDtype);
  call.put(MPC_ATTN_SLOT_FLAGS, 0);
  call.put(MPC_ATTN_SLOT_SCALE, int64_t(llvm::bit_cast<uint32_t>(float(scale.getValueAsDouble()))));
  OperandSlots layout{/*axes=*/4, /*rank=*/false, /*padLeading=*/true};
  for (auto [i, operand] : llvm::enumerate(views))
    call.putOperand(MPC_ATTN_SLOT_OPERANDS + i * MPC_ATTN_OPERAND_SLOTS, operand, layout);
  int64_t maskBase = MPC_ATTN_SLOT_OPERANDS + 4 * MPC_ATTN_OPERAND_SLOTS;
  if (mask) {
    // Broadcast axes (size 1) read the same elements: stride 0.
    OperandSlots maskLayout = layout;
    maskLayout.zeroUnitStrides = true;
    call.putOperand(maskBase, mask, maskLayout);
  } else {
    call.putZeros(maskBase, MPC_ATTN_OPERAND_SLOTS);
  }
  func::CallOp runtimeCall = call.call(op->getParentOfType<ModuleOp>(), "mpc_cuda_attention");
  info.libraryCall = runtimeCall;
  for (Value temporary : temporaries)
    memref::DeallocOp::create(b, loc, temporary);

  // The report: bytes each operand holds, 2 (D + Dv) FLOPs per score.
  auto shape = [&](Value x) { return cast<MemRefType>(x.getType()).getShape(); };
  ArrayRef<int64_t> qs = shape(views[0]), ks = shape(views[1]), vs = shape(views[2]);
  int64_t batch = product(qs.drop_back(2));
  info.strategy = "cudnn-attention";
  info.flops = 2 * batch * qs[qs.size() - 2] * ks[ks.size() - 2] * (qs.back() + vs.back());
  for (Value x : {q, k, v, mask})
    if (x)
      info.bytesRead += bufferBytes(cast<MemRefType>(x.getType()));
  info.bytesWritten = bufferBytes(cast<MemRefType>(o.getType()));
  if (auto nodes = attrs.getAs<ArrayAttr>("onnx_nodes"))
    for (Attribute node : nodes)
      info.nodes.insert(cast<StringAttr>(node).getValue());
  op->erase();
  return runtimeCall;
}

} // namespace mpc::cuda
