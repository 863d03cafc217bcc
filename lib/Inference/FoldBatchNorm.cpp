//===- FoldBatchNorm.cpp - mpc-fold-batch-norm ----------------------------===//
//
// At inference a batch norm's statistics are fixed, so a batch norm that only
// reads a convolution is an affine map per output channel and folds into the
// convolution's weight and bias:
//   s = scale / sqrt(var + eps),  W'[m] = W[m] * s[m],  b' = (b - mean) * s + bias.
// That is one op and one pass over the activation fewer, and under a
// low-precision policy one rounding fewer per layer: the convolution's f32
// accumulator is rounded once, after the affine map, instead of before and
// after it. The fold is computed in f64 from the stored values, before
// precision assignment rounds any weight. torch.onnx.export does the same
// fold in eval mode by default; this gives exports that kept their batch
// norms the same program.
//
// Training must not run this: there the batch norm's parameters are trained
// and its statistics are the batch's (mpc-batch-norm-training). The fold only
// applies when every operand is an arith.constant or a parameter no other op
// reads, so that rewriting a parameter changes nothing but this convolution.
//
//===----------------------------------------------------------------------===//
#include "SymbolUses.h"
#include "mpc/Dialect/MpcDialect.h"
#include "mpc/Inference/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

namespace mpc {
#define GEN_PASS_DEF_FOLDBATCHNORMPASS
#include "mpc/Inference/Passes.h.inc"
} // namespace mpc

using namespace mlir;

namespace {

/// A constant operand of the fold: its values and where they are stored.
struct Constant {
  DenseElementsAttr value;
  /// The parameter holding it; null for an arith.constant.
  mpc::ParameterOp parameter;
};

class Folder {
public:
  explicit Folder(ModuleOp module) : module(module), useCount(mpc::inference::countSymbolUses(module)) {}

  /// Folds `norm` into the convolution it reads; false when it does not apply.
  bool fold(mpc::BatchNormOp norm);
  /// Drops the parameter reads the folds left unread, and their parameters
  /// once nothing refers to them, so they stay out of the program's memory.
  void eraseUnread();

private:
  std::optional<Constant> constantOperand(Value value, bool exclusive);
  Value store(OpBuilder &builder, Value old, const Constant &source, ArrayRef<double> values,
              ArrayRef<int64_t> shape);

  ModuleOp module;
  llvm::DenseMap<Attribute, unsigned> useCount;
  /// Parameter reads of folded batch norms: candidates for eraseUnread.
  SmallVector<mpc::GetParameterOp> foldedReads;
};

/// Only f32 and f64 values are folded: they hold the f64 result well enough,
/// and a weight already stored in a low type was rounded before the fold.
static bool isFoldableType(Type type) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  return shaped && shaped.hasStaticShape() && (shaped.getElementType().isF32() ||
                                               shaped.getElementType().isF64());
}

/// Read and written as host floats, not APFloat: a ResNet-50's 25M weights
/// took ~4 s through APFloat and well under a second this way.
static SmallVector<double> toDoubles(DenseElementsAttr value) {
  SmallVector<double> result;
  result.reserve(value.getNumElements());
  if (value.getElementType().isF32())
    llvm::append_range(result, value.getValues<float>());
  else
    llvm::append_range(result, value.getValues<double>());
  return result;
}

/// `exclusive`: the value will be rewritten, so its source may have no other
/// reader (a constant is never rewritten in place, so it may be shared).
std::optional<Constant> Folder::constantOperand(Value value, bool exclusive) {
  if (!isFoldableType(value.getType()))
    return std::nullopt;
  DenseElementsAttr dense;
  if (matchPattern(value, m_Constant(&dense)))
    return Constant{dense, nullptr};
  auto read = value.getDefiningOp<mpc::GetParameterOp>();
  if (!read)
    return std::nullopt;
  auto parameter = SymbolTable::lookupNearestSymbolFrom<mpc::ParameterOp>(read, read.getNameAttr());
  if (!parameter || parameter.getType() != value.getType())
    return std::nullopt;
  if (exclusive && (!value.hasOneUse() || useCount.lookup(read.getNameAttr().getAttr()) != 1))
    return std::nullopt;
  auto values = dyn_cast<DenseElementsAttr>(parameter.getValue());
  if (!values)
    return std::nullopt;
  return Constant{values, parameter};
}

/// Writes `values` where `old` came from: into its parameter, or into a new
/// constant when it was one. Returns the value to read them from.
Value Folder::store(OpBuilder &builder, Value old, const Constant &source, ArrayRef<double> values,
                    ArrayRef<int64_t> shape) {
  auto floatType = cast<FloatType>(source.value.getElementType());
  auto type = RankedTensorType::get(shape, floatType);
  DenseElementsAttr attr;
  if (floatType.isF32()) {
    // The C++ conversion rounds to nearest, ties to even (IEEE default mode).
    SmallVector<float> elements(values.begin(), values.end());
    attr = DenseElementsAttr::get(type, ArrayRef<float>(elements));
  } else {
    attr = DenseElementsAttr::get(type, values);
  }
  if (source.parameter && old.getType() == type) {
    mpc::ParameterOp parameter = source.parameter;
    parameter.setValueAttr(attr);
    return old;
  }
  return arith::ConstantOp::create(builder, old.getLoc(), type, attr);
}

bool Folder::fold(mpc::BatchNormOp norm) {
  auto conv = norm.getInput().getDefiningOp<mpc::ConvOp>();
  if (!conv || !conv->hasOneUse() || conv->getBlock() != norm->getBlock())
    return false;
  Value bias = conv.getBias();
  std::optional<Constant> weight = constantOperand(conv.getWeight(), /*exclusive=*/true);
  // Without a conv bias the folded bias goes where the batch norm's was.
  std::optional<Constant> newBiasSlot =
      constantOperand(bias ? bias : norm.getBias(), /*exclusive=*/true);
  std::optional<Constant> convBias;
  if (bias)
    convBias = newBiasSlot;
  std::optional<Constant> scale = constantOperand(norm.getScale(), false);
  std::optional<Constant> shift = constantOperand(norm.getBias(), false);
  std::optional<Constant> mean = constantOperand(norm.getMean(), false);
  std::optional<Constant> variance = constantOperand(norm.getVariance(), false);
  if (!weight || !newBiasSlot || !scale || !shift || !mean || !variance)
    return false;

  auto weightType = cast<RankedTensorType>(conv.getWeight().getType());
  int64_t channels = weightType.getDimSize(0);
  for (const Constant *c : {&*newBiasSlot, &*scale, &*shift, &*mean, &*variance})
    if (c->value.getType().getRank() != 1 || c->value.getNumElements() != channels)
      return false;
  auto resultType = cast<RankedTensorType>(norm.getType());
  if (conv.getType() != resultType || resultType.getRank() < 2 ||
      resultType.getDimSize(1) != channels)
    return false;

  SmallVector<double> w = toDoubles(weight->value), b(channels, 0.0);
  if (convBias)
    b = toDoubles(convBias->value);
  SmallVector<double> g = toDoubles(scale->value), beta = toDoubles(shift->value),
                      mu = toDoubles(mean->value), var = toDoubles(variance->value);
  double epsilon = norm.getEpsilon().convertToDouble();
  int64_t perChannel = weightType.getNumElements() / channels;
  for (int64_t m = 0; m < channels; ++m) {
    double s = g[m] / std::sqrt(var[m] + epsilon);
    for (int64_t i = 0; i < perChannel; ++i)
      w[m * perChannel + i] *= s;
    b[m] = (b[m] - mu[m]) * s + beta[m];
  }

  OpBuilder builder(conv);
  Value newWeight = store(builder, conv.getWeight(), *weight, w, weightType.getShape());
  Value oldBias = bias ? bias : norm.getBias();
  // The batch norm's bias is read after the conv: a constant holding the
  // folded bias must come before the conv, which `builder` ensures; a
  // parameter read is moved there.
  Value newBias = store(builder, oldBias, *newBiasSlot, b, {channels});
  if (Operation *read = newBias.getDefiningOp();
      read && read->getBlock() == conv->getBlock() && conv->isBeforeInBlock(read))
    read->moveBefore(conv);
  for (Value operand : norm->getOperands())
    if (auto read = operand.getDefiningOp<mpc::GetParameterOp>())
      foldedReads.push_back(read);
  conv.getWeightMutable().assign(newWeight);
  if (bias)
    conv.getBiasMutable().assign(newBias);
  else
    conv.getBiasMutable().append(newBias);
  norm.getResult().replaceAllUsesWith(conv.getResult());
  norm->erase();
  return true;
}

void Folder::eraseUnread() {
  // A read shared by several operands of one batch norm is listed twice.
  llvm::SetVector<Operation *> reads;
  for (mpc::GetParameterOp read : foldedReads)
    reads.insert(read);
  llvm::SetVector<Operation *> parameters;
  for (Operation *op : reads) {
    auto read = cast<mpc::GetParameterOp>(op);
    if (!read->use_empty())
      continue;
    if (auto parameter =
            SymbolTable::lookupNearestSymbolFrom<mpc::ParameterOp>(read, read.getNameAttr()))
      parameters.insert(parameter);
    read->erase();
  }
  for (Operation *parameter : parameters)
    if (SymbolTable::symbolKnownUseEmpty(parameter, module))
      parameter->erase();
}

struct FoldBatchNormPass : mpc::impl::FoldBatchNormPassBase<FoldBatchNormPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Folder folder(module);
    SmallVector<mpc::BatchNormOp> norms;
    module.walk([&](mpc::BatchNormOp norm) { norms.push_back(norm); });
    for (mpc::BatchNormOp norm : norms)
      folder.fold(norm);
    folder.eraseUnread();
  }
};

} // namespace
