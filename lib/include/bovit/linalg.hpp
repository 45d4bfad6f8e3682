// Dense linear algebra on xtensor containers, generic in the scalar.
//
// `double` goes to OpenBLAS through xtensor-blas; mp50 products go to the limb kernels of
// linalg/limb_products.hpp (one rounding per result); long double, and mp50 operands that are not
// finite, run the generic loops below, ordered for unit-stride inner loops. Matrices are row-major.
#pragma once

#include "bovit/linalg/limb_products.hpp"
#include "bovit/scalar.hpp"

#include <xtensor-blas/xblas.hpp>
#include <xtensor/xtensor.hpp>

#include <boost/multiprecision/cpp_int.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace bovit {

template <real_scalar Real>
using matrix = xt::xtensor<Real, 2>;
template <real_scalar Real>
using vector = xt::xtensor<Real, 1>;

enum class op { none, transpose };

namespace detail {
// Exact products of double-valued multiprecision data (mp50 setup: Gram matrices, U W⁽⁰⁾).
//
// When every entry of op(A) and op(B) is exactly a double x = m·2^e (|m| < 2^53), each product
// is an exact 106-bit integer times a power of two. They are summed exactly in a fixed-point
// accumulator of 64-bit limbs spanning the data's exponent range, and the sum is rounded once to
// Real: every entry of A B is then correctly rounded, i.e. at least as accurate as the generic
// loop (which rounds after every operation). Rows of the result are split over the thread
// budget. Returns false, having written nothing, when some entry is not a double or the exponent
// range needs too many limbs.
struct split_matrix {
  std::vector<std::uint64_t> mag;  // |m| per entry, rows × k, row-major
  std::vector<int> exp;            // e per entry
  std::vector<unsigned char> neg;  // sign per entry
  int emin = 0, emax = 0;          // over non-zero entries
  bool any = false;
};

// Splits op(X) (transposed=false) or op(X)ᵀ into rows × k; false if an entry is not a double.
template <real_scalar Real>
bool split_doubles(const matrix<Real>& x, bool transposed, split_matrix& out) {
  const std::size_t r = transposed ? x.shape(1) : x.shape(0), k = transposed ? x.shape(0) : x.shape(1);
  const std::size_t ld = x.shape(1);
  out.mag.assign(r * k, 0);
  out.exp.assign(r * k, 0);
  out.neg.assign(r * k, 0);
  for (std::size_t i = 0; i < r; ++i)
    for (std::size_t p = 0; p < k; ++p) {
      const Real& v = transposed ? x.data()[p * ld + i] : x.data()[i * ld + p];
      const double dv = static_cast<double>(v);
      if (!std::isfinite(dv) || Real(dv) != v) return false;
      if (dv == 0) continue;
      int e = 0;
      const double f = std::frexp(std::fabs(dv), &e);  // |dv| = f·2^e, f ∈ [0.5, 1)
      const std::size_t at = i * k + p;
      out.mag[at] = static_cast<std::uint64_t>(std::ldexp(f, 53));
      out.exp[at] = e - 53;
      out.neg[at] = dv < 0;
      if (!out.any || out.exp[at] < out.emin) out.emin = out.exp[at];
      if (!out.any || out.exp[at] > out.emax) out.emax = out.exp[at];
      out.any = true;
    }
  return true;
}

inline void add_shifted(std::uint64_t* acc, std::size_t limbs, unsigned __int128 p, int shift) {
  const std::size_t q = static_cast<std::size_t>(shift) >> 6;
  const unsigned r = static_cast<unsigned>(shift) & 63u;
  const auto lo = static_cast<std::uint64_t>(p), hi = static_cast<std::uint64_t>(p >> 64);
  std::uint64_t w[3] = {lo, hi, 0};
  if (r) w[0] = lo << r, w[1] = (hi << r) | (lo >> (64 - r)), w[2] = hi >> (64 - r);
  unsigned __int128 carry = 0;
  std::size_t i = q;
  for (; i < q + 3; ++i) {
    const unsigned __int128 t = static_cast<unsigned __int128>(acc[i]) + w[i - q] + carry;
    acc[i] = static_cast<std::uint64_t>(t);
    carry = t >> 64;
  }
  for (; carry && i < limbs; ++i) carry = ++acc[i] == 0;
}

template <real_scalar Real>
Real from_limbs(const std::vector<std::uint64_t>& pos, const std::vector<std::uint64_t>& neg, int scale) {
  using boost::multiprecision::cpp_int;
  cpp_int a = 0, b = 0;
  for (std::size_t i = pos.size(); i-- > 0;) {
    a = (a << 64) | pos[i];
    b = (b << 64) | neg[i];
  }
  using std::ldexp;
  using boost::multiprecision::ldexp;
  return ldexp(static_cast<Real>(cpp_int(a - b)), scale);
}

template <real_scalar Real>
bool exact_double_gemm(bool ta, bool tb, const Real& alpha, const matrix<Real>& a, const matrix<Real>& b,
                       const Real& beta, matrix<Real>& c) {
  split_matrix sb, sa;  // op(B)ᵀ first: weights are the likelier to be non-double
  if (!split_doubles(b, !tb, sb) || !split_doubles(a, ta, sa)) return false;
  const std::size_t m = c.shape(0), n = c.shape(1), k = ta ? a.shape(0) : a.shape(1);
  const int base = sa.emin + sb.emin;
  const int top = sa.emax + sb.emax - base + 106 + 64;  // + 64 bits of headroom for k terms
  const std::size_t limbs = static_cast<std::size_t>(top / 64 + 3);
  if (sa.any && sb.any && limbs > 96) return false;
  const double work = double(m) * n * k;
  parallel_blocks(m, work < 1e5 ? 1 : thread_budget(), [&](std::size_t i0, std::size_t i1) {
    std::vector<std::uint64_t> pos(limbs), neg(limbs);
    for (std::size_t i = i0; i < i1; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        Real dotv(0);
        if (sa.any && sb.any) {
          std::fill(pos.begin(), pos.end(), 0);
          std::fill(neg.begin(), neg.end(), 0);
          const std::size_t ra = i * k, rb = j * k;
          for (std::size_t p = 0; p < k; ++p) {
            const std::uint64_t ma = sa.mag[ra + p], mb = sb.mag[rb + p];
            if (!ma || !mb) continue;
            const auto prod = static_cast<unsigned __int128>(ma) * mb;
            const int shift = sa.exp[ra + p] + sb.exp[rb + p] - base;
            add_shifted(sa.neg[ra + p] != sb.neg[rb + p] ? neg.data() : pos.data(), limbs, prod, shift);
          }
          dotv = from_limbs<Real>(pos, neg, base);
        }
        Real& cij = c.data()[i * n + j];
        cij = beta == Real(0) ? alpha * dotv : alpha * dotv + beta * cij;
      }
  });
  return true;
}
}  // namespace detail

// C := alpha * op(A) * op(B) + beta * C. C must already have the result shape.
template <real_scalar Real>
void gemm(op op_a, op op_b, const Real& alpha, const matrix<Real>& a, const matrix<Real>& b,
          const Real& beta, matrix<Real>& c) {
  const bool ta = op_a == op::transpose, tb = op_b == op::transpose;
  const std::size_t m = ta ? a.shape(1) : a.shape(0);
  const std::size_t k = ta ? a.shape(0) : a.shape(1);
  const std::size_t n = tb ? b.shape(0) : b.shape(1);
  if ((tb ? b.shape(1) : b.shape(0)) != k || c.shape(0) != m || c.shape(1) != n)
    throw std::invalid_argument("gemm: shapes do not conform");
  if (m == 0 || n == 0) return;
  if constexpr (uses_blas<Real>) {
    if (k == 0) {
      c *= beta;
      return;
    }
    xt::blas::gemm(a, b, c, ta, tb, alpha, beta);
  } else {
    if constexpr (std::same_as<Real, mp50>) {
      // Products of double data (setup): exact, then rounded once. Others: on limbs, rounded once.
      if (k > 0 && detail::exact_double_gemm(ta, tb, alpha, a, b, beta, c)) return;
      if (k > 0 && detail::limb_gemm(ta, tb, m, n, k, alpha, a.data(), a.shape(1), b.data(), b.shape(1), beta,
                                     c.data()))
        return;
    }
    const Real* pa = a.data();
    const Real* pb = b.data();
    Real* pc = c.data();
    const std::size_t lda = a.shape(1), ldb = b.shape(1);
    if (beta == Real(0)) {
      for (std::size_t i = 0; i < m * n; ++i) pc[i] = Real(0);
    } else if (beta != Real(1)) {
      for (std::size_t i = 0; i < m * n; ++i) pc[i] *= beta;
    }
    if (!tb) {
      // C[i,:] += alpha * A(i,p) * B[p,:]: unit stride over B and C.
      for (std::size_t i = 0; i < m; ++i) {
        Real* ci = pc + i * n;
        for (std::size_t p = 0; p < k; ++p) {
          const Real aip = alpha * (ta ? pa[p * lda + i] : pa[i * lda + p]);
          if (aip == Real(0)) continue;
          const Real* bp = pb + p * ldb;
          for (std::size_t j = 0; j < n; ++j) ci[j] += aip * bp[j];
        }
      }
    } else {
      // C[i,j] += alpha * dot(A(i,:), B[j,:]).
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
          Real acc(0);
          const Real* bj = pb + j * ldb;
          if (!ta) {
            const Real* ai = pa + i * lda;
            for (std::size_t p = 0; p < k; ++p) acc += ai[p] * bj[p];
          } else {
            for (std::size_t p = 0; p < k; ++p) acc += pa[p * lda + i] * bj[p];
          }
          pc[i * n + j] += alpha * acc;
        }
      }
    }
  }
}

// y := A x (A is m×n, x has n entries, y has m).
template <real_scalar Real>
void gemv(const matrix<Real>& a, const Real* x, Real* y) {
  const std::size_t m = a.shape(0), n = a.shape(1);
  if constexpr (uses_blas<Real>) {
    if (m == 0) return;
    if (n == 0) {
      for (std::size_t i = 0; i < m; ++i) y[i] = 0;
      return;
    }
    cblas_dgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(m), static_cast<int>(n), 1.0, a.data(),
                static_cast<int>(n), x, 1, 0.0, y, 1);
  } else {
    for (std::size_t i = 0; i < m; ++i) {
      const Real* ai = a.data() + i * n;
      Real acc(0);
      for (std::size_t j = 0; j < n; ++j) acc += ai[j] * x[j];
      y[i] = acc;
    }
  }
}

// x · y over n entries (double: two 4-wide partial sums under GCC/Clang, so a different rounding order).
template <real_scalar Real>
Real dot(const Real* x, const Real* y, std::size_t n) {
  std::size_t i = 0;
  Real acc(0);
#if defined(__GNUC__)
  if constexpr (std::same_as<Real, double>) {
    using v4 = double __attribute__((vector_size(32), aligned(8)));
    v4 a{}, b{};
    for (; i + 8 <= n; i += 8) {
      a += *reinterpret_cast<const v4*>(x + i) * *reinterpret_cast<const v4*>(y + i);
      b += *reinterpret_cast<const v4*>(x + i + 4) * *reinterpret_cast<const v4*>(y + i + 4);
    }
    const v4 s = a + b;
    acc = (s[0] + s[1]) + (s[2] + s[3]);
  }
#endif
  for (; i < n; ++i) acc += x[i] * y[i];
  return acc;
}

// y := y + alpha x over n entries (4-wide vectors for double under GCC/Clang; mp50 on limbs).
template <real_scalar Real>
void axpy(std::size_t n, const Real& alpha, const Real* x, Real* y) {
  if constexpr (std::same_as<Real, mp50>) {
    if (detail::limb_axpy(n, alpha, x, y)) return;
  }
  std::size_t i = 0;
#if defined(__GNUC__)
  if constexpr (std::same_as<Real, double>) {
    using v4 = double __attribute__((vector_size(32), aligned(8)));
    const double a = alpha;
    for (; i + 4 <= n; i += 4)
      *reinterpret_cast<v4*>(y + i) += a * *reinterpret_cast<const v4*>(x + i);
  }
#endif
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// Element-wise conversion between scalar types (data are generated once, in double).
template <real_scalar To, real_scalar From, std::size_t Rank>
xt::xtensor<To, Rank> convert(const xt::xtensor<From, Rank>& x) {
  xt::xtensor<To, Rank> out(x.shape());
  for (std::size_t i = 0; i < x.size(); ++i) out.data()[i] = static_cast<To>(x.data()[i]);
  return out;
}

}  // namespace bovit

namespace bovit {

// Cholesky factor S = L Lᵀ of a symmetric positive-definite S (L lower triangular). Returns false
// when S is not numerically positive definite (e.g. a Gram matrix of dependent tokens).
template <real_scalar Real>
bool cholesky_factor(const matrix<Real>& s, matrix<Real>& L) {
  using std::sqrt;
  const std::size_t n = s.shape(0);
  L = matrix<Real>::from_shape({n, n});
  L.fill(Real(0));
  for (std::size_t j = 0; j < n; ++j) {
    Real diag = s(j, j);
    for (std::size_t k = 0; k < j; ++k) diag -= L(j, k) * L(j, k);
    if (!(diag > Real(0))) return false;
    L(j, j) = sqrt(diag);
    for (std::size_t i = j + 1; i < n; ++i) {
      Real v = s(i, j);
      for (std::size_t k = 0; k < j; ++k) v -= L(i, k) * L(j, k);
      L(i, j) = v / L(j, j);
    }
  }
  return true;
}

// x := (L Lᵀ)⁻¹ b with a factor from cholesky_factor.
template <real_scalar Real>
void cholesky_substitute(const matrix<Real>& L, const vector<Real>& b, vector<Real>& x) {
  const std::size_t n = L.shape(0);
  x = vector<Real>::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {  // L z = b
    Real v = b(i);
    for (std::size_t k = 0; k < i; ++k) v -= L(i, k) * x(k);
    x(i) = v / L(i, i);
  }
  for (std::size_t i = n; i-- > 0;) {  // Lᵀ x = z
    Real v = x(i);
    for (std::size_t k = i + 1; k < n; ++k) v -= L(k, i) * x(k);
    x(i) = v / L(i, i);
  }
}

// Solves S x = b for symmetric positive-definite S by Cholesky (S = L Lᵀ). Returns false when S is
// not numerically positive definite (e.g. a Gram matrix of dependent tokens).
template <real_scalar Real>
bool cholesky_solve(const matrix<Real>& s, const vector<Real>& b, vector<Real>& x) {
  matrix<Real> L;
  if (!cholesky_factor(s, L)) return false;
  cholesky_substitute(L, b, x);
  return true;
}

}  // namespace bovit
