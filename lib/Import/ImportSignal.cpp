//===- ImportSignal.cpp - window functions ---------------------------------===//
//
// HannWindow, HammingWindow and BlackmanWindow depend only on their size, so
// they are computed at import (in double, then rounded to the requested type)
// and become constants: the size must be known then.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <cmath>

using namespace mlir;
using namespace mpc::importer;

namespace {

/// w[k] = sum_j a_j cos(2 pi j k / N) with N = size (periodic) or size - 1
/// (symmetric): the generalized cosine window of the ONNX spec.
struct CosineWindow {
  double a0, a1, a2;
};

/// Hamming's coefficients are ONNX's 25/46 and 21/46 (not 0.54 and 0.46).
constexpr CosineWindow kHann{0.5, -0.5, 0.0};
constexpr CosineWindow kHamming{25.0 / 46.0, -21.0 / 46.0, 0.0};
constexpr CosineWindow kBlackman{0.42, -0.5, 0.08};

/// A symmetric window of one element is {1} (as torch's), where the formula
/// would divide by N = 0.
std::vector<double> windowValues(const CosineWindow &c, int64_t size, bool periodic) {
  if (size == 1 && !periodic)
    return {1.0};
  double period = double(periodic ? size : size - 1);
  std::vector<double> values(static_cast<size_t>(size));
  for (int64_t k = 0; k < size; ++k) {
    double angle = 2 * M_PI * double(k) / period;
    values[size_t(k)] = c.a0 + c.a1 * std::cos(angle) + c.a2 * std::cos(2 * angle);
  }
  return values;
}

/// output_datatype: the numeric types the data path holds (bool and string
/// are not windows).
FailureOr<int32_t> windowDType(NodeImporter &n) {
  FailureOr<int64_t> dtype = n.intAttr("output_datatype", kFloat);
  if (failed(dtype))
    return failure();
  int32_t t = int32_t(*dtype);
  if (*dtype != t || t == kBool || !isHostDType(t) || !elementTypeFor(t, n.getContext()))
    return n.error() << "output_datatype " << *dtype << " ("
                     << (*dtype == t ? dtypeName(t) : std::string("invalid"))
                     << ") is not supported; use a float or integer type";
  return t;
}

template <const CosineWindow &Coefficients> LogicalResult importWindow(NodeImporter &n) {
  FailureOr<int64_t> periodic = n.intAttr("periodic", 1);
  FailureOr<int32_t> dtype = failed(periodic) ? FailureOr<int32_t>(failure()) : windowDType(n);
  if (failed(dtype) || failed(n.require(0, "size")))
    return failure();
  if (*periodic != 0 && *periodic != 1)
    return n.error() << "periodic must be 0 or 1, got " << *periodic;
  if (n.dtypeOf(0) != kInt32 && n.dtypeOf(0) != kInt64)
    return n.error() << "size must be an int32 or int64 scalar, got " << dtypeName(n.dtypeOf(0));
  FailureOr<double> size = n.hostScalar(0, "size");
  if (failed(size))
    return failure();
  if (*size < 0 || *size > double(kMaxHostElements))
    return n.error() << "size must be in [0, " << kMaxHostElements << "], got " << int64_t(*size);
  int64_t length = int64_t(*size);
  std::vector<double> values = windowValues(Coefficients, length, *periodic);
  if (isFloatDType(*dtype))
    return n.setOutput(0, HostTensor::fromDoubles(values, {length}, *dtype));
  // An integer window truncates toward zero, as a float-to-int Cast does.
  std::vector<int64_t> truncated(values.begin(), values.end());
  return n.setOutput(0, HostTensor::fromInts(truncated, {length}, *dtype));
}

const char *kWindowNotes =
    "size known at import (a constant or a given input value); periodic, output_datatype; "
    "computed in double into a constant";

const OpImportInfo kTable[] = {
    {"BlackmanWindow", 17, kMaxOpset, importWindow<kBlackman>, "constant", kWindowNotes},
    {"HammingWindow", 17, kMaxOpset, importWindow<kHamming>, "constant",
     "as HannWindow; alpha 25/46, beta 21/46"},
    {"HannWindow", 17, kMaxOpset, importWindow<kHann>, "constant", kWindowNotes},
};
} // namespace

ArrayRef<OpImportInfo> mpc::importer::signalOpTable() { return kTable; }
