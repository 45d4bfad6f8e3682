// One cell of a phase sweep: train at (N, ‖μ‖) with a seed derived from the master seed and the
// cell, so results do not depend on which thread ran the cell or in what order.
#pragma once

#include "bovit/config.hpp"

#include <cstdint>
#include <vector>

namespace bovit {

struct cell_result {
  int N = 0;
  double mu_norm = 0;
  double snr = 0;
  int seed_index = 0;
  std::uint64_t seed = 0;
  double train_loss = 0, test_loss = 0, test_error = 0;
  int steps = 0;
  bool converged = false;   // training loss reached train.stop_loss within the budget
  double attn_signal = 0;   // mean attention on the signal token over training samples, at the end
};

std::uint64_t cell_seed(std::uint64_t master, int N, double mu_norm, int seed_index);

// Trains the base config with data.N = N, data.mu_norm = mu_norm and the cell's seed (double).
cell_result run_cell(const config& base, int N, double mu_norm, int seed_index);

// Mean over seeds of one (N, ‖μ‖) cell: the test loss is averaged over the converged seeds only
// (NaN when none converged), as the spec records a non-converged run "not as a number".
struct cell_summary {
  int N = 0;
  double mu_norm = 0, snr = 0;
  double mean_test_loss = 0, std_test_loss = 0;
  double converged_fraction = 0;
  int seeds = 0;
};
std::vector<cell_summary> summarise(const std::vector<cell_result>& cells);

}  // namespace bovit
