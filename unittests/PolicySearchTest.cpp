//===- PolicySearchTest.cpp - mpc-debug search against fake models --------===//
//
// A fake model is a chain of nodes n0 -> n1 -> ... where each node adds its
// own error; the evaluator computes the output error of a set of forced
// nodes from those errors instead of compiling anything.
//
//===----------------------------------------------------------------------===//
#include "mpc/Precision/PolicySearch.h"

#include "llvm/ADT/STLExtras.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

using namespace mpc;

namespace {

std::string nodeName(size_t i) { return "n" + std::to_string(i); }

/// Each node's own error when it runs low; how they combine into the output
/// error is the test's choice (both combinations never grow when a node is
/// forced to f32).
struct FakeModel {
  std::vector<double> nodeErrors;
  bool additive = false; ///< sum of the low nodes' errors, else their max

  double outputError(const std::set<std::string> &forced) const {
    double error = 0;
    for (auto [i, own] : llvm::enumerate(nodeErrors))
      if (!forced.count(nodeName(i)))
        error = additive ? error + own : std::max(error, own);
    return error;
  }

  /// What the all-low run measures: along the chain each value carries the
  /// error of what it read and adds its own.
  PolicySearchInput input(double tolerance, unsigned maxCandidates = 200) const {
    PolicySearchInput in;
    in.tolerance = tolerance;
    in.maxCandidates = maxCandidates;
    in.allLow = {outputError({}), 0.0};
    double carried = 0;
    for (auto [i, own] : llvm::enumerate(nodeErrors)) {
      carried = additive ? carried + own : std::max(carried, own);
      MeasuredIntermediate value{nodeName(i), carried, {}};
      if (i > 0)
        value.producers.push_back(i - 1);
      in.intermediates.push_back(value);
      in.lowNodes.insert(nodeName(i));
    }
    return in;
  }
};

/// Runs the search on `model`, recording every candidate it asked for.
struct Harness {
  explicit Harness(const FakeModel &model) : model(model) {}

  const FakeModel &model;
  std::vector<std::set<std::string>> asked;
  double fp32Error = 0;
  /// The evaluation (1-based) that fails; 0 for none.
  size_t failAt = 0;
  bool rerunFails = false;
  bool reran = false;

  PolicySearchResult run(const PolicySearchInput &input) {
    auto evaluate = [&](const std::set<std::string> &forced) -> llvm::FailureOr<CandidateOutcome> {
      asked.push_back(forced);
      if (asked.size() == failAt)
        return llvm::failure();
      return CandidateOutcome{model.outputError(forced), 1.0 - 0.1 * forced.size()};
    };
    auto rerun = [&]() -> llvm::FailureOr<double> {
      reran = true;
      if (rerunFails)
        return llvm::failure();
      return fp32Error;
    };
    return searchPolicy(input, {evaluate, rerun});
  }
};

std::set<std::string> asSet(const std::vector<std::string> &names) {
  return {names.begin(), names.end()};
}

TEST(PolicySearch, FindsExactlyTheCulpritsWhenErrorsAreIndependent) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> error(0, 1);
  for (int trial = 0; trial < 50; ++trial) {
    FakeModel model;
    std::set<std::string> culprits;
    for (size_t i = 0; i < 12; ++i) {
      model.nodeErrors.push_back(error(rng));
      if (model.nodeErrors.back() > 0.7)
        culprits.insert(nodeName(i));
    }
    if (culprits.empty())
      continue;
    Harness harness(model);
    PolicySearchResult result = harness.run(model.input(0.7));
    ASSERT_EQ(result.status, PolicySearchStatus::Found);
    EXPECT_EQ(asSet(result.forced), culprits) << "trial " << trial;
    EXPECT_LE(result.outcome.outputError, 0.7);
    EXPECT_EQ(result.outcome.outputError, model.outputError(asSet(result.forced)));
    EXPECT_FALSE(result.budgetReached);
  }
}

TEST(PolicySearch, NoForcedNodeCanGoBackWhenMoreF32NeverHurts) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> error(0, 0.3);
  for (int trial = 0; trial < 50; ++trial) {
    FakeModel model{{}, /*additive=*/true};
    for (size_t i = 0; i < 10; ++i)
      model.nodeErrors.push_back(error(rng));
    // Measurements that mislead the ranking, so that the bisection forces
    // nodes the give-back has to return.
    PolicySearchInput input = model.input(0.5);
    std::shuffle(input.intermediates.begin(), input.intermediates.end(), rng);
    for (MeasuredIntermediate &value : input.intermediates)
      value.producers.clear();
    Harness harness(model);
    PolicySearchResult result = harness.run(input);
    ASSERT_EQ(result.status, PolicySearchStatus::Found) << "trial " << trial;
    std::set<std::string> forced = asSet(result.forced);
    EXPECT_LE(model.outputError(forced), 0.5);
    for (const std::string &node : result.forced) {
      std::set<std::string> fewer = forced;
      fewer.erase(node);
      EXPECT_GT(model.outputError(fewer), 0.5) << node << " could go back (trial " << trial << ")";
    }
  }
}

TEST(PolicySearch, RanksByErrorGrowthThenBisects) {
  // Errors add up along the chain: n2's value is the worst (1.0), but n0
  // adds the most (0.6), so the first bisection step forces n0 alone.
  FakeModel model{{0.6, 0.1, 0.3}, /*additive=*/true};
  Harness harness(model);
  PolicySearchResult result = harness.run(model.input(0.5));
  ASSERT_EQ(result.status, PolicySearchStatus::Found);
  EXPECT_EQ(result.forced, std::vector<std::string>{"n0"});
  ASSERT_GE(harness.asked.size(), 2u);
  EXPECT_EQ(harness.asked[0], (std::set<std::string>{"n0", "n1", "n2"})); // all forced
  EXPECT_EQ(harness.asked[1], (std::set<std::string>{"n0"}));             // k = 1
  EXPECT_DOUBLE_EQ(result.outcome.lowGemmShare, 0.9);
}

TEST(PolicySearch, EvaluatesEachSetOnceAndCountsEveryProgram) {
  FakeModel model{{0.6, 0.1, 0.6, 0.1, 0.1, 0.6, 0.1, 0.1}, /*additive=*/true};
  Harness harness(model);
  PolicySearchResult result = harness.run(model.input(0.5));
  ASSERT_EQ(result.status, PolicySearchStatus::Found);
  std::set<std::set<std::string>> distinct(harness.asked.begin(), harness.asked.end());
  EXPECT_EQ(distinct.size(), harness.asked.size());
  EXPECT_FALSE(distinct.count({})) << "the all-low run is the caller's";
  EXPECT_TRUE(harness.reran);
  // The all-low run and the fp32 rerun count too.
  EXPECT_EQ(result.candidates, harness.asked.size() + 2);
}

TEST(PolicySearch, StopsAtTheBudgetWithAPassingPolicy) {
  FakeModel model;
  for (size_t i = 0; i < 16; ++i)
    model.nodeErrors.push_back(i % 5 == 0 ? 0.9 : 0.1);
  Harness unlimited(model);
  PolicySearchResult full = unlimited.run(model.input(0.5));
  ASSERT_EQ(full.status, PolicySearchStatus::Found);
  ASSERT_GT(full.candidates, 5u);

  Harness harness(model);
  PolicySearchResult result = harness.run(model.input(0.5, 5));
  ASSERT_EQ(result.status, PolicySearchStatus::Found);
  EXPECT_TRUE(result.budgetReached);
  EXPECT_EQ(result.candidates, 5u);
  EXPECT_EQ(harness.asked.size(), 3u);
  EXPECT_LE(model.outputError(asSet(result.forced)), 0.5);
  EXPECT_GE(result.forced.size(), full.forced.size());
}

TEST(PolicySearch, ABudgetBelowTheMinimumCountsAsTheMinimum) {
  FakeModel model{{0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9}};
  Harness harness(model);
  PolicySearchResult result = harness.run(model.input(0.5, 1));
  ASSERT_EQ(result.status, PolicySearchStatus::Found);
  EXPECT_TRUE(result.budgetReached);
  EXPECT_EQ(result.candidates, kMinSearchCandidates);
}

TEST(PolicySearch, AllLowMeetingTheToleranceRunsNothing) {
  FakeModel model{{0.1, 0.2}};
  Harness harness(model);
  PolicySearchResult result = harness.run(model.input(0.5));
  EXPECT_EQ(result.status, PolicySearchStatus::AllLowMeetsTolerance);
  EXPECT_TRUE(result.forced.empty());
  EXPECT_EQ(result.candidates, 1u);
  EXPECT_TRUE(harness.asked.empty());
  EXPECT_FALSE(harness.reran);
}

TEST(PolicySearch, Fp32ThatMissesItselfIsNondeterministic) {
  FakeModel model{{0.9}};
  Harness harness(model);
  harness.fp32Error = 0.8;
  PolicySearchResult result = harness.run(model.input(0.5));
  EXPECT_EQ(result.status, PolicySearchStatus::Nondeterministic);
  EXPECT_EQ(result.outcome.outputError, 0.8);
  EXPECT_EQ(result.candidates, 2u);
  EXPECT_TRUE(harness.asked.empty());
}

TEST(PolicySearch, AFailedRerunStopsTheSearch) {
  FakeModel model{{0.9}};
  Harness harness(model);
  harness.rerunFails = true;
  EXPECT_EQ(harness.run(model.input(0.5)).status, PolicySearchStatus::EvaluationFailed);
  EXPECT_TRUE(harness.asked.empty());
}

TEST(PolicySearch, AFailedCandidateStopsTheSearch) {
  FakeModel model{{0.9, 0.1, 0.1, 0.9, 0.1, 0.1}};
  for (size_t failAt : {1, 2, 4}) {
    Harness harness(model);
    harness.failAt = failAt;
    PolicySearchResult result = harness.run(model.input(0.5));
    EXPECT_EQ(result.status, PolicySearchStatus::EvaluationFailed) << "failing at " << failAt;
    EXPECT_EQ(harness.asked.size(), failAt) << "nothing runs after a failure";
    EXPECT_TRUE(result.forced.empty());
  }
}

TEST(PolicySearch, AFailureOnTheLastAllowedCandidateIsStillAFailure) {
  FakeModel model{{0.9, 0.1, 0.1, 0.9, 0.1, 0.1}};
  Harness harness(model);
  harness.failAt = 2; // the fourth program of four
  EXPECT_EQ(harness.run(model.input(0.5, 4)).status, PolicySearchStatus::EvaluationFailed);
}

TEST(PolicySearch, ErrorsNoLowNodeCausesAreReported) {
  // The output error comes from a node that did not run low.
  FakeModel model{{0.9, 0.1}};
  PolicySearchInput input = model.input(0.5);
  input.lowNodes = {"n1"};
  Harness harness(model);
  PolicySearchResult result = harness.run(input);
  EXPECT_EQ(result.status, PolicySearchStatus::AllForcedMisses);
  EXPECT_EQ(result.outcome.outputError, 0.9);

  input.lowNodes.clear();
  Harness none(model);
  EXPECT_EQ(none.run(input).status, PolicySearchStatus::NothingToForce);
  EXPECT_TRUE(none.asked.empty());
}

TEST(PolicySearch, LowNodesWithoutExposedValuesRankLast) {
  FakeModel model{{0.1, 0.9}};
  PolicySearchInput input = model.input(0.5);
  input.lowNodes.insert("noresult");
  Harness harness(model);
  PolicySearchResult result = harness.run(input);
  ASSERT_EQ(result.status, PolicySearchStatus::Found);
  EXPECT_EQ(result.forced, std::vector<std::string>{"n1"});
  ASSERT_GE(harness.asked.size(), 2u);
  EXPECT_EQ(harness.asked[1], (std::set<std::string>{"n1"}));
}

TEST(PolicySearch, PolicyFileRulesMatchExactlyTheForcedNodes) {
  EXPECT_EQ(forcedNodesPolicy("bf16", {"b/mm[0]*", "a"}),
            "{\n"
            "  \"default\": \"bf16\",\n"
            "  \"rules\": [\n"
            "    {\n"
            "      \"match\": \"b/mm\\\\[0\\\\]\\\\*\",\n"
            "      \"precision\": \"fp32\"\n"
            "    },\n"
            "    {\n"
            "      \"match\": \"a\",\n"
            "      \"precision\": \"fp32\"\n"
            "    }\n"
            "  ]\n"
            "}\n");
  EXPECT_EQ(forcedNodesPolicy("fp16", {}), "{\n  \"default\": \"fp16\",\n  \"rules\": []\n}\n");
}

} // namespace
