// Fits the phase boundary SNR*(N) ∝ N^(−α) of a phase diagram (paper Figure 1).
//
// For each N, SNR*(N) is the threshold on log SNR that best separates cells with mean test loss
// ≤ cutoff (benign) from cells above it: the geometric midpoint of the thresholds that make the
// fewest misclassifications. Rows with no crossing are left out. Then log SNR* = a − α log N is
// fitted by least squares, and c = exp(mean log(N·SNR*²)) is the constant of N·SNR² = c.
// Cells that did not converge are left out of the fit.
#pragma once

#include "bovit/experiments/cell.hpp"

#include <string>
#include <vector>

namespace bovit {

struct boundary_point {
  int N = 0;
  double snr_star = 0;
  int misclassified = 0;
};

struct boundary_fit {
  bool ok = false;           // at least two rows with a crossing
  double alpha = 0;          // SNR* ∝ N^(−α)
  double alpha_stderr = 0;
  double intercept = 0;      // log SNR* = intercept − α log N
  double c = 0;              // N·SNR² = c along the boundary
  int cells = 0;             // cells used
  std::vector<boundary_point> points;
  std::string method;
};

boundary_fit fit_boundary(const std::vector<cell_summary>& cells, double cutoff);

// Fraction of converged cells on the same side of `cutoff` as the curve N·SNR² = c predicts.
double agreement_with_curve(const std::vector<cell_summary>& cells, double cutoff, double c);

}  // namespace bovit
