//===- PolicySearch.cpp - forcing few nodes to f32 to meet a tolerance ----===//
//
// Plain C++ over node names and errors: how a candidate runs is the caller's
// callback (mpc-debug compiles and runs it with the JIT).
//
//===----------------------------------------------------------------------===//
#include "mpc/Precision/PolicySearch.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

using namespace mpc;

namespace {

/// A node's sensitivity: its error growth, then its own error.
using Score = std::pair<double, double>;

/// The low nodes in the orders the search walks them.
struct Ranking {
  /// Nodes with an exposed value in program order, then the others by name.
  std::vector<std::string> programOrder;
  std::map<std::string, size_t> position;
  std::map<std::string, Score> score;
  /// Most sensitive first; ties in program order.
  std::vector<std::string> ranked;
};

/// The error of intermediate `i` and the growth over what it reads; an
/// unbounded error in and out is no growth.
Score growthAndError(llvm::ArrayRef<MeasuredIntermediate> values, size_t i) {
  double own = std::isnan(*values[i].maxRelError) ? std::numeric_limits<double>::infinity()
                                                  : *values[i].maxRelError;
  double in = 0;
  for (size_t p : values[i].producers)
    if (values[p].maxRelError)
      in = std::max(in, *values[p].maxRelError);
  return {std::isinf(own) && std::isinf(in) ? 0 : own - in, own};
}

Ranking rankNodes(const PolicySearchInput &input) {
  Ranking ranking;
  for (auto [i, value] : llvm::enumerate(input.intermediates)) {
    if (!value.maxRelError || !input.lowNodes.count(value.node))
      continue;
    auto [growth, own] = growthAndError(input.intermediates, i);
    // A node's score starts at (0, 0): a node whose values all shrink the
    // error ranks with those that do not grow it.
    auto [it, inserted] = ranking.score.try_emplace(value.node, 0, 0);
    if (inserted)
      ranking.programOrder.push_back(value.node);
    it->second.first = std::max(it->second.first, growth);
    it->second.second = std::max(it->second.second, own);
  }
  // Low nodes without a float result rank last.
  for (const std::string &node : input.lowNodes)
    if (ranking.score.try_emplace(node, -1, 0).second)
      ranking.programOrder.push_back(node);
  for (auto [i, node] : llvm::enumerate(ranking.programOrder))
    ranking.position[node] = i;
  ranking.ranked = ranking.programOrder;
  // The position as the last key keeps ties in program order (libstdc++'s
  // stable_sort warns under clang 22).
  llvm::sort(ranking.ranked, [&](const std::string &a, const std::string &b) {
    return std::make_pair(ranking.score[b], ranking.position[a]) <
           std::make_pair(ranking.score[a], ranking.position[b]);
  });
  return ranking;
}

/// Runs of forced nodes adjacent in program order, least sensitive first
/// (a region is as sensitive as its most sensitive node).
std::vector<std::vector<std::string>> forcedRegions(Ranking &ranking,
                                                    const std::vector<std::string> &forced) {
  std::set<std::string> forcedSet(forced.begin(), forced.end());
  std::vector<std::vector<std::string>> regions(1);
  for (const std::string &node : ranking.programOrder) {
    if (forcedSet.count(node))
      regions.back().push_back(node);
    else if (!regions.back().empty())
      regions.emplace_back();
  }
  llvm::erase_if(regions, [](const auto &region) { return region.empty(); });
  auto regionScore = [&](const std::vector<std::string> &region) {
    Score best{-std::numeric_limits<double>::infinity(), 0};
    for (const std::string &node : region)
      best = std::max(best, ranking.score[node]);
    return best;
  };
  llvm::sort(regions, [&](const auto &a, const auto &b) {
    return std::make_pair(regionScore(a), ranking.position[a.front()]) <
           std::make_pair(regionScore(b), ranking.position[b.front()]);
  });
  return regions;
}

/// `forced` without the nodes in `drop`, in its order.
std::vector<std::string> without(const std::vector<std::string> &forced,
                                 const std::set<std::string> &drop) {
  std::vector<std::string> kept;
  for (const std::string &node : forced)
    if (!drop.count(node))
      kept.push_back(node);
  return kept;
}

class Search {
public:
  Search(const PolicySearchInput &input, const PolicySearchCallbacks &callbacks)
      : input(input), callbacks(callbacks),
        budget(std::max(input.maxCandidates, kMinSearchCandidates)) {
    cache[{}] = input.allLow;
  }

  PolicySearchResult run();

private:
  enum class Stop { None, Budget, Failure };

  /// What forcing `forced` gives: from the cache, else from a new candidate
  /// while the budget lasts. None once the search has stopped.
  std::optional<CandidateOutcome> evaluate(const std::vector<std::string> &forced);
  bool passes(const std::vector<std::string> &forced) {
    std::optional<CandidateOutcome> outcome = evaluate(forced);
    return outcome && outcome->outputError <= input.tolerance;
  }
  /// The smallest k whose k most sensitive nodes pass, `all` (the number of
  /// low nodes) passing; assumes that more f32 never hurts.
  size_t bisect(const Ranking &ranking);
  /// Returns regions, then single nodes, to the low type while that passes.
  void giveBack(Ranking &ranking, std::vector<std::string> &forced);
  PolicySearchResult finish(PolicySearchStatus status, std::vector<std::string> forced,
                            CandidateOutcome outcome) const {
    return {status, std::move(forced), outcome, candidates, stop == Stop::Budget};
  }

  const PolicySearchInput &input;
  const PolicySearchCallbacks &callbacks;
  unsigned budget;
  unsigned candidates = 1; // the all-low run
  Stop stop = Stop::None;
  std::map<std::set<std::string>, CandidateOutcome> cache;
};

std::optional<CandidateOutcome> Search::evaluate(const std::vector<std::string> &forced) {
  std::set<std::string> key(forced.begin(), forced.end());
  if (auto it = cache.find(key); it != cache.end())
    return it->second;
  if (stop != Stop::None)
    return std::nullopt;
  if (candidates >= budget) {
    stop = Stop::Budget;
    return std::nullopt;
  }
  ++candidates;
  llvm::FailureOr<CandidateOutcome> outcome = callbacks.evaluate(key);
  if (failed(outcome)) {
    stop = Stop::Failure;
    return std::nullopt;
  }
  return cache[key] = *outcome;
}

size_t Search::bisect(const Ranking &ranking) {
  auto prefix = [&](size_t k) {
    return std::vector<std::string>(ranking.ranked.begin(), ranking.ranked.begin() + k);
  };
  size_t lo = 0, hi = ranking.ranked.size();
  while (hi - lo > 1 && stop == Stop::None) {
    size_t mid = (lo + hi) / 2;
    if (passes(prefix(mid)))
      hi = mid;
    else
      lo = mid;
  }
  return hi;
}

void Search::giveBack(Ranking &ranking, std::vector<std::string> &forced) {
  for (const std::vector<std::string> &region : forcedRegions(ranking, forced)) {
    if (stop != Stop::None)
      return;
    std::set<std::string> drop(region.begin(), region.end());
    // All of `forced` cannot go back: that is the all-low program.
    if (region.size() < forced.size() && passes(without(forced, drop))) {
      forced = without(forced, drop);
      continue;
    }
    if (region.size() == 1)
      continue;
    std::vector<std::string> bySensitivity = region;
    llvm::sort(bySensitivity, [&](const std::string &a, const std::string &b) {
      return std::make_pair(ranking.score[a], ranking.position[a]) <
             std::make_pair(ranking.score[b], ranking.position[b]);
    });
    for (const std::string &node : bySensitivity) {
      if (stop != Stop::None || forced.size() == 1)
        break;
      if (passes(without(forced, {node})))
        forced = without(forced, {node});
    }
  }
}

PolicySearchResult Search::run() {
  double tolerance = input.tolerance;
  if (input.allLow.outputError <= tolerance)
    return finish(PolicySearchStatus::AllLowMeetsTolerance, {}, input.allLow);

  // Nondeterminism (or an f32 bug) would make every candidate fail: the
  // fp32 program must reproduce itself first.
  ++candidates;
  llvm::FailureOr<double> fp32Error = callbacks.rerunFp32();
  if (failed(fp32Error))
    return finish(PolicySearchStatus::EvaluationFailed, {}, {});
  if (*fp32Error > tolerance)
    return finish(PolicySearchStatus::Nondeterministic, {}, {*fp32Error, 0});

  Ranking ranking = rankNodes(input);
  if (ranking.ranked.empty())
    return finish(PolicySearchStatus::NothingToForce, {}, input.allLow);
  std::optional<CandidateOutcome> allForced = evaluate(ranking.ranked);
  if (!allForced)
    return finish(PolicySearchStatus::EvaluationFailed, {}, {});
  if (allForced->outputError > tolerance)
    return finish(PolicySearchStatus::AllForcedMisses, {}, *allForced);

  std::vector<std::string> forced(ranking.ranked.begin(), ranking.ranked.begin() + bisect(ranking));
  giveBack(ranking, forced);
  if (stop == Stop::Failure)
    return finish(PolicySearchStatus::EvaluationFailed, {}, {});
  // `forced` passed when it was last evaluated, so its outcome is cached.
  CandidateOutcome outcome = cache.at(std::set<std::string>(forced.begin(), forced.end()));
  return finish(PolicySearchStatus::Found, std::move(forced), outcome);
}

/// A glob that matches exactly `name` (policy rules take glob patterns).
std::string escapeGlob(llvm::StringRef name) {
  std::string text;
  for (char c : name) {
    if (llvm::StringRef("*?[]{}\\").contains(c))
      text.push_back('\\');
    text.push_back(c);
  }
  return text;
}

} // namespace

PolicySearchResult mpc::searchPolicy(const PolicySearchInput &input,
                                     const PolicySearchCallbacks &callbacks) {
  return Search(input, callbacks).run();
}

std::string mpc::forcedNodesPolicy(llvm::StringRef precision, llvm::ArrayRef<std::string> forced) {
  llvm::json::Array rules;
  for (const std::string &node : forced)
    rules.push_back(llvm::json::Object{{"match", escapeGlob(node)}, {"precision", "fp32"}});
  llvm::json::Object root{{"default", precision}, {"rules", std::move(rules)}};
  std::string text;
  llvm::raw_string_ostream(text) << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)))
                                 << "\n";
  return text;
}
