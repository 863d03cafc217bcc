//===- HostTensor.h - constants the importer holds on the host -*- C++ -*-===//
//
// Exporters write shape arithmetic (Shape -> Gather -> Concat -> Reshape ...)
// as graph nodes. Most of it becomes mpc ops that fold (lib/Dialect/
// MpcFolds.cpp); what stays here is what folding cannot do: the constants a
// model spells out (initializers, Constant, Shape, Size, Range), ops the
// dialect has no counterpart for (Floor, Ceil, Not, And, Or, Xor) and types
// it lacks (uint8 ...). Nothing here touches MLIR IR.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_LIB_IMPORT_HOSTTENSOR_H
#define MPC_LIB_IMPORT_HOSTTENSOR_H

#include "mpc/Dialect/ShapeInference.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpc::importer {
using shape::Shape;
/// The shared shape rules (ShapeInference.h); the importer's locals are often
/// called `shape`, hence the alias.
namespace rules = ::mpc::shape;

/// onnx::TensorProto::DataType values, spelled out so this header needs no
/// protobuf include.
enum DType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kBFloat16 = 16,
  kFloat8E4M3FN = 17,
  kFloat8E4M3FNUZ = 18,
  kFloat8E5M2 = 19,
  kFloat8E5M2FNUZ = 20,
};

/// The ONNX spelling of a data type ("float", "int64", ...), for messages.
std::string dtypeName(int32_t dtype);
bool isFloatDType(int32_t dtype);
/// Integer or bool types that the host evaluator can hold exactly in int64.
bool isIntegerDType(int32_t dtype);
inline bool isHostDType(int32_t dtype) { return isFloatDType(dtype) || isIntegerDType(dtype); }
/// Bytes per element of a float type's storage (4 for float, 1 for fp8).
int64_t floatByteWidth(int32_t dtype);

/// Host results larger than this are not made (a shape chain never needs
/// that many elements; an adversarial model must not exhaust memory).
inline constexpr int64_t kMaxHostElements = int64_t(1) << 22;
/// Upper bound on the element count of any static shape the importer makes.
inline constexpr int64_t kMaxTensorElements = int64_t(1) << 48;

/// Element count of `shape`, or -1 when a dim is negative or the count
/// exceeds kMaxTensorElements.
int64_t checkedNumElements(llvm::ArrayRef<int64_t> shape);

/// A constant tensor held by the importer. Integer and bool data live in
/// `ints` (already wrapped to the type's width), float data in `floats`
/// (already rounded to the type's precision).
struct HostTensor {
  int32_t dtype = kInt64;
  Shape shape;
  std::vector<int64_t> ints;
  std::vector<double> floats;

  bool isFloat() const { return isFloatDType(dtype); }
  int64_t size() const { return isFloat() ? int64_t(floats.size()) : int64_t(ints.size()); }
  double getDouble(int64_t i) const { return isFloat() ? floats[i] : double(ints[i]); }
  int64_t getInt(int64_t i) const;

  static HostTensor fromInts(llvm::ArrayRef<int64_t> values, llvm::ArrayRef<int64_t> shape,
                             int32_t dtype = kInt64);
  static HostTensor fromDoubles(llvm::ArrayRef<double> values, llvm::ArrayRef<int64_t> shape,
                                int32_t dtype);
  /// A tensor of `shape` with every element equal to element 0 of `value`.
  static HostTensor splat(const HostTensor &value, llvm::ArrayRef<int64_t> shape);
};

/// Rounds to the precision of a float type (identity for double).
double roundToDType(double value, int32_t dtype);
/// Wraps to the width and signedness of an integer type (0/1 for bool).
int64_t wrapToDType(int64_t value, int32_t dtype);
/// Decodes one stored element: IEEE bits of a float type (f16/bf16/fp8 held
/// in the low bits) to double.
double decodeFloatBits(uint64_t bits, int32_t dtype);

/// ONNX Cast semantics (float -> int truncates toward zero and saturates;
/// `saturate` clamps fp8 results to the largest finite value).
HostTensor hostCast(const HostTensor &input, int32_t to, bool saturate);

/// Ops evaluated here when every input is a constant: those without an mpc
/// counterpart (Floor, Ceil, Not, And, Or, Xor), and those whose op folders
/// could not match the compiled program bit for bit (Exp, Log and Pow call
/// libm here but the program's own approximations there; float sums depend
/// on the order of their additions). Floats are computed in double and
/// rounded to their type, as an exporter's constant folding does.
enum class HostUnary { Floor, Ceil, Not, Exp, Log };
mlir::FailureOr<HostTensor> hostUnary(HostUnary kind, const HostTensor &input, std::string &error);

enum class HostBinary { And, Or, Xor, Pow };
/// Broadcasting logical op on bool tensors, or Pow (the result has the
/// base's type; integer powers wrap, negative exponents truncate toward 0).
mlir::FailureOr<HostTensor> hostBinary(HostBinary kind, const HostTensor &lhs,
                                       const HostTensor &rhs, std::string &error);

enum class HostReduce { Sum, Mean, Prod };
/// A float tensor reduced over `axes` (sorted, unique, non-negative),
/// accumulated in double.
HostTensor hostReduce(HostReduce kind, const HostTensor &input, llvm::ArrayRef<int64_t> axes,
                      bool keepdims);
} // namespace mpc::importer

#endif // MPC_LIB_IMPORT_HOSTTENSOR_H
