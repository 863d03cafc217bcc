//===- LibraryConv.cpp - forward convolutions as mpc_cuda_conv calls ------===//
//
// With `library-conv`, mpc-conv-to-matmul left the forward convolutions
// cuDNN takes as the generic mpc-lower-to-linalg built (input [N, G, C,
// S...], weight [G, M, C, K...], accumulator [N, G, M, O...]; see
// ConvolutionMatch.h). Each becomes one call to the runtime's
// mpc_cuda_conv (lib/Runtime/CUDA/Conv.cpp) with NC(D)HW views of its
// operands. What cuDNN does itself is folded into the call instead of
// kernels of its own: the zero fill of the output (beta = 0) and a
// symmetric zero padding of the input, which bufferization left as a
// filled buffer with a copy of the source in its interior.
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"
#include "PackedCall.h"

#include "mpc/Codegen/Common/ConvolutionMatch.h"
#include "mpc/Runtime/CUDA/Abi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace mpc::cuda {
namespace {

/// [N, G, C, S...] -> [N, G * C, S...] (and the weight's [G, M, C, K...]
/// -> [G * M, C, K...]): the reassociation merging dims `first` and
/// `first + 1` of a rank-`rank` buffer.
SmallVector<ReassociationIndices> mergeGroups(int64_t rank, int64_t first) {
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank; ++i) {
    if (i == first + 1)
      groups.back().push_back(i);
    else
      groups.push_back({i});
  }
  return groups;
}

bool mergeable(Value buffer, int64_t first) {
  auto type = cast<MemRefType>(buffer.getType());
  return collapsible(type, llvm::to_vector(llvm::seq<int64_t>(0, type.getRank())),
                     mergeGroups(type.getRank(), first));
}

/// Whether `type` is laid out row-major without gaps (static strides).
bool packed(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  int64_t expected = 1;
  for (int64_t d = type.getRank() - 1; d >= 0; --d) {
    if (type.getDimSize(d) != 1 && strides[d] != expected)
      return false;
    expected *= type.getDimSize(d);
  }
  return true;
}

/// Whether `op` writes all of `buffer` with a zero constant and reads
/// nothing: linalg.fill, or the linalg.map bufferization makes of a pad.
bool zeroFills(Operation *op, Value buffer) {
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return fill.getOutputs()[0] == buffer && isZeroConstant(fill.getInputs()[0]);
  auto map = dyn_cast<linalg::MapOp>(op);
  if (!map || !map.getInputs().empty() || map.getInit() != buffer)
    return false;
  Block &body = map.getMapper().front();
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  return yield && yield.getNumOperands() == 1 && isZeroConstant(yield.getOperand(0));
}

/// The padded input of the convolutions `readers` folded away: `buffer`
/// (an allocation) is filled with zeros, then its interior (a subview at the
/// low pads) gets a copy of the source; the convolutions are its only
/// readers, after the copy, with the source unchanged in between. Returns
/// the source and pads (one per spatial dim) when the padding is the same
/// on both sides of every spatial dim (cuDNN's); the fill, copy and subview
/// are erased.
std::optional<std::pair<Value, SmallVector<int64_t>>>
foldPadding(Value buffer, ArrayRef<Operation *> readers, int64_t spatial) {
  if (!buffer.getDefiningOp<memref::AllocOp>())
    return std::nullopt;
  Operation *fill = nullptr;
  memref::SubViewOp interior;
  linalg::CopyOp copy;
  for (Operation *user : buffer.getUsers()) {
    if (llvm::is_contained(readers, user) || isa<memref::DeallocOp>(user))
      continue;
    if (!fill && zeroFills(user, buffer)) {
      fill = user;
      continue;
    }
    auto view = dyn_cast<memref::SubViewOp>(user);
    if (interior || !view || !view->hasOneUse())
      return std::nullopt;
    interior = view;
    copy = dyn_cast<linalg::CopyOp>(*view->user_begin());
    if (!copy || copy.getOutputs()[0] != view)
      return std::nullopt;
  }
  if (!fill || !interior || fill->getBlock() != copy->getBlock() || !fill->isBeforeInBlock(copy))
    return std::nullopt;
  Value source = copy.getInputs()[0];
  Operation *last = copy;
  for (Operation *reader : readers) {
    if (reader->getBlock() != copy->getBlock() || !copy->isBeforeInBlock(reader) ||
        writtenBetween(copy, reader, source))
      return std::nullopt;
    if (last->isBeforeInBlock(reader))
      last = reader;
  }
  // cuDNN reads device memory: a constant (host global) source keeps its
  // padded device copy.
  if (!mergeable(source, 1) || isHostGlobal(source))
    return std::nullopt;
  // The source was last read by the copy, and may be freed right after it:
  // the convolutions now read it, so it is freed after them instead.
  SmallVector<Operation *> frees;
  Value root = rootBuffer(source);
  for (Operation *op = copy->getNextNode(); op != last; op = op->getNextNode())
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op);
        dealloc && rootBuffer(dealloc.getMemref()) == root)
      frees.push_back(op);
  auto type = cast<MemRefType>(buffer.getType());
  if (!interior.hasUnitStride() || !type.hasStaticShape())
    return std::nullopt;
  ArrayRef<int64_t> offsets = interior.getStaticOffsets(), sizes = interior.getStaticSizes();
  int64_t rank = type.getRank();
  SmallVector<int64_t> pads;
  for (int64_t d = 0; d < rank; ++d) {
    if (ShapedType::isDynamic(offsets[d]) || ShapedType::isDynamic(sizes[d]))
      return std::nullopt;
    int64_t low = offsets[d], high = type.getDimSize(d) - offsets[d] - sizes[d];
    bool isSpatial = d >= rank - spatial;
    if (low != high || (!isSpatial && low != 0))
      return std::nullopt;
    if (isSpatial)
      pads.push_back(low);
  }
  for (Operation *free : llvm::reverse(frees))
    free->moveAfter(last);
  copy->erase();
  interior->erase();
  fill->erase();
  return std::make_pair(source, pads);
}

} // namespace

bool isLibraryConv(linalg::LinalgOp op) {
  if (!matchLibraryConvolution(op) || llvm::any_of(op->getOperands(), isHostGlobal))
    return false;
  if (llvm::is_contained(op.getStaticLoopRanges(), 0))
    return false;
  Value input = op.getDpsInputs()[0], weight = op.getDpsInputs()[1], acc = op.getDpsInits()[0];
  if (!mergeable(input, 1) || !mergeable(weight, 0) || !mergeable(acc, 1))
    return false;
  return packed(cast<MemRefType>(weight.getType()));
}

void prepareLibraryConvs(func::FuncOp func, llvm::DenseMap<Operation *, LibraryConv> &convs,
                         SmallVectorImpl<Value> &unused) {
  // Convolutions the tensor pipeline left for cuDNN whose input or weight
  // cuDNN cannot read where it is (a host constant, a view whose dims do not
  // merge, a weight with gaps) read a packed device copy instead: a copy
  // kernel is still far cheaper than a direct convolution kernel.
  SmallVector<linalg::LinalgOp> candidates;
  func.walk([&](linalg::LinalgOp op) {
    if (matchLibraryConvolution(op))
      candidates.push_back(op);
  });
  for (linalg::LinalgOp op : candidates) {
    for (int64_t i = 0; i < 2; ++i) {
      OpOperand &operand = *op.getDpsInputOperand(i);
      Value buffer = operand.get();
      auto type = cast<MemRefType>(buffer.getType());
      bool readable = !isHostGlobal(buffer) && (i == 0 ? mergeable(buffer, 1) : packed(type));
      if (readable || !type.hasStaticShape())
        continue;
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value copy =
          memref::AllocOp::create(b, loc, MemRefType::get(type.getShape(), type.getElementType()));
      linalg::CopyOp::create(b, loc, buffer, copy);
      operand.set(copy);
      b.setInsertionPointAfter(op);
      memref::DeallocOp::create(b, loc, copy);
    }
  }
  SmallVector<linalg::LinalgOp> ops;
  for (linalg::LinalgOp op : candidates)
    if (isLibraryConv(op))
      ops.push_back(op);
  llvm::MapVector<Value, SmallVector<Operation *>> readersOf;
  for (linalg::LinalgOp op : ops) {
    LibraryConv &conv = convs[op];
    conv.input = op.getDpsInputs()[0];
    conv.pads.assign(op.getNumLoops() / 2 - 2, 0);
    if (linalg::FillOp fill = fillRightBefore(op, op.getDpsInits()[0]);
        fill && isZeroConstant(fill.getInputs()[0])) {
      conv.beta0 = true;
      fill->erase();
    }
    readersOf[conv.input].push_back(op);
  }
  for (auto &entry : readersOf) {
    Value buffer = entry.first;
    SmallVector<Operation *> &readers = entry.second;
    // Every reader of the padded buffer must be a library convolution.
    if (llvm::any_of(buffer.getUsers(), [&](Operation *user) {
          return isa<linalg::LinalgOp>(user) && !llvm::is_contained(readers, user) &&
                 !zeroFills(user, buffer);
        }))
      continue;
    int64_t spatial = cast<MemRefType>(buffer.getType()).getRank() - 3;
    auto folded = foldPadding(buffer, readers, spatial);
    if (!folded)
      continue;
    for (Operation *reader : readers) {
      convs[reader].input = folded->first;
      convs[reader].pads = folded->second;
    }
    unused.push_back(buffer);
  }
}

void mapLibraryConv(linalg::LinalgOp op, const LibraryConv &conv, bool allowTf32,
                    KernelInfo &info) {
  std::optional<ConvMatch> match = matchLibraryConvolution(op);
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value weight = op.getDpsInputs()[1], acc = op.getDpsInits()[0];
  auto merged = [&](Value buffer, int64_t first) -> Value {
    auto type = cast<MemRefType>(buffer.getType());
    return memref::CollapseShapeOp::create(b, loc, buffer, mergeGroups(type.getRank(), first));
  };
  Value views[] = {merged(conv.input, 1), merged(weight, 0), merged(acc, 1)};

  // The packed argument block of mpc_cuda_conv (Abi.h).
  PackedCall call(b, loc, MPC_CONV_PARAMS);
  Type element = getElementTypeOrSelf(acc.getType());
  int32_t dtype = *libraryDtype(element);
  bool f32 = element.isF32();
  int32_t flags = (allowTf32 && f32 ? MPC_MM_ALLOW_TF32 : 0) | (conv.beta0 ? MPC_MM_BETA0 : 0);
  call.put(MPC_CONV_SLOT_ABI, MPC_CONV_ABI_VERSION);
  for (int64_t slot : {MPC_CONV_SLOT_DTYPE_X, MPC_CONV_SLOT_DTYPE_W, MPC_CONV_SLOT_DTYPE_Y})
    call.put(slot, dtype);
  call.put(MPC_CONV_SLOT_FLAGS, flags);
  int64_t groups = cast<MemRefType>(weight.getType()).getDimSize(0);
  call.put(MPC_CONV_SLOT_GROUPS, groups);
  call.put(MPC_CONV_SLOT_SPATIAL, match->spatial);
  for (int64_t i = 0; i < 3; ++i) {
    bool used = i < match->spatial;
    call.put(MPC_CONV_SLOT_PADS + i, used ? conv.pads[i] : 0);
    call.put(MPC_CONV_SLOT_STRIDES + i, used ? match->strides[i] : 1);
    call.put(MPC_CONV_SLOT_DILATIONS + i, used ? match->dilations[i] : 1);
  }
  OperandSlots layout{/*axes=*/5, /*rank=*/true};
  for (auto [j, view] : llvm::enumerate(views))
    call.putOperand(MPC_CONV_SLOT_OPERANDS + j * MPC_CONV_OPERAND_SLOTS, view, layout);
  info.libraryCall = call.call(op->getParentOfType<ModuleOp>(), "mpc_cuda_conv");

  info.strategy = "cudnn-conv";
  for (Operation &inner : op.getBlock()->without_terminator())
    info.ops.insert(inner.getName().getStringRef());
  int64_t in = bufferBytes(cast<MemRefType>(views[0].getType()));
  int64_t out = bufferBytes(cast<MemRefType>(acc.getType()));
  info.bytesRead = in + bufferBytes(cast<MemRefType>(weight.getType())) + (conv.beta0 ? 0 : out);
  info.bytesWritten = out;
  info.flops = 2 * product(op.getStaticLoopRanges());
  op->erase();
}

} // namespace mpc::cuda
