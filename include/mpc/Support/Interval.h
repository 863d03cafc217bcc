//===- Interval.h - value ranges of float tensors ---------------*- C++ -*-===//
//
// Plain C++ (no MLIR): the interval arithmetic behind the value-range
// analysis (docs/precision-range.md), kept apart so gtest can check it
// without building IR. The dialect's range rules and the analysis share it.
//
//===----------------------------------------------------------------------===//
#ifndef MPC_PRECISION_INTERVAL_H
#define MPC_PRECISION_INTERVAL_H

#include <cstdint>
#include <limits>
#include <string>

namespace mpc {

/// Every element of a tensor lies in [lo, hi]. Unbounded ends are +-inf, so
/// "nothing is known" is [-inf, inf] and every rule stays sound without a
/// special case. `minNonZero` is a lower bound on the magnitude of the
/// non-zero elements (0 when nothing better is known): what predicts
/// underflow of small values.
struct Interval {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  double minNonZero = 0;

  static Interval unbounded() { return {}; }
  /// [lo, hi]; NaN ends (a rule fed nonsense) widen to unbounded.
  static Interval of(double lo, double hi, double minNonZero = 0);
  static Interval point(double value);

  bool isBounded() const;
  /// max |x| over the interval (inf when unbounded).
  double maxAbs() const;
  bool contains(double value) const { return lo <= value && value <= hi; }
  bool operator==(const Interval &other) const {
    return lo == other.lo && hi == other.hi && minNonZero == other.minNonZero;
  }
  /// "[-100, 100]" with short %g numbers; "unbounded" when nothing is known.
  std::string str() const;
};

/// The smallest interval holding both.
Interval hull(const Interval &a, const Interval &b);

Interval add(const Interval &a, const Interval &b);
Interval sub(const Interval &a, const Interval &b);
Interval mul(const Interval &a, const Interval &b);
/// Unbounded when `b` contains 0.
Interval div(const Interval &a, const Interval &b);
Interval neg(const Interval &a);
Interval abs(const Interval &a);
Interval max(const Interval &a, const Interval &b);
Interval min(const Interval &a, const Interval &b);
/// The elementwise square (tighter than mul(a, a), which ignores that both
/// factors are the same element).
Interval square(const Interval &a);
/// a^b; bounded only for a constant exponent `b`, or a non-negative base.
Interval pow(const Interval &a, const Interval &b);

// Monotonic and saturating unary functions.
Interval exp(const Interval &a);
/// Unbounded when `a` reaches 0 or below (log 0 = -inf, NaN below).
Interval log(const Interval &a);
Interval sqrt(const Interval &a);
Interval reciprocal(const Interval &a);
Interval tanh(const Interval &a);
Interval sigmoid(const Interval &a);
Interval erf(const Interval &a);
Interval relu(const Interval &a);
/// x * Phi(x): never below -0.17, never above max(x, 0).
Interval gelu(const Interval &a);
Interval leakyRelu(const Interval &a, double alpha);
Interval clip(const Interval &a, double lo, double hi);

/// The sum of `count` terms that each lie in `a` (reductions, the products
/// summed by a matmul or a convolution).
Interval sumOf(const Interval &a, int64_t count);

} // namespace mpc

#endif // MPC_PRECISION_INTERVAL_H
