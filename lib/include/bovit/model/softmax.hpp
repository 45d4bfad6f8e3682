// Row softmax that never overflows: s_i = e^{z_i − max z} / Σ_j e^{z_j − max z}.
//
// Every exponent is ≤ 0, so no term overflows, and the largest term is exactly 1, so the sum is
// in [1, n] and never underflows to zero. The result is invariant under z ↦ z + c up to rounding.
#pragma once

#include "bovit/scalar.hpp"

#include <cmath>
#include <cstddef>

namespace bovit {

template <real_scalar Real>
void softmax_inplace(Real* z, std::size_t n) {
  using std::exp;
  Real top = z[0];
  for (std::size_t i = 1; i < n; ++i)
    if (z[i] > top) top = z[i];
  Real sum(0);
  for (std::size_t i = 0; i < n; ++i) {
    z[i] = exp(z[i] - top);
    sum += z[i];
  }
  const Real inv = Real(1) / sum;
  for (std::size_t i = 0; i < n; ++i) z[i] *= inv;
}

}  // namespace bovit
