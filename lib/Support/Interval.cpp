//===- Interval.cpp - interval arithmetic for value ranges -----------------===//
//
// Every function is sound: the result holds f(x) for every x in the inputs.
// Unbounded ends are infinities; the IEEE rules for them give the right
// answer everywhere except 0 * inf, which mulEnd handles.
//
//===----------------------------------------------------------------------===//
#include "mpc/Support/Interval.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace mpc;

static constexpr double kInf = std::numeric_limits<double>::infinity();

Interval Interval::of(double lo, double hi, double minNonZero) {
  if (std::isnan(lo) || std::isnan(hi) || lo > hi)
    return unbounded();
  Interval result;
  result.lo = lo;
  result.hi = hi;
  // A magnitude bound above the largest magnitude would claim no element
  // can be non-zero; it can only come from rounding, so drop it.
  result.minNonZero = std::isnan(minNonZero) || minNonZero > result.maxAbs() ? 0 : minNonZero;
  return result;
}

Interval Interval::point(double value) {
  return of(value, value, value == 0 ? 0 : std::fabs(value));
}

bool Interval::isBounded() const { return std::isfinite(lo) && std::isfinite(hi); }

double Interval::maxAbs() const { return std::max(std::fabs(lo), std::fabs(hi)); }

std::string Interval::str() const {
  if (lo == -kInf && hi == kInf)
    return "unbounded";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "[%.4g, %.4g]", lo, hi);
  return buffer;
}

Interval mpc::hull(const Interval &a, const Interval &b) {
  return Interval::of(std::min(a.lo, b.lo), std::max(a.hi, b.hi),
                      std::min(a.minNonZero, b.minNonZero));
}

Interval mpc::add(const Interval &a, const Interval &b) {
  return Interval::of(a.lo + b.lo, a.hi + b.hi);
}

Interval mpc::sub(const Interval &a, const Interval &b) {
  return Interval::of(a.lo - b.hi, a.hi - b.lo);
}

/// A product of interval ends where 0 beats infinity: the end 0 stands for
/// the value 0, which times anything finite is 0.
static double mulEnd(double x, double y) { return x == 0 || y == 0 ? 0 : x * y; }

Interval mpc::mul(const Interval &a, const Interval &b) {
  double p[] = {mulEnd(a.lo, b.lo), mulEnd(a.lo, b.hi), mulEnd(a.hi, b.lo), mulEnd(a.hi, b.hi)};
  return Interval::of(*std::min_element(p, p + 4), *std::max_element(p, p + 4),
                      a.minNonZero * b.minNonZero);
}

Interval mpc::reciprocal(const Interval &a) {
  if (a.contains(0))
    return Interval::unbounded();
  double tiny = a.maxAbs() == kInf ? 0 : 1 / a.maxAbs();
  return Interval::of(1 / a.hi, 1 / a.lo, tiny);
}

Interval mpc::div(const Interval &a, const Interval &b) { return mul(a, reciprocal(b)); }

Interval mpc::neg(const Interval &a) { return Interval::of(-a.hi, -a.lo, a.minNonZero); }

Interval mpc::abs(const Interval &a) {
  double lo = a.contains(0) ? 0 : std::min(std::fabs(a.lo), std::fabs(a.hi));
  return Interval::of(lo, a.maxAbs(), a.minNonZero);
}

Interval mpc::max(const Interval &a, const Interval &b) {
  return Interval::of(std::max(a.lo, b.lo), std::max(a.hi, b.hi));
}

Interval mpc::min(const Interval &a, const Interval &b) {
  return Interval::of(std::min(a.lo, b.lo), std::min(a.hi, b.hi));
}

Interval mpc::square(const Interval &a) {
  Interval magnitude = abs(a);
  return Interval::of(magnitude.lo * magnitude.lo, magnitude.hi * magnitude.hi,
                      a.minNonZero * a.minNonZero);
}

Interval mpc::pow(const Interval &a, const Interval &b) {
  if (b.lo != b.hi) {
    // A varying exponent is only tractable for a base >= 1 or in [0, 1]
    // with a known exponent range; leave the rest unbounded.
    if (a.lo >= 0 && b.isBounded()) {
      double ends[] = {std::pow(a.lo, b.lo), std::pow(a.lo, b.hi), std::pow(a.hi, b.lo),
                       std::pow(a.hi, b.hi)};
      return Interval::of(*std::min_element(ends, ends + 4), *std::max_element(ends, ends + 4));
    }
    return Interval::unbounded();
  }
  double e = b.lo;
  if (e == 0)
    return Interval::point(1);
  if (e == 2)
    return square(a);
  bool integer = std::floor(e) == e;
  if (!integer && a.lo < 0)
    return Interval::unbounded(); // NaN for negative bases
  if (e < 0 && a.contains(0))
    return Interval::unbounded();
  // |x|^e is monotonic in |x|, so the magnitude bound comes from the ends of
  // |a|; the sign follows x for odd integer exponents.
  Interval magnitude = abs(a);
  double m1 = std::pow(magnitude.lo, e), m2 = std::pow(magnitude.hi, e);
  double lowMag = std::min(m1, m2), highMag = std::max(m1, m2);
  bool odd = integer && std::fmod(std::fabs(e), 2) == 1;
  if (!integer || !odd)
    return Interval::of(lowMag, highMag);
  // Odd power: monotonic increasing for e > 0, so the ends map directly.
  if (e > 0)
    return Interval::of(std::pow(a.lo, e), std::pow(a.hi, e));
  return Interval::of(std::pow(a.hi, e), std::pow(a.lo, e));
}

Interval mpc::exp(const Interval &a) { return Interval::of(std::exp(a.lo), std::exp(a.hi)); }

Interval mpc::log(const Interval &a) {
  if (a.lo <= 0)
    return Interval::unbounded();
  return Interval::of(std::log(a.lo), std::log(a.hi));
}

Interval mpc::sqrt(const Interval &a) {
  if (a.lo < 0)
    return Interval::unbounded(); // NaN for negative inputs
  return Interval::of(std::sqrt(a.lo), std::sqrt(a.hi), std::sqrt(a.minNonZero));
}

Interval mpc::tanh(const Interval &a) { return Interval::of(std::tanh(a.lo), std::tanh(a.hi)); }

Interval mpc::sigmoid(const Interval &a) {
  auto f = [](double x) { return 1 / (1 + std::exp(-x)); };
  return Interval::of(f(a.lo), f(a.hi));
}

Interval mpc::erf(const Interval &a) { return Interval::of(std::erf(a.lo), std::erf(a.hi)); }

Interval mpc::relu(const Interval &a) {
  return Interval::of(std::max(a.lo, 0.0), std::max(a.hi, 0.0), a.minNonZero);
}

Interval mpc::gelu(const Interval &a) {
  // x * Phi(x) (and its tanh form) has its global minimum -0.1700 at
  // x = -0.7518 and never exceeds max(x, 0): loose near 0 but sound.
  constexpr double kGeluMin = -0.1701;
  return Interval::of(kGeluMin, std::max(a.hi, 0.0));
}

Interval mpc::leakyRelu(const Interval &a, double alpha) {
  // Piecewise linear: the image of the ends and of 0 bounds it for any alpha.
  auto f = [&](double x) { return x >= 0 ? x : mulEnd(alpha, x); };
  double ends[] = {f(a.lo), f(a.hi), a.contains(0) ? 0.0 : f(a.lo)};
  return Interval::of(*std::min_element(ends, ends + 3), *std::max_element(ends, ends + 3));
}

Interval mpc::clip(const Interval &a, double lo, double hi) {
  return Interval::of(std::clamp(a.lo, lo, hi), std::clamp(a.hi, lo, hi));
}

Interval mpc::sumOf(const Interval &a, int64_t count) {
  if (count <= 0)
    return Interval::point(0);
  double n = static_cast<double>(count);
  return Interval::of(mulEnd(a.lo, n), mulEnd(a.hi, n));
}
