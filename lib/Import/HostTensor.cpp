//===- HostTensor.cpp - constants the importer holds on the host -----------===//
#include "HostTensor.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <limits>

using namespace mpc::importer;
using llvm::APFloat;
using llvm::ArrayRef;

std::string mpc::importer::dtypeName(int32_t dtype) {
  switch (dtype) {
  case kFloat:
    return "float";
  case kUInt8:
    return "uint8";
  case kInt8:
    return "int8";
  case kUInt16:
    return "uint16";
  case kInt16:
    return "int16";
  case kInt32:
    return "int32";
  case kInt64:
    return "int64";
  case kString:
    return "string";
  case kBool:
    return "bool";
  case kFloat16:
    return "float16";
  case kDouble:
    return "double";
  case kUInt32:
    return "uint32";
  case kUInt64:
    return "uint64";
  case kBFloat16:
    return "bfloat16";
  case kFloat8E4M3FN:
    return "float8e4m3fn";
  case kFloat8E4M3FNUZ:
    return "float8e4m3fnuz";
  case kFloat8E5M2:
    return "float8e5m2";
  case kFloat8E5M2FNUZ:
    return "float8e5m2fnuz";
  default: {
    // The TensorProto types of opsets 21-28, which mpc has no counterpart
    // for: named so that errors about them say which type is at fault.
    static const char *const kNewer[] = {"uint4",      "int4",       "float4e2m1", "float8e8m0",
                                         "uint2",      "int2",       "float6e2m3", "float6e3m2"};
    if (dtype >= 21 && dtype < 21 + int32_t(std::size(kNewer)))
      return kNewer[dtype - 21];
    return "data type " + std::to_string(dtype);
  }
  }
}

bool mpc::importer::isFloatDType(int32_t dtype) {
  switch (dtype) {
  case kFloat:
  case kFloat16:
  case kDouble:
  case kBFloat16:
  case kFloat8E4M3FN:
  case kFloat8E4M3FNUZ:
  case kFloat8E5M2:
  case kFloat8E5M2FNUZ:
    return true;
  default:
    return false;
  }
}

bool mpc::importer::isIntegerDType(int32_t dtype) {
  switch (dtype) {
  case kUInt8:
  case kInt8:
  case kUInt16:
  case kInt16:
  case kInt32:
  case kInt64:
  case kBool:
  case kUInt32:
  case kUInt64:
    return true;
  default:
    return false;
  }
}

int64_t mpc::importer::floatByteWidth(int32_t dtype) {
  switch (dtype) {
  case kDouble:
    return 8;
  case kFloat:
    return 4;
  case kFloat16:
  case kBFloat16:
    return 2;
  default:
    return 1;
  }
}

int64_t mpc::importer::checkedNumElements(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0 || d > kMaxTensorElements)
      return -1;
    if (d != 0 && count > kMaxTensorElements / d)
      return -1;
    count *= d;
  }
  return count;
}

static const llvm::fltSemantics *semanticsOf(int32_t dtype) {
  switch (dtype) {
  case kFloat:
    return &APFloat::IEEEsingle();
  case kDouble:
    return &APFloat::IEEEdouble();
  case kFloat16:
    return &APFloat::IEEEhalf();
  case kBFloat16:
    return &APFloat::BFloat();
  case kFloat8E4M3FN:
    return &APFloat::Float8E4M3FN();
  case kFloat8E4M3FNUZ:
    return &APFloat::Float8E4M3FNUZ();
  case kFloat8E5M2:
    return &APFloat::Float8E5M2();
  case kFloat8E5M2FNUZ:
    return &APFloat::Float8E5M2FNUZ();
  default:
    return nullptr;
  }
}

static double toDouble(APFloat value) {
  bool losesInfo = false;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
  return value.convertToDouble();
}

double mpc::importer::roundToDType(double value, int32_t dtype) {
  const llvm::fltSemantics *sem = semanticsOf(dtype);
  if (!sem || dtype == kDouble)
    return value;
  APFloat f(value);
  bool losesInfo = false;
  f.convert(*sem, APFloat::rmNearestTiesToEven, &losesInfo);
  return toDouble(f);
}

double mpc::importer::decodeFloatBits(uint64_t bits, int32_t dtype) {
  const llvm::fltSemantics *sem = semanticsOf(dtype);
  if (!sem)
    return 0.0;
  unsigned width = APFloat::getSizeInBits(*sem);
  return toDouble(APFloat(*sem, llvm::APInt(width, bits)));
}

int64_t mpc::importer::wrapToDType(int64_t value, int32_t dtype) {
  switch (dtype) {
  case kBool:
    return value != 0;
  case kInt8:
    return int8_t(uint8_t(uint64_t(value)));
  case kUInt8:
    return int64_t(uint64_t(value) & 0xff);
  case kInt16:
    return int16_t(uint16_t(uint64_t(value)));
  case kUInt16:
    return int64_t(uint64_t(value) & 0xffff);
  case kInt32:
    return int32_t(uint32_t(uint64_t(value)));
  case kUInt32:
    return int64_t(uint64_t(value) & 0xffffffffu);
  default:
    return value;
  }
}

/// Truncates toward zero, saturating instead of the undefined behaviour of an
/// out-of-range cast; NaN gives 0.
static int64_t doubleToInt64(double v) {
  if (std::isnan(v))
    return 0;
  if (v >= 9.2233720368547758e18)
    return std::numeric_limits<int64_t>::max();
  if (v <= -9.2233720368547758e18)
    return std::numeric_limits<int64_t>::min();
  return int64_t(v);
}

int64_t HostTensor::getInt(int64_t i) const {
  return isFloat() ? doubleToInt64(floats[i]) : ints[i];
}

HostTensor HostTensor::fromInts(ArrayRef<int64_t> values, ArrayRef<int64_t> shape, int32_t dtype) {
  HostTensor t;
  t.dtype = dtype;
  t.shape.assign(shape.begin(), shape.end());
  t.ints.reserve(values.size());
  for (int64_t v : values)
    t.ints.push_back(wrapToDType(v, dtype));
  return t;
}

HostTensor HostTensor::fromDoubles(ArrayRef<double> values, ArrayRef<int64_t> shape,
                                   int32_t dtype) {
  HostTensor t;
  t.dtype = dtype;
  t.shape.assign(shape.begin(), shape.end());
  t.floats.reserve(values.size());
  for (double v : values)
    t.floats.push_back(roundToDType(v, dtype));
  return t;
}

HostTensor HostTensor::splat(const HostTensor &value, ArrayRef<int64_t> shape) {
  HostTensor t;
  t.dtype = value.dtype;
  t.shape.assign(shape.begin(), shape.end());
  int64_t n = checkedNumElements(shape);
  if (value.isFloat())
    t.floats.assign(n, value.floats.empty() ? 0.0 : value.floats[0]);
  else
    t.ints.assign(n, value.ints.empty() ? 0 : value.ints[0]);
  return t;
}

namespace {
/// A zero-filled tensor, to be written element by element.
HostTensor emptyOf(ArrayRef<int64_t> shape, int32_t dtype) {
  HostTensor t;
  t.dtype = dtype;
  t.shape.assign(shape.begin(), shape.end());
  int64_t n = checkedNumElements(shape);
  if (isFloatDType(dtype))
    t.floats.resize(n);
  else
    t.ints.resize(n);
  return t;
}

/// Strides of `in` as seen from an `out`-shaped iteration under numpy
/// broadcasting: 0 on broadcast (size-1 or missing) dims.
Shape broadcastStrides(ArrayRef<int64_t> in, ArrayRef<int64_t> out) {
  Shape own(in.size(), 1);
  for (int64_t i = int64_t(in.size()) - 2; i >= 0; --i)
    own[i] = own[i + 1] * in[i + 1];
  Shape strides(out.size(), 0);
  size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    strides[lead + i] = in[i] == 1 ? 0 : own[i];
  return strides;
}

double fp8Max(int32_t dtype) {
  switch (dtype) {
  case kFloat8E4M3FN:
    return 448.0;
  case kFloat8E4M3FNUZ:
    return 240.0;
  case kFloat8E5M2:
  case kFloat8E5M2FNUZ:
    return 57344.0;
  default:
    return std::numeric_limits<double>::infinity();
  }
}
} // namespace

HostTensor mpc::importer::hostCast(const HostTensor &input, int32_t to, bool saturate) {
  HostTensor out = emptyOf(input.shape, to);
  bool fp8 = to >= kFloat8E4M3FN && to <= kFloat8E5M2FNUZ;
  for (int64_t i = 0, e = input.size(); i < e; ++i) {
    if (isFloatDType(to)) {
      double v = input.getDouble(i);
      if (fp8 && saturate && !std::isnan(v)) {
        double max = fp8Max(to);
        bool keepInf = to == kFloat8E5M2 && std::isinf(v);
        if (!keepInf)
          v = std::clamp(v, -max, max);
      }
      out.floats[i] = roundToDType(v, to);
    } else if (to == kBool) {
      out.ints[i] = input.isFloat() ? input.floats[i] != 0.0 : input.ints[i] != 0;
    } else {
      out.ints[i] = wrapToDType(input.getInt(i), to);
    }
  }
  return out;
}

static double floatUnary(HostUnary kind, double v) {
  switch (kind) {
  case HostUnary::Floor:
    return std::floor(v);
  case HostUnary::Ceil:
    return std::ceil(v);
  case HostUnary::Exp:
    return std::exp(v);
  case HostUnary::Log:
    return std::log(v);
  case HostUnary::Not:
    break;
  }
  return v;
}

mlir::FailureOr<HostTensor> mpc::importer::hostUnary(HostUnary kind, const HostTensor &input,
                                                     std::string &error) {
  if (kind != HostUnary::Not && !input.isFloat()) {
    error = "expects a floating-point input, got " + dtypeName(input.dtype);
    return mlir::failure();
  }
  if (kind == HostUnary::Not && input.dtype != kBool) {
    error = "expects a bool input, got " + dtypeName(input.dtype);
    return mlir::failure();
  }
  HostTensor out = emptyOf(input.shape, input.dtype);
  for (int64_t i = 0, e = input.size(); i < e; ++i) {
    if (kind == HostUnary::Not)
      out.ints[i] = !input.ints[i];
    else
      out.floats[i] = roundToDType(floatUnary(kind, input.floats[i]), input.dtype);
  }
  return out;
}

/// Integer pow by squaring with wrap-around; negative exponents give
/// 1/base^-e truncated toward zero, as a C++ integer division would.
static int64_t intPow(int64_t base, int64_t exp) {
  if (exp < 0)
    return base == 1 ? 1 : base == -1 ? (exp % 2 ? -1 : 1) : 0;
  uint64_t result = 1, factor = uint64_t(base);
  while (exp) {
    if (exp & 1)
      result *= factor;
    factor *= factor;
    exp >>= 1;
  }
  return int64_t(result);
}

static double roundedPow(const HostTensor &lhs, const HostTensor &rhs, int64_t a, int64_t b) {
  return roundToDType(std::pow(lhs.getDouble(a), rhs.getDouble(b)), lhs.dtype);
}

mlir::FailureOr<HostTensor> mpc::importer::hostBinary(HostBinary kind, const HostTensor &lhs,
                                                      const HostTensor &rhs, std::string &error) {
  bool isPow = kind == HostBinary::Pow;
  if (!isPow && (lhs.dtype != kBool || rhs.dtype != kBool)) {
    error = "expects bool operands, got " + dtypeName(lhs.dtype) + " and " + dtypeName(rhs.dtype);
    return mlir::failure();
  }
  mlir::FailureOr<Shape> outShape = shape::broadcast(lhs.shape, rhs.shape, error);
  if (mlir::failed(outShape))
    return mlir::failure();
  HostTensor out = emptyOf(*outShape, isPow ? lhs.dtype : int32_t(kBool));
  bool floatPow = lhs.isFloat() || rhs.isFloat();
  Shape outStrides(outShape->size(), 1);
  for (int64_t d = int64_t(outShape->size()) - 2; d >= 0; --d)
    outStrides[d] = outStrides[d + 1] * (*outShape)[d + 1];
  Shape lhsStrides = broadcastStrides(lhs.shape, *outShape);
  Shape rhsStrides = broadcastStrides(rhs.shape, *outShape);
  for (int64_t i = 0, e = out.size(); i < e; ++i) {
    int64_t rest = i, a = 0, b = 0;
    for (size_t d = 0; d < outShape->size(); ++d) {
      int64_t index = rest / outStrides[d];
      rest %= outStrides[d];
      a += index * lhsStrides[d];
      b += index * rhsStrides[d];
    }
    if (isPow && out.isFloat()) {
      out.floats[i] = roundedPow(lhs, rhs, a, b);
    } else if (isPow) {
      out.ints[i] = wrapToDType(floatPow ? doubleToInt64(std::pow(lhs.getDouble(a), rhs.getDouble(b)))
                                         : intPow(lhs.ints[a], rhs.ints[b]),
                                lhs.dtype);
    } else {
      bool x = lhs.ints[a] != 0, y = rhs.ints[b] != 0;
      out.ints[i] = kind == HostBinary::And ? x && y : kind == HostBinary::Or ? x || y : x != y;
    }
  }
  return out;
}

HostTensor mpc::importer::hostReduce(HostReduce kind, const HostTensor &input,
                                     ArrayRef<int64_t> axes, bool keepdims) {
  Shape kept = input.shape;
  int64_t count = 1;
  for (int64_t axis : axes) {
    count *= kept[axis];
    kept[axis] = 1;
  }
  std::vector<double> acc(checkedNumElements(kept), kind == HostReduce::Prod ? 1.0 : 0.0);
  Shape inStrides(input.shape.size(), 1), keptStrides(kept.size(), 1);
  for (int64_t d = int64_t(kept.size()) - 2; d >= 0; --d) {
    inStrides[d] = inStrides[d + 1] * input.shape[d + 1];
    keptStrides[d] = keptStrides[d + 1] * kept[d + 1];
  }
  for (int64_t i = 0, e = input.size(); i < e; ++i) {
    int64_t rest = i, dst = 0;
    for (size_t d = 0; d < kept.size(); ++d) {
      int64_t index = rest / inStrides[d];
      rest %= inStrides[d];
      if (kept[d] == input.shape[d])
        dst += index * keptStrides[d];
    }
    if (kind == HostReduce::Prod)
      acc[dst] *= input.floats[i];
    else
      acc[dst] += input.floats[i];
  }
  if (kind == HostReduce::Mean)
    for (double &v : acc)
      v = count ? v / double(count) : NAN;
  Shape outShape;
  for (size_t d = 0; d < kept.size(); ++d)
    if (keepdims || !llvm::is_contained(axes, int64_t(d)))
      outShape.push_back(kept[d]);
  return HostTensor::fromDoubles(acc, outShape, input.dtype);
}
