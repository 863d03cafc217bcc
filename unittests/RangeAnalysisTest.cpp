//===- RangeAnalysisTest.cpp - interval arithmetic of the range analysis --===//
#include "mpc/Support/Interval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace mpc;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

void expectRange(const Interval &range, double lo, double hi) {
  EXPECT_DOUBLE_EQ(range.lo, lo);
  EXPECT_DOUBLE_EQ(range.hi, hi);
}

TEST(IntervalTest, UnboundedByDefault) {
  Interval range = Interval::unbounded();
  EXPECT_FALSE(range.isBounded());
  EXPECT_EQ(range.maxAbs(), kInf);
  EXPECT_EQ(range.str(), "unbounded");
  EXPECT_EQ(Interval::of(1, 0), Interval::unbounded()); // lo > hi is no interval
  EXPECT_EQ(Interval::of(NAN, 1), Interval::unbounded());
}

TEST(IntervalTest, Arithmetic) {
  Interval a = Interval::of(-2, 3), b = Interval::of(1, 4);
  expectRange(add(a, b), -1, 7);
  expectRange(sub(a, b), -6, 2);
  expectRange(mul(a, b), -8, 12);
  expectRange(mul(a, a), -6, 9);
  expectRange(square(a), 0, 9);
  expectRange(div(a, b), -2, 3);
  expectRange(neg(a), -3, 2);
  expectRange(mpc::abs(a), 0, 3);
  expectRange(mpc::abs(Interval::of(-5, -2)), 2, 5);
  expectRange(mpc::max(a, b), 1, 4);
  expectRange(mpc::min(a, b), -2, 3);
  EXPECT_EQ(Interval::of(-2, 3).str(), "[-2, 3]");
}

TEST(IntervalTest, DivisionByAnIntervalHoldingZeroIsUnbounded) {
  EXPECT_FALSE(div(Interval::of(1, 2), Interval::of(-1, 1)).isBounded());
  EXPECT_FALSE(div(Interval::of(1, 2), Interval::of(0, 1)).isBounded());
  expectRange(reciprocal(Interval::of(2, 4)), 0.25, 0.5);
}

TEST(IntervalTest, ZeroTimesUnboundedIsZero) {
  // A zero factor pins the product even when the other end is infinite.
  expectRange(mul(Interval::point(0), Interval::unbounded()), 0, 0);
  Interval half = mul(Interval::of(0, 2), Interval::of(0, kInf));
  expectRange(half, 0, kInf);
}

TEST(IntervalTest, UnaryFunctions) {
  expectRange(mpc::exp(Interval::of(0, 1)), 1, std::exp(1.0));
  EXPECT_FALSE(mpc::log(Interval::of(0, 1)).isBounded());
  expectRange(mpc::log(Interval::of(1, std::exp(2.0))), 0, 2);
  expectRange(mpc::sqrt(Interval::of(4, 9)), 2, 3);
  EXPECT_FALSE(mpc::sqrt(Interval::of(-1, 9)).isBounded());
  expectRange(mpc::tanh(Interval::unbounded()), -1, 1);
  expectRange(sigmoid(Interval::unbounded()), 0, 1);
  expectRange(mpc::erf(Interval::unbounded()), -1, 1);
  expectRange(relu(Interval::of(-3, 2)), 0, 2);
  expectRange(leakyRelu(Interval::of(-10, 2), 0.1), -1, 2);
  expectRange(clip(Interval::unbounded(), 0, 6), 0, 6);
  Interval g = gelu(Interval::of(-10, 5));
  EXPECT_LE(g.lo, -0.17);
  EXPECT_DOUBLE_EQ(g.hi, 5);
}

TEST(IntervalTest, PowerWithConstantExponent) {
  expectRange(mpc::pow(Interval::of(-3, 2), Interval::point(2)), 0, 9);
  expectRange(mpc::pow(Interval::of(-3, 2), Interval::point(3)), -27, 8);
  expectRange(mpc::pow(Interval::of(4, 9), Interval::point(0.5)), 2, 3);
  expectRange(mpc::pow(Interval::of(-3, 2), Interval::point(0)), 1, 1);
  EXPECT_FALSE(mpc::pow(Interval::of(-1, 1), Interval::point(-1)).isBounded());
  EXPECT_FALSE(mpc::pow(Interval::of(-1, 1), Interval::point(0.5)).isBounded());
  EXPECT_FALSE(mpc::pow(Interval::of(-1, 1), Interval::of(1, 2)).isBounded());
}

TEST(IntervalTest, SumsScaleWithTheirTermCount) {
  // The matmul bound: K products of |a| <= 300 and |b| <= 10.
  Interval products = mul(Interval::of(-300, 300), Interval::of(-10, 10));
  Interval y = sumOf(products, 64);
  expectRange(y, -192000, 192000);
  EXPECT_GT(y.maxAbs(), 65504);
  expectRange(sumOf(Interval::of(0, 1), 0), 0, 0);
  EXPECT_FALSE(sumOf(Interval::of(0, kInf), 8).isBounded());
}

TEST(IntervalTest, SmallestNonZeroMagnitude) {
  Interval tiny = Interval::of(-1e-3, 1e-3, 1e-6);
  EXPECT_DOUBLE_EQ(mul(tiny, Interval::point(1e-4)).minNonZero, 1e-10);
  EXPECT_DOUBLE_EQ(neg(tiny).minNonZero, 1e-6);
  EXPECT_DOUBLE_EQ(hull(tiny, Interval::of(0, 1, 1e-2)).minNonZero, 1e-6);
  // Sums can cancel to anything small: no claim.
  EXPECT_EQ(add(tiny, tiny).minNonZero, 0);
}
} // namespace
