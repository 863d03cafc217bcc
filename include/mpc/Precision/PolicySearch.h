//===- PolicySearch.h - forcing few nodes to f32 to meet a tolerance -*- C++ -*-===//
//
// mpc-debug search's algorithm (docs/mpc-debug.md), apart from how a
// candidate policy is compiled and run: that is the caller's callback, so the
// search runs against a fake in unit tests and this library needs no JIT.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_PRECISION_POLICYSEARCH_H
#define MPC_PRECISION_POLICYSEARCH_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/LogicalResult.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mpc {

/// What one compiled-and-run candidate gave.
struct CandidateOutcome {
  /// The largest max relative error against fp32 over the model outputs.
  double outputError = 0;
  /// The share of matmul/conv FLOPs that ran in the low type.
  double lowGemmShare = 0;
};

/// One value the all-low program exposed (mpc-expose-intermediates),
/// measured against the fp32 program's.
struct MeasuredIntermediate {
  std::string node;
  /// Its max relative error; none when the low program has no such value.
  std::optional<double> maxRelError;
  /// Indices, in the same list, of the values its op reads.
  std::vector<size_t> producers;
};

/// The search needs this many candidates before it can narrow anything down:
/// the all-low run, the fp32 rerun, the all-forced check and one step.
inline constexpr unsigned kMinSearchCandidates = 4;

struct PolicySearchInput {
  /// The largest output error a policy may leave.
  double tolerance = 1e-2;
  /// Programs compiled and run at most, the all-low run and the fp32 rerun
  /// included; a smaller budget counts as kMinSearchCandidates.
  unsigned maxCandidates = 200;
  /// The all-low run (no rules), the first candidate.
  CandidateOutcome allLow;
  /// The values it exposed, in program order.
  std::vector<MeasuredIntermediate> intermediates;
  /// The nodes it ran in the low type: those a rule can force to f32.
  std::set<std::string> lowNodes;
};

struct PolicySearchCallbacks {
  /// Compiles and runs the low policy with the nodes in `forced` forced to
  /// f32; a failure after telling the user why.
  llvm::function_ref<llvm::FailureOr<CandidateOutcome>(const std::set<std::string> &forced)>
      evaluate;
  /// Runs the fp32 program a second time: its output error against the
  /// first run. A failure after telling the user why.
  llvm::function_ref<llvm::FailureOr<double>()> rerunFp32;
};

enum class PolicySearchStatus {
  /// The all-low program meets the tolerance: no rule needed.
  AllLowMeetsTolerance,
  /// `forced` meets the tolerance.
  Found,
  /// The fp32 program missed the tolerance against itself (`outcome`'s
  /// error): nondeterminism no policy can fix.
  Nondeterministic,
  /// The all-low program misses the tolerance but no node ran low.
  NothingToForce,
  /// Forcing every low node still misses (`outcome`'s error).
  AllForcedMisses,
  /// A callback failed.
  EvaluationFailed,
};

struct PolicySearchResult {
  PolicySearchStatus status = PolicySearchStatus::EvaluationFailed;
  /// The nodes to force to f32, most sensitive first.
  std::vector<std::string> forced;
  /// What `forced` gave (Found, AllLowMeetsTolerance), or the error that
  /// stopped the search (Nondeterministic, AllForcedMisses).
  CandidateOutcome outcome;
  /// Programs compiled and run, the all-low run and the fp32 rerun included.
  unsigned candidates = 0;
  /// Found, but the budget ran out before the search was done: `forced`
  /// meets the tolerance but may force more than it needs.
  bool budgetReached = false;
};

/// Ranks the low nodes by error growth (a node's own error minus the largest
/// error among the values it reads), then by their own error; bisects the
/// number of most sensitive nodes forced to f32; then gives back regions
/// (nodes adjacent in program order), least sensitive first, and the single
/// nodes of a region that cannot go back whole. Candidates are cached per set
/// of forced nodes. When forcing more nodes never raises the error, no
/// single node of the result can go back to the low type (unless the budget
/// ran out).
PolicySearchResult searchPolicy(const PolicySearchInput &input,
                                const PolicySearchCallbacks &callbacks);

/// A policy file (docs/precision-policy.md) with `"default": precision` and
/// one fp32 rule per forced node, in the given order, each matching exactly
/// that node name (glob characters escaped).
std::string forcedNodesPolicy(llvm::StringRef precision, llvm::ArrayRef<std::string> forced);

} // namespace mpc

#endif // MPC_PRECISION_POLICYSEARCH_H
