// Shared test helpers: the typed scalar list, tolerances derived from epsilon, and a relative
// comparison that reports both values, the scalar type and the element index of every failure.
#pragma once

#include "bovit/linalg.hpp"
#include "bovit/scalar.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

namespace bovit::test {

// The typed list every scalar-generic test runs on.
using scalar_types = ::testing::Types<double, long double, mp50>;

struct scalar_type_names {
  template <class T>
  static std::string GetName(int) {
    return std::string(scalar_name<T>());
  }
};

// Tolerances as multiples of the scalar's epsilon, so that one test body serves every type.
template <real_scalar Real>
struct tolerances {
  // A handful of roundings (softmax, logistic: a few ulps each).
  static Real few_ulps() { return Real(16) * std::numeric_limits<Real>::epsilon(); }
  // Long sums or conditioning up to ~1e3.
  static Real loose() { return Real(4096) * std::numeric_limits<Real>::epsilon(); }
};

// Relative difference |a − b| / max(|b|, floor): relative, falling back to absolute below `floor`.
template <real_scalar Real>
Real rel_diff(const Real& a, const Real& b, const Real& floor) {
  using std::abs;
  using std::max;
  const Real scale = max(abs(b), floor);
  if (scale == Real(0)) return abs(a - b);
  return abs(a - b) / scale;
}

template <real_scalar Real>
std::string show(const Real& x) {
  std::ostringstream s;
  s.precision(std::numeric_limits<Real>::max_digits10);
  s << x;
  return s.str();
}

// Outcome of an element-wise comparison: the worst relative error and where it was.
struct comparison {
  bool ok = true;
  double worst = 0.0;
  std::string report;  // one line per failing element (at most 8), plus the worst
};

// Compares `actual` against `expected` element by element, each difference divided by
// scale_of(i): the shared loop of compare_rel and compare_scaled.
template <real_scalar Real, class E1, class E2, class ScaleOf>
comparison compare_with(const E1& actual, const E2& expected, const Real& tol, const std::string& what,
                        ScaleOf scale_of) {
  comparison c;
  std::ostringstream log;
  if (actual.size() != expected.size()) {
    c.ok = false;
    log << what << ": sizes differ (" << actual.size() << " vs " << expected.size() << ")\n";
    c.report = log.str();
    return c;
  }
  using std::abs;
  int shown = 0;
  Real worst(0);
  std::size_t worst_at = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Real a(actual.data()[i]), b(expected.data()[i]);
    const Real scale = scale_of(i);
    const Real r = !(is_finite(a) && is_finite(b)) ? std::numeric_limits<Real>::infinity()
                   : scale == Real(0)              ? abs(a - b)
                                                   : abs(a - b) / scale;
    if (!(r <= worst)) {
      worst = r;
      worst_at = i;
    }
    if (!(r <= tol)) {
      c.ok = false;
      if (shown++ < 8)
        log << what << "[" << i << "] (" << scalar_name<Real>() << "): actual " << show(a) << ", expected "
            << show(b) << ", scale " << show(scale) << ", rel " << show(r) << " > tol " << show(tol) << "\n";
    }
  }
  c.worst = to_double(worst);
  if (!c.ok) log << what << ": worst rel error " << show(worst) << " at element " << worst_at << "\n";
  c.report = log.str();
  return c;
}

// Relative comparison. The floor of the relative error is `floor_fraction` × max|expected|, so
// entries near zero are judged against the block's scale.
template <real_scalar Real, class E1, class E2>
comparison compare_rel(const E1& actual, const E2& expected, const Real& tol, const std::string& what,
                       const Real& floor_fraction = Real(1e-3)) {
  using std::abs;
  using std::max;
  Real top(0);
  for (std::size_t i = 0; i < expected.size(); ++i) top = max(top, Real(abs(Real(expected.data()[i]))));
  const Real floor = floor_fraction * top;
  return compare_with(actual, expected, tol, what,
                      [&](std::size_t i) { return max(Real(abs(Real(expected.data()[i]))), floor); });
}

// Comparison against a given scale per element (for example the size of the summands of a dot
// product, when the result itself may cancel to near zero).
template <real_scalar Real, class E1, class E2, class E3>
comparison compare_scaled(const E1& actual, const E2& expected, const E3& scale, const Real& tol,
                          const std::string& what) {
  return compare_with(actual, expected, tol, what, [&](std::size_t i) { return Real(scale.data()[i]); });
}

template <real_scalar Real>
::testing::AssertionResult near_rel(const Real& actual, const Real& expected, const Real& tol, const Real& floor,
                                    const std::string& what) {
  const Real r = rel_diff(actual, expected, floor);
  if (is_finite(actual) && r <= tol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << " (" << scalar_name<Real>() << "): actual " << show(actual)
                                       << ", expected " << show(expected) << ", rel " << show(r) << " > tol "
                                       << show(tol);
}

}  // namespace bovit::test
