// The one scalar concept of bovit, and the three scalar types it is instantiated for.
//
// Every numeric class is `template <real_scalar Real>`. Functions call `using std::exp;` etc. so that
// Boost.Multiprecision overloads are found by argument-dependent lookup. Tolerances are derived
// from std::numeric_limits<Real>::epsilon().
#pragma once

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <cmath>
#include <concepts>
#include <limits>
#include <string_view>

namespace bovit {

// 50 decimal digits, fixed size (no heap allocation per operation), expression templates off so
// that `auto` and generic code behave as with built-in types.
using mp50 = boost::multiprecision::number<boost::multiprecision::cpp_bin_float<50>,
                                           boost::multiprecision::et_off>;

template <class T>
concept real_scalar = std::numeric_limits<T>::is_specialized && !std::numeric_limits<T>::is_integer &&
                      requires(T a, T b) {
                        { a + b } -> std::convertible_to<T>;
                        { a * b } -> std::convertible_to<T>;
                        { a / b } -> std::convertible_to<T>;
                        { a < b } -> std::convertible_to<bool>;
                        T(1.0);
                      };

template <real_scalar Real>
constexpr std::string_view scalar_name() {
  if constexpr (std::same_as<Real, double>) return "double";
  else if constexpr (std::same_as<Real, long double>) return "long-double";
  else if constexpr (std::same_as<Real, mp50>) return "mp50";
  else return "other";
}

// True where the scalar reaches OpenBLAS (mp50 has its own limb kernels; long double the generic loops).
template <real_scalar Real>
inline constexpr bool uses_blas = std::same_as<Real, double>;

template <real_scalar Real>
double to_double(const Real& x) {
  return static_cast<double>(x);
}

template <real_scalar Real>
Real epsilon() {
  return std::numeric_limits<Real>::epsilon();
}

template <real_scalar Real>
bool is_finite(const Real& x) {
  using std::isfinite;
  using boost::multiprecision::isfinite;
  return static_cast<bool>(isfinite(x));
}

}  // namespace bovit
