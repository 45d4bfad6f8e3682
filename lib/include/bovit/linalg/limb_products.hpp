// mp50 products on fixed 64-bit limbs, rounded once per result.
//
// Boost rounds after every multiply and every add (≈ 130 ns per multiply-add). Here each operand is
// unpacked once into sign, exponent and its 168-bit mantissa (3 limbs); each product is formed
// exactly (6 limbs) and added into a 320-bit two's-complement window whose top lies 64 bits above
// the largest product of the sum; the window is rounded once, to nearest even. Bits that fall
// below the window are at least 2^-255 times the largest product, so a sum of k products has error
// ≤ ½ ulp + k · 2^-255 · max|a_p b_p|, far inside the ≈ k · 2^-167 · Σ|a_p b_p| of the generic loop.
#pragma once

#include "bovit/parallel.hpp"
#include "bovit/scalar.hpp"

#include <boost/multiprecision/cpp_int.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace bovit {

namespace detail {

using mp50_backend = mp50::backend_type;
static_assert(mp50_backend::bit_count == 168, "the limb kernel assumes a 168-bit mantissa");
static_assert(sizeof(boost::multiprecision::limb_type) == 8, "the limb kernel assumes 64-bit limbs");

// ±m · 2^e with a 168-bit mantissa m in three limbs (least significant first). Zero has m = 0 and
// an exponent so small that every product with it falls below any window.
struct limb_number {
  std::uint64_t m[3] = {0, 0, 0};
  std::int64_t e = zero_exponent;
  bool neg = false;
  static constexpr std::int64_t zero_exponent = -(std::int64_t(1) << 60);
};

// False for infinities and NaN (the caller then falls back to Boost's own arithmetic).
inline bool unpack(const mp50& x, limb_number& out) {
  const mp50_backend& b = x.backend();
  out = limb_number{};
  if (b.exponent() == mp50_backend::exponent_zero) return true;
  if (b.exponent() == mp50_backend::exponent_infinity || b.exponent() == mp50_backend::exponent_nan) return false;
  const auto& bits = b.bits();
  for (unsigned i = 0; i < bits.size() && i < 3; ++i) out.m[i] = bits.limbs()[i];
  out.e = static_cast<std::int64_t>(b.exponent()) - (mp50_backend::bit_count - 1);
  out.neg = b.sign();
  return true;
}

constexpr limb_number unit_limb_number() {  // 1 = 2^167 · 2^-167
  limb_number one;
  one.m[2] = std::uint64_t(1) << 39;
  one.e = -167;
  return one;
}

// A 320-bit fixed-point sum, value = w · 2^base (w two's complement, least significant limb first).
class limb_window {
 public:
  static constexpr int limbs = 5;

  // Places the window for products whose exponents e_a + e_b are at most `top_exponent`.
  void reset(std::int64_t top_exponent) {
    std::fill(w_, w_ + limbs, 0);
    base_ = top_exponent + 80;  // largest product (< 2^336 · 2^top) ends at bit 255
  }

  void add_product(const limb_number& a, const limb_number& b) {
    const std::int64_t s = base_ - (a.e + b.e);  // right shift of the product into the window
    if (s >= 336) return;                        // entirely below the window (or a zero)
    std::uint64_t p[12];  // the product, zero limbs above
    multiply(a.m, b.m, p);
    for (int j = 6; j < 12; ++j) p[j] = 0;
    const int q = static_cast<int>(s >> 6), r = static_cast<int>(s & 63);
    // Shifted product t = p >> s, conditionally negated (two's complement) and added, without a
    // branch on the sign or on r = 0.
    const std::uint64_t neg = -static_cast<std::uint64_t>(a.neg != b.neg);
    const std::uint64_t* src = p + q;
    unsigned __int128 carry = neg & 1;
    for (int j = 0; j < limbs; ++j) {
      const std::uint64_t t = (src[j] >> r) | ((src[j + 1] << 1) << (63 - r));
      const unsigned __int128 d = static_cast<unsigned __int128>(w_[j]) + (t ^ neg) + carry;
      w_[j] = static_cast<std::uint64_t>(d);
      carry = d >> 64;
    }
  }

  // The sum, rounded once to nearest (ties to even), written into `out`.
  void round_into(mp50& out) const {
    // m = |w|, in one carry chain (limb by limb: the window was just written limb by limb, and a
    // wide load of it would stall on store forwarding).
    std::uint64_t m[limbs + 1];
    const bool neg = w_[limbs - 1] >> 63;
    const std::uint64_t flip = -static_cast<std::uint64_t>(neg);
    unsigned __int128 carry = neg;
    for (int j = 0; j < limbs; ++j) {
      const unsigned __int128 d = static_cast<unsigned __int128>(w_[j] ^ flip) + carry;
      m[j] = static_cast<std::uint64_t>(d);
      carry = d >> 64;
    }
    m[limbs] = 0;
    int top_limb = limbs - 1;
    while (top_limb >= 0 && m[top_limb] == 0) --top_limb;
    if (top_limb < 0) {
      out.backend().exponent() = mp50_backend::exponent_zero;
      out.backend().sign() = false;
      return;
    }
    const int h = 64 * top_limb + 63 - std::countl_zero(m[top_limb]);  // highest set bit
    std::uint64_t mant[3];
    if (h >= 167) {  // mant = m >> shift, then round on the bits shifted out
      const int shift = h - 167, q = shift >> 6, r = shift & 63;
      for (int j = 0; j < 3; ++j) mant[j] = r ? (m[q + j] >> r) | (m[q + j + 1] << (64 - r)) : m[q + j];
      mant[2] &= (std::uint64_t(1) << 40) - 1;
      if (shift > 0) {
        const int hb = shift - 1;  // the half bit
        const bool half = (m[hb >> 6] >> (hb & 63)) & 1;
        bool sticky = (m[hb >> 6] & ((std::uint64_t(1) << (hb & 63)) - 1)) != 0;
        for (int j = 0; j < (hb >> 6) && !sticky; ++j) sticky = m[j] != 0;
        if (half && (sticky || (mant[0] & 1)))
          for (int j = 0; j < 3 && ++mant[j] == 0; ++j) {
          }
      }
    } else {  // exact: mant = m << (167 − h), and m < 2^167 fits in limbs 0 … 2
      const int shift = 167 - h, q = shift >> 6, r = shift & 63;
      for (int j = 2; j >= 0; --j) {
        const std::uint64_t hi = j - q >= 0 ? m[j - q] : 0, lo = j - q - 1 >= 0 ? m[j - q - 1] : 0;
        mant[j] = r ? (hi << r) | (lo >> (64 - r)) : hi;
      }
    }
    std::int64_t exponent = base_ + h;
    if (mant[2] >> 40) {  // rounding carried to 2^168
      mant[0] = 0, mant[1] = 0, mant[2] = std::uint64_t(1) << 39;
      ++exponent;
    }
    if (exponent > mp50_backend::max_exponent || exponent < mp50_backend::min_exponent) {
      out = slow_round(m, neg);
      return;
    }
    mp50_backend& b = out.backend();
    b.bits().resize(3, 3);
    auto* limbs_out = b.bits().limbs();
    limbs_out[0] = mant[0], limbs_out[1] = mant[1], limbs_out[2] = mant[2];
    b.bits().normalize();
    b.exponent() = static_cast<typename mp50_backend::exponent_type>(exponent);
    b.sign() = neg;
  }

 private:
  static void multiply(const std::uint64_t* a, const std::uint64_t* b, std::uint64_t* p) {
    std::fill(p, p + 6, 0);
    for (int i = 0; i < 3; ++i) {
      unsigned __int128 carry = 0;
      for (int j = 0; j < 3; ++j) {
        const unsigned __int128 t = static_cast<unsigned __int128>(a[i]) * b[j] + p[i + j] + carry;
        p[i + j] = static_cast<std::uint64_t>(t);
        carry = t >> 64;
      }
      p[i + 3] = static_cast<std::uint64_t>(carry);
    }
  }
  // Out of mp50's exponent range: let Boost round, overflow and underflow.
  mp50 slow_round(const std::uint64_t* m, bool neg) const {
    using boost::multiprecision::cpp_int;
    cpp_int v = 0;
    for (int j = limbs; j-- > 0;) v = (v << 64) | m[j];
    mp50 out = ldexp(mp50(v), static_cast<int>(std::clamp<std::int64_t>(base_, std::numeric_limits<int>::min(),
                                                                       std::numeric_limits<int>::max())));
    return neg ? -out : out;
  }

  std::uint64_t w_[limbs] = {};
  std::int64_t base_ = 0;
};

// out := Σ_p a[p] b[p] over k unpacked pairs, plus c exactly when given, rounded once.
inline void limb_dot(const limb_number* a, const limb_number* b, std::size_t k, const limb_number* c, mp50& out) {
  static constexpr limb_number one = unit_limb_number();
  std::int64_t top = c ? c->e + one.e : limb_number::zero_exponent;
  for (std::size_t p = 0; p < k; ++p) top = std::max(top, a[p].e + b[p].e);
  limb_window w;
  w.reset(top);
  for (std::size_t p = 0; p < k; ++p) w.add_product(a[p], b[p]);
  if (c) w.add_product(*c, one);
  w.round_into(out);
}

// Runs body(begin, end) over [0, n) in up to thread_budget() blocks when `work` (in
// multiply-adds, counting a rounding as two) pays for the hand-over to the pool.
template <class Body>
void limb_parallel_for(std::size_t n, double work, Body&& body) {
  parallel_blocks(n, work < 2e3 ? 1 : thread_budget(), body);
}

// Reused buffers of unpacked operands, one set per thread: no allocation (and no first touch of
// fresh pages) per product once they have grown.
inline std::vector<limb_number>& limb_buffer(int which, std::size_t size) {
  thread_local std::vector<limb_number> buffers[3];
  auto& b = buffers[which];
  if (b.size() < size) b.resize(size);
  return b;
}

// Unpacks n values; false if one is not finite.
inline bool unpack_all(const mp50* x, std::size_t n, limb_number* out) {
  for (std::size_t i = 0; i < n; ++i)
    if (!unpack(x[i], out[i])) return false;
  return true;
}

// C (m × n, row-major) := alpha op(A) op(B) + beta C, op(A)(i, p) = ta ? a[p·lda + i] : a[i·lda + p]
// and likewise for B. alpha ≠ 1 is applied to the smaller operand first (one rounding per entry of
// it, as the generic loop's alpha · sum rounds once per result); beta C enters the window exactly
// when beta = 1. False, having written nothing, when an operand is not finite.
inline bool limb_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const mp50& alpha,
                      const mp50* a, std::size_t lda, const mp50* b, std::size_t ldb, const mp50& beta, mp50* c) {
  const bool scale_a = alpha != mp50(1) && m <= n, scale_b = alpha != mp50(1) && !scale_a;
  const bool with_c = beta != mp50(0);
  limb_number *ua = limb_buffer(0, m * k).data(), *ub = limb_buffer(1, n * k).data(),
              *uc = with_c ? limb_buffer(2, m * n).data() : nullptr;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t p = 0; p < k; ++p) {
      const mp50& x = ta ? a[p * lda + i] : a[i * lda + p];
      if (!unpack(scale_a ? mp50(alpha * x) : x, ua[i * k + p])) return false;
    }
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t p = 0; p < k; ++p) {
      const mp50& x = tb ? b[j * ldb + p] : b[p * ldb + j];
      if (!unpack(scale_b ? mp50(alpha * x) : x, ub[j * k + p])) return false;
    }
  for (std::size_t i = 0; with_c && i < m * n; ++i)
    if (!unpack(beta == mp50(1) ? c[i] : mp50(beta * c[i]), uc[i])) return false;
  limb_parallel_for(m, double(m) * n * (k + 3), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t i = r0; i < r1; ++i)
      for (std::size_t j = 0; j < n; ++j)
        limb_dot(&ua[i * k], &ub[j * k], k, with_c ? &uc[i * n + j] : nullptr, c[i * n + j]);
  });
  return true;
}

// Z[l·n_k + i] = q_l · k_i over rows of n entries. False, having written nothing, if not finite.
inline bool limb_dot_table(const mp50* const* q, std::size_t m, const mp50* const* k, std::size_t n_k,
                           std::size_t n, mp50* Z) {
  limb_number *uq = limb_buffer(0, m * n).data(), *uk = limb_buffer(1, n_k * n).data();
  for (std::size_t l = 0; l < m; ++l)
    if (!unpack_all(q[l], n, &uq[l * n])) return false;
  for (std::size_t i = 0; i < n_k; ++i)
    if (!unpack_all(k[i], n, &uk[i * n])) return false;
  limb_parallel_for(m * n_k, double(m) * n_k * (n + 2), [&](std::size_t t0, std::size_t t1) {
    for (std::size_t t = t0; t < t1; ++t) limb_dot(&uq[t / n_k * n], &uk[t % n_k * n], n, nullptr, Z[t]);
  });
  return true;
}

// C_r[j] += Σ_p A[r·k + p] B_p[j] for r < m, j < n, each rounded once. False, having written
// nothing, if not finite.
inline bool limb_gemm_rows(const mp50* A, std::size_t m, std::size_t k, const mp50* const* B, std::size_t n,
                           mp50* const* C) {
  limb_number *ua = limb_buffer(0, m * k).data(), *ubt = limb_buffer(1, n * k).data(),
              *uc = limb_buffer(2, m * n).data();
  if (!unpack_all(A, m * k, ua)) return false;
  for (std::size_t p = 0; p < k; ++p)
    for (std::size_t j = 0; j < n; ++j)
      if (!unpack(B[p][j], ubt[j * k + p])) return false;
  for (std::size_t r = 0; r < m; ++r)
    if (!unpack_all(C[r], n, &uc[r * n])) return false;
  limb_parallel_for(n, double(m) * n * (k + 3), [&](std::size_t j0, std::size_t j1) {
    for (std::size_t r = 0; r < m; ++r)
      for (std::size_t j = j0; j < j1; ++j) limb_dot(&ua[r * k], &ubt[j * k], k, &uc[r * n + j], C[r][j]);
  });
  return true;
}

// y := y + alpha x over n entries, each rounded once. False, having written nothing, if not finite.
inline bool limb_axpy(std::size_t n, const mp50& alpha, const mp50* x, mp50* y) {
  limb_number ua;
  if (!unpack(alpha, ua)) return false;
  limb_number *ux = limb_buffer(0, n).data(), *uy = limb_buffer(1, n).data();
  if (!unpack_all(x, n, ux) || !unpack_all(y, n, uy)) return false;
  limb_parallel_for(n, 4.0 * n, [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) limb_dot(&ua, &ux[i], 1, &uy[i], y[i]);
  });
  return true;
}

}  // namespace detail
}  // namespace bovit
