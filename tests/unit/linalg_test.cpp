// The products of linalg.hpp against a 120-digit reference: gemm on every scalar and every
// transpose, the exact path for double data (correctly rounded), and the mp50 limb path (one
// rounding per result: ties to even, exact cancellation, the same bits for any thread count,
// non-finite operands handed to Boost's arithmetic).
#include "bovit/linalg.hpp"

#include "bovit_test/compare.hpp"

#include <gtest/gtest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <cmath>
#include <random>
#include <vector>

namespace bovit {
namespace {

using mp120 = boost::multiprecision::number<boost::multiprecision::cpp_bin_float<120>,
                                            boost::multiprecision::et_off>;

// Entries ±u · 2^e with u uniform in [1, 2) and e uniform in [-span, span]: several binades per
// sum, so that alignment and rounding are exercised. `doubles` keeps each entry a double.
template <real_scalar Real>
matrix<Real> random_matrix(std::size_t r, std::size_t c, std::mt19937_64& g, int span, bool doubles) {
  std::uniform_real_distribution<double> u(1.0, 2.0);
  std::uniform_int_distribution<int> e(-span, span), coin(0, 1);
  matrix<Real> m = matrix<Real>::from_shape({r, c});
  for (auto& x : m) {
    Real v(std::ldexp(u(g), e(g)));
    if (!doubles) v += Real(std::ldexp(u(g), e(g) - 60)) / Real(3);  // more than 53 bits
    x = coin(g) ? -v : v;
  }
  return m;
}

// Reference alpha op(A) op(B) + beta C in 120 digits, and Σ|alpha a_p b_p| + |beta c| per entry.
template <real_scalar Real>
void reference(bool ta, bool tb, const Real& alpha, const matrix<Real>& a, const matrix<Real>& b, const Real& beta,
               const matrix<Real>& c, matrix<mp120>& out, matrix<mp120>& magnitude) {
  const std::size_t m = c.shape(0), n = c.shape(1), k = ta ? a.shape(0) : a.shape(1);
  out = matrix<mp120>::from_shape({m, n});
  magnitude = matrix<mp120>::from_shape({m, n});
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      mp120 s = mp120(beta) * mp120(c(i, j)), mag = abs(s);
      for (std::size_t p = 0; p < k; ++p) {
        const mp120 t = mp120(alpha) * mp120(ta ? a(p, i) : a(i, p)) * mp120(tb ? b(j, p) : b(p, j));
        s += t;
        mag += abs(t);
      }
      out(i, j) = s;
      magnitude(i, j) = mag;
    }
}

template <class T>
class Gemm : public ::testing::Test {};
TYPED_TEST_SUITE(Gemm, test::scalar_types, test::scalar_type_names);

// Every scalar and transpose: |C − C_ref| ≤ k ε Σ|terms| (the classical bound of a summed product).
TYPED_TEST(Gemm, MatchesTheReferenceForEveryTranspose) {
  using Real = TypeParam;
  std::mt19937_64 g(7);
  const std::size_t m = 5, n = 7, k = 9;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (const double beta : {0.0, 1.0, -0.75}) {
        const auto a = ta ? random_matrix<Real>(k, m, g, 20, false) : random_matrix<Real>(m, k, g, 20, false);
        const auto b = tb ? random_matrix<Real>(n, k, g, 20, false) : random_matrix<Real>(k, n, g, 20, false);
        auto c = random_matrix<Real>(m, n, g, 20, false);
        const Real alpha(-0.3);
        matrix<mp120> ref, mag;
        reference<Real>(ta, tb, alpha, a, b, Real(beta), c, ref, mag);
        gemm(ta ? op::transpose : op::none, tb ? op::transpose : op::none, alpha, a, b, Real(beta), c);
        for (std::size_t i = 0; i < m * n; ++i) {
          const mp120 err = abs(mp120(c.data()[i]) - ref.data()[i]);
          EXPECT_LE(err, mp120(k + 3) * mp120(epsilon<Real>()) * mag.data()[i])
              << scalar_name<Real>() << " ta=" << ta << " tb=" << tb << " beta=" << beta << " entry " << i;
        }
      }
}

// Distance from x to the correctly rounded mp50 value of ref, in units of that value's ulp.
double ulps(const mp50& x, const mp120& ref) {
  const mp50 rounded(ref);
  if (rounded == 0) return x == 0 ? 0.0 : INFINITY;
  const mp50 ulp = abs(rounded) * std::numeric_limits<mp50>::epsilon();
  return static_cast<double>(abs(mp120(x) - mp120(rounded)) / mp120(ulp));
}

// Double data (the mp50 setup products): every entry correctly rounded.
TEST(GemmMp50, DoubleDataIsCorrectlyRounded) {
  std::mt19937_64 g(11);
  const auto a = random_matrix<mp50>(6, 40, g, 300, true), b = random_matrix<mp50>(8, 40, g, 300, true);
  matrix<mp50> c = matrix<mp50>::from_shape({6, 8});
  gemm(op::none, op::transpose, mp50(1), a, b, mp50(0), c);
  matrix<mp120> ref, mag;
  reference<mp50>(false, true, mp50(1), a, b, mp50(0), c, ref, mag);
  for (std::size_t i = 0; i < c.size(); ++i) EXPECT_EQ(ulps(c.data()[i], ref.data()[i]), 0.0) << "entry " << i;
}

// General mp50 data on limbs: correctly rounded here (no deep cancellation), so 0 ulp; the same bits
// whatever the thread count.
TEST(GemmMp50, LimbProductsAreCorrectlyRoundedAndThreadIndependent) {
  std::mt19937_64 g(13);
  const auto a = random_matrix<mp50>(23, 31, g, 60, false), b = random_matrix<mp50>(31, 57, g, 60, false);
  const auto c0 = random_matrix<mp50>(23, 57, g, 60, false);
  matrix<mp120> ref, mag;
  reference<mp50>(false, false, mp50(1), a, b, mp50(1), c0, ref, mag);
  matrix<mp50> serial = c0, parallel = c0;
  const int budget = thread_budget();
  set_thread_budget(1);
  gemm(op::none, op::none, mp50(1), a, b, mp50(1), serial);
  set_thread_budget(2);
  gemm(op::none, op::none, mp50(1), a, b, mp50(1), parallel);
  set_thread_budget(budget);
  for (std::size_t i = 0; i < serial.size(); ++i) {
    EXPECT_EQ(ulps(serial.data()[i], ref.data()[i]), 0.0) << "entry " << i;
    EXPECT_EQ(serial.data()[i], parallel.data()[i]) << "entry " << i;
  }
}

detail::limb_number unpacked(const mp50& x) {
  detail::limb_number u;
  EXPECT_TRUE(detail::unpack(x, u));
  return u;
}

mp50 limb_sum(const std::vector<mp50>& a, const std::vector<mp50>& b) {
  std::vector<detail::limb_number> ua, ub;
  for (const auto& x : a) ua.push_back(unpacked(x));
  for (const auto& x : b) ub.push_back(unpacked(x));
  mp50 out;
  detail::limb_dot(ua.data(), ub.data(), ua.size(), nullptr, out);
  return out;
}

TEST(LimbProducts, RoundsTiesToEvenOnce) {
  const mp50 one(1), half_ulp = ldexp(mp50(1), -168);  // ulp(1) = 2^-167 for a 168-bit mantissa
  EXPECT_EQ(limb_sum({one, half_ulp}, {one, one}), one);  // tie, 1 is even: stays
  const mp50 odd = one + ldexp(mp50(1), -167);
  EXPECT_EQ(limb_sum({odd, half_ulp}, {one, one}), odd + ldexp(mp50(1), -167));  // tie, odd: up
  // Just above the tie (by 2^-240, inside the window): rounds up. Boost, rounding after each add,
  // would lose the 2^-240 and return 1.
  EXPECT_EQ(limb_sum({one, half_ulp, ldexp(mp50(1), -240)}, {one, one, one}), odd);
}

TEST(LimbProducts, CancellationLeavesTheExactRemainder) {
  const mp50 x = mp50(1) / 3, y = mp50(2) / 7, tiny = ldexp(mp50(5), -250);
  // x y − x y + tiny = tiny exactly: the products are exact in the window.
  EXPECT_EQ(limb_sum({x, -x, tiny}, {y, y, mp50(1)}), tiny);
  EXPECT_EQ(limb_sum({x, -x}, {y, y}), mp50(0));
}

TEST(LimbProducts, ExtremeExponentsOverflowAndUnderflowLikeBoost) {
  const mp50 huge = ldexp(mp50(1), std::numeric_limits<mp50>::max_exponent - 2);
  EXPECT_EQ(limb_sum({huge, huge, huge}, {mp50(2), mp50(2), mp50(2)}), huge * 6);  // top binade
  EXPECT_TRUE(isinf(huge * 24));
  EXPECT_TRUE(isinf(limb_sum({huge, huge, huge}, {mp50(8), mp50(8), mp50(8)})));
  const mp50 tiny = ldexp(mp50(1), std::numeric_limits<mp50>::min_exponent + 2);
  EXPECT_EQ(limb_sum({tiny}, {ldexp(mp50(1), -500)}), tiny * ldexp(mp50(1), -500));
  EXPECT_EQ(limb_sum({ldexp(mp50(3), 1000000)}, {ldexp(mp50(5), -999990)}), mp50(15 * 1024));
}

TEST(LimbProducts, NonFiniteOperandsFallBackToBoost) {
  matrix<mp50> a = matrix<mp50>::from_shape({2, 2}), b = matrix<mp50>::from_shape({2, 2}), c;
  a.fill(mp50(1) / 3);
  b.fill(mp50(1) / 7);
  a(0, 1) = std::numeric_limits<mp50>::infinity();
  c = matrix<mp50>::from_shape({2, 2});
  gemm(op::none, op::none, mp50(1), a, b, mp50(0), c);
  EXPECT_TRUE(isinf(c(0, 0)));
  const mp50 t = (mp50(1) / 3) * (mp50(1) / 7);
  EXPECT_EQ(c(1, 0), t + t);  // row 1 is finite: Boost's own rounding
  detail::limb_number u;
  EXPECT_FALSE(detail::unpack(std::numeric_limits<mp50>::quiet_NaN(), u));
}

TEST(LimbProducts, AxpyRoundsOncePerEntry) {
  std::vector<mp50> x = {mp50(1) / 3, mp50(-2) / 9, mp50(0)}, y = {mp50(1), mp50(0), mp50(5)};
  const mp50 alpha = mp50(-1) / 11;
  std::vector<mp50> expected(3);
  for (int i = 0; i < 3; ++i) expected[i] = mp50(mp120(y[i]) + mp120(alpha) * mp120(x[i]));
  axpy(3, alpha, x.data(), y.data());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(y[i], expected[i]) << "entry " << i;
}

}  // namespace
}  // namespace bovit
