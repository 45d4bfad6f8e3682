// phase.boundary (Figure 1, Theorems 4.1–4.2): the benign/harmful cutoff of the test loss over
// an (N, SNR) grid follows N·SNR² = c, i.e. SNR*(N) ∝ N^(−α) with α = 1/2. The fit is
// fit_boundary (experiments/boundary.hpp). Holds when the fit has ≥ 3 rows with a crossing and
// |α − 1/2| ≤ check.alpha_tolerance (0.15: a coarse grid places SNR* only to within half a grid
// step, ≈ ±0.1 in log SNR per row). Reports c, to compare with the paper's 1000 (which belongs to
// the fig1 setting, not to the theory presets).
#pragma once

#include "bovit/checks/result.hpp"
#include "bovit/experiments/boundary.hpp"

#include <fmt/format.h>

namespace bovit::checks {

inline check_result check_phase_boundary(const boundary_fit& fit, double alpha_tolerance, int min_rows = 3) {
  auto r = make_result("phase.boundary", "Fig. 1, Thms 4.1–4.2");
  const int rows = static_cast<int>(fit.points.size());
  if (!fit.ok || rows < min_rows)
    return not_applicable(r, fmt::format("only {} grid rows have a benign/harmful crossing (need {})", rows, min_rows));
  const double dev = std::abs(fit.alpha - 0.5);
  r.measured = fit.alpha;
  r.bound = alpha_tolerance;
  r.margin = alpha_tolerance - dev;
  r.holds = dev <= alpha_tolerance;
  r.values = {{"alpha", fit.alpha}, {"c", fit.c}};
  std::string pts;
  for (const auto& p : fit.points) pts += fmt::format(" N={}:SNR*={:.3g}", p.N, p.snr_star);
  r.detail = fmt::format("α = {:.3f} ± {:.3f} (|α − 1/2| ≤ {}?), N·SNR² = c with c = {:.3g}, {} cells;{}", fit.alpha,
                         fit.alpha_stderr, alpha_tolerance, fit.c, fit.cells, pts);
  return r;
}

}  // namespace bovit::checks
