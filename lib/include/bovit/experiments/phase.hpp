// A phase-diagram experiment (paper Figure 1, and its MNIST variant): the sweep, the boundary
// fit and every output file, shared by `bovit phase` and `bovit mnist`.
//
// Files in the output folder: metadata.json (version, full config, grid), cells.csv (one row
// per cell and seed), summary.csv (mean and spread over seeds), boundary.json (α, c, method,
// cells used, agreement with the reference curve), and test_loss.png / test_loss_cutoff.png.
#pragma once

#include "bovit/config.hpp"
#include "bovit/experiments/boundary.hpp"
#include "bovit/experiments/sweep.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace bovit {

struct phase_options {
  sweep_options sweep;
  bool plots = true;
  std::string title;  // figure title; empty: from the preset
};

struct phase_outcome {
  std::vector<cell_result> cells;
  std::vector<cell_summary> summary;
  boundary_fit fit;
  double agreement = 0;  // fraction of cells on the side of the cutoff that N·SNR² = reference_c predicts
  sweep_stats stats;
  std::vector<std::filesystem::path> figures;
};

phase_outcome run_phase(const config& cfg, const std::filesystem::path& out, const phase_options& opt);

}  // namespace bovit
