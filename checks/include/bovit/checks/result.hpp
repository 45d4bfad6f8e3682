// What every check returns, and the stage times shared by the lemma checks.
//
// A check reports, never aborts: `holds`, the measured value, the bound it is compared with, the
// margin (≥ 0 exactly when the comparison passes), the first violating step (−1 if none) and a
// human-readable detail. `values` carries the key measurements shown in the `bovit check` table.
//
// Stage times, on a recorded trajectory (spec §7):
//   T_1  first step with max_{n,l,i} |S − 1/M| > δ_att (end of stage 1), −1 if attention never leaves uniform;
//   T_2  first step at which every sample's winner receives s̄ ≥ 1 − δ_conc, −1 if never;
//   T_ε  first step with training loss < ε, −1 if never.
// The winner of sample n is the token with the largest y_n V_{n,i} at the last recorded step.
#pragma once

#include "bovit/train/trajectory.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace bovit::checks {

struct check_result {
  std::string id;
  std::string paper_ref;
  bool holds = false;
  double measured = std::nan("");
  double bound = std::nan("");
  double margin = std::nan("");
  int first_violation_step = -1;
  std::string detail;
  std::vector<std::pair<std::string, double>> values;  // key measurements (T_1, T_2, T_eps, ratio, …)

  double value(const std::string& key, double fallback = std::nan("")) const {
    for (const auto& [k, v] : values)
      if (k == key) return v;
    return fallback;
  }
};

inline check_result make_result(std::string id, std::string paper_ref) {
  check_result r;
  r.id = std::move(id);
  r.paper_ref = std::move(paper_ref);
  return r;
}

// Exact checks measure their worst error as a fraction of its rounding allowance: they hold when
// that fraction (`worst`) is at most 1.
inline void settle_within_allowance(check_result& r, double worst) {
  r.measured = worst;
  r.bound = 1;
  r.margin = 1 - worst;
  r.holds = worst <= 1;
}

// A check with nothing to measure (empty trajectory, missing data) fails with this detail.
inline check_result not_applicable(check_result r, std::string why) {
  r.holds = false;
  r.detail = "cannot evaluate: " + std::move(why);
  return r;
}

template <real_scalar Real>
int stage1_end(const trajectory<Real>& tr, double delta_att) {
  for (const auto& s : tr.steps)
    if (to_double(s.max_attention_deviation) > delta_att) return s.step;
  return -1;
}

template <real_scalar Real>
int hitting_time(const trajectory<Real>& tr, double eps) {
  for (const auto& s : tr.steps)
    if (to_double(s.train_loss) < eps) return s.step;
  return -1;
}

// V_{n,i} = u_{token_of(n,i)}ᵀ W_V w_O at snapshot s.
template <real_scalar Real>
double token_value(const trajectory<Real>& tr, const snapshot<Real>& s, int n, int i) {
  return to_double(s.values(tr.frame.token_of(n, i)));
}

// argmax_i y_n V_{n,i} at the last recorded step, per sample.
template <real_scalar Real>
std::vector<int> winners(const trajectory<Real>& tr) {
  const int N = tr.samples(), M = tr.frame.M;
  std::vector<int> w(N, 0);
  if (tr.steps.empty()) return w;
  const auto& s = tr.steps.back();
  for (int n = 0; n < N; ++n) {
    double best = -std::numeric_limits<double>::infinity();
    for (int i = 0; i < M; ++i) {
      const double v = to_double(tr.frame.y(n)) * token_value(tr, s, n, i);
      if (v > best) {
        best = v;
        w[n] = i;
      }
    }
  }
  return w;
}

template <real_scalar Real>
int stage2_end(const trajectory<Real>& tr, const std::vector<int>& win, double delta_conc) {
  for (const auto& s : tr.steps) {
    bool all = true;
    for (int n = 0; n < tr.samples() && all; ++n) all = to_double(s.received(n, win[n])) >= 1.0 - delta_conc;
    if (all) return s.step;
  }
  return -1;
}

}  // namespace bovit::checks
