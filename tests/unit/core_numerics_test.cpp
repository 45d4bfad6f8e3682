// Softmax and logistic loss on every scalar type: exact identities, extreme arguments (±1e4) and
// accuracy against references evaluated in mp50 by the naive formulas (mp50's exponent range is
// wide enough that e^{1e4} does not overflow, so the naive forms are accurate there).
#include "bovit/model/logistic.hpp"
#include "bovit/model/softmax.hpp"

#include "bovit_test/compare.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace bovit {
namespace {

using test::tolerances;

template <class Real>
class Numerics : public ::testing::Test {};
TYPED_TEST_SUITE(Numerics, test::scalar_types, test::scalar_type_names);

template <real_scalar Real>
std::vector<Real> softmax_of(const std::vector<double>& z) {
  std::vector<Real> s(z.begin(), z.end());
  softmax_inplace(s.data(), s.size());
  return s;
}

// Naive softmax in mp50: e^{z_i} / Σ e^{z_j}, no shift (fine in mp50 for |z| ≤ 1e4).
std::vector<mp50> softmax_reference(const std::vector<double>& z) {
  using boost::multiprecision::exp;
  std::vector<mp50> e;
  mp50 sum(0);
  for (double x : z) {
    e.push_back(exp(mp50(x)));
    sum += e.back();
  }
  for (auto& x : e) x /= sum;
  return e;
}

const std::vector<std::vector<double>> logit_rows = {
    {0.0},
    {0.25, -1.5, 3.0},
    {1e-3, 2e-3, -4e-3, 0.0, 5e-3},
    {10.0, -10.0, 0.5, 7.25, -3.0, 2.0},
    {1e4, -1e4, 0.0, 1e4},
    {-1e4, -1e4, -1e4},
    {1e4, 1e4 - 1.0},
    {-1e4, -1e4 + 2.0, 30.0},
};

TYPED_TEST(Numerics, SoftmaxRowsSumToOneAndAreFinite) {
  using Real = TypeParam;
  for (const auto& z : logit_rows) {
    const auto s = softmax_of<Real>(z);
    Real sum(0);
    for (const auto& x : s) {
      ASSERT_TRUE(is_finite(x)) << "softmax entry not finite for " << scalar_name<Real>();
      EXPECT_GE(x, Real(0));
      EXPECT_LE(x, Real(1));
      sum += x;
    }
    EXPECT_TRUE(test::near_rel(sum, Real(1), tolerances<Real>::few_ulps() * Real(z.size()), Real(0), "row sum"));
  }
}

TYPED_TEST(Numerics, SoftmaxMatchesMp50Reference) {
  using Real = TypeParam;
  for (const auto& z : logit_rows) {
    const auto s = softmax_of<Real>(z);
    const auto ref = softmax_reference(z);
    double zmax = 0;
    for (double x : z) zmax = std::max(zmax, std::abs(x));
    for (std::size_t i = 0; i < z.size(); ++i) {
      // Relative for entries above the smallest normal of Real; absolute below (they underflow).
      const mp50 floor(std::numeric_limits<Real>::min());
      // Real's own rounding, plus the reference's: mp50's e^z is good to a few ulps times |z|.
      const mp50 tol = mp50(tolerances<Real>::few_ulps()) * mp50(z.size()) +
                       tolerances<mp50>::few_ulps() * mp50(1 + zmax);
      EXPECT_TRUE(test::near_rel(mp50(s[i]), ref[i], tol, floor, "softmax entry " + std::to_string(i)));
    }
  }
}

// Adding an exactly representable constant to dyadic logits changes nothing but rounding in the
// exponentials; a non-representable shift adds at most ε·|c| to each logit.
TYPED_TEST(Numerics, SoftmaxIsShiftInvariant) {
  using Real = TypeParam;
  const std::vector<double> z = {0.5, -1.25, 2.0, 0.0, -0.375};
  const auto base = softmax_of<Real>(z);
  for (double c : {1024.0, -4096.0, 0.1, 9999.9}) {
    std::vector<Real> shifted(z.begin(), z.end());
    for (auto& x : shifted) x += Real(c);
    softmax_inplace(shifted.data(), shifted.size());
    using std::abs;
    const Real tol = tolerances<Real>::few_ulps() * Real(z.size()) * (Real(1) + Real(4) * abs(Real(c)));
    for (std::size_t i = 0; i < z.size(); ++i)
      EXPECT_TRUE(test::near_rel(shifted[i], base[i], tol, Real(0), "shifted by " + std::to_string(c)));
  }
}

TYPED_TEST(Numerics, SoftmaxAtPlusMinus1e4) {
  using Real = TypeParam;
  const auto s = softmax_of<Real>({1e4, -1e4, 0.0, 1e4});
  EXPECT_EQ(s[0], Real(0.5));
  EXPECT_EQ(s[3], Real(0.5));
  EXPECT_LE(s[1], std::numeric_limits<Real>::epsilon());
  EXPECT_LE(s[2], std::numeric_limits<Real>::epsilon());
  const auto u = softmax_of<Real>({-1e4, -1e4, -1e4, -1e4});
  for (const auto& x : u) EXPECT_EQ(x, Real(0.25));
}

// ℓ(z) = log1p(e^{−z}) and ℓ'(z) = −1/(1 + e^{z}), evaluated naively in mp50.
mp50 loss_reference(double z) {
  using boost::multiprecision::exp;
  using boost::multiprecision::log1p;
  return log1p(exp(-mp50(z)));
}
mp50 derivative_reference(double z) {
  using boost::multiprecision::exp;
  return -mp50(1) / (mp50(1) + exp(mp50(z)));
}

std::vector<double> logistic_arguments() {
  std::vector<double> z = {0.0, 1e-300, -1e-300, 1e-8, -1e-8};
  for (double m : {0.001, 0.3, 1.0, 2.5, 17.0, 36.9, 40.0, 100.0, 700.0, 745.5, 800.0, 1000.0, 5000.0, 1e4}) {
    z.push_back(m);
    z.push_back(-m);
  }
  return z;
}

TYPED_TEST(Numerics, LogisticLossAndDerivativeMatchMp50UpTo1e4) {
  using Real = TypeParam;
  const mp50 tol(tolerances<Real>::few_ulps());
  const mp50 floor(std::numeric_limits<Real>::min());  // results below the normal range may underflow
  for (double z : logistic_arguments()) {
    const Real l = logistic_loss(Real(z)), lp = logistic_derivative(Real(z));
    ASSERT_TRUE(is_finite(l)) << "ℓ(" << z << ") not finite for " << scalar_name<Real>();
    ASSERT_TRUE(is_finite(lp)) << "ℓ'(" << z << ") not finite for " << scalar_name<Real>();
    EXPECT_GE(l, Real(0));
    EXPECT_LE(lp, Real(0));
    EXPECT_GE(lp, Real(-1));
    EXPECT_TRUE(test::near_rel(mp50(l), loss_reference(z), tol, floor, "loss at z=" + std::to_string(z)));
    EXPECT_TRUE(test::near_rel(mp50(lp), derivative_reference(z), tol, floor, "ℓ' at z=" + std::to_string(z)));
  }
}

TYPED_TEST(Numerics, LogisticSpecialValues) {
  using Real = TypeParam;
  using std::log;
  using boost::multiprecision::log;
  const Real eps = std::numeric_limits<Real>::epsilon();
  EXPECT_EQ(logistic_derivative(Real(0)), Real(-0.5));
  EXPECT_TRUE(test::near_rel(logistic_loss(Real(0)), log(Real(2)), tolerances<Real>::few_ulps(), Real(0), "ℓ(0)"));
  EXPECT_EQ(logistic_loss(Real(-1e4)), Real(1e4));            // 1e4 + e^{−1e4} rounds to 1e4
  EXPECT_LE(logistic_loss(Real(1e4)), eps * eps);             // e^{−1e4}: 0 to rounding
  EXPECT_EQ(logistic_derivative(Real(-1e4)), Real(-1));
  EXPECT_LE(-logistic_derivative(Real(1e4)), eps * eps);
  // Symmetry ℓ(z) − ℓ(−z) = −z and ℓ'(z) + ℓ'(−z) = −1.
  for (double z : {0.5, 3.0, 20.0}) {
    EXPECT_TRUE(test::near_rel(logistic_loss(Real(z)) - logistic_loss(Real(-z)), Real(-z),
                               tolerances<Real>::few_ulps(), Real(0), "ℓ(z) − ℓ(−z)"));
    EXPECT_TRUE(test::near_rel(logistic_derivative(Real(z)) + logistic_derivative(Real(-z)), Real(-1),
                               tolerances<Real>::few_ulps(), Real(0), "ℓ'(z) + ℓ'(−z)"));
  }
}

}  // namespace
}  // namespace bovit
