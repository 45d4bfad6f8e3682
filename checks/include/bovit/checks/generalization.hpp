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

template <real_scalar Real>
check_result check_benign(const trajectory<Real>& tr, const check_config& cfg, double eps) {
  auto r = make_result("gen.benign", "Thm 4.1");
  const auto* s = detail::last_with_test(tr);
  if (s == nullptr) return not_applicable(r, "no test loss recorded");
  const double test = to_double(*s->test_loss), train = to_double(s->train_loss);
  r.measured = test;
  r.bound = cfg.benign_max_test_loss;
  r.margin = cfg.benign_max_test_loss - test;
  r.holds = test <= cfg.benign_max_test_loss && train < eps;
  if (!r.holds) r.first_violation_step = s->step;
  r.values = {{"test_loss", test}};
  r.detail = fmt::format("step {}: train loss {:.4g} (ε = {}), test loss {:.4g} ≤ {}? predicted γ/ρ̄ = {:.3g} ({})",
                         s->step, train, eps, test, cfg.benign_max_test_loss, signal_noise_prediction(tr),
                         predicted_benign(tr) ? "benign side" : "harmful side");
  return r;
}

template <real_scalar Real>
check_result check_harmful(const trajectory<Real>& tr, const check_config& cfg, double eps) {
  auto r = make_result("gen.harmful", "Thm 4.2");
  const auto* s = detail::last_with_test(tr);
  if (s == nullptr) return not_applicable(r, "no test loss recorded");
  const double test = to_double(*s->test_loss), train = to_double(s->train_loss);
  r.measured = test;
  r.bound = cfg.harmful_min_test_loss;
  r.margin = test - cfg.harmful_min_test_loss;
  r.holds = test >= cfg.harmful_min_test_loss && train <= eps;
  if (!r.holds) r.first_violation_step = s->step;
  r.values = {{"test_loss", test}};
  r.detail = fmt::format("step {}: train loss {:.4g} ≤ ε = {}, test loss {:.4g} ≥ {}? predicted γ/ρ̄ = {:.3g} ({})",
                         s->step, train, eps, test, cfg.harmful_min_test_loss, signal_noise_prediction(tr),
                         predicted_benign(tr) ? "benign side" : "harmful side");
  return r;
}

}  // namespace bovit::checks
