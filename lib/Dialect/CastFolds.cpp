//===- CastFolds.cpp - folding of mpc.cast ---------------------------------===//
//
// Casts are what precision assignment adds, so the folder is what keeps them
// from piling up: identity casts vanish, a cast of an exact widening is
// re-rooted at the narrow value, and casts of constants become constants.
// Nothing here may change a value at run time.
//
//===----------------------------------------------------------------------===//
#include "Folding.h"

#include "mpc/Dialect/CastElements.h"
#include "mpc/Dialect/MpcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APSInt.h"

#include <cstring>
#include <optional>
#include <vector>

using namespace mlir;
using llvm::APFloat;
using llvm::APFloatBase;
using llvm::APInt;

namespace mpc {

bool CastOp::isLossless(Type from, Type to) {
  from = getElementTypeOrSelf(from);
  to = getElementTypeOrSelf(to);
  if (from == to)
    return true;
  auto src = dyn_cast<FloatType>(from);
  auto dst = dyn_cast<FloatType>(to);
  if (!src || !dst)
    return false;
  const llvm::fltSemantics &a = src.getFloatSemantics();
  const llvm::fltSemantics &b = dst.getFloatSemantics();
  // isRepresentableBy compares only exponent range and precision; the special
  // values (inf, NaN, signed zero) must have somewhere to go as well.
  auto keeps = [&](bool (*has)(const llvm::fltSemantics &)) { return !has(a) || has(b); };
  return APFloatBase::isRepresentableBy(a, b) && keeps(APFloatBase::semanticsHasInf) &&
         keeps(APFloatBase::semanticsHasNaN) && keeps(APFloatBase::semanticsHasSignedRepr) &&
         keeps(APFloatBase::semanticsHasZero);
}

/// Round-to-nearest-even into `to`. With `saturate`, a float cast into fp8
/// clamps overflows and infinities to the largest finite value of their sign
/// (ONNX Cast, OCP fp8) where IEEE rounding gives inf, or NaN in formats
/// without inf; the lowering does the same, so folding cannot change a value.
APFloat roundFloat(APFloat value, const llvm::fltSemantics &to, bool saturate) {
  bool wasNaN = value.isNaN();
  bool negative = value.isNegative();
  bool toFloat8 = APFloatBase::semanticsSizeInBits(to) == 8;
  // APFloat carries NaN payload bits over; the compiled cast and ml_dtypes
  // give the canonical quiet NaN (E5M2 0x7E, not 0x7F), so must the folder.
  if (wasNaN && toFloat8)
    return APFloat::getQNaN(to, negative);
  bool losesInfo = false;
  // f64 reaches fp8 through f32 in the compiled cast, as in ml_dtypes and
  // onnxruntime (both round twice); folding must give the same code.
  if (toFloat8 && APFloatBase::semanticsSizeInBits(value.getSemantics()) > 32)
    (void)value.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &losesInfo);
  (void)value.convert(to, APFloat::rmNearestTiesToEven, &losesInfo);
  bool overflowed = !wasNaN && (value.isNaN() || value.isInfinity());
  if (saturate && overflowed && toFloat8)
    return APFloat::getLargest(to, negative);
  return value;
}

/// Integers are signed except i1 (a bool: true is 1) and ui8..ui64.
static bool isSignedInt(Type type) { return type.isSignlessInteger() && !type.isInteger(1); }

/// ONNX saturates float -> fp8 casts only, so integers never do.
static APFloat intToFloat(const APInt &value, bool isSigned, const llvm::fltSemantics &to) {
  // IEEE quad holds every integer up to 113 bits exactly, so the only rounding
  // happens once, in roundFloat.
  APFloat wide(APFloat::IEEEquad());
  (void)wide.convertFromAPInt(value, isSigned, APFloat::rmNearestTiesToEven);
  return roundFloat(wide, to, /*saturate=*/false);
}

/// Truncates toward zero; no fold when the value (or NaN) has no integer image.
/// Into i1 (a bool) it is `value != 0`, NaN included, as the lowering compares.
static std::optional<APInt> floatToInt(const APFloat &value, unsigned width) {
  if (width == 1)
    return APInt(1, !value.isZero());
  llvm::APSInt result(width, /*isUnsigned=*/false);
  bool exact = false;
  if (value.convertToInteger(result, APFloat::rmTowardZero, &exact) & APFloat::opInvalidOp)
    return std::nullopt;
  return APInt(result);
}

/// Applies `convert` to every element (once for a splat); null when any
/// element cannot be converted.
template <typename From, typename To>
static Attribute mapElements(DenseElementsAttr input, ShapedType type,
                             llvm::function_ref<std::optional<To>(const From &)> convert) {
  if (input.isSplat()) {
    std::optional<To> value = convert(input.getSplatValue<From>());
    return value ? DenseElementsAttr::get(type, llvm::ArrayRef<To>(*value)) : Attribute();
  }
  llvm::SmallVector<To> values;
  values.reserve(input.getNumElements());
  for (const From &element : input.getValues<From>()) {
    std::optional<To> value = convert(element);
    if (!value)
      return {};
    values.push_back(*value);
  }
  return DenseElementsAttr::get(type, values);
}

/// f32 bits -> bf16 bits, round to nearest even; not for NaN.
static uint16_t roundToBFloat16Bits(uint32_t bits) {
  return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

/// f32 bits -> f16 bits, round to nearest even, with f16 subnormals,
/// overflow to inf and ties to even at every boundary; not for NaN.
static uint16_t roundToFloat16Bits(uint32_t bits) {
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t magnitude = bits & 0x7FFFFFFFu;
  // 65520 is halfway between 65504 (the largest f16) and 65536; its tie
  // goes to the even neighbour, which is inf.
  if (magnitude >= 0x477FF000u)
    return sign | 0x7C00u;
  if (magnitude >= 0x38800000u) { // 2^-14 and up: normal
    uint32_t rebiased = magnitude - 0x38000000u; // exponent bias 127 -> 15
    return sign | static_cast<uint16_t>((rebiased + 0xFFFu + ((rebiased >> 13) & 1u)) >> 13);
  }
  if (magnitude <= 0x33000000u) // up to 2^-25, half the smallest subnormal
    return sign;
  // A subnormal result: the value in units of 2^-24, rounded.
  uint32_t exponent = magnitude >> 23;
  uint32_t mantissa = (magnitude & 0x7FFFFFu) | 0x800000u;
  unsigned shift = 126 - exponent; // 14 ... 24
  uint32_t result = mantissa >> shift;
  uint32_t rest = mantissa & ((1u << shift) - 1);
  uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (result & 1u)))
    ++result;
  return sign | static_cast<uint16_t>(result);
}

/// f32 -> bf16/f16 of stored data straight on the bits, without an APFloat
/// per element (a BERT-base weight set is 10^8 of them): the same results
/// as roundFloat for every non-NaN value (unittests/CastTest.cpp compares
/// them). Null for splats, other types, and data holding a NaN (the APFloat
/// path then decides its bits).
static Attribute castFloat32Bits(DenseElementsAttr input, ShapedType type) {
  if (input.isSplat() || !input.getElementType().isF32())
    return {};
  Type to = type.getElementType();
  bool toBF16 = to.isBF16();
  if (!toBF16 && !to.isF16())
    return {};
  ArrayRef<char> raw = input.getRawData();
  size_t count = input.getNumElements();
  if (raw.size() != count * sizeof(uint32_t))
    return {};
  std::vector<uint16_t> out(count);
  for (size_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, raw.data() + i * sizeof(uint32_t), sizeof(bits));
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
      return {};
    out[i] = toBF16 ? roundToBFloat16Bits(bits) : roundToFloat16Bits(bits);
  }
  return DenseElementsAttr::getFromRawBuffer(
      type, ArrayRef<char>(reinterpret_cast<const char *>(out.data()), count * sizeof(uint16_t)));
}

Attribute castElements(DenseElementsAttr input, ShapedType type, bool saturate) {
  Type from = input.getElementType();
  if (!from.isIntOrIndexOrFloat())
    return {};
  if (Attribute fast = castFloat32Bits(input, type))
    return fast;
  bool fromSigned = isSignedInt(from);
  bool fromFloat = isa<FloatType>(from);
  Type to = type.getElementType();
  if (auto toFloat = dyn_cast<FloatType>(to)) {
    const llvm::fltSemantics &semantics = toFloat.getFloatSemantics();
    if (fromFloat)
      return mapElements<APFloat, APFloat>(input, type, [&](const APFloat &v) {
        return std::optional<APFloat>(roundFloat(v, semantics, saturate));
      });
    return mapElements<APInt, APFloat>(input, type, [&](const APInt &v) {
      return std::optional<APFloat>(intToFloat(v, fromSigned, semantics));
    });
  }
  auto toInt = dyn_cast<IntegerType>(to);
  if (!toInt)
    return {};
  unsigned width = toInt.getWidth();
  // Float -> unsigned is left to the lowering's fptoui.
  if (fromFloat && toInt.isUnsigned())
    return {};
  if (fromFloat)
    return mapElements<APFloat, APInt>(input, type,
                                       [&](const APFloat &v) { return floatToInt(v, width); });
  return mapElements<APInt, APInt>(input, type, [&](const APInt &v) {
    if (width == 1)
      return std::optional<APInt>(APInt(1, !v.isZero()));
    return std::optional<APInt>(fromSigned ? v.sextOrTrunc(width) : v.zextOrTrunc(width));
  });
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  Type to = getType();
  if (getInput().getType() == to)
    return getInput();

  // cast(cast(x : A -> B) -> C): when A -> B is exact, x already holds the
  // values the outer cast sees, so it can read x directly.
  if (auto inner = getInput().getDefiningOp<CastOp>()) {
    Value source = inner.getInput();
    if (isLossless(source.getType(), inner.getType())) {
      if (source.getType() == to)
        return source;
      getInputMutable().assign(source);
      return getResult();
    }
  }

  // Once the lowering has made unsigned values signless, only its marks
  // tell how to read them: the compiled cast does.
  bool marked = (*this)->hasAttr(kUnsignedOperandsAttr) || (*this)->hasAttr(kUnsignedResultsAttr);
  if (auto elements = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput()); elements && !marked)
    return castElements(elements, cast<ShapedType>(to), getSaturate());
  return {};
}

/// Folded casts of constants become arith.constant, the constant op of the
/// dialects mpc lowers through.
Operation *MpcDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                           Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}

} // namespace mpc
