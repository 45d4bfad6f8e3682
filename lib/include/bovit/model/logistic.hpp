// Logistic loss ℓ(z) = log(1 + e^{−z}) and its derivative ℓ'(z) = −1/(1 + e^{z}) ∈ (−1, 0).
//
// Both are evaluated without overflow for any finite z: ℓ(z) = max(−z, 0) + log1p(e^{−|z|}), and
// ℓ' uses e^{−|z|} ≤ 1 on either branch. Relative error is a few ulps of Real for all z.
#pragma once

#include "bovit/scalar.hpp"

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <cmath>

namespace bovit {

template <real_scalar Real>
Real logistic_loss(const Real& z) {
  using std::abs;
  using std::exp;
  using std::log1p;
  using boost::multiprecision::log1p;
  const Real e = exp(-abs(z));
  return (z < Real(0) ? -z : Real(0)) + log1p(e);
}

template <real_scalar Real>
Real logistic_derivative(const Real& z) {
  using std::abs;
  using std::exp;
  const Real e = exp(-abs(z));
  return z >= Real(0) ? -e / (Real(1) + e) : -Real(1) / (Real(1) + e);
}

}  // namespace bovit
