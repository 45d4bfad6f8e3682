// Stage 1 (Lemma 5.2 "V's beginning of learning signals", with Lemma 5.1 "Dynamics of γ and ρ").
//
// While the QK logits are still small, attention stays near uniform (s̄ ≈ 1/M) and only V learns:
// γ and ρ grow at the rates of Lemma 5.1. With uniform attention and |ℓ'_n| about equal,
//   γ₊ / ρ̄ ≈ N₊ ‖μ‖² / mean‖ξ‖²   (= N·SNR²/2 for σ_ref = σ_p),
// the quantity that decides benign (> 1) from harmful (< 1) overfitting (spec §6).
// Our formalisation:
//   stage1.uniform_attention  attention is within δ_att of 1/M at step 0 and stays so until T_1,
//     and stage 1 is where V learns: at T_1 − 1 the largest of γ±, ρ has grown to at least
//     `min_value_growth` (10) times the largest initial |V_a⁽⁰⁾|. The factor 10 only asks that V
//     has clearly left its initial scale before attention moves; δ_att = 0.05 (check.delta_att) is
//     a fifth of 1/M for M = 4.
//   stage1.signal_vs_noise  for 1 ≤ t < T_1, (γ₊/ρ̄)/(prediction) ∈ [1/κ, κ], κ = check.kappa
//     (1.5): the prediction drops the spread of |ℓ'_n| and of ‖ξ‖², both O(1/√d) at the theory presets.
//     ρ̄ and mean‖ξ‖² are over the noise positions with the same ‖ξ‖² scale as ξ₂ (within 20%).
#pragma once

#include "bovit/checks/result.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace bovit::checks {

inline constexpr double min_value_growth = 10.0;

// Noise positions l ≥ 1 whose mean ‖ξ‖² is within 20% of position 1's (the "same std" group).
template <real_scalar Real>
std::vector<int> same_std_positions(const trajectory<Real>& tr) {
  const int N = tr.samples(), M = tr.frame.M;
  std::vector<double> mean(M, 0.0);
  for (int l = 1; l < M; ++l) {
    for (int n = 0; n < N; ++n) mean[l] += to_double(tr.token_norm_sq(tr.frame.token_of(n, l)));
    mean[l] /= N;
  }
  std::vector<int> out;
  for (int l = 1; l < M; ++l)
    if (std::abs(mean[l] - mean[1]) <= 0.2 * mean[1]) out.push_back(l);
  return out;
}

// N₊ ‖μ‖² / mean‖ξ‖² over the same-std noise group: the predicted γ₊/ρ̄ of stage 1.
template <real_scalar Real>
double signal_noise_prediction(const trajectory<Real>& tr) {
  const int N = tr.samples();
  int n_plus = 0;
  for (int n = 0; n < N; ++n) n_plus += tr.frame.y(n) > Real(0) ? 1 : 0;
  double xi = 0;
  int count = 0;
  for (int l : same_std_positions(tr))
    for (int n = 0; n < N; ++n, ++count) xi += to_double(tr.token_norm_sq(tr.frame.token_of(n, l)));
  return n_plus * to_double(tr.token_norm_sq(tr.frame.plus_row)) / (xi / count);
}

// Benign regime of spec §6: the signal is predicted to be learned faster than any noise token.
template <real_scalar Real>
bool predicted_benign(const trajectory<Real>& tr) {
  return signal_noise_prediction(tr) > 1.0;
}

template <real_scalar Real>
double rho_bar(const trajectory<Real>& tr, const snapshot<Real>& s) {
  double sum = 0;
  int count = 0;
  for (int l : same_std_positions(tr))
    for (int n = 0; n < tr.samples(); ++n, ++count) sum += to_double(tr.rho(s, n, l));
  return sum / count;
}

template <real_scalar Real>
check_result check_uniform_attention(const trajectory<Real>& tr, const check_config& cfg) {
  auto r = make_result("stage1.uniform_attention", "Lemma 5.2");
  if (tr.steps.empty() || tr.frame.initial_values.size() == 0) return not_applicable(r, "empty trajectory");
  const int T1 = stage1_end(tr, cfg.delta_att);
  r.values.push_back({"T_1", T1});
  using std::abs;
  double v0 = 0;
  for (const auto& v : tr.frame.initial_values) v0 = std::max(v0, to_double(abs(v)));
  // The last snapshot of stage 1.
  const snapshot<Real>* last = nullptr;
  for (const auto& s : tr.steps)
    if (T1 < 0 || s.step < T1) last = &s;
  if (last == nullptr) {
    r.first_violation_step = 0;
    r.measured = 0;
    r.bound = min_value_growth;
    r.margin = -min_value_growth;
    r.detail = fmt::format("attention is not uniform at step 0: max|S − 1/M| = {:.3g} > δ_att = {}",
                           to_double(tr.steps.front().max_attention_deviation), cfg.delta_att);
    return r;
  }
  double learned = 0;
  for (int l = 1; l < tr.frame.M; ++l)
    for (int n = 0; n < tr.samples(); ++n) learned = std::max(learned, to_double(tr.rho(*last, n, l)));
  if (tr.frame.plus_row >= 0)
    learned = std::max({learned, to_double(tr.gamma_plus(*last)), to_double(tr.gamma_minus(*last))});
  const double growth = v0 > 0 ? learned / v0 : std::numeric_limits<double>::infinity();
  r.measured = growth;
  r.bound = min_value_growth;
  r.margin = growth - min_value_growth;
  r.holds = growth >= min_value_growth;
  if (!r.holds) r.first_violation_step = T1 < 0 ? last->step : T1;
  r.detail = fmt::format("attention within δ_att = {} of 1/M for steps < T_1 = {}; by step {} the largest of γ±, ρ "
                         "is {:.3g} = {:.3g} × max|V⁽⁰⁾| (need ≥ {})",
                         cfg.delta_att, T1, last->step, learned, growth, min_value_growth);
  return r;
}

template <real_scalar Real>
check_result check_signal_vs_noise(const trajectory<Real>& tr, const check_config& cfg) {
  auto r = make_result("stage1.signal_vs_noise", "Lemmas 5.1–5.2, spec §6");
  if (tr.steps.empty() || !tr.has_coefficients() || tr.frame.plus_row < 0)
    return not_applicable(r, "needs value coefficients and shared signals");
  const int T1 = stage1_end(tr, cfg.delta_att);
  const double pred = signal_noise_prediction(tr);
  double worst = 1, last_ratio = std::nan("");
  int used = 0;
  for (const auto& s : tr.steps) {
    if (s.step < 1 || (T1 >= 0 && s.step >= T1)) continue;
    const double rb = rho_bar(tr, s);
    const double ratio = (rb > 0 ? to_double(tr.gamma_plus(s)) / rb : std::numeric_limits<double>::infinity()) / pred;
    const double factor = std::isfinite(ratio) && ratio > 0 ? std::max(ratio, 1 / ratio) : std::numeric_limits<double>::infinity();
    if (factor > worst) worst = factor;
    if (factor > cfg.kappa && r.first_violation_step < 0) r.first_violation_step = s.step;
    last_ratio = ratio;
    ++used;
  }
  if (used == 0) return not_applicable(r, fmt::format("stage 1 has no step ≥ 1 (T_1 = {})", T1));
  r.measured = last_ratio;
  r.bound = cfg.kappa;
  r.margin = cfg.kappa - worst;
  r.holds = worst <= cfg.kappa;
  r.values = {{"T_1", T1}, {"ratio", last_ratio}};
  r.detail = fmt::format("(γ₊/ρ̄)/prediction = {:.4g} at the end of stage 1 (prediction N₊‖μ‖²/mean‖ξ‖² = {:.4g}); "
                         "worst factor over {} steps {:.4g} (κ = {})",
                         last_ratio, pred, used, worst, cfg.kappa);
  return r;
}

}  // namespace bovit::checks
