//===- ErrorMeasures.cpp - how far a mixed value is from the fp32 one -----===//
#include "ErrorMeasures.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using mpc::runtime::ElementKind;
using mpc::runtime::HostArray;

namespace mpc::debug {

namespace {

/// The spacing of `type`'s values at |x| (its unit in the last place);
/// subnormal spacing below the smallest normal.
double ulpOf(double x, llvm::StringRef type) {
  int mantissaBits = 23, minExponent = -126;
  if (type == "f16") {
    mantissaBits = 10;
    minExponent = -14;
  } else if (type == "bf16") {
    mantissaBits = 7;
  } else if (type == "f64") {
    mantissaBits = 52;
    minExponent = -1022;
  }
  int exponent = 0;
  if (x != 0 && std::isfinite(x)) {
    std::frexp(std::fabs(x), &exponent);
    exponent -= 1; // frexp's mantissa is in [0.5, 1)
  }
  exponent = std::max(exponent, minExponent);
  return std::ldexp(1.0, exponent - mantissaBits);
}

double valueAt(const HostArray &array, int64_t i) {
  switch (array.kind()) {
  case ElementKind::F32:
    return array.as<float>()[i];
  case ElementKind::F64:
    return array.as<double>()[i];
  default:
    return std::numeric_limits<double>::quiet_NaN();
  }
}

} // namespace

ErrorStats compareArrays(const HostArray &mixed, const HostArray &ref, llvm::StringRef lowType) {
  ErrorStats stats;
  if (mixed.shape() != ref.shape() || mixed.kind() != ref.kind() ||
      (ref.kind() != ElementKind::F32 && ref.kind() != ElementKind::F64)) {
    stats.comparable = false;
    return stats;
  }
  int64_t n = ref.numElements();
  double scale = 0;
  for (int64_t i = 0; i < n; ++i) {
    double r = valueAt(ref, i);
    if (std::isfinite(r))
      scale = std::max(scale, std::fabs(r));
  }
  double floor = scale > 0 ? scale * kRelativeFloor : std::numeric_limits<double>::min();
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    double m = valueAt(mixed, i), r = valueAt(ref, i);
    stats.infMixed += std::isinf(m);
    stats.nanMixed += std::isnan(m);
    stats.infRef += std::isinf(r);
    stats.nanRef += std::isnan(r);
    // Matching non-finite values agree; one finite and one not differ without bound.
    if (!std::isfinite(m) || !std::isfinite(r)) {
      bool same = (std::isnan(m) && std::isnan(r)) || m == r;
      if (!same)
        stats.maxAbs = stats.maxRel = stats.maxUlp = inf;
      continue;
    }
    double diff = std::fabs(m - r);
    stats.maxAbs = std::max(stats.maxAbs, diff);
    stats.maxRel = std::max(stats.maxRel, diff / std::max(std::fabs(r), floor));
    stats.maxUlp = std::max(stats.maxUlp, diff / ulpOf(r, lowType));
  }
  return stats;
}

double outputError(const std::vector<HostArray> &mixed, const std::vector<HostArray> &ref,
                   size_t numOutputs) {
  double worst = 0;
  for (size_t i = 0; i < numOutputs; ++i) {
    const HostArray &r = ref[i];
    ErrorStats stats = compareArrays(mixed[i], r, "f32");
    if (!stats.comparable) // an integer output: any difference is a failure
      worst = std::max(worst, std::memcmp(mixed[i].data(), r.data(), r.sizeInBytes()) == 0
                                  ? 0.0
                                  : std::numeric_limits<double>::infinity());
    else
      worst = std::max(worst, stats.maxRel);
  }
  return worst;
}

std::string formatNumber(double value) {
  if (std::isinf(value))
    return "inf";
  if (std::isnan(value))
    return "nan";
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.3g", value);
  return text;
}

llvm::json::Value jsonNumber(double value) {
  if (!std::isfinite(value))
    return formatNumber(value);
  return value;
}

llvm::json::Object statsJson(const ErrorStats &stats) {
  return llvm::json::Object{{"max_abs_error", jsonNumber(stats.maxAbs)},
                            {"max_rel_error", jsonNumber(stats.maxRel)},
                            {"max_ulp_error", jsonNumber(stats.maxUlp)},
                            {"inf_mixed", stats.infMixed},
                            {"nan_mixed", stats.nanMixed},
                            {"inf_fp32", stats.infRef},
                            {"nan_fp32", stats.nanRef}};
}

} // namespace mpc::debug
