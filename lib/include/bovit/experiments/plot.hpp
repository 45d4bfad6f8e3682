// Figures drawn with gnuplot (pngcairo): the library writes the data and a script next to the
// PNG, then runs `gnuplot script`. The scripts stay in the output folder so a figure can be
// restyled by hand. A missing gnuplot raises plot_error with the package to install.
#pragma once

#include "bovit/experiments/boundary.hpp"
#include "bovit/experiments/cell.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace bovit {

struct plot_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The gnuplot executable: $BOVIT_GNUPLOT, else `gnuplot` on PATH.
std::string gnuplot_command();
bool gnuplot_available();
// Runs gnuplot on `script` (its output folder is the script's folder); throws plot_error on failure.
void run_gnuplot(const std::filesystem::path& script);

struct heatmap_options {
  std::string title;          // e.g. "fig1: d = 1024, M = 16"
  double cutoff = 0.2;
  double reference_c = 1000;  // the curve N·SNR² = reference_c
  std::string snr_label = "SNR = ‖μ‖ / (σ_ref √d)";
};

// Writes heatmap_cells.dat, heatmap.gp and two PNGs into `dir`: test_loss.png (mean test loss over
// converged seeds) and test_loss_cutoff.png (the same thresholded at cutoff). Cells where fewer
// than half of the seeds converged are hatched grey. Both carry the reference curve and, when
// `fit.ok`, the fitted boundary SNR* = A N^(−α) and its per-N points. Returns the PNG paths.
std::vector<std::filesystem::path> plot_phase_heatmaps(const std::vector<cell_summary>& cells, const boundary_fit& fit,
                                                       const heatmap_options& opt, const std::filesystem::path& dir);

}  // namespace bovit
