//===- ConvolutionMatch.cpp - recognizing convolution generics ------------===//
//
// Generics are recognised by the roles linalg::inferConvolutionDims gives
// their loops, then by their operand layout (matchLayout): every map,
// rebuilt from the roles, must be the op's own.
//
//===----------------------------------------------------------------------===//
#include "mpc/Codegen/Common/ConvolutionMatch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;

namespace mpc {
namespace {

/// The loops of linalg::inferConvolutionDims's classification that occur
/// once each in both layouts. It takes the first input for the image and
/// the second for the filter; the filter gradient, which reads (input, dy),
/// is then a convolution too, with other roles: c is its batch, n its input
/// channel, the kernel offsets its output image and the output positions
/// its filter loops.
enum class Role { Batch, Depth, OutputChannel, InputChannel };

/// Each operand's leading dims by role; the spatial dims follow them
/// (input: output image * coefficient + filter loop * coefficient; filter
/// operand: filter loops; accumulator: output image).
struct ConvLayout {
  ConvKind kind;
  std::array<Role, 3> input, filter, acc;
};

/// The forward generic: input [N, G, C, H...] read at (n, g, c, o * stride +
/// k * dilation), weight [G, M, C, K...] at (g, m, c, k...), accumulator [N,
/// G, M, O...] at (n, g, m, o...). The filter gradient: the same input read
/// at the same places, dy [N, G, M, O...] at (n, g, m, o...), accumulator
/// [G, M, C, K...] at (g, m, c, k...).
constexpr ConvLayout kForward{ConvKind::Forward,
                              {Role::Batch, Role::Depth, Role::InputChannel},
                              {Role::Depth, Role::OutputChannel, Role::InputChannel},
                              {Role::Batch, Role::Depth, Role::OutputChannel}};
constexpr ConvLayout kFilterGradient{ConvKind::FilterGradient,
                                     {Role::InputChannel, Role::Depth, Role::Batch},
                                     {Role::InputChannel, Role::Depth, Role::OutputChannel},
                                     {Role::Depth, Role::OutputChannel, Role::Batch}};

/// The loops `map` reads as its results from 3 on, if each is a plain loop
/// of `candidates`.
std::optional<SmallVector<unsigned>> spatialLoops(AffineMap map, ArrayRef<unsigned> candidates) {
  SmallVector<unsigned> loops;
  for (AffineExpr expr : map.getResults().drop_front(3)) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim || !llvm::is_contained(candidates, dim.getPosition()))
      return std::nullopt;
    loops.push_back(dim.getPosition());
  }
  return loops;
}

/// The shape of `op` if its operands are in `layout` under the
/// classification `dims`: every map, rebuilt from the roles and the
/// spatial loops in the accumulator's and filter operand's order, must
/// equal the op's. Anything else (other dim orders, a spatial result
/// pairing other loops) is refused.
std::optional<ConvMatch> matchLayout(linalg::LinalgOp op, const linalg::ConvolutionDimensions &dims,
                                     const ConvLayout &layout) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  std::optional<SmallVector<unsigned>> image = spatialLoops(maps[2], dims.outputImage);
  std::optional<SmallVector<unsigned>> filter = spatialLoops(maps[1], dims.filterLoop);
  if (!image || !filter)
    return std::nullopt;
  // The classification lists strides by output-image loop and dilations by
  // filter loop, each sorted: the multipliers of those loops in the input map.
  DenseMap<unsigned, int64_t> coefficient;
  for (auto [loop, stride] : llvm::zip_equal(dims.outputImage, dims.strides))
    coefficient[loop] = stride;
  for (auto [loop, dilation] : llvm::zip_equal(dims.filterLoop, dims.dilations))
    coefficient[loop] = dilation;
  MLIRContext *ctx = op.getContext();
  auto d = [&](unsigned loop) { return getAffineDimExpr(loop, ctx); };
  // Indexed by Role.
  unsigned roleLoops[] = {dims.batch[0], dims.depth[0], dims.outputChannel[0],
                          dims.inputChannel[0]};
  auto prefix = [&](ArrayRef<Role> roles) {
    return llvm::map_to_vector(roles, [&](Role r) { return d(roleLoops[static_cast<int>(r)]); });
  };
  SmallVector<AffineExpr> inExprs = prefix(layout.input), filterExprs = prefix(layout.filter),
                          accExprs = prefix(layout.acc);
  ConvMatch conv;
  conv.kind = layout.kind;
  conv.spatial = image->size();
  for (auto [o, k] : llvm::zip_equal(*image, *filter)) {
    // The filter gradient's image loop is the kernel offset (the dilated
    // term), its filter loop the output position (the strided one).
    int64_t stride = coefficient[o], dilation = coefficient[k];
    if (layout.kind == ConvKind::FilterGradient)
      std::swap(stride, dilation);
    if (stride < 1 || dilation < 1)
      return std::nullopt;
    conv.strides.push_back(stride);
    conv.dilations.push_back(dilation);
    // The classification takes the sum in either order; so does this check.
    AffineExpr window = d(o) * coefficient[o] + d(k) * coefficient[k];
    AffineExpr reversed = d(k) * coefficient[k] + d(o) * coefficient[o];
    inExprs.push_back(maps[0].getResult(inExprs.size()) == reversed ? reversed : window);
    filterExprs.push_back(d(k));
    accExprs.push_back(d(o));
  }
  unsigned loops = op.getNumLoops();
  if (maps[0] != AffineMap::get(loops, 0, inExprs, ctx) ||
      maps[1] != AffineMap::get(loops, 0, filterExprs, ctx) ||
      maps[2] != AffineMap::get(loops, 0, accExprs, ctx))
    return std::nullopt;
  return conv;
}

/// Whether the body is exactly yield(acc + input * weight), either order of
/// each operation's operands.
bool isPlainMultiplyAdd(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  if (body->getNumArguments() != 3 || body->getOperations().size() != 3)
    return false;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value acc = body->getArgument(2);
  Value other = add.getLhs() == acc ? add.getRhs() : add.getRhs() == acc ? add.getLhs() : Value();
  auto mul = other ? other.getDefiningOp<arith::MulFOp>() : arith::MulFOp();
  if (!mul)
    return false;
  Value x = body->getArgument(0), w = body->getArgument(1);
  return (mul.getLhs() == x && mul.getRhs() == w) || (mul.getLhs() == w && mul.getRhs() == x);
}

} // namespace

std::optional<ConvMatch> matchConvolution(linalg::LinalgOp op) {
  // A rewrite clones the body into generics with other loops: it must not
  // read loop indices. (The classification would read a symbol multiplier
  // as a constant, but linalg.generic's verifier refuses symbols in its
  // maps.)
  if (!isa<linalg::GenericOp>(op) || op.hasDynamicShape() || op.hasIndexSemantics() ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return std::nullopt;
  FailureOr<linalg::ConvolutionDimensions> dims = linalg::inferConvolutionDims(op);
  if (failed(dims))
    return std::nullopt;
  size_t spatial = dims->outputImage.size();
  // One loop per role and every loop classified. Strides and dilations have
  // one entry per spatial dim (the classification takes them from
  // "strides"/"dilations" attributes where an op has them; matchLayout
  // checks them against the maps).
  if (dims->batch.size() != 1 || dims->depth.size() != 1 || dims->outputChannel.size() != 1 ||
      dims->inputChannel.size() != 1 || dims->filterLoop.size() != spatial ||
      op.getNumLoops() != 4 + 2 * spatial || dims->strides.size() != spatial ||
      dims->dilations.size() != spatial ||
      llvm::any_of(op.getIndexingMapsArray(),
                   [&](AffineMap map) { return map.getNumResults() != 3 + spatial; }))
    return std::nullopt;
  for (const ConvLayout &layout : {kForward, kFilterGradient})
    if (std::optional<ConvMatch> conv = matchLayout(op, *dims, layout))
      return conv;
  return std::nullopt;
}

std::optional<ConvMatch> matchLibraryConvolution(linalg::LinalgOp op) {
  std::optional<ConvMatch> conv = matchConvolution(op);
  if (!conv || conv->kind != ConvKind::Forward || conv->spatial < 1 || conv->spatial > 3)
    return std::nullopt;
  Type element = getElementTypeOrSelf(op->getOperand(0).getType());
  if (!element.isF32() && !element.isF16() && !element.isBF16())
    return std::nullopt;
  for (Value operand : op->getOperands())
    if (getElementTypeOrSelf(operand.getType()) != element)
      return std::nullopt;
  if (!isPlainMultiplyAdd(op))
    return std::nullopt;
  return conv;
}

} // namespace mpc
