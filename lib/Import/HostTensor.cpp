//===- HostTensor.cpp - constant folding of ONNX shape chains -------------===//
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

Shape mpc::importer::stridesOf(ArrayRef<int64_t> shape) {
  Shape strides(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
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

void copyElement(HostTensor &dst, int64_t di, const HostTensor &src, int64_t si) {
  if (src.isFloat())
    dst.floats[di] = src.floats[si];
  else
    dst.ints[di] = src.ints[si];
}

/// Strides of `in` as seen from an `out`-shaped iteration under numpy
/// broadcasting: 0 on broadcast (size-1 or missing) dims.
Shape broadcastStrides(ArrayRef<int64_t> in, ArrayRef<int64_t> out) {
  Shape strides(out.size(), 0);
  Shape own = stridesOf(in);
  size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i)
    strides[lead + i] = in[i] == 1 ? 0 : own[i];
  return strides;
}

/// Calls fn(outIndex, inOffsets) for every element of `out`.
template <typename Fn>
void forEachBroadcast(ArrayRef<int64_t> out, ArrayRef<ArrayRef<int64_t>> ins, Fn fn) {
  int64_t n = checkedNumElements(out);
  std::vector<Shape> strides;
  for (ArrayRef<int64_t> in : ins)
    strides.push_back(broadcastStrides(in, out));
  Shape outStrides = stridesOf(out);
  llvm::SmallVector<int64_t, 3> offsets(ins.size());
  for (int64_t i = 0; i < n; ++i) {
    std::fill(offsets.begin(), offsets.end(), 0);
    int64_t rest = i;
    for (size_t d = 0; d < out.size(); ++d) {
      int64_t idx = rest / outStrides[d];
      rest %= outStrides[d];
      for (size_t k = 0; k < ins.size(); ++k)
        offsets[k] += idx * strides[k][d];
    }
    fn(i, ArrayRef<int64_t>(offsets));
  }
}

int64_t wrapAdd(int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); }
int64_t wrapSub(int64_t a, int64_t b) { return int64_t(uint64_t(a) - uint64_t(b)); }
int64_t wrapMul(int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); }

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

mlir::FailureOr<HostTensor> mpc::importer::hostUnary(HostUnary kind, const HostTensor &input,
                                                     std::string &error) {
  bool needsFloat = kind == HostUnary::Sqrt || kind == HostUnary::Exp || kind == HostUnary::Log ||
                    kind == HostUnary::Reciprocal || kind == HostUnary::Floor ||
                    kind == HostUnary::Ceil;
  if (needsFloat && !input.isFloat()) {
    error = "expects a floating-point input, got " + dtypeName(input.dtype);
    return mlir::failure();
  }
  if (kind == HostUnary::Not && input.dtype != kBool) {
    error = "expects a bool input, got " + dtypeName(input.dtype);
    return mlir::failure();
  }
  HostTensor out = emptyOf(input.shape, input.dtype);
  for (int64_t i = 0, e = input.size(); i < e; ++i) {
    if (input.isFloat()) {
      double v = input.floats[i], r = v;
      switch (kind) {
      case HostUnary::Neg:
        r = -v;
        break;
      case HostUnary::Abs:
        r = std::fabs(v);
        break;
      case HostUnary::Sqrt:
        r = std::sqrt(v);
        break;
      case HostUnary::Exp:
        r = std::exp(v);
        break;
      case HostUnary::Log:
        r = std::log(v);
        break;
      case HostUnary::Reciprocal:
        r = 1.0 / v;
        break;
      case HostUnary::Relu:
        r = v > 0.0 ? v : 0.0;
        break;
      case HostUnary::Floor:
        r = std::floor(v);
        break;
      case HostUnary::Ceil:
        r = std::ceil(v);
        break;
      case HostUnary::Not:
        break;
      }
      out.floats[i] = roundToDType(r, input.dtype);
    } else {
      int64_t v = input.ints[i], r = v;
      switch (kind) {
      case HostUnary::Neg:
        r = wrapSub(0, v);
        break;
      case HostUnary::Abs:
        r = v < 0 ? wrapSub(0, v) : v;
        break;
      case HostUnary::Relu:
        r = v > 0 ? v : 0;
        break;
      case HostUnary::Not:
        r = !v;
        break;
      default:
        break;
      }
      out.ints[i] = wrapToDType(r, input.dtype);
    }
  }
  return out;
}

static bool isComparison(HostBinary kind) {
  switch (kind) {
  case HostBinary::Equal:
  case HostBinary::Less:
  case HostBinary::LessOrEqual:
  case HostBinary::Greater:
  case HostBinary::GreaterOrEqual:
    return true;
  default:
    return false;
  }
}

static bool isLogical(HostBinary kind) {
  return kind == HostBinary::And || kind == HostBinary::Or || kind == HostBinary::Xor;
}

template <typename T> static bool compare(HostBinary kind, T a, T b) {
  switch (kind) {
  case HostBinary::Equal:
    return a == b;
  case HostBinary::Less:
    return a < b;
  case HostBinary::LessOrEqual:
    return a <= b;
  case HostBinary::Greater:
    return a > b;
  default:
    return a >= b;
  }
}

static double floatBinary(HostBinary kind, double a, double b) {
  switch (kind) {
  case HostBinary::Add:
    return a + b;
  case HostBinary::Sub:
    return a - b;
  case HostBinary::Mul:
    return a * b;
  case HostBinary::Div:
    return a / b;
  case HostBinary::Pow:
    return std::pow(a, b);
  case HostBinary::Max:
    return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
  case HostBinary::Min:
    return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
  default:
    return 0.0;
  }
}

/// Integer pow by squaring with wrap-around; negative exponents give
/// 1/base^-e truncated toward zero, as a C++ integer division would.
static int64_t intPow(int64_t base, int64_t exp) {
  if (exp < 0)
    return base == 1 ? 1 : base == -1 ? (exp % 2 ? -1 : 1) : 0;
  int64_t result = 1;
  while (exp) {
    if (exp & 1)
      result = wrapMul(result, base);
    base = wrapMul(base, base);
    exp >>= 1;
  }
  return result;
}

mlir::FailureOr<HostTensor> mpc::importer::hostBinary(HostBinary kind, const HostTensor &lhs,
                                                      const HostTensor &rhs, std::string &error) {
  if (kind != HostBinary::Pow && lhs.dtype != rhs.dtype) {
    error = "operand types differ (" + dtypeName(lhs.dtype) + " and " + dtypeName(rhs.dtype) + ")";
    return mlir::failure();
  }
  if (isLogical(kind) && lhs.dtype != kBool) {
    error = "expects bool operands, got " + dtypeName(lhs.dtype);
    return mlir::failure();
  }
  mlir::FailureOr<Shape> outShape = shape::broadcast(lhs.shape, rhs.shape, error);
  if (mlir::failed(outShape))
    return mlir::failure();
  int32_t outType = isComparison(kind) ? int32_t(kBool) : lhs.dtype;
  HostTensor out = emptyOf(*outShape, outType);
  bool floatMath = lhs.isFloat() || rhs.isFloat();
  bool divByZero = false;
  ArrayRef<int64_t> shapes[] = {lhs.shape, rhs.shape};
  forEachBroadcast(*outShape, shapes, [&](int64_t i, ArrayRef<int64_t> at) {
    if (isComparison(kind)) {
      out.ints[i] = floatMath ? compare(kind, lhs.getDouble(at[0]), rhs.getDouble(at[1]))
                              : compare(kind, lhs.ints[at[0]], rhs.ints[at[1]]);
      return;
    }
    if (floatMath) {
      double r = floatBinary(kind, lhs.getDouble(at[0]), rhs.getDouble(at[1]));
      if (out.isFloat())
        out.floats[i] = roundToDType(r, outType);
      else
        out.ints[i] = wrapToDType(doubleToInt64(r), outType);
      return;
    }
    int64_t a = lhs.ints[at[0]], b = rhs.ints[at[1]], r = 0;
    switch (kind) {
    case HostBinary::Add:
      r = wrapAdd(a, b);
      break;
    case HostBinary::Sub:
      r = wrapSub(a, b);
      break;
    case HostBinary::Mul:
      r = wrapMul(a, b);
      break;
    case HostBinary::Div:
      if (b == 0)
        divByZero = true;
      else
        r = (b == -1) ? wrapSub(0, a) : a / b;
      break;
    case HostBinary::Pow:
      r = intPow(a, b);
      break;
    case HostBinary::Max:
      r = std::max(a, b);
      break;
    case HostBinary::Min:
      r = std::min(a, b);
      break;
    case HostBinary::And:
      r = a && b;
      break;
    case HostBinary::Or:
      r = a || b;
      break;
    case HostBinary::Xor:
      r = (a != 0) != (b != 0);
      break;
    default:
      break;
    }
    out.ints[i] = wrapToDType(r, outType);
  });
  if (divByZero) {
    error = "integer division by zero";
    return mlir::failure();
  }
  return out;
}

mlir::FailureOr<HostTensor> mpc::importer::hostWhere(const HostTensor &cond, const HostTensor &x,
                                                     const HostTensor &y, std::string &error) {
  if (cond.dtype != kBool) {
    error = "condition must be bool, got " + dtypeName(cond.dtype);
    return mlir::failure();
  }
  if (x.dtype != y.dtype) {
    error = "X and Y types differ (" + dtypeName(x.dtype) + " and " + dtypeName(y.dtype) + ")";
    return mlir::failure();
  }
  mlir::FailureOr<Shape> xy = shape::broadcast(x.shape, y.shape, error);
  if (mlir::failed(xy))
    return mlir::failure();
  mlir::FailureOr<Shape> outShape = shape::broadcast(cond.shape, *xy, error);
  if (mlir::failed(outShape))
    return mlir::failure();
  HostTensor out = emptyOf(*outShape, x.dtype);
  ArrayRef<int64_t> shapes[] = {cond.shape, x.shape, y.shape};
  forEachBroadcast(*outShape, shapes, [&](int64_t i, ArrayRef<int64_t> at) {
    if (cond.ints[at[0]])
      copyElement(out, i, x, at[1]);
    else
      copyElement(out, i, y, at[2]);
  });
  return out;
}

HostTensor mpc::importer::hostReshape(const HostTensor &input, ArrayRef<int64_t> shape) {
  HostTensor out = input;
  out.shape.assign(shape.begin(), shape.end());
  return out;
}

HostTensor mpc::importer::hostTranspose(const HostTensor &input, ArrayRef<int64_t> perm) {
  Shape outShape;
  for (int64_t p : perm)
    outShape.push_back(input.shape[p]);
  HostTensor out = emptyOf(outShape, input.dtype);
  Shape inStrides = stridesOf(input.shape), outStrides = stridesOf(outShape);
  for (int64_t i = 0, e = out.size(); i < e; ++i) {
    int64_t rest = i, src = 0;
    for (size_t d = 0; d < perm.size(); ++d) {
      src += (rest / outStrides[d]) * inStrides[perm[d]];
      rest %= outStrides[d];
    }
    copyElement(out, i, input, src);
  }
  return out;
}

HostTensor mpc::importer::hostBroadcastTo(const HostTensor &input, ArrayRef<int64_t> shape) {
  HostTensor out = emptyOf(shape, input.dtype);
  ArrayRef<int64_t> shapes[] = {input.shape};
  forEachBroadcast(shape, shapes,
                   [&](int64_t i, ArrayRef<int64_t> at) { copyElement(out, i, input, at[0]); });
  return out;
}

HostTensor mpc::importer::hostConcat(ArrayRef<const HostTensor *> inputs, int64_t axis) {
  Shape outShape = inputs.front()->shape;
  outShape[axis] = 0;
  for (const HostTensor *in : inputs)
    outShape[axis] += in->shape[axis];
  HostTensor out = emptyOf(outShape, inputs.front()->dtype);
  int64_t outer = checkedNumElements(ArrayRef<int64_t>(outShape).take_front(axis));
  int64_t i = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (const HostTensor *in : inputs) {
      int64_t chunk = checkedNumElements(ArrayRef<int64_t>(in->shape).drop_front(axis));
      for (int64_t k = 0; k < chunk; ++k)
        copyElement(out, i++, *in, o * chunk + k);
    }
  }
  return out;
}

HostTensor mpc::importer::hostSlice(const HostTensor &input, ArrayRef<int64_t> offsets,
                                    ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides) {
  HostTensor out = emptyOf(sizes, input.dtype);
  Shape inStrides = stridesOf(input.shape), outStrides = stridesOf(sizes);
  for (int64_t i = 0, e = out.size(); i < e; ++i) {
    int64_t rest = i, src = 0;
    for (size_t d = 0; d < sizes.size(); ++d) {
      int64_t idx = rest / outStrides[d];
      rest %= outStrides[d];
      src += (offsets[d] + idx * strides[d]) * inStrides[d];
    }
    copyElement(out, i, input, src);
  }
  return out;
}

HostTensor mpc::importer::hostGather(const HostTensor &data, const HostTensor &indices,
                                     int64_t axis) {
  Shape outShape(data.shape.begin(), data.shape.begin() + axis);
  outShape.append(indices.shape.begin(), indices.shape.end());
  outShape.append(data.shape.begin() + axis + 1, data.shape.end());
  HostTensor out = emptyOf(outShape, data.dtype);
  ArrayRef<int64_t> dataShape = data.shape;
  int64_t outer = checkedNumElements(dataShape.take_front(axis));
  int64_t inner = checkedNumElements(dataShape.drop_front(axis + 1));
  int64_t dim = dataShape[axis];
  int64_t i = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0, e = indices.size(); k < e; ++k)
      for (int64_t j = 0; j < inner; ++j)
        copyElement(out, i++, data, (o * dim + indices.getInt(k)) * inner + j);
  return out;
}

HostTensor mpc::importer::hostReduce(HostReduce kind, const HostTensor &input,
                                     ArrayRef<int64_t> axes, bool keepdims) {
  Shape kept = input.shape;
  int64_t count = 1;
  for (int64_t a : axes) {
    count *= kept[a];
    kept[a] = 1;
  }
  int64_t n = checkedNumElements(kept);
  bool isFloat = input.isFloat();
  double initF = 0.0;
  int64_t initI = 0;
  switch (kind) {
  case HostReduce::Prod:
    initF = 1.0;
    initI = 1;
    break;
  case HostReduce::Max:
    initF = -std::numeric_limits<double>::infinity();
    initI = std::numeric_limits<int64_t>::min();
    break;
  case HostReduce::Min:
    initF = std::numeric_limits<double>::infinity();
    initI = std::numeric_limits<int64_t>::max();
    break;
  default:
    break;
  }
  std::vector<double> accF(isFloat ? n : 0, initF);
  std::vector<int64_t> accI(isFloat ? 0 : n, initI);
  Shape inStrides = stridesOf(input.shape), keptStrides = stridesOf(kept);
  for (int64_t i = 0, e = input.size(); i < e; ++i) {
    int64_t rest = i, dst = 0;
    for (size_t d = 0; d < kept.size(); ++d) {
      int64_t idx = rest / inStrides[d];
      rest %= inStrides[d];
      if (kept[d] == input.shape[d])
        dst += idx * keptStrides[d];
    }
    if (isFloat) {
      double v = input.floats[i], &acc = accF[dst];
      switch (kind) {
      case HostReduce::Sum:
      case HostReduce::Mean:
        acc += v;
        break;
      case HostReduce::Prod:
        acc *= v;
        break;
      case HostReduce::Max:
        acc = std::isnan(v) || std::isnan(acc) ? NAN : std::max(acc, v);
        break;
      case HostReduce::Min:
        acc = std::isnan(v) || std::isnan(acc) ? NAN : std::min(acc, v);
        break;
      }
    } else {
      int64_t v = input.ints[i], &acc = accI[dst];
      switch (kind) {
      case HostReduce::Sum:
      case HostReduce::Mean:
        acc = wrapAdd(acc, v);
        break;
      case HostReduce::Prod:
        acc = wrapMul(acc, v);
        break;
      case HostReduce::Max:
        acc = std::max(acc, v);
        break;
      case HostReduce::Min:
        acc = std::min(acc, v);
        break;
      }
    }
  }
  Shape outShape;
  for (size_t d = 0; d < kept.size(); ++d)
    if (keepdims || !llvm::is_contained(axes, int64_t(d)))
      outShape.push_back(kept[d]);
  if (kind == HostReduce::Mean) {
    for (double &v : accF)
      v = count ? v / double(count) : NAN;
    for (int64_t &v : accI)
      v = count ? v / count : 0;
  }
  return isFloat ? HostTensor::fromDoubles(accF, outShape, input.dtype)
                 : HostTensor::fromInts(accI, outShape, input.dtype);
}
