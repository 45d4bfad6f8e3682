// Forward and backward pass of the attention layer over a token-projection table (spec §2–§4).
//
// Both engines reduce a step to the same kernel. P holds one row per distinct token a with
// columns [q_a | k_a | v_a]: q_a = W_Qᵀx_a, k_a = W_Kᵀx_a (d_h each), v_a = x_aᵀW_V w_O. For
// sample n with rows r_l = token_of(n, l):
//   Z_{l,i} = τ q_{r_l}·k_{r_i},  S = row-softmax(Z),  f_n = (1/M) Σ_l Σ_i S_{l,i} v_{r_i}.
// With g_n = y_n ℓ'(y_n f_n)/N, v̂_l = Σ_i S_{l,i} v_i and s̄_i = (1/M) Σ_l S_{l,i}:
//   ∂L/∂v_i = g_n s̄_i,  ∂L/∂Z_{l,i} = (g_n/M) S_{l,i}(v_i − v̂_l),
//   ∂L/∂q_l = τ Σ_i ∂L/∂Z_{l,i} k_i,  ∂L/∂k_i = τ Σ_l ∂L/∂Z_{l,i} q_l.
// The backward pass accumulates these into D (shaped like P) over every occurrence of a token:
// D = [D_Q | D_K | D_v] of spec §5. Then ∇W_Q = Σ_a x_a D_Q[a]ᵀ, etc.
#pragma once

#include "bovit/linalg.hpp"
#include "bovit/model/logistic.hpp"
#include "bovit/model/softmax.hpp"

#include <xtensor/xtensor.hpp>

#include <vector>

namespace bovit {

template <real_scalar Real>
struct attention_state {
  xt::xtensor<Real, 3> S;  // N × M × M attention
  vector<Real> f;          // outputs f(X_n)
  vector<Real> lprime;     // ℓ'(y_n f_n)
  Real loss{0};            // (1/N) Σ ℓ(y_n f_n)
  Real error{0};           // fraction with y_n f_n ≤ 0

  int samples() const { return static_cast<int>(S.shape(0)); }
  int tokens() const { return static_cast<int>(S.shape(1)); }
  // s̄_{n,i}: the attention that token i of sample n receives.
  Real received(int n, int i) const {
    Real s(0);
    for (int l = 0; l < tokens(); ++l) s += S(n, l, i);
    return s / Real(tokens());
  }
};

namespace detail {
template <real_scalar Real>
Real dot_kernel(const Real* x, const Real* y, std::size_t n) {
  if constexpr (std::same_as<Real, double>) {
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;  // four chains let the compiler vectorise
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      a0 += x[i] * y[i];
      a1 += x[i + 1] * y[i + 1];
      a2 += x[i + 2] * y[i + 2];
      a3 += x[i + 3] * y[i + 3];
    }
    for (; i < n; ++i) a0 += x[i] * y[i];
    return (a0 + a1) + (a2 + a3);
  } else {
    return dot(x, y, n);
  }
}
}  // namespace detail

template <real_scalar Real>
void attention_forward(const matrix<Real>& P, const xt::xtensor<int, 2>& token_of, const vector<Real>& y,
                       std::size_t d_h, const Real& tau, attention_state<Real>& st) {
  const std::size_t N = token_of.shape(0), M = token_of.shape(1), w = P.shape(1);
  if (st.S.shape(0) != N || st.S.shape(1) != M) {
    st.S = xt::xtensor<Real, 3>::from_shape({N, M, M});
    st.f = vector<Real>::from_shape({N});
    st.lprime = vector<Real>::from_shape({N});
  }
  Real loss(0), errors(0);
  for (std::size_t n = 0; n < N; ++n) {
    Real f(0);
    for (std::size_t l = 0; l < M; ++l) {
      const Real* q = P.data() + static_cast<std::size_t>(token_of(n, l)) * w;
      Real* z = &st.S(n, l, 0);
      for (std::size_t i = 0; i < M; ++i) {
        const Real* k = P.data() + static_cast<std::size_t>(token_of(n, i)) * w + d_h;
        z[i] = tau * detail::dot_kernel(q, k, d_h);
      }
      softmax_inplace(z, M);
      for (std::size_t i = 0; i < M; ++i) f += z[i] * P(static_cast<std::size_t>(token_of(n, i)), 2 * d_h);
    }
    f /= Real(M);
    st.f(n) = f;
    const Real margin = y(n) * f;
    st.lprime(n) = logistic_derivative(margin);
    loss += logistic_loss(margin);
    if (!(margin > Real(0))) errors += Real(1);
  }
  st.loss = loss / Real(N);
  st.error = errors / Real(N);
}

// D := ∂L_S/∂P, accumulated over every occurrence of each token (see the header comment).
template <real_scalar Real>
void attention_backward(const matrix<Real>& P, const xt::xtensor<int, 2>& token_of, const vector<Real>& y,
                        std::size_t d_h, const Real& tau, const attention_state<Real>& st, matrix<Real>& D) {
  const std::size_t N = token_of.shape(0), M = token_of.shape(1), w = P.shape(1);
  if (D.shape() != P.shape()) D = matrix<Real>::from_shape({P.shape(0), w});
  D.fill(Real(0));
  std::vector<Real> dz(M);
  for (std::size_t n = 0; n < N; ++n) {
    const Real g = y(n) * st.lprime(n) / Real(N);
    for (std::size_t i = 0; i < M; ++i) D(static_cast<std::size_t>(token_of(n, i)), 2 * d_h) += g * st.received(int(n), int(i));
    for (std::size_t l = 0; l < M; ++l) {
      const std::size_t rl = static_cast<std::size_t>(token_of(n, l));
      const Real* s = &st.S(n, l, 0);
      Real v_hat(0);
      for (std::size_t i = 0; i < M; ++i) v_hat += s[i] * P(static_cast<std::size_t>(token_of(n, i)), 2 * d_h);
      const Real scale = tau * g / Real(M);
      for (std::size_t i = 0; i < M; ++i)
        dz[i] = scale * s[i] * (P(static_cast<std::size_t>(token_of(n, i)), 2 * d_h) - v_hat);
      Real* dq = D.data() + rl * w;
      const Real* q = P.data() + rl * w;
      for (std::size_t i = 0; i < M; ++i) {
        const std::size_t ri = static_cast<std::size_t>(token_of(n, i));
        const Real* k = P.data() + ri * w + d_h;
        Real* dk = D.data() + ri * w + d_h;
        const Real c = dz[i];
        for (std::size_t j = 0; j < d_h; ++j) {
          dq[j] += c * k[j];
          dk[j] += c * q[j];
        }
      }
    }
  }
}

}  // namespace bovit
