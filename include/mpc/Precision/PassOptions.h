//===- PassOptions.h - enum types of the precision options ------*- C++ -*-===//
//
// Passes.td spells these values for the command line (`policy=bf16`); the
// tools set them directly and, where they take a spelling of their own
// (`mpc-run --precision fp16`), convert it with the functions below.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_PRECISION_PASSOPTIONS_H
#define MPC_PRECISION_PASSOPTIONS_H

#include "mpc/Pass/EnumOption.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/ErrorHandling.h"

#include <optional>

namespace mpc {

/// mpc-assign-precision's `policy`: the low type compute-bound ops use.
enum class PrecisionPolicy { FP32, FP16, BF16 };

/// mpc-assign-precision's `strategy`: how followers and data movement are
/// placed (docs/precision-policy.md).
enum class PlacementStrategy { MinCut, Greedy };

/// mpc-precision-report's `format`; FromExtension (the default) takes it
/// from the output file's extension.
enum class PrecisionReportFormat { FromExtension, Text, JSON, Dot, HTML };

/// "fp32", "fp16" or "bf16", as `policy=` spells it.
inline llvm::StringRef stringifyPrecisionPolicy(PrecisionPolicy policy) {
  switch (policy) {
  case PrecisionPolicy::FP32:
    return "fp32";
  case PrecisionPolicy::FP16:
    return "fp16";
  case PrecisionPolicy::BF16:
    return "bf16";
  }
  llvm_unreachable("unknown precision policy");
}

/// The policy `name` spells, or none.
inline std::optional<PrecisionPolicy> parsePrecisionPolicy(llvm::StringRef name) {
  for (PrecisionPolicy policy :
       {PrecisionPolicy::FP32, PrecisionPolicy::FP16, PrecisionPolicy::BF16})
    if (stringifyPrecisionPolicy(policy) == name)
      return policy;
  return std::nullopt;
}

} // namespace mpc

MPC_ENUM_OPTION(mpc::PrecisionPolicy)
MPC_ENUM_OPTION(mpc::PlacementStrategy)
MPC_ENUM_OPTION(mpc::PrecisionReportFormat)

#endif // MPC_PRECISION_PASSOPTIONS_H
