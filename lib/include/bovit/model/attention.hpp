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
// Kernels on rows of P. For double they use 4-wide vectors (GCC/Clang vector extensions) so that
// they vectorise at -O2; every other scalar runs the plain loops.
#if defined(__GNUC__)
using v4d = double __attribute__((vector_size(32), aligned(8)));  // unaligned loads allowed
inline constexpr bool have_v4d = true;
inline v4d load4(const double* p) { return *reinterpret_cast<const v4d*>(p); }
inline void store4(double* p, v4d x) { *reinterpret_cast<v4d*>(p) = x; }
inline double hsum(v4d x) { return (x[0] + x[1]) + (x[2] + x[3]); }
#else
inline constexpr bool have_v4d = false;
#endif

template <real_scalar Real>
Real dot_kernel(const Real* x, const Real* y, std::size_t n) {
  return dot(x, y, n);
}

// out[i] = dot(q, k_i) for the n_k rows k_i, four at a time (q is read once per four rows).
template <real_scalar Real>
void dot_rows(const Real* q, const Real* const* k, std::size_t n_k, std::size_t n, Real* out) {
  std::size_t i = 0;
#if defined(__GNUC__)
  if constexpr (std::same_as<Real, double>) {
    for (; i + 4 <= n_k; i += 4) {
      const double *k0 = k[i], *k1 = k[i + 1], *k2 = k[i + 2], *k3 = k[i + 3];
      v4d a0{}, a1{}, a2{}, a3{}, b0{}, b1{}, b2{}, b3{};
      std::size_t j = 0;
      for (; j + 8 <= n; j += 8) {
        const v4d qa = load4(q + j), qb = load4(q + j + 4);
        a0 += qa * load4(k0 + j);
        b0 += qb * load4(k0 + j + 4);
        a1 += qa * load4(k1 + j);
        b1 += qb * load4(k1 + j + 4);
        a2 += qa * load4(k2 + j);
        b2 += qb * load4(k2 + j + 4);
        a3 += qa * load4(k3 + j);
        b3 += qb * load4(k3 + j + 4);
      }
      double r0 = hsum(a0 + b0), r1 = hsum(a1 + b1), r2 = hsum(a2 + b2), r3 = hsum(a3 + b3);
      for (; j < n; ++j) {
        r0 += q[j] * k0[j];
        r1 += q[j] * k1[j];
        r2 += q[j] * k2[j];
        r3 += q[j] * k3[j];
      }
      out[i] = r0;
      out[i + 1] = r1;
      out[i + 2] = r2;
      out[i + 3] = r3;
    }
  }
#endif
  for (; i < n_k; ++i) out[i] = dot_kernel(q, k[i], n);
}

// y += Σ_i c_i x_i over n_x rows x_i (y is loaded and stored once per four rows).
template <real_scalar Real>
void axpy_rows(const Real* c, const Real* const* x, std::size_t n_x, std::size_t n, Real* y) {
  std::size_t i = 0;
#if defined(__GNUC__)
  if constexpr (std::same_as<Real, double>) {
    for (; i + 4 <= n_x; i += 4) {
      const double *x0 = x[i], *x1 = x[i + 1], *x2 = x[i + 2], *x3 = x[i + 3];
      const double c0 = c[i], c1 = c[i + 1], c2 = c[i + 2], c3 = c[i + 3];
      std::size_t j = 0;
      for (; j + 4 <= n; j += 4)
        store4(y + j, load4(y + j) + ((c0 * load4(x0 + j) + c1 * load4(x1 + j)) +
                                      (c2 * load4(x2 + j) + c3 * load4(x3 + j))));
      for (; j < n; ++j) y[j] += (c0 * x0[j] + c1 * x1[j]) + (c2 * x2[j] + c3 * x3[j]);
    }
  }
#endif
  for (; i < n_x; ++i) axpy(n, c[i], x[i], y);
}

// Z[l·n_k + i] = dot(q_l, k_i) for m rows q_l and n_k rows k_i: the logits of one sample. For
// double, 4 × 4 blocks of dot products share each loaded chunk (four FMAs per load); mp50 sums on
// limbs, rounding once per logit.
template <real_scalar Real>
void dot_table(const Real* const* q, std::size_t m, const Real* const* k, std::size_t n_k, std::size_t n, Real* Z) {
  if constexpr (std::same_as<Real, mp50>) {
    if (limb_dot_table(q, m, k, n_k, n, Z)) return;
  }
  std::size_t l = 0;
#if defined(__GNUC__)
  if constexpr (std::same_as<Real, double>) {
    const std::size_t n4 = n - n % 4;
    for (; l + 4 <= m; l += 4) {
      std::size_t i = 0;
      for (; i + 4 <= n_k; i += 4) {
        v4d acc[4][4] = {};
        for (std::size_t j = 0; j < n4; j += 4) {
          const v4d x0 = load4(k[i] + j), x1 = load4(k[i + 1] + j), x2 = load4(k[i + 2] + j),
                    x3 = load4(k[i + 3] + j);
          for (std::size_t a = 0; a < 4; ++a) {
            const v4d qa = load4(q[l + a] + j);
            acc[a][0] += qa * x0;
            acc[a][1] += qa * x1;
            acc[a][2] += qa * x2;
            acc[a][3] += qa * x3;
          }
        }
        for (std::size_t a = 0; a < 4; ++a)
          for (std::size_t b = 0; b < 4; ++b) {
            double z = hsum(acc[a][b]);
            for (std::size_t j = n4; j < n; ++j) z += q[l + a][j] * k[i + b][j];
            Z[(l + a) * n_k + i + b] = z;
          }
      }
      for (; i < n_k; ++i)
        for (std::size_t a = 0; a < 4; ++a) Z[(l + a) * n_k + i] = dot_kernel(q[l + a], k[i], n);
    }
  }
#endif
  for (; l < m; ++l) dot_rows(q[l], k, n_k, n, Z + l * n_k);
}

// C_r += Σ_p A[r·k + p] B_p for r < m (rows C_r and B_p given by pointers, n entries each): the
// backward products dQ = dZ K and dK = dZᵀ Q of one sample. For double, blocks of 4 output rows ×
// 8 columns stay in registers while all k input rows stream past, so each loaded chunk feeds four
// FMAs; mp50 sums on limbs, rounding once per entry.
template <real_scalar Real>
void gemm_rows(const Real* A, std::size_t m, std::size_t k, const Real* const* B, std::size_t n, Real* const* C) {
  if constexpr (std::same_as<Real, mp50>) {
    if (limb_gemm_rows(A, m, k, B, n, C)) return;
  }
  std::size_t r = 0;
#if defined(__GNUC__)
  if constexpr (std::same_as<Real, double>) {
    const std::size_t n8 = n - n % 8;
    for (; r + 4 <= m; r += 4) {
      const double *a0 = A + r * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
      for (std::size_t j = 0; j < n8; j += 8) {
        v4d c0a{}, c0b{}, c1a{}, c1b{}, c2a{}, c2b{}, c3a{}, c3b{};
        for (std::size_t p = 0; p < k; ++p) {
          const v4d xa = load4(B[p] + j), xb = load4(B[p] + j + 4);
          c0a += a0[p] * xa;
          c0b += a0[p] * xb;
          c1a += a1[p] * xa;
          c1b += a1[p] * xb;
          c2a += a2[p] * xa;
          c2b += a2[p] * xb;
          c3a += a3[p] * xa;
          c3b += a3[p] * xb;
        }
        store4(C[r] + j, load4(C[r] + j) + c0a);
        store4(C[r] + j + 4, load4(C[r] + j + 4) + c0b);
        store4(C[r + 1] + j, load4(C[r + 1] + j) + c1a);
        store4(C[r + 1] + j + 4, load4(C[r + 1] + j + 4) + c1b);
        store4(C[r + 2] + j, load4(C[r + 2] + j) + c2a);
        store4(C[r + 2] + j + 4, load4(C[r + 2] + j + 4) + c2b);
        store4(C[r + 3] + j, load4(C[r + 3] + j) + c3a);
        store4(C[r + 3] + j + 4, load4(C[r + 3] + j + 4) + c3b);
      }
      for (std::size_t q = 0; q < 4; ++q)
        for (std::size_t j = n8; j < n; ++j) {
          double acc = 0;
          for (std::size_t p = 0; p < k; ++p) acc += A[(r + q) * k + p] * B[p][j];
          C[r + q][j] += acc;
        }
    }
  }
#endif
  for (; r < m; ++r) axpy_rows(A + r * k, B, k, n, C[r]);
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
  std::vector<const Real*> q(M), k(M);
  std::vector<Real> v(M);
  Real loss(0), errors(0);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t i = 0; i < M; ++i) {
      const Real* row = P.data() + static_cast<std::size_t>(token_of(n, i)) * w;
      q[i] = row;
      k[i] = row + d_h;
      v[i] = row[2 * d_h];
    }
    detail::dot_table(q.data(), M, k.data(), M, d_h, &st.S(n, 0, 0));
    Real f(0);
    for (std::size_t l = 0; l < M; ++l) {
      Real* z = &st.S(n, l, 0);
      for (std::size_t i = 0; i < M; ++i) z[i] *= tau;
      softmax_inplace(z, M);
      for (std::size_t i = 0; i < M; ++i) f += z[i] * v[i];
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
// Per sample: dZ (M × M) first, then dQ_l = Σ_i dZ_{l,i} k_i and dK_i = Σ_l dZ_{l,i} q_l.
template <real_scalar Real>
void attention_backward(const matrix<Real>& P, const xt::xtensor<int, 2>& token_of, const vector<Real>& y,
                        std::size_t d_h, const Real& tau, const attention_state<Real>& st, matrix<Real>& D) {
  const std::size_t N = token_of.shape(0), M = token_of.shape(1), w = P.shape(1);
  if (D.shape() != P.shape()) D = matrix<Real>::from_shape({P.shape(0), w});
  D.fill(Real(0));
  std::vector<std::size_t> r(M);
  std::vector<const Real*> q(M), k(M);
  std::vector<Real*> dq(M), dk(M);
  std::vector<Real> v(M), sbar(M), dz(M * M), dzt(M * M);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t i = 0; i < M; ++i) {
      r[i] = static_cast<std::size_t>(token_of(n, i));
      q[i] = P.data() + r[i] * w;
      k[i] = q[i] + d_h;
      v[i] = q[i][2 * d_h];
      sbar[i] = Real(0);
    }
    const Real g = y(n) * st.lprime(n) / Real(N);
    const Real scale = tau * g / Real(M);
    for (std::size_t l = 0; l < M; ++l) {
      const Real* s = &st.S(n, l, 0);
      Real v_hat(0);
      for (std::size_t i = 0; i < M; ++i) {
        v_hat += s[i] * v[i];
        sbar[i] += s[i];
      }
      for (std::size_t i = 0; i < M; ++i) dz[l * M + i] = scale * s[i] * (v[i] - v_hat);
    }
    for (std::size_t i = 0; i < M; ++i) {
      D.data()[r[i] * w + 2 * d_h] += g * (sbar[i] / Real(M));
      dq[i] = D.data() + r[i] * w;
      dk[i] = dq[i] + d_h;
      for (std::size_t l = 0; l < M; ++l) dzt[i * M + l] = dz[l * M + i];
    }
    detail::gemm_rows(dz.data(), M, M, k.data(), d_h, dq.data());   // dQ_l += Σ_i dZ_{l,i} k_i
    detail::gemm_rows(dzt.data(), M, M, q.data(), d_h, dk.data());  // dK_i += Σ_l dZ_{l,i} q_l
  }
}

}  // namespace bovit
