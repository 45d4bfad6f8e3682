// Exact checks of the signal–noise decomposition (spec §6, Definition 5.2 and Lemma 5.1).
//
// W_V w_O = W_V⁽⁰⁾ w_O + Uᵀ a_V, so for every training token a:  V_a − V_a⁽⁰⁾ = Σ_b G_ab a_V[b]
// (with orthogonal noise this is V± − V±⁽⁰⁾ = ±γ±). γ₊ = ‖μ‖² a_V[μ₊], γ₋ = −‖μ‖² a_V[μ₋],
// ρ_{n,i} = y_n ‖ξ_{n,i}‖² a_V[ξ_{n,i}] obey, exactly, from one step to the next:
//   Δγ± = η ‖w_O‖² ‖μ‖² (1/N) Σ_{n: y_n = ±1} |ℓ'_n| s̄_{n,1},   Δρ_{n,i} = η ‖w_O‖² ‖ξ_{n,i}‖² (1/N) |ℓ'_n| s̄_{n,i},
// so they are non-negative and strictly increasing while ℓ' ≠ 0.
// These are algebraic identities of gradient descent, true for any data: the only slack is
// rounding, so every tolerance is a multiple of the scalar's epsilon times the magnitude of the
// terms involved (a sum of T products, or a difference of two nearby coefficients).
#pragma once

#include "bovit/model/parameters.hpp"

#include "bovit/checks/result.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace bovit::checks {

// Multiples of epsilon allowed by the exact checks.
struct exact_tolerance {
  double identity = 64;   // × ε × T × Σ_b |G_ab a_b| (+ |V_a| + |V_a⁽⁰⁾|)
  double increment = 64;  // × ε × (|x_t| + |x_{t+1}| + |Δ_pred|)
};

namespace detail {
inline void worst(check_result& r, double excess, int step, double& top) {
  if (excess > top) top = excess;
  if (excess > 1 && r.first_violation_step < 0) r.first_violation_step = step;
}
}  // namespace detail

// decomp.identity: V_a − V_a⁽⁰⁾ = Σ_b G_ab a_V[b] at every recorded step; measured is the worst
// error divided by its rounding allowance (holds when ≤ 1).
template <real_scalar Real>
check_result check_decomposition_identity(const trajectory<Real>& tr, exact_tolerance tol = {}) {
  auto r = make_result("decomp.identity", "Def. 5.2, spec §6");
  if (tr.steps.empty() || !tr.has_coefficients() || tr.frame.initial_values.size() == 0)
    return not_applicable(r, "the trajectory has no value coefficients or no step 0");
  using std::abs;
  const auto& G = tr.frame.gram;
  const std::size_t T = G.shape(0);
  const double eps = to_double(epsilon<Real>());
  double top = 0, worst_abs = 0;
  for (const auto& s : tr.steps) {
    for (std::size_t a = 0; a < T; ++a) {
      Real sum(0), scale(0);
      for (std::size_t b = 0; b < T; ++b) {
        sum += G(a, b) * s.coefficients(b);
        scale += abs(G(a, b) * s.coefficients(b));
      }
      const Real lhs = s.values(a) - tr.frame.initial_values(a);
      const double err = to_double(abs(lhs - sum));
      const double allowance =
          tol.identity * eps * double(T) * to_double(scale + abs(s.values(a)) + abs(tr.frame.initial_values(a))) +
          std::numeric_limits<double>::min();
      worst_abs = std::max(worst_abs, err);
      detail::worst(r, err / allowance, s.step, top);
    }
  }
  settle_within_allowance(r, top);
  r.detail = fmt::format("max |V−V⁽⁰⁾−G a_V| = {:.3g} over {} steps × {} tokens; {:.3g} of the rounding allowance "
                         "({}·ε·T·scale)",
                         worst_abs, tr.steps.size(), T, top, tol.identity);
  return r;
}

// Δu = (W_V − W_V⁽⁰⁾) w_O: how far W_V w_O has moved from initialisation (w_O fixed).
template <real_scalar Real>
vector<Real> value_change(const parameters<Real>& initial, const parameters<Real>& now) {
  const std::size_t d = now.W_V.shape(0), dv = now.w_O.size();
  vector<Real> du = vector<Real>::from_shape({d});
  for (std::size_t i = 0; i < d; ++i) {
    Real a(0);
    for (std::size_t j = 0; j < dv; ++j) a += (now.W_V(i, j) - initial.W_V(i, j)) * now.w_O(j);
    du(i) = a;
  }
  return du;
}

// The d-space half of decomp.identity (dense engine): Δu = W_V w_O − W_V⁽⁰⁾ w_O lies in the span of
// the training tokens, i.e. the residual Δu − Uᵀ a with G a = U Δu is rounding-sized.
template <real_scalar Real>
check_result check_value_in_span(const matrix<Real>& U, const vector<Real>& delta_u, int step,
                                 exact_tolerance tol = {}) {
  auto r = make_result("decomp.identity", "Def. 5.2, spec §5–§6 (d-space)");
  const std::size_t T = U.shape(0), d = U.shape(1);
  matrix<Real> G = matrix<Real>::from_shape({T, T});
  gemm(op::none, op::transpose, Real(1), U, U, Real(0), G);
  vector<Real> rhs = vector<Real>::from_shape({T}), a;
  for (std::size_t i = 0; i < T; ++i) rhs(i) = dot(U.data() + i * d, delta_u.data(), d);
  if (!cholesky_solve(G, rhs, a)) return not_applicable(r, "the training tokens are linearly dependent");
  Real res2(0), norm2(0);
  for (std::size_t j = 0; j < d; ++j) {
    Real proj(0);
    for (std::size_t i = 0; i < T; ++i) proj += U(i, j) * a(i);
    res2 += (delta_u(j) - proj) * (delta_u(j) - proj);
    norm2 += delta_u(j) * delta_u(j);
  }
  using std::sqrt;
  const double rel = norm2 > Real(0) ? to_double(sqrt(res2 / norm2)) : 0.0;
  // The solve loses about cond(G)·ε; the theory presets have cond(G) ≈ 2 (‖μ‖² vs ‖ξ‖²), and
  // T-term sums, so allow identity·ε·T.
  const double bound = tol.identity * to_double(epsilon<Real>()) * double(T);
  r.measured = rel;
  r.bound = bound;
  r.margin = bound - rel;
  r.holds = rel <= bound;
  if (!r.holds) r.first_violation_step = step;
  r.detail = fmt::format("‖Δu − Uᵀa‖/‖Δu‖ = {:.3g} at step {} (bound {:.3g}): W_V w_O moved within the token span",
                         rel, step, bound);
  return r;
}

// The coefficients of spec §6 at one snapshot: γ₊, γ₋, then ρ_{n,l} for n, l ≥ 1 (row-major).
template <real_scalar Real>
std::vector<Real> decomposition_coefficients(const trajectory<Real>& tr, const snapshot<Real>& s) {
  std::vector<Real> c{tr.gamma_plus(s), tr.gamma_minus(s)};
  for (int n = 0; n < tr.samples(); ++n)
    for (int l = 1; l < tr.frame.M; ++l) c.push_back(tr.rho(s, n, l));
  return c;
}

// The update law's predicted increments from snapshot s (same order as above).
template <real_scalar Real>
std::vector<Real> predicted_increments(const trajectory<Real>& tr, const snapshot<Real>& s) {
  const auto& f = tr.frame;
  const int N = tr.samples(), M = f.M;
  const Real c = f.eta * f.w_O_norm_sq / Real(N);
  Real plus(0), minus(0);
  for (int n = 0; n < N; ++n) {
    const Real w = -s.lprime(n) * s.received(n, 0);
    (f.y(n) > Real(0) ? plus : minus) += w;
  }
  std::vector<Real> d{c * tr.token_norm_sq(f.plus_row) * plus, c * tr.token_norm_sq(f.minus_row) * minus};
  for (int n = 0; n < N; ++n)
    for (int l = 1; l < M; ++l) d.push_back(c * tr.token_norm_sq(f.token_of(n, l)) * (-s.lprime(n)) * s.received(n, l));
  return d;
}

namespace detail {
template <real_scalar Real>
bool decomposable(const trajectory<Real>& tr) {
  return tr.steps.size() >= 2 && tr.has_coefficients() && tr.frame.plus_row >= 0;
}
}  // namespace detail

// decomp.monotone: γ±, ρ ≥ 0 and non-decreasing; strictly increasing where the update law's
// increment is above rounding. measured = most negative change relative to its allowance.
template <real_scalar Real>
check_result check_decomposition_monotone(const trajectory<Real>& tr, exact_tolerance tol = {}) {
  auto r = make_result("decomp.monotone", "Lemma 5.1, spec §6");
  if (!detail::decomposable(tr)) return not_applicable(r, "needs ≥ 2 steps with value coefficients and shared signals");
  const double eps = to_double(epsilon<Real>());
  double top = 0, most_negative = 0;
  int strict_failures = 0;
  for (std::size_t k = 0; k < tr.steps.size(); ++k) {
    const auto x = decomposition_coefficients(tr, tr.steps[k]);
    for (const auto& v : x) {  // non-negative (up to rounding of the coefficient itself)
      const double xv = to_double(v);
      if (xv < 0) {
        most_negative = std::min(most_negative, xv);
        detail::worst(r, -xv / (tol.increment * eps * (1 + std::abs(xv))), tr.steps[k].step, top);
      }
    }
    if (k == 0) continue;
    const auto prev = decomposition_coefficients(tr, tr.steps[k - 1]);
    const bool consecutive = tr.steps[k].step == tr.steps[k - 1].step + 1;
    const auto pred = consecutive ? predicted_increments(tr, tr.steps[k - 1]) : std::vector<Real>{};
    for (std::size_t j = 0; j < x.size(); ++j) {
      const double a = to_double(prev[j]), b = to_double(x[j]);
      const double allowance = tol.increment * eps * (std::abs(a) + std::abs(b)) + std::numeric_limits<double>::min();
      if (b < a) detail::worst(r, (a - b) / allowance, tr.steps[k].step, top);
      // Strict: an increment the update law says is well above rounding must show up.
      if (consecutive && to_double(pred[j]) > 4 * allowance && !(b > a)) {
        ++strict_failures;
        detail::worst(r, 2, tr.steps[k].step, top);
      }
    }
  }
  settle_within_allowance(r, top);
  r.detail = fmt::format("γ±, ρ over {} steps: worst decrease {:.3g} of its rounding allowance, most negative value "
                         "{:.3g}, {} increments missing where the law predicts growth",
                         tr.steps.size(), top, most_negative, strict_failures);
  return r;
}

// decomp.rate: every one-step increment equals the update law. measured = worst |Δ − Δ_pred|
// relative to its rounding allowance (holds when ≤ 1). Needs consecutive recorded steps.
template <real_scalar Real>
check_result check_decomposition_rate(const trajectory<Real>& tr, exact_tolerance tol = {}) {
  auto r = make_result("decomp.rate", "Lemma 5.1, spec §6");
  if (!detail::decomposable(tr)) return not_applicable(r, "needs ≥ 2 steps with value coefficients and shared signals");
  const double eps = to_double(epsilon<Real>());
  double top = 0, worst_rel = 0;
  int pairs = 0;
  for (std::size_t k = 1; k < tr.steps.size(); ++k) {
    if (tr.steps[k].step != tr.steps[k - 1].step + 1) continue;
    ++pairs;
    const auto prev = decomposition_coefficients(tr, tr.steps[k - 1]);
    const auto x = decomposition_coefficients(tr, tr.steps[k]);
    const auto pred = predicted_increments(tr, tr.steps[k - 1]);
    for (std::size_t j = 0; j < x.size(); ++j) {
      const double a = to_double(prev[j]), b = to_double(x[j]), p = to_double(pred[j]);
      const double err = std::abs((b - a) - p);
      const double allowance =
          tol.increment * eps * (std::abs(a) + std::abs(b) + std::abs(p)) + std::numeric_limits<double>::min();
      if (p != 0) worst_rel = std::max(worst_rel, err / std::abs(p));
      detail::worst(r, err / allowance, tr.steps[k].step, top);
    }
  }
  if (pairs == 0) return not_applicable(r, "no consecutive recorded steps (record.every must be 1)");
  settle_within_allowance(r, top);
  r.detail = fmt::format("{} one-step increments of γ±, ρ: worst error {:.3g} of the rounding allowance "
                         "(worst relative error {:.3g})",
                         pairs, top, worst_rel);
  return r;
}

}  // namespace bovit::checks
