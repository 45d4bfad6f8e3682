// Stage 2 (Lemma 5.3 "Dynamics of QKV in Stage 2") and the order of the stages.
//
// Once V has learned, the QK logits grow and attention concentrates on each sample's winning
// token (largest y_n V_{n,i}): the signal in the benign regime, a memorised noise token in the
// harmful one. Our formalisation:
//   stage2.attention_concentration  for t ≥ T_1 the winner's s̄ never dips by more than
//     check.monotone_slack (1e-3; GD on a smooth loss with small η moves s̄ by O(η) per step) and
//     ends ≥ 1 − δ_conc (check.delta_conc = 0.2: "most" of the attention, as in the paper's
//     figures). Reports T_2.
//   stage2.qk_direction  from T_1 to the end the logit gap of every sample, (mean logit received
//     by the winner) − (largest mean logit received by another token), grows; in the benign
//     regime also μᵀW_QW_Kᵀμ on sample 0 rises and μᵀW_QW_Kᵀξ₂ falls (spec §6). Sign tests: no
//     tolerance is needed beyond a strict inequality.
//   stages.order  T_1 ≤ T_2 where T_2 exists and T_1 ≤ T_ε: V first, then attention, then fit.
#pragma once

#include "bovit/checks/result.hpp"
#include "bovit/checks/stage1.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace bovit::checks {

template <real_scalar Real>
check_result check_attention_concentration(const trajectory<Real>& tr, const check_config& cfg) {
  auto r = make_result("stage2.attention_concentration", "Lemma 5.3");
  if (tr.steps.empty()) return not_applicable(r, "empty trajectory");
  const int T1 = stage1_end(tr, cfg.delta_att);
  if (T1 < 0) {
    r.first_violation_step = tr.steps.back().step;
    r.detail = "attention never left uniform: there is no stage 2";
    return r;
  }
  const auto win = winners(tr);
  const int T2 = stage2_end(tr, win, cfg.delta_conc);
  double worst_dip = 0;
  int dip_step = -1;
  const snapshot<Real>* prev = nullptr;
  for (const auto& s : tr.steps) {
    if (s.step < T1) continue;
    if (prev)
      for (int n = 0; n < tr.samples(); ++n) {
        const double dip = to_double(prev->received(n, win[n]) - s.received(n, win[n]));
        if (dip > worst_dip) worst_dip = dip;
        if (dip > cfg.monotone_slack && dip_step < 0) dip_step = s.step;
      }
    prev = &s;
  }
  const auto& end = tr.steps.back();
  double final_min = 1;
  int signal_winners = 0;
  for (int n = 0; n < tr.samples(); ++n) {
    final_min = std::min(final_min, to_double(end.received(n, win[n])));
    signal_winners += win[n] == 0 ? 1 : 0;
  }
  const double target = 1 - cfg.delta_conc;
  r.measured = final_min;
  r.bound = target;
  r.margin = std::min(final_min - target, cfg.monotone_slack - worst_dip);
  r.holds = final_min >= target && dip_step < 0;
  r.first_violation_step = dip_step >= 0 ? dip_step : (final_min < target ? end.step : -1);
  r.values = {{"T_1", T1}, {"T_2", T2}, {"final_attention", final_min}};
  r.detail = fmt::format("winner = signal in {}/{} samples; min final winner s̄ = {:.4g} (need ≥ {}), T_2 = {}; "
                         "largest dip after T_1 = {}: {:.3g} (slack {})",
                         signal_winners, tr.samples(), final_min, target, T2, T1, worst_dip, cfg.monotone_slack);
  return r;
}

template <real_scalar Real>
check_result check_qk_direction(const trajectory<Real>& tr, const check_config& cfg) {
  auto r = make_result("stage2.qk_direction", "Lemma 5.3, spec §6");
  if (tr.steps.empty() || tr.steps.front().column_logits.size() == 0) return not_applicable(r, "no logits recorded");
  const int T1 = stage1_end(tr, cfg.delta_att);
  const snapshot<Real>* start = nullptr;
  for (const auto& s : tr.steps)
    if (s.step >= T1 && T1 >= 0) {
      start = &s;
      break;
    }
  const auto& end = tr.steps.back();
  if (start == nullptr || start == &end) {
    r.first_violation_step = end.step;
    r.detail = fmt::format("no stage 2 to compare (T_1 = {})", T1);
    return r;
  }
  const auto win = winners(tr);
  auto gap = [&](const snapshot<Real>& s, int n) {
    double other = -std::numeric_limits<double>::infinity();
    for (int i = 0; i < tr.frame.M; ++i)
      if (i != win[n]) other = std::max(other, to_double(s.column_logits(n, i)));
    return to_double(s.column_logits(n, win[n])) - other;
  };
  double min_growth = std::numeric_limits<double>::infinity();
  int worst_n = 0;
  for (int n = 0; n < tr.samples(); ++n) {
    const double g = gap(end, n) - gap(*start, n);
    if (g < min_growth) {
      min_growth = g;
      worst_n = n;
    }
  }
  const bool benign = predicted_benign(tr) && win[0] == 0;
  const double d_mu_mu = to_double(end.qk_mu_mu - start->qk_mu_mu), d_mu_xi = to_double(end.qk_mu_xi2 - start->qk_mu_xi2);
  const bool sample0 = !benign || (d_mu_mu > 0 && d_mu_xi < 0);
  r.measured = min_growth;
  r.bound = 0;
  r.margin = benign ? std::min({min_growth, d_mu_mu, -d_mu_xi}) : min_growth;
  r.holds = min_growth > 0 && sample0;
  if (!r.holds) r.first_violation_step = end.step;
  r.detail = fmt::format("steps {}→{}: smallest growth of the winner's logit gap {:.4g} (sample {}); {}", start->step,
                         end.step, min_growth, worst_n,
                         benign ? fmt::format("benign: μᵀW_QW_Kᵀμ {:+.4g}, μᵀW_QW_Kᵀξ₂ {:+.4g} on sample 0", d_mu_mu, d_mu_xi)
                                : std::string("harmful side: the gap moves towards the memorised noise token"));
  return r;
}

template <real_scalar Real>
check_result check_stage_order(const trajectory<Real>& tr, const check_config& cfg, double eps) {
  auto r = make_result("stages.order", "Lemmas 5.2–5.3, Thm 4.1");
  if (tr.steps.empty()) return not_applicable(r, "empty trajectory");
  const int T1 = stage1_end(tr, cfg.delta_att);
  const int T2 = stage2_end(tr, winners(tr), cfg.delta_conc);
  const int Te = hitting_time(tr, eps);
  r.values = {{"T_1", T1}, {"T_2", T2}, {"T_eps", Te}};
  if (T1 < 0 || Te < 0) {
    r.first_violation_step = tr.steps.back().step;
    r.detail = fmt::format("T_1 = {}, T_ε = {}: {} never reached", T1, Te, T1 < 0 ? "the end of stage 1" : "ε");
    return r;
  }
  const int bound = T2 >= 0 ? std::min(T2, Te) : Te;
  r.measured = T1;
  r.bound = bound;
  r.margin = bound - T1;
  r.holds = T1 <= bound;
  if (!r.holds) r.first_violation_step = bound;
  r.detail = fmt::format("T_1 = {} ≤ T_2 = {} (−1: not reached) and T_1 ≤ T_ε = {}", T1, T2, Te);
  return r;
}

}  // namespace bovit::checks
