//===- GemmEpilogues.cpp - elementwise ops cuBLASLt applies to a GEMM -----===//
//
// The payload is recognized by what it computes, not by its op sequence:
// it is evaluated in double precision (casts exact) at sample points of C
// and the bias and compared with each function a cuBLASLt epilogue computes.
// GELU's erf form differs from cuBLASLt's tanh form by up to about 4e-4, far
// above the comparison's tolerance, so it is never taken for it; the
// irrational constants of GELU's formulas count as exact where the precision
// pass rounded them to f16 or bf16 (rounded, they alone would blur that
// difference). Rounding is judged separately, from the types: cuBLASLt adds
// the bias and applies the activation in f32 and rounds once to the output's
// type, never less accurate than an op that rounds C (or the sum) first.
//
//===----------------------------------------------------------------------===//
#include "GemmEpilogues.h"

#include "mpc/Runtime/CUDA/Abi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace mpc::cuda {
namespace {

/// A float constant's value; a constant of GELU's formulas rounded to the
/// op's type (f16, bf16, f32) counts as the exact constant it was rounded
/// from, as in the model before precision assignment.
double floatConstant(FloatAttr attr) {
  static const double kKnown[] = {0.044715, std::sqrt(2 / M_PI), M_SQRT1_2, M_SQRT2};
  for (double known : kKnown) {
    APFloat rounded(known);
    bool lost;
    rounded.convert(attr.getValue().getSemantics(), APFloat::rmNearestTiesToEven, &lost);
    if (rounded.bitwiseIsEqual(attr.getValue()))
      return known;
  }
  return attr.getValueAsDouble();
}

/// A float or integer constant's value.
std::optional<double> constantValue(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  if (auto f = dyn_cast<FloatAttr>(cst.getValue()))
    return floatConstant(f);
  if (auto i = dyn_cast<IntegerAttr>(cst.getValue()))
    return double(i.getValue().getSExtValue());
  return std::nullopt;
}

bool comparesTrue(arith::CmpFPredicate predicate, double a, double b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  using P = arith::CmpFPredicate;
  switch (predicate) {
  case P::AlwaysFalse:
    return false;
  case P::AlwaysTrue:
    return true;
  case P::OEQ:
    return !unordered && a == b;
  case P::OGT:
    return !unordered && a > b;
  case P::OGE:
    return !unordered && a >= b;
  case P::OLT:
    return !unordered && a < b;
  case P::OLE:
    return !unordered && a <= b;
  case P::ONE:
    return !unordered && a != b;
  case P::ORD:
    return !unordered;
  case P::UEQ:
    return unordered || a == b;
  case P::UGT:
    return unordered || a > b;
  case P::UGE:
    return unordered || a >= b;
  case P::ULT:
    return unordered || a < b;
  case P::ULE:
    return unordered || a <= b;
  case P::UNE:
    return unordered || a != b;
  case P::UNO:
    return unordered;
  }
  return false;
}

/// One op of a payload at known operand values; nullopt for an op this does
/// not know (anything with memory, indices or integer arithmetic).
std::optional<double> evaluateOp(Operation &op, ArrayRef<double> x) {
  using Result = std::optional<double>;
  return llvm::TypeSwitch<Operation *, Result>(&op)
      .Case([&](arith::AddFOp) { return x[0] + x[1]; })
      .Case([&](arith::SubFOp) { return x[0] - x[1]; })
      .Case([&](arith::MulFOp) { return x[0] * x[1]; })
      .Case([&](arith::DivFOp) { return x[0] / x[1]; })
      .Case([&](arith::NegFOp) { return -x[0]; })
      .Case<arith::MaximumFOp, arith::MaxNumFOp>([&](auto) { return std::fmax(x[0], x[1]); })
      .Case<arith::MinimumFOp, arith::MinNumFOp>([&](auto) { return std::fmin(x[0], x[1]); })
      .Case<arith::ExtFOp, arith::TruncFOp>([&](auto) { return x[0]; })
      .Case([&](arith::CmpFOp cmp) { return double(comparesTrue(cmp.getPredicate(), x[0], x[1])); })
      .Case([&](arith::SelectOp) { return x[0] != 0 ? x[1] : x[2]; })
      .Case([&](math::TanhOp) { return std::tanh(x[0]); })
      .Case([&](math::ErfOp) { return std::erf(x[0]); })
      .Case([&](math::ExpOp) { return std::exp(x[0]); })
      .Case([&](math::Exp2Op) { return std::exp2(x[0]); })
      .Case([&](math::LogOp) { return std::log(x[0]); })
      .Case([&](math::SqrtOp) { return std::sqrt(x[0]); })
      .Case([&](math::RsqrtOp) { return 1 / std::sqrt(x[0]); })
      .Case([&](math::AbsFOp) { return std::fabs(x[0]); })
      .Case<math::PowFOp, math::FPowIOp>([&](auto) { return std::pow(x[0], x[1]); })
      .Case([&](math::FmaOp) { return x[0] * x[1] + x[2]; })
      .Default([](Operation *) { return Result(); });
}

/// What `body` yields with `bound` block arguments set, in double precision;
/// nullopt where it holds an op evaluateOp does not know.
std::optional<double> evaluate(Block &body, ArrayRef<std::pair<Value, double>> bound) {
  llvm::DenseMap<Value, double> values(bound.begin(), bound.end());
  auto lookup = [&](Value v) -> std::optional<double> {
    if (auto it = values.find(v); it != values.end())
      return it->second;
    return constantValue(v); // also constants defined outside the body
  };
  for (Operation &op : body) {
    if (auto yield = dyn_cast<linalg::YieldOp>(op))
      return yield.getNumOperands() == 1 ? lookup(yield.getOperand(0)) : std::nullopt;
    if (op.getNumResults() != 1)
      return std::nullopt;
    if (auto value = constantValue(op.getResult(0))) {
      values[op.getResult(0)] = *value;
      continue;
    }
    SmallVector<double, 3> operands;
    for (Value operand : op.getOperands()) {
      std::optional<double> value = lookup(operand);
      if (!value)
        return std::nullopt;
      operands.push_back(*value);
    }
    std::optional<double> result = evaluateOp(op, operands);
    if (!result)
      return std::nullopt;
    values[op.getResult(0)] = *result;
  }
  return std::nullopt;
}

/// What cuBLASLt's epilogue `kind` computes from C's value and the bias.
double reference(int32_t kind, double c, double bias) {
  double x = (kind & MPC_MM_EPILOGUE_BIAS) ? c + bias : c;
  if (kind & MPC_MM_EPILOGUE_RELU)
    return std::max(x, 0.0);
  if (kind & MPC_MM_EPILOGUE_GELU)
    return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  return x;
}

/// The epilogue a payload computes from block arguments `c` and `bias` (null
/// without one), if it is one of cuBLASLt's.
std::optional<int32_t> classifyPayload(Block &body, Value c, Value bias) {
  // Both signs, around 0 (ReLU's kink) and where GELU's tanh and erf forms
  // differ most (|x| from 1 to 4).
  static const double kC[] = {-6.5, -3.4, -2.1, -1.2, -0.7, -0.25, -1e-3, 0.0,
                              1e-3, 0.3,  0.8,  1.4,  2.2,  3.1,   5.3};
  static const double kBias[] = {-1.3, 0.0, 0.45, 2.0}, kNoBias[] = {0.0};
  SmallVector<int32_t> candidates;
  if (bias)
    candidates = {MPC_MM_EPILOGUE_BIAS, MPC_MM_EPILOGUE_RELU_BIAS, MPC_MM_EPILOGUE_GELU_BIAS};
  else
    candidates = {MPC_MM_EPILOGUE_RELU, MPC_MM_EPILOGUE_GELU};
  ArrayRef<double> biases = bias ? ArrayRef<double>(kBias) : ArrayRef<double>(kNoBias);
  for (double cv : kC)
    for (double bv : biases) {
      SmallVector<std::pair<Value, double>, 2> bound = {{c, cv}};
      if (bias)
        bound.push_back({bias, bv});
      std::optional<double> got = evaluate(body, bound);
      if (!got)
        return std::nullopt;
      llvm::erase_if(candidates, [&](int32_t kind) {
        double want = reference(kind, cv, bv);
        return !(std::fabs(*got - want) <= 1e-5 * (1 + std::fabs(want)));
      });
      if (candidates.empty())
        return std::nullopt;
    }
  return candidates.front();
}

/// The positions of the dims of `c`'s buffer that form the GEMM's N (the
/// last group of its GEMM view).
SmallVector<int64_t> nDims(const GemmMatch &match) {
  SmallVector<int64_t> dims;
  for (int64_t j : match.groups[2].back())
    dims.push_back(match.perms[2][j]);
  return dims;
}

/// Whether `bias`, read by `op` through `map`, holds exactly the loops
/// `nLoops` in that order, contiguously (other dims constant 0 of size 1);
/// sets `length` to its element count.
bool biasOverN(Value bias, AffineMap map, ArrayRef<unsigned> nLoops, int64_t &length) {
  auto type = cast<MemRefType>(bias.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  SmallVector<unsigned> positions;
  for (auto [i, e] : llvm::enumerate(map.getResults())) {
    if (auto dim = dyn_cast<AffineDimExpr>(e)) {
      if (positions.size() >= nLoops.size() || dim.getPosition() != nLoops[positions.size()])
        return false;
      positions.push_back(i);
    } else if (auto cst = dyn_cast<AffineConstantExpr>(e)) {
      if (cst.getValue() != 0 || type.getDimSize(i) != 1)
        return false;
    } else {
      return false;
    }
  }
  if (positions.size() != nLoops.size())
    return false;
  length = 1;
  for (unsigned i : llvm::reverse(positions)) {
    if (type.getDimSize(i) != 1 && strides[i] != length)
      return false;
    length *= type.getDimSize(i);
  }
  return true;
}

/// Whether the bias can be handed to cuBLASLt in `outType` (its rule: the
/// bias has D's type) with the values the payload reads: the same type, an
/// exact widening, or a rounding the payload does itself first.
bool biasConvertible(BlockArgument arg, Type outType) {
  Type type = arg.getType();
  if (type == outType)
    return true;
  unsigned bits = type.getIntOrFloatBitWidth(), outBits = outType.getIntOrFloatBitWidth();
  if (bits < outBits)
    return true;
  return bits > outBits && llvm::all_of(arg.getUsers(), [&](Operation *user) {
           auto trunc = dyn_cast<arith::TruncFOp>(user);
           return trunc && trunc.getType() == outType;
         });
}

/// Whether `v` exists before `op` (an argument of its function, or defined
/// before it in its block) or can be made to: defined after it in its block
/// by an allocation without operands or a view of such values, which
/// `hoists` gets (operands first) to move before `op`.
bool hoistable(Value v, Operation *op, SmallVectorImpl<Operation *> &hoists) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    return arg.getOwner()->getParentOp() == op->getParentOp();
  Operation *def = v.getDefiningOp();
  if (def->getBlock() != op->getBlock())
    return false;
  if (def->isBeforeInBlock(op) || llvm::is_contained(hoists, def))
    return true;
  if (!(isa<memref::AllocOp>(def) && def->getNumOperands() == 0) &&
      !(isa<ViewLikeOpInterface>(def) && isMemoryEffectFree(def)))
    return false;
  for (Value operand : def->getOperands())
    if (!hoistable(operand, op, hoists))
      return false;
  hoists.push_back(def);
  return true;
}

} // namespace

StringRef epilogueName(int32_t kind) {
  switch (kind) {
  case MPC_MM_EPILOGUE_BIAS:
    return "bias";
  case MPC_MM_EPILOGUE_RELU:
    return "relu";
  case MPC_MM_EPILOGUE_RELU_BIAS:
    return "bias+relu";
  case MPC_MM_EPILOGUE_GELU:
    return "gelu_tanh";
  case MPC_MM_EPILOGUE_GELU_BIAS:
    return "bias+gelu_tanh";
  default:
    return "";
  }
}

std::optional<GemmEpilogue> matchGemmEpilogue(linalg::LinalgOp gemm, const GemmMatch &match) {
  if (!isa_and_nonnull<func::FuncOp>(gemm->getParentOp()) ||
      llvm::is_contained(gemm.getStaticLoopRanges(), 0))
    return std::nullopt;
  Value c = match.c->get(), cRoot = rootBuffer(c);
  Operation *next = gemm->getNextNode();
  while (next && !usesBuffer(next, cRoot))
    next = next->getNextNode();
  auto op = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!op || !op.hasPureBufferSemantics() || op.hasDynamicShape() ||
      op.getNumReductionLoops() != 0 || op.getNumDpsInits() != 1 || op.getNumDpsInputs() < 1 ||
      op.getNumDpsInputs() > 2)
    return std::nullopt;

  // Operand roles: C read once as itself, an optional bias, the output D.
  OpOperand *cInput = nullptr, *biasInput = nullptr;
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (input->get() == c && !cInput)
      cInput = input;
    else if (rootBuffer(input->get()) == cRoot)
      return std::nullopt;
    else
      biasInput = input;
  }
  OpOperand &init = op.getDpsInitsMutable()[0];
  Value out = init.get(), outRoot = rootBuffer(out);
  bool inPlace = out == c;
  if (!cInput || (!inPlace && outRoot == cRoot) || outRoot == rootBuffer(match.a->get()) ||
      outRoot == rootBuffer(match.b->get()) || isHostGlobal(out))
    return std::nullopt;
  BlockArgument cArg = op.getMatchingBlockArgument(cInput);
  BlockArgument biasArg = biasInput ? op.getMatchingBlockArgument(biasInput) : BlockArgument();
  if (!op.getMatchingBlockArgument(&init).use_empty())
    return std::nullopt;

  // D has C's shape and indexing, and a type cuBLASLt writes for these
  // inputs (f32 -> f32; f16 -> f16, f32; bf16 -> bf16, f32).
  auto cType = cast<MemRefType>(c.getType()), outType = cast<MemRefType>(out.getType());
  AffineMap cMap = op.getMatchingIndexingMap(cInput);
  if (cType.getShape() != outType.getShape() || cMap != op.getMatchingIndexingMap(&init) ||
      !cMap.isPermutation())
    return std::nullopt;
  std::optional<int32_t> outDtype = libraryDtype(outType.getElementType());
  if (!outDtype || (*outDtype != match.dtypes[0] && *outDtype != MPC_DT_F32))
    return std::nullopt;
  // D is C's GEMM view of `out`, row-major (N's stride 1): then cuBLASLt
  // computes D^T, whose rows, along which its bias runs, are N.
  SmallVector<int64_t> outStrides;
  int64_t outOffset;
  if (!collapsible(outType, match.perms[2], match.groups[2]) ||
      failed(outType.getStridesAndOffset(outStrides, outOffset)))
    return std::nullopt;
  SmallVector<int64_t> cN = nDims(match);
  int64_t nSize = 1;
  for (int64_t d : cN)
    nSize *= outType.getDimSize(d);
  if (nSize > 1 && outStrides[cN.back()] != 1)
    return std::nullopt;

  // The op moves up to the GEMM: its buffers must exist there (the output's
  // allocation and views in between move up too), and nothing in between
  // may touch them.
  Value biasRoot = biasInput ? rootBuffer(biasInput->get()) : Value();
  SmallVector<Operation *> hoists;
  if (!hoistable(out, gemm, hoists) || (biasInput && !hoistable(biasInput->get(), gemm, hoists)))
    return std::nullopt;
  for (Operation *between = gemm->getNextNode(); between != op; between = between->getNextNode())
    if (!llvm::is_contained(hoists, between) &&
        (usesBuffer(between, outRoot) || (biasRoot && usesBuffer(between, biasRoot))))
      return std::nullopt;
  // C is never written: nothing may read it afterwards.
  if (!inPlace) {
    if (!cRoot.getDefiningOp<memref::AllocOp>())
      return std::nullopt;
    for (Operation *after = op->getNextNode(); after; after = after->getNextNode())
      if (usesBuffer(after, cRoot) && !isa<memref::DeallocOp>(after))
        return std::nullopt;
  }

  GemmEpilogue epilogue;
  epilogue.op = op;
  epilogue.hoists = std::move(hoists);
  epilogue.out = out;
  epilogue.outDtype = *outDtype;
  if (biasInput) {
    Value bias = biasInput->get();
    SmallVector<unsigned> nLoops;
    for (int64_t d : cN)
      nLoops.push_back(cMap.getDimPosition(d));
    if (biasRoot == outRoot || isHostGlobal(bias) || !libraryDtype(biasArg.getType()) ||
        !biasOverN(bias, op.getMatchingIndexingMap(biasInput), nLoops, epilogue.biasLength) ||
        !biasConvertible(biasArg, outType.getElementType()))
      return std::nullopt;
    epilogue.bias = bias;
    if (biasArg.getType() != outType.getElementType())
      epilogue.biasCast = outType.getElementType();
  }
  if (!isa<FloatType>(cArg.getType()))
    return std::nullopt;
  std::optional<int32_t> kind = classifyPayload(*op.getBlock(), cArg, biasArg);
  if (!kind)
    return std::nullopt;
  epilogue.kind = *kind;
  return epilogue;
}

} // namespace mpc::cuda
