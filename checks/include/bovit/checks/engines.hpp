// engine.agree: the dense engine (explicit weights, spec §4) and the span engine (coefficients
// on the training tokens, spec §5) are the same gradient descent, so they must produce the same
// trajectory up to rounding.
//
// Both are stepped in lockstep; at every step the training loss, the projections P = [q | k | v]
// of every training token (so every logit and every V_a) and, at the end, the test loss are
// compared. The error of a step is relative to the scale of its block (max |entry|); it grows
// at most linearly with the number of steps for a stable run, so the allowance is
// 256 ε (t + 1)  (ε of the scalar; 256 covers the O(d) and O(T) sums of one step).
#pragma once

#include "bovit/checks/result.hpp"
#include "bovit/engine/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace bovit::checks {

template <real_scalar Real>
check_result check_engine_agreement(engine<Real>& a, engine<Real>& b, double eta, int steps) {
  auto r = make_result("engine.agree", "spec §5 (exact span engine)");
  const double eps = to_double(epsilon<Real>());
  const Real eta_r(eta);
  double top = 0, worst_rel = 0;
  std::string where;
  auto compare = [&](double x, double y, double scale, int t, const char* what) {
    const double rel = std::abs(x - y) / std::max(scale, std::numeric_limits<double>::min());
    const double ratio = std::isfinite(rel) ? rel / (256 * eps * (t + 1)) : std::numeric_limits<double>::infinity();
    if (!(ratio <= top)) {
      top = ratio;
      worst_rel = rel;
      where = fmt::format("{} at step {}", what, t);
    }
    if (!(ratio <= 1) && r.first_violation_step < 0) r.first_violation_step = t;
  };
  const std::size_t h = a.d_h();
  for (int t = 0; t <= steps; ++t) {
    const auto& sa = a.evaluate();
    const auto& sb = b.evaluate();
    compare(to_double(sa.loss), to_double(sb.loss), std::abs(to_double(sb.loss)), t, "train loss");
    const auto& Pa = a.projections();
    const auto& Pb = b.projections();
    if (Pa.shape() != Pb.shape()) return not_applicable(r, "the engines have different token tables");
    const std::size_t T = Pa.shape(0), w = Pa.shape(1);
    for (int blk = 0; blk < 3; ++blk) {
      const std::size_t lo = blk == 0 ? 0 : blk == 1 ? h : 2 * h, hi = blk == 0 ? h : blk == 1 ? 2 * h : w;
      double scale = 0;
      for (std::size_t i = 0; i < T; ++i)
        for (std::size_t j = lo; j < hi; ++j) scale = std::max(scale, std::abs(to_double(Pb(i, j))));
      for (std::size_t i = 0; i < T; ++i)
        for (std::size_t j = lo; j < hi; ++j)
          compare(to_double(Pa(i, j)), to_double(Pb(i, j)), scale, t, blk == 0 ? "q" : blk == 1 ? "k" : "V");
    }
    if (t < steps) {
      a.descend(eta_r);
      b.descend(eta_r);
    }
  }
  const auto ta = a.evaluate_test(), tb = b.evaluate_test();
  compare(to_double(ta.loss), to_double(tb.loss), std::abs(to_double(tb.loss)), steps, "test loss");
  settle_within_allowance(r, top);
  r.detail = fmt::format("{} vs {} over {} steps: worst relative difference {:.3g} ({}), {:.3g} of the allowance "
                         "256·ε·(t+1)",
                         a.name(), b.name(), steps, worst_rel, where, top);
  return r;
}

}  // namespace bovit::checks
