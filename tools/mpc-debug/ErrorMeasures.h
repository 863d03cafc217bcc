//===- ErrorMeasures.h - how far a mixed value is from the fp32 one -*- C++ -*-===//
//
// The measures mpc-debug reports (docs/mpc-debug.md, "Error measures"), over
// host arrays: no MLIR, so this part of the tool compiles in a moment.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_TOOLS_MPCDEBUG_ERRORMEASURES_H
#define MPC_TOOLS_MPCDEBUG_ERRORMEASURES_H

#include "mpc/Runtime/HostArray.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpc::debug {

/// The relative error's denominator is max(|fp32 value|, floor) with floor
/// this fraction of the tensor's largest |fp32 value|: values near zero
/// (cancellation, relu's zeros) would otherwise make any absolute difference
/// an unbounded relative one.
constexpr double kRelativeFloor = 1e-3;

struct ErrorStats {
  double maxAbs = 0, maxRel = 0, maxUlp = 0;
  int64_t infMixed = 0, nanMixed = 0, infRef = 0, nanRef = 0;
  bool comparable = true; ///< false when the shapes or kinds differ
};

/// `mixed` against `ref`, ulps counted in `lowType` ("f16", "bf16", "f32").
ErrorStats compareArrays(const runtime::HostArray &mixed, const runtime::HostArray &ref,
                         llvm::StringRef lowType);

/// The largest max relative error over the first `numOutputs` arrays; an
/// integer output that differs at all counts as an unbounded error.
double outputError(const std::vector<runtime::HostArray> &mixed,
                   const std::vector<runtime::HostArray> &ref, size_t numOutputs);

/// Three significant digits; "inf" and "nan" spelled out.
std::string formatNumber(double value);

/// The measures as JSON; JSON has no inf/nan, so those are strings.
llvm::json::Value jsonNumber(double value);
llvm::json::Object statsJson(const ErrorStats &stats);

} // namespace mpc::debug

#endif // MPC_TOOLS_MPCDEBUG_ERRORMEASURES_H
