// Convergence (Theorem 4.1): with N·SNR² = Ω(1), GD reaches training loss ε within
//   T_ε = Θ(η⁻¹ ε⁻¹ ‖μ‖⁻² ‖w_O‖⁻²) steps.
//   conv.train_loss    the training loss falls below ε (train.stop_loss) within the step budget.
//   conv.time_scaling  over a small sweep in the benign regime, the log-log slope of T_ε against
//     each of ε⁻¹, η⁻¹ and ‖μ‖⁻² (the others held fixed) is within check.slope_tolerance (0.25)
//     of 1. Θ(·) hides constants, not exponents; 0.25 leaves room for the loss not yet being in
//     its asymptotic 1/t tail at moderate ε and for the discreteness of T_ε (≈ 1% at T_ε ≳ 50).
#pragma once

#include "bovit/checks/result.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

namespace bovit::checks {

template <real_scalar Real>
check_result check_train_loss(const trajectory<Real>& tr, double eps) {
  auto r = make_result("conv.train_loss", "Thm 4.1");
  if (tr.steps.empty()) return not_applicable(r, "empty trajectory");
  const int Te = hitting_time(tr, eps);
  const double final_loss = to_double(tr.steps.back().train_loss);
  r.measured = final_loss;
  r.bound = eps;
  r.margin = eps - final_loss;
  r.holds = Te >= 0;
  if (!r.holds) r.first_violation_step = tr.steps.back().step;
  r.values = {{"T_eps", Te}};
  r.detail = fmt::format("training loss {:.4g} at step {}; T_ε = {} for ε = {} (−1: not reached)", final_loss,
                         tr.steps.back().step, Te, eps);
  return r;
}

// One sweep: T_ε measured at several values x of one variable (x = ε⁻¹, η⁻¹ or ‖μ‖⁻²).
struct scaling_series {
  std::string variable;        // e.g. "1/eps"
  std::vector<double> x;       // the variable's values
  std::vector<int> hitting;    // T_ε at each (−1: not reached)
};

// Least-squares slope of log T against log x; NaN when fewer than two usable points.
inline double loglog_slope(const scaling_series& s) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int n = 0;
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    if (s.hitting[i] <= 0 || !(s.x[i] > 0)) continue;
    const double a = std::log(s.x[i]), b = std::log(double(s.hitting[i]));
    sx += a, sy += b, sxx += a * a, sxy += a * b, ++n;
  }
  const double var = sxx - sx * sx / n;
  if (n < 2 || !(var > 0)) return std::nan("");
  return (sxy - sx * sy / n) / var;
}

inline check_result check_time_scaling(const std::vector<scaling_series>& sweep, double slope_tolerance) {
  auto r = make_result("conv.time_scaling", "Thm 4.1 (T = Θ(η⁻¹ε⁻¹‖μ‖⁻²‖w_O‖⁻²))");
  if (sweep.empty()) return not_applicable(r, "empty sweep");
  double worst = 0;
  bool ok = true;
  std::string parts;
  for (const auto& s : sweep) {
    const double slope = loglog_slope(s);
    const double dev = std::isfinite(slope) ? std::abs(slope - 1) : std::numeric_limits<double>::infinity();
    worst = std::max(worst, dev);
    ok = ok && dev <= slope_tolerance;
    r.values.push_back({"slope " + s.variable, slope});
    parts += fmt::format("{}slope vs {} = {:.3f} (T_ε = {})", parts.empty() ? "" : "; ", s.variable, slope,
                         fmt::join(s.hitting, ","));
  }
  r.measured = worst;
  r.bound = slope_tolerance;
  r.margin = slope_tolerance - worst;
  r.holds = ok;
  r.detail = fmt::format("{}; worst |slope − 1| = {:.3f} (tolerance {})", parts, worst, slope_tolerance);
  return r;
}

}  // namespace bovit::checks
