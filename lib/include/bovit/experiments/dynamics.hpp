// Training dynamics over several runs (paper Figures 3 and 4): mean ± std over runs, every step,
// of the quantities of spec/experiments.md "dynamics", all on training sample 0 (label +1).
//
// Run r uses the seed rng_stream(run.seed).split("dynamics").split(r). Files: dynamics_runs.csv
// (every run and step), dynamics.csv (mean and std per step), metadata.json, dynamics.png.
#pragma once

#include "bovit/config.hpp"

#include <array>
#include <filesystem>
#include <string>
#include <vector>

namespace bovit {

// The recorded quantities, in column order.
inline constexpr std::array<const char*, 10> dynamics_quantities = {
    "train_loss", "test_loss", "attn_mu", "attn_xi2", "V_mu", "V_xi2", "qk_mu_mu", "qk_mu_xi2", "qk_xi3_mu",
    "qk_xi3_xi2"};

struct dynamics_series {
  std::vector<int> steps;
  // mean[q][t], sd[q][t] over runs (sample standard deviation; 0 for one run).
  std::vector<std::vector<double>> mean, sd;
  int runs = 0;
  std::vector<std::string> errors;  // runs that stopped on a non-finite value
};

std::uint64_t dynamics_seed(std::uint64_t master, int run);

// Trains `runs` models (in parallel on all cores) and writes the files into `out`.
dynamics_series run_dynamics(const config& cfg, int runs, const std::filesystem::path& out, bool plots);

}  // namespace bovit
