// Generalisation (Theorems 4.1 and 4.2). After training to loss ε:
//   gen.benign   N·SNR² above the boundary ⇒ test loss ≤ check.benign_max_test_loss (0.2, the
//                cutoff of the paper's Figure 1).
//   gen.harmful  N·SNR² below the boundary ⇒ training loss ≤ ε and test loss ≥
//                check.harmful_min_test_loss (0.5: "a constant"; chance level is log 2 ≈ 0.69).
// Which side a run is on is decided by the stage-1 prediction N₊‖μ‖²/mean‖ξ‖² (= N·SNR²/2) being
// above or below 1 (spec §6); the suite applies each check on its own side. Run outside its side a
// check is expected to fail, which the tests use.
#pragma once

#include "bovit/checks/result.hpp"
#include "bovit/checks/stage1.hpp"

#include <fmt/format.h>

namespace bovit::checks {

namespace detail {
template <real_scalar Real>
const snapshot<Real>* last_with_test(const trajectory<Real>& tr) {
  for (auto it = tr.steps.rbegin(); it != tr.steps.rend(); ++it)
    if (it->test_loss) return &*it;
  return nullptr;
}
}  // namespace detail

namespace detail {
// Theorems 4.1 and 4.2 share one shape: training loss at most ε, and the final test loss on one
// side of a bound (below for benign, above for harmful).
template <real_scalar Real>
check_result check_test_loss_side(const trajectory<Real>& tr, check_result r, double bound, bool below,
                                  bool strict_train, double eps) {
  const auto* s = last_with_test(tr);
  if (s == nullptr) return not_applicable(r, "no test loss recorded");
  const double test = to_double(*s->test_loss), train = to_double(s->train_loss);
  r.measured = test;
  r.bound = bound;
  r.margin = below ? bound - test : test - bound;
  const bool trained = strict_train ? train < eps : train <= eps;
  r.holds = r.margin >= 0 && trained;
  if (!r.holds) r.first_violation_step = s->step;
  r.values = {{"test_loss", test}};
  r.detail = fmt::format("step {}: train loss {:.4g} {} ε = {}, test loss {:.4g} {} {}? predicted γ/ρ̄ = {:.3g} ({})",
                         s->step, train, strict_train ? "<" : "≤", eps, test, below ? "≤" : "≥", bound,
                         signal_noise_prediction(tr), predicted_benign(tr) ? "benign side" : "harmful side");
  return r;
}
}  // namespace detail

template <real_scalar Real>
check_result check_benign(const trajectory<Real>& tr, const check_config& cfg, double eps) {
  return detail::check_test_loss_side(tr, make_result("gen.benign", "Thm 4.1"), cfg.benign_max_test_loss, true,
                                      true, eps);
}

template <real_scalar Real>
check_result check_harmful(const trajectory<Real>& tr, const check_config& cfg, double eps) {
  return detail::check_test_loss_side(tr, make_result("gen.harmful", "Thm 4.2"), cfg.harmful_min_test_loss, false,
                                      false, eps);
}

}  // namespace bovit::checks
